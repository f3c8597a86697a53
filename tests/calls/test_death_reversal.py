"""A death recorded by mistake is reversed by the ward's head nurse, with a
reason, audited (issue 17, item 5): the calls the record cancelled come
back when they are still worth making (docs/call-queue.md), the others are
recorded as missed or stay cancelled, and steps never generated while the
death stood are generated."""

import datetime as dt

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from calls.models import DeathRecord, FollowUpCall
from calls.services.cancellation import death_record_reverse, patient_mark_deceased
from followup.models import AuditEvent
from followup.roles import Role
from tests.calls.call_work_helpers import NOW, TODAY, ward_of
from tests.factories import (
    DischargeFactory,
    FollowUpCallFactory,
    FollowUpRuleFactory,
    PatientFactory,
    RuleStepFactory,
    UserFactory,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen")]
COLUMNS = ("actor_name", "source", "action", "object_type", "patient_id", "fields", "note")
SHANGHAI = timezone.get_fixed_timezone(8 * 60)


@pytest.fixture
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


def at(day: dt.date, hour: int = 16) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), tzinfo=SHANGHAI)


def audit_rows(since: int = 0) -> list[tuple]:
    events = AuditEvent.objects.filter(pk__gt=since).exclude(action__in=["login", "view"]).order_by("pk")
    return list(events.values_list(*COLUMNS))


def last_audit_pk() -> int:
    return AuditEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


@pytest.fixture
def story(nurse, head_nurse):
    """Zhou Min, discharged on 5 November (a Thursday) from a ward whose rule
    calls on days 1, 3, 7, 14 and 16, each up to 7 days late. Day 1 was
    completed; days 3, 7 and 14 are open; day 16 (Saturday 21 November) was
    never generated. An older stay has an open booked call."""
    ward = ward_of(nurse, head_nurse)
    gone = UserFactory(username="gone", roles=[Role.NURSE], is_active=False)
    ward.staff.add(gone)
    rule = FollowUpRuleFactory(department=ward)
    steps = {day: RuleStepFactory(rule=rule, offset_days=day, late_days=7, weekdays=[]) for day in (1, 3, 7, 14, 16)}
    patient = PatientFactory(name="Zhou Min")
    older = DischargeFactory(patient=patient, department=ward, discharged_on=dt.date(2026, 10, 1))
    stay = DischargeFactory(patient=patient, department=ward, discharged_on=dt.date(2026, 11, 5))

    def call(day, **kwargs):
        due = stay.discharged_on + dt.timedelta(days=day)
        fields = {"assigned_to": nurse, **kwargs}
        return FollowUpCallFactory(discharge=stay, step=steps[day], due_date=due, scheduled_for=at(due), **fields)

    calls = {
        1: call(1, status=FollowUpCall.Status.COMPLETED),
        3: call(3),  # due 8 November, limit 15 November: passed
        7: call(7),  # due 12 November, limit 19 November: today
        14: call(14, assigned_to=gone),  # due 19 November (today), at 16:00
    }
    booked = FollowUpCallFactory(
        discharge=older,
        step=None,
        due_date=dt.date(2026, 11, 20),
        earliest_on=dt.date(2026, 11, 20),
        latest_on=dt.date(2026, 11, 27),
        assigned_to=nurse,
    )
    return {"ward": ward, "patient": patient, "stay": stay, "calls": calls, "booked": booked, "steps": steps}


def recorded(story, nurse, died_on=None) -> DeathRecord:
    patient_mark_deceased(patient=story["patient"], died_on=died_on, actor=nurse, call=story["calls"][14])
    return DeathRecord.objects.get()


def state(call: FollowUpCall) -> tuple:
    call.refresh_from_db()
    scheduled = timezone.localtime(call.scheduled_for).strftime("%Y-%m-%d %H:%M") if call.scheduled_for else None
    return call.status, call.cancel_reason, scheduled, call.assigned_to.username if call.assigned_to else None


# --- recording ---------------------------------------------------------------------------------


def test_recording_a_death_keeps_which_calls_it_cancelled_and_audits_it(story, nurse):
    mark = last_audit_pk()
    record = recorded(story, nurse)

    patient_id = story["patient"].pk
    cancelled = [story["calls"][d].pk for d in (3, 7, 14)] + [story["booked"].pk]
    assert sorted(record.cancelled_calls.values_list("pk", flat=True)) == sorted(cancelled)
    assert (record.died_on, record.recorded_by, record.recorded_via, record.call) == (
        None,
        nurse,
        "",
        story["calls"][14],
    )
    assert (
        audit_rows(mark)
        == [
            ("alice", "user", "create", "death", patient_id, "died_on,call", ""),
            ("alice", "user", "change", "patient", patient_id, "deceased,deceased_on", ""),
        ]
        + [("alice", "user", "change", "call", patient_id, "status,cancel_reason", "cancelled: deceased")] * 4
    )


def test_a_date_given_later_fills_in_the_same_record(story, nurse):
    record = recorded(story, nurse)
    mark = last_audit_pk()

    assert patient_mark_deceased(patient=story["patient"], died_on=dt.date(2026, 11, 15), actor="hl7:HIS") == 0

    record.refresh_from_db()
    story["patient"].refresh_from_db()
    assert (record.died_on, story["patient"].deceased_on, DeathRecord.objects.count()) == (
        dt.date(2026, 11, 15),
        dt.date(2026, 11, 15),
        1,
    )
    patient_id = story["patient"].pk
    assert audit_rows(mark) == [
        ("hl7:HIS", "feed", "change", "death", patient_id, "died_on", ""),
        ("hl7:HIS", "feed", "change", "patient", patient_id, "deceased_on", ""),
    ]


# --- reversing ---------------------------------------------------------------------------------


def test_reversal_restores_exactly_the_calls_still_worth_making(story, nurse, head_nurse):
    record = recorded(story, nurse)
    calls = story["calls"]
    mark = last_audit_pk()

    result = death_record_reverse(record=record, by=head_nurse, reason="  The family meant another patient.  ")

    assert (result.restored, result.missed, result.kept, result.generated.created) == (2, 1, 1, 1)
    assert state(calls[1]) == ("completed", "", "2026-11-06 16:00", "alice")
    assert state(calls[3]) == ("missed", "", "2026-11-08 16:00", "alice")
    # Its limit is today: planned again from today (its old time had passed).
    assert state(calls[7]) == ("scheduled", "", "2026-11-19 16:00", "alice")
    # Still ahead at 16:00 today; its nurse left, so the ward's nurse takes it.
    assert state(calls[14]) == ("scheduled", "", "2026-11-19 16:00", "alice")
    # The older stay was superseded by the later one: it gets no calls.
    assert state(story["booked"]) == ("cancelled", "deceased", None, "alice")
    new = FollowUpCall.objects.get(step=story["steps"][16])
    assert (new.status, new.due_date) == ("scheduled", dt.date(2026, 11, 21))

    record.refresh_from_db()
    story["patient"].refresh_from_db()
    assert (record.reversed_by, record.reversal_reason, record.reversed_at) == (
        head_nurse,
        "The family meant another patient.",
        NOW,
    )
    assert (story["patient"].deceased, story["patient"].deceased_on) == (False, None)
    patient_id = story["patient"].pk
    restored = "status,cancel_reason,scheduled_for,next_attempt_on,callback_at,assigned_to"
    assert audit_rows(mark) == [
        ("bob", "user", "change", "death", patient_id, "reversed_at,reversed_by,reversal_reason", ""),
        ("bob", "user", "change", "patient", patient_id, "deceased,deceased_on", "death reversed"),
        ("bob", "user", "change", "call", patient_id, restored, "restored: death record reversed"),
        ("bob", "user", "change", "call", patient_id, restored, "restored: death record reversed"),
        ("bob", "user", "change", "call", patient_id, "status,cancel_reason", "missed: death record reversed"),
        (
            "bob",
            "user",
            "create",
            "call",
            None,
            "",
            f"generated 1 calls and 0 missed for the week of 2026-11-16 in department {story['ward'].pk}",
        ),
    ]


@pytest.mark.parametrize("reason", ["", "   \n  "])
def test_a_reason_is_required(story, nurse, head_nurse, reason):
    record = recorded(story, nurse)
    mark = last_audit_pk()

    with pytest.raises(ValidationError) as refused:
        death_record_reverse(record=record, by=head_nurse, reason=reason)

    assert refused.value.message_dict == {"reason": ["Say why the death record is wrong."]}
    record.refresh_from_db()
    assert record.reversed_at is None
    assert audit_rows(mark) == []
    assert FollowUpCall.objects.filter(status="cancelled").count() == 4


def test_a_record_is_reversed_once_and_a_new_death_can_then_be_recorded(story, nurse, head_nurse):
    record = recorded(story, nurse)
    death_record_reverse(record=record, by=head_nurse, reason="Wrong patient")

    with pytest.raises(ValidationError) as refused:
        death_record_reverse(record=record, by=head_nurse, reason="Again")
    assert refused.value.messages == ["This death record was already reversed."]

    assert patient_mark_deceased(patient=story["patient"], died_on=TODAY, actor=nurse) == 3
    assert list(DeathRecord.objects.order_by("pk").values_list("reversed_at", "died_on")) == [
        (NOW, None),
        (None, TODAY),
    ]


# --- the head nurse's page ---------------------------------------------------------------------


def reverse_url(record: DeathRecord) -> str:
    return reverse("calls:death_reverse", args=[record.pk])


def test_the_nurse_is_refused_and_another_wards_head_nurse_finds_nothing(story, nurse, client_for):
    record = recorded(story, nurse)
    stranger = UserFactory(username="onco-head", roles=[Role.HEAD_NURSE])
    ward_of(stranger, code="ONC")

    assert client_for(nurse).get(reverse_url(record)).status_code == 403
    assert client_for(nurse).post(reverse_url(record), {"reverse-reason": "x"}).status_code == 403
    assert client_for(stranger).get(reverse_url(record)).status_code == 404
    assert client_for(stranger).post(reverse_url(record), {"reverse-reason": "x"}).status_code == 404
    record.refresh_from_db()
    assert record.reversed_at is None


def test_the_head_nurse_sees_what_will_come_back_then_reverses_with_a_reason(story, nurse, head_nurse, client_for):
    record = recorded(story, nurse)
    client = client_for(head_nurse)

    page = client.get(reverse_url(record))
    assert page.status_code == 200
    groups = [(str(title), [c.pk for c in calls]) for title, calls in page.context["groups"]]
    calls = story["calls"]
    assert groups == [
        ("Scheduled again", [calls[7].pk, calls[14].pk]),
        ("Recorded as missed: their time passed", [calls[3].pk]),
        ("Left cancelled: the stay gets no calls any more", [story["booked"].pk]),
    ]

    refused = client.post(reverse_url(record), {"reverse-reason": " "})
    assert refused.status_code == 400
    assert "Why the death record is wrong: Say why the death record is wrong." in refused.content.decode()

    done = client.post(reverse_url(record), {"reverse-reason": "The family meant another patient."})
    assert done.status_code == 302
    assert done["Location"] == reverse("calls:call_detail", args=[calls[14].pk])
    html = client.get(done["Location"]).content.decode()
    assert (
        "The death record of Zhou Min is reversed. Calls scheduled again: 2; recorded as missed: 1; "
        "left cancelled: 1; newly planned: 1."
    ) in html
    assert client.get(reverse_url(record)).status_code == 404  # reversed: nothing more to do


@pytest.mark.parametrize(
    ("reason", "status"),
    [
        ("<script>alert('x')</script>", 302),
        ("原因" * 10_001, 400),
        ("a\x00b", 400),
    ],
    ids=["markup", "too-long", "nul"],
)
def test_a_hostile_reason_is_kept_as_typed_or_refused(story, nurse, head_nurse, client_for, reason, status):
    record = recorded(story, nurse)

    response = client_for(head_nurse).post(reverse_url(record), {"reverse-reason": reason})

    assert response.status_code == status
    record.refresh_from_db()
    assert record.reversal_reason == (reason if status == 302 else "")
    assert "<script>alert" not in response.content.decode()
