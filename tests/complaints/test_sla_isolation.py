"""The SLA breach task flags each late complaint in its own savepoint: one
that fails is logged by id (nothing about the complainant), stays unflagged
for the next run, and the others are flagged and notified."""

import logging

import pytest
import time_machine

from complaints import services
from complaints.models import Complaint, ComplaintEvent
from complaints.tasks import check_sla_breaches
from followup.models import Notification
from tests.complaints.conftest import at

pytestmark = pytest.mark.django_db


@pytest.fixture
def late(make_complaint, head_nurse):
    """Three urgent complaints received at 9:00, due a first response at 9:30."""
    with time_machine.travel(at(2026, 11, 23, 9, 0), tick=False):
        return [make_complaint(severity="urgent", owner=head_nurse, complainant_name=f"患者{n}") for n in range(3)]


@pytest.fixture
def failing_for(monkeypatch):
    """Notifying fails for one complaint: it stands for any fault of one row
    (no data the models accept makes the real notify fail)."""

    def fail_for(complaint: Complaint):
        real = services.notify

        def notify(*, link, **kwargs):
            if link.endswith(f"/{complaint.pk}/"):
                raise RuntimeError("the notification could not be stored")
            return real(link=link, **kwargs)

        monkeypatch.setattr(services, "notify", notify)

    return fail_for


def test_one_failing_complaint_is_logged_and_the_others_are_flagged(late, failing_for, caplog):
    first, broken, third = late
    failing_for(broken)

    with time_machine.travel(at(2026, 11, 23, 9, 41), tick=False), caplog.at_level(logging.ERROR):
        assert check_sla_breaches() == 2

    flagged = dict(Complaint.objects.values_list("pk", "first_response_breached"))
    assert flagged == {first.pk: True, broken.pk: False, third.pk: True}
    # The failing complaint's flag and timeline event were rolled back together.
    assert sorted(ComplaintEvent.objects.filter(kind="sla_breach").values_list("complaint", flat=True)) == sorted(
        [first.pk, third.pk]
    )
    assert sorted(set(Notification.objects.values_list("link", flat=True))) == sorted(
        [f"/complaints/{first.pk}/", f"/complaints/{third.pk}/"]
    )
    [record] = caplog.records
    assert record.getMessage() == f"SLA breach first_response_breached of complaint id {broken.pk} could not be flagged"
    assert "患者" not in caplog.text


def test_the_next_run_flags_the_complaint_that_failed(late, failing_for, monkeypatch):
    _first, broken, _third = late
    failing_for(broken)
    with time_machine.travel(at(2026, 11, 23, 9, 41), tick=False):
        check_sla_breaches()
    monkeypatch.undo()  # the fault is gone

    with time_machine.travel(at(2026, 11, 23, 9, 51), tick=False):
        assert check_sla_breaches() == 1

    assert Complaint.objects.filter(first_response_breached=False).count() == 0
