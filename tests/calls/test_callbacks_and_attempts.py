"""Callbacks and attempts as a call centre does them (issue 17, item 4): a
rule step's attempt policy decides when nobody answering makes a call "lost
to follow-up" (so many dials on so many different days, inside the dialling
hours), each attempt records the number dialled, and "asked to call back"
plans the call at the agreed time. Service level; the pages are in
test_callback_pages.py."""

import datetime as dt

import pytest
import time_machine
from django.core.exceptions import ValidationError

from calls.models import CallAttempt, FollowUpCall
from calls.services.call_work import attempt_policy_of, call_complete, call_record_attempt
from followup.models import AuditEvent
from tests.calls.call_work_helpers import NOW, TODAY, make_call, ward_of

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen")]
Result = CallAttempt.Result
Dialled = CallAttempt.Dialled
SHANGHAI = NOW.tzinfo
NEXT_THURSDAY = TODAY + dt.timedelta(days=7)


@pytest.fixture
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


def at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=SHANGHAI)


def dial(call, nurse, result=Result.NO_ANSWER, **kwargs):
    call.refresh_from_db()
    return call_record_attempt(call=call, by=nurse, result=result, expected_version=call.version, **kwargs)


def dial_at(moment, call, nurse, result=Result.NO_ANSWER, **kwargs):
    with time_machine.travel(moment, tick=False):
        return dial(call, nurse, result, **kwargs)


def state(call) -> tuple:
    call.refresh_from_db()
    return call.status, call.attempt_count, call.next_attempt_on


# --- the attempt policy -------------------------------------------------------------------


def test_three_no_answers_within_17_minutes_on_one_day_never_lose_the_patient(nurse):
    call = make_call(department=ward_of(nurse), nurse=nurse)  # step: 3 dials on at least 2 days

    for minute in (10, 18, 27):
        dial_at(at(TODAY, 16, minute), call, nurse)

    assert state(call) == (FollowUpCall.Status.SCHEDULED, 3, NEXT_THURSDAY)


def test_the_dials_of_a_second_day_make_the_call_lost(nurse):
    call = make_call(department=ward_of(nurse), nurse=nurse)
    for minute in (10, 18, 27):
        dial_at(at(TODAY, 16, minute), call, nurse)

    dial_at(at(NEXT_THURSDAY, 16, 5), call, nurse, Result.BUSY)

    assert state(call) == (FollowUpCall.Status.UNREACHABLE, 4, None)


@pytest.mark.parametrize(
    ("days_dialled", "status"),
    [
        # Four dials on two days, then one on a third: lost only with the third day.
        ([TODAY, TODAY, NEXT_THURSDAY, NEXT_THURSDAY], FollowUpCall.Status.SCHEDULED),
        ([TODAY, TODAY, NEXT_THURSDAY, NEXT_THURSDAY, NEXT_THURSDAY + dt.timedelta(days=7)], "unreachable"),
    ],
)
def test_n_attempts_on_m_different_days_as_the_step_says(nurse, days_dialled, status):
    call = make_call(department=ward_of(nurse), nurse=nurse)
    call.step.max_attempts, call.step.attempt_days = 4, 3
    call.step.save()

    for n, day in enumerate(days_dialled):
        dial_at(at(day, 9, n), call, nurse)

    assert state(call)[:2] == (status, len(days_dialled))


def test_dials_outside_the_dialling_hours_do_not_count(nurse):
    call = make_call(department=ward_of(nurse), nurse=nurse)  # no dialling before 08:00 or after 20:00

    for day in (TODAY, NEXT_THURSDAY, NEXT_THURSDAY + dt.timedelta(days=7)):
        dial_at(at(day, 21, 30), call, nurse)
    assert state(call)[:2] == (FollowUpCall.Status.SCHEDULED, 3)

    dial_at(at(TODAY + dt.timedelta(days=22), 20, 0), call, nurse)  # 20:00 itself is inside
    dial_at(at(TODAY + dt.timedelta(days=23), 8, 0), call, nurse)
    dial_at(at(TODAY + dt.timedelta(days=23), 8, 10), call, nurse)
    assert state(call)[:2] == (FollowUpCall.Status.UNREACHABLE, 6)


def test_a_step_without_dialling_hours_counts_every_dial(nurse):
    call = make_call(department=ward_of(nurse), nurse=nurse)
    call.step.dial_from = call.step.dial_until = None
    call.step.save()

    dial_at(at(TODAY, 22, 0), call, nurse)
    dial_at(at(TODAY, 22, 5), call, nurse)
    dial_at(at(NEXT_THURSDAY, 6, 0), call, nurse)

    assert state(call)[0] == FollowUpCall.Status.UNREACHABLE


def test_answered_and_callback_attempts_do_not_count_towards_lost(nurse):
    call = make_call(department=ward_of(nurse), nurse=nurse)
    dial_at(at(TODAY, 9, 0), call, nurse)
    dial_at(at(TODAY, 9, 5), call, nurse, Result.CALLBACK, callback_at=at(TODAY, 11), callback_asked_by="family")
    dial_at(at(TODAY, 11, 0), call, nurse)

    dial_at(at(NEXT_THURSDAY, 9, 0), call, nurse)  # the third unanswered dial, on a second day

    assert state(call)[:2] == (FollowUpCall.Status.UNREACHABLE, 4)


def test_a_booked_call_follows_the_default_policy(nurse):
    call = make_call(department=ward_of(nurse), nurse=nurse)
    call.step = None
    call.save()

    assert attempt_policy_of(call) == attempt_policy_of(make_call(department=call.discharge.department))
    for minute in (0, 5, 10):
        dial_at(at(TODAY, 9, minute), call, nurse)
    assert state(call)[:2] == (FollowUpCall.Status.SCHEDULED, 3)
    dial_at(at(TODAY + dt.timedelta(days=1), 9, 0), call, nurse)
    assert state(call)[:2] == (FollowUpCall.Status.UNREACHABLE, 4)


# --- the number dialled -------------------------------------------------------------------


def test_each_attempt_records_the_number_dialled(nurse):
    call = make_call(
        department=ward_of(nurse), nurse=nurse, patient__phone="+8613812345678", patient__family_phone="+8613900001111"
    )

    dial(call, nurse, dialled=Dialled.PATIENT)
    dial(call, nurse, dialled=Dialled.FAMILY)
    dial(call, nurse, dialled=Dialled.OTHER, other_number="139 1234 5678")

    assert list(call.attempts.order_by("pk").values_list("dialled", "dialled_number")) == [
        ("patient", "+8613812345678"),
        ("family", "+8613900001111"),
        ("other", "+8613912345678"),
    ]


def test_the_audit_trail_names_the_kind_of_number_never_the_number(nurse):
    call = make_call(department=ward_of(nurse), nurse=nurse, patient__family_phone="+8613900001111")

    dial(call, nurse, dialled=Dialled.FAMILY)

    event = AuditEvent.objects.get(object_type="call", object_id=str(call.pk))
    assert (event.actor_id, event.note, sorted(event.fields.split(","))) == (
        nurse.pk,
        "attempt: no_answer; dialled: family",
        ["attempt_count", "next_attempt_on", "status"],
    )
    assert "13900001111" not in str(AuditEvent.objects.values_list().get(pk=event.pk))


@pytest.mark.parametrize(
    ("dialled", "other", "message"),
    [
        (Dialled.FAMILY, "", "No family contact's phone is on record: choose the number you dialled."),
        (Dialled.OTHER, "", "Type the number you dialled."),
        (Dialled.OTHER, "<script>alert(1)</script>", "“<script>alert(1)</script>” is not a phone number."),
        (Dialled.OTHER, "12", "“12” is not a valid phone number: check the digits and the area code."),
        ("fax", "", "Choose the number you dialled."),
    ],
)
def test_a_number_that_cannot_have_been_dialled_is_refused_and_nothing_is_written(nurse, dialled, other, message):
    call = make_call(department=ward_of(nurse), nurse=nurse, patient__family_phone="")

    with pytest.raises(ValidationError) as refused:
        dial(call, nurse, dialled=dialled, other_number=other)

    assert refused.value.message_dict == {"dialled": [message]}
    assert (state(call), call.version, call.attempts.count()) == ((FollowUpCall.Status.SCHEDULED, 0, None), 1, 0)


def test_a_wrong_family_number_leaves_the_patients_phone_alone(nurse):
    call = make_call(department=ward_of(nurse), nurse=nurse)

    dial(call, nurse, Result.WRONG_NUMBER, dialled=Dialled.FAMILY)

    call.discharge.patient.refresh_from_db()
    assert call.discharge.patient.phone_needs_correction is False


# --- asked to call back -------------------------------------------------------------------


def test_a_callback_plans_the_call_at_the_agreed_time(nurse):
    call = make_call(department=ward_of(nurse), nurse=nurse)
    agreed = at(TODAY + dt.timedelta(days=1), 10, 30)

    attempt = dial(call, nurse, Result.CALLBACK, dialled=Dialled.FAMILY, callback_at=agreed, callback_asked_by="family")

    call.refresh_from_db()
    assert (call.status, call.callback_at, call.next_attempt_on, call.planned_on, call.planned_time) == (
        FollowUpCall.Status.SCHEDULED,
        agreed,
        TODAY + dt.timedelta(days=1),
        TODAY + dt.timedelta(days=1),
        dt.time(10, 30),
    )
    assert (attempt.result, attempt.callback_at, attempt.callback_asked_by, attempt.dialled) == (
        "callback",
        agreed,
        "family",
        "family",
    )
    event = AuditEvent.objects.get(object_type="call", object_id=str(call.pk))
    assert (event.note, sorted(event.fields.split(","))) == (
        "attempt: callback; dialled: family",
        ["attempt_count", "callback_at", "next_attempt_on", "status"],
    )


def test_the_next_dial_settles_the_callback(nurse):
    call = make_call(department=ward_of(nurse), nurse=nurse)
    dial(call, nurse, Result.CALLBACK, callback_at=at(TODAY, 18), callback_asked_by="patient")

    dial_at(at(TODAY, 18, 1), call, nurse, Result.ANSWERED)

    call.refresh_from_db()
    assert (call.status, call.callback_at, call.next_attempt_on) == (FollowUpCall.Status.IN_PROGRESS, None, None)


@pytest.mark.parametrize(
    ("when", "message"),
    [
        (at(TODAY, 16, 10), "That time has passed: choose a time later than now (2026-11-19 16:10)."),
        (
            at(TODAY - dt.timedelta(days=400), 10),
            "That time has passed: choose a time later than now (2026-11-19 16:10).",
        ),
        (
            at(TODAY + dt.timedelta(days=31), 10),
            "A callback can be at most 30 days ahead: on 2026-12-19 at the latest.",
        ),
        (at(TODAY, 20, 1), "This ward does not dial before 08:00 or after 20:00: choose a time between them."),
        (
            at(TODAY + dt.timedelta(days=1), 7, 59),
            "This ward does not dial before 08:00 or after 20:00: choose a time between them.",
        ),
    ],
)
def test_a_callback_time_must_be_later_than_now_within_30_days_and_the_dialling_hours(nurse, when, message):
    call = make_call(department=ward_of(nurse), nurse=nurse)

    with pytest.raises(ValidationError) as refused:
        dial(call, nurse, Result.CALLBACK, callback_at=when, callback_asked_by="patient")

    assert refused.value.message_dict == {"callback_at": [message]}
    assert (state(call), call.attempts.count()) == ((FollowUpCall.Status.SCHEDULED, 0, None), 0)


@pytest.mark.parametrize("when", [at(TODAY, 16, 11), at(TODAY, 20, 0), at(TODAY + dt.timedelta(days=30), 8, 0)])
def test_a_callback_on_the_edges_is_accepted(nurse, when):
    call = make_call(department=ward_of(nurse), nurse=nurse)

    dial(call, nurse, Result.CALLBACK, callback_at=when, callback_asked_by="patient")

    call.refresh_from_db()
    assert call.callback_at == when


def test_a_step_without_dialling_hours_takes_a_callback_at_any_hour(nurse):
    call = make_call(department=ward_of(nurse), nurse=nurse)
    call.step.dial_from = call.step.dial_until = None
    call.step.save()

    dial(call, nurse, Result.CALLBACK, callback_at=at(TODAY, 22, 30), callback_asked_by="patient")

    call.refresh_from_db()
    assert call.callback_at == at(TODAY, 22, 30)


@pytest.mark.parametrize(
    ("result", "kwargs", "errors"),
    [
        (
            Result.CALLBACK,
            {},
            {
                "callback_at": ["Say when to call back: a day and a time."],
                "callback_asked_by": ["Say who asked to be called back: the patient or a family member."],
            },
        ),
        (
            Result.NO_ANSWER,
            {"callback_at": at(TODAY, 18)},
            {"callback_at": ["A callback time goes only with the result “Asked to call back”."]},
        ),
    ],
)
def test_a_callback_needs_its_time_and_who_asked_and_nothing_else_has_them(nurse, result, kwargs, errors):
    call = make_call(department=ward_of(nurse), nurse=nurse)

    with pytest.raises(ValidationError) as refused:
        dial(call, nurse, result, **kwargs)

    assert refused.value.message_dict == errors


def test_completing_the_call_settles_the_callback(nurse):
    call = make_call(department=ward_of(nurse), nurse=nurse)
    dial(call, nurse, Result.CALLBACK, callback_at=at(TODAY, 18), callback_asked_by="patient")
    call.refresh_from_db()

    with time_machine.travel(at(TODAY, 18, 2), tick=False):
        call_complete(
            call=call,
            by=nurse,
            expected_version=call.version,
            answered_by="patient",
            answers={},
            satisfaction="satisfied",
            item_scores={},
            summary="Called back as agreed.",
            duration_seconds=300,
        )

    call.refresh_from_db()
    assert (call.status, call.callback_at, list(call.attempts.values_list("result", flat=True))) == (
        FollowUpCall.Status.COMPLETED,
        None,
        ["callback", "answered"],
    )
