import datetime as dt

import pytest
import time_machine
from django.urls import reverse

from calls.models import FollowUpCall
from tests.calls.call_work_helpers import NOW, TODAY, make_call, ward_of

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen")]


@pytest.fixture
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


def post_death(client, call, died_on):
    return client.post(
        reverse("calls:call_deceased", args=[call.pk]),
        {"deceased-expected_version": call.version, "deceased-died_on": died_on.isoformat(), "deceased-note": ""},
    )


def test_family_reporting_a_death_cancels_every_open_call_and_empties_the_worklist(client_for, nurse):
    ward = ward_of(nurse)
    call = make_call(department=ward, nurse=nurse)
    later = make_call(department=ward, nurse=nurse, discharge=call.discharge, offset=14, due=TODAY + dt.timedelta(7))
    client = client_for(nurse)

    response = post_death(client, call, TODAY - dt.timedelta(days=2))

    assert response.status_code == 302
    call.discharge.patient.refresh_from_db()
    assert call.discharge.patient.deceased_on == TODAY - dt.timedelta(days=2)
    assert list(FollowUpCall.objects.filter(pk__in=[call.pk, later.pk]).values_list("status", "cancel_reason")) == [
        ("cancelled", "deceased"),
        ("cancelled", "deceased"),
    ]
    worklist = client.get(reverse("calls:worklist"), {"tab": "all"})
    assert list(worklist.context["page"].object_list) == []


@pytest.mark.parametrize(
    ("died_on", "message"),
    [
        (TODAY + dt.timedelta(days=1), "The date of death cannot be in the future."),
        (TODAY - dt.timedelta(days=30), "The date of death cannot be before the discharge."),
    ],
)
def test_date_of_death_must_be_between_discharge_and_today(client_for, nurse, died_on, message):
    call = make_call(department=ward_of(nurse), nurse=nurse)

    response = post_death(client_for(nurse), call, died_on)

    assert response.status_code == 400
    assert message in response.content.decode()
    call.refresh_from_db()
    assert call.status == "scheduled"
