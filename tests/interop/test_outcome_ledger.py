"""The ledger is filled in as later stays, visits and deaths arrive from the
feeds, and worked out again when they are corrected (a cancelled stay is no
readmission)."""

import pytest

from calls.models import Discharge

from .conftest import adt

pytestmark = pytest.mark.django_db


def receive(text, capture):
    from interop.services import hl7_message_receive

    with capture(execute=True):
        return hl7_message_receive(raw=text.encode("utf-8"))


def ledger(admitted: str) -> tuple[bool, bool, bool, bool]:
    stay = Discharge.objects.get(admitted_on=admitted)
    return stay.readmitted_unplanned_31, stay.readmitted_30, stay.emergency_visit_30, stay.died_30


def test_the_ledger_follows_later_stays_visits_deaths_and_corrections(
    cardiology, now, eager_celery, django_capture_on_commit_callbacks
):
    capture = django_capture_on_commit_callbacks
    receive(adt(control_id="S1", admit="20261001090000", discharge="20261005100000", dg1="I21.0^心梗^I10"), capture)
    assert ledger("2026-10-01") == (False, False, False, False)

    receive(adt(control_id="S2", admit="20261020090000", discharge="20261024100000", dg1="I21.9^心梗^I10"), capture)
    assert ledger("2026-10-01") == (True, True, False, False)
    assert ledger("2026-10-20") == (False, False, False, False)

    # The hospital cancels the second admission: it was no readmission after all.
    receive(adt("A11", control_id="S3", admit="20261020090000", discharge=""), capture)
    assert ledger("2026-10-01") == (False, False, False, False)

    receive(adt(control_id="E1", patient_class="E", admit="20261012220000", discharge="20261013"), capture)
    assert ledger("2026-10-01") == (False, False, True, False)

    # An update saying the patient died on 30 October: within 30 days of the first discharge.
    died = adt("A08", control_id="U1", admit="", discharge="")
    receive(died.replace("|13812345678^PRN^CP", "|13812345678^PRN^CP" + "|" * 16 + "20261030080000+0800|Y"), capture)
    assert ledger("2026-10-01") == (False, False, True, True)
