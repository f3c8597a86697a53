import datetime as dt

import pytest
import time_machine

from calls.models import CallAttempt, FollowUpCall
from calls.services.call_work import call_record_attempt
from tests.calls.call_work_helpers import NOW, TODAY, make_call, ward_of

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen")]
Result = CallAttempt.Result
WEEK = dt.timedelta(days=7)


@pytest.fixture
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


def dial(call, nurse, result, **kwargs):
    call.refresh_from_db()
    return call_record_attempt(call=call, by=nurse, result=result, note="", expected_version=call.version, **kwargs)


def test_no_answer_keeps_the_call_queued_and_suggests_the_next_calling_day(nurse):
    call = make_call(department=ward_of(nurse), nurse=nurse)  # calls on Thursdays

    dial(call, nurse, Result.NO_ANSWER)

    call.refresh_from_db()
    assert (call.status, call.attempt_count, call.next_attempt_on) == (
        FollowUpCall.Status.SCHEDULED,
        1,
        TODAY + dt.timedelta(days=7),
    )
    assert list(call.attempts.values_list("result", "nurse")) == [("no_answer", nurse.pk)]


def test_booked_call_without_a_step_is_suggested_the_next_weekday(nurse):
    call = make_call(department=ward_of(nurse), nurse=nurse)
    call.step = None
    call.save()

    dial(call, nurse, Result.BUSY)

    call.refresh_from_db()
    assert call.next_attempt_on == dt.date(2026, 11, 20)  # Friday


def test_reaching_max_attempts_on_enough_days_marks_the_call_unreachable(nurse):
    call = make_call(department=ward_of(nurse), nurse=nurse)  # 3 dials on at least 2 days

    for moment, result in ((NOW, Result.NO_ANSWER), (NOW, Result.BUSY), (NOW + WEEK, Result.SWITCHED_OFF)):
        with time_machine.travel(moment, tick=False):
            dial(call, nurse, result)

    call.refresh_from_db()
    assert (call.status, call.attempt_count, call.next_attempt_on) == (FollowUpCall.Status.UNREACHABLE, 3, None)


def test_wrong_number_flags_the_patients_phone(nurse):
    call = make_call(department=ward_of(nurse), nurse=nurse)

    dial(call, nurse, Result.WRONG_NUMBER)

    call.discharge.patient.refresh_from_db()
    assert call.discharge.patient.phone_needs_correction is True


def test_refusal_asking_for_no_more_calls_cancels_every_open_call(nurse):
    ward = ward_of(nurse)
    call = make_call(department=ward, nurse=nurse)
    later = make_call(
        department=ward, nurse=nurse, discharge=call.discharge, offset=14, due=TODAY + dt.timedelta(days=7)
    )

    dial(call, nurse, Result.REFUSED, no_more_calls=True)

    assert list(FollowUpCall.objects.filter(pk__in=[call.pk, later.pk]).values_list("status", "cancel_reason")) == [
        ("cancelled", "declined"),
        ("cancelled", "declined"),
    ]
    call.discharge.patient.refresh_from_db()
    assert call.discharge.patient.declined_calls_on == TODAY


def test_refusal_of_this_call_only_keeps_later_calls(nurse):
    ward = ward_of(nurse)
    call = make_call(department=ward, nurse=nurse)
    later = make_call(
        department=ward, nurse=nurse, discharge=call.discharge, offset=14, due=TODAY + dt.timedelta(days=7)
    )

    dial(call, nurse, Result.REFUSED)

    later.refresh_from_db()
    call.refresh_from_db()
    assert (call.status, later.status) == ("cancelled", "scheduled")


def test_answered_puts_the_call_in_progress(nurse):
    call = make_call(department=ward_of(nurse), nurse=nurse)

    dial(call, nurse, Result.ANSWERED)

    call.refresh_from_db()
    assert (call.status, call.attempt_count, call.version) == (FollowUpCall.Status.IN_PROGRESS, 1, 2)
