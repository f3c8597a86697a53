import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from complaints import services
from complaints.models import Complaint, ComplaintEvent, Measure
from complaints.services import TransitionRefused

Event = ComplaintEvent

S = Complaint.Status


def walk(complaint, officer, *statuses, **kwargs):
    for status in statuses:
        complaint = services.complaint_transition(complaint=complaint, to=status, by=officer, **kwargs)
    return complaint


def test_complaint_walks_the_whole_path_with_an_event_per_step(make_complaint, officer):
    complaint = make_complaint()
    complaint = walk(complaint, officer, S.INVESTIGATING, S.RESOLVED)
    services.complaint_record_reply(complaint=complaint, by=officer, text="Explained and apologised.")
    complaint = services.complaint_transition(complaint=complaint, to=S.CLOSED, by=officer, measures=[Measure.APOLOGY])
    assert complaint.status == S.CLOSED
    assert complaint.closed_at is not None
    steps = list(complaint.events.filter(kind=Event.Kind.STATUS).values_list("from_status", "to_status"))
    assert steps == [
        (S.RECEIVED, S.INVESTIGATING),
        (S.INVESTIGATING, S.RESOLVED),
        (S.RESOLVED, S.REPLIED),
        (S.REPLIED, S.CLOSED),
    ]
    assert list(complaint.events.values_list("kind", flat=True)) == [
        "created",
        "status",
        "status",
        "reply",
        "status",
        "status",
    ]


def test_skipping_a_step_is_refused_with_the_allowed_next_step(make_complaint, officer):
    complaint = make_complaint()
    with pytest.raises(TransitionRefused) as refused:
        services.complaint_transition(complaint=complaint, to=S.RESOLVED, by=officer)
    assert refused.value.messages == [
        "A complaint that is “Received” cannot become “Resolved”; next allowed: Investigating."
    ]
    assert Complaint.objects.get(pk=complaint.pk).status == S.RECEIVED


def test_replied_is_reached_by_recording_the_reply(make_complaint, officer):
    complaint = walk(make_complaint(), officer, S.INVESTIGATING, S.RESOLVED)
    with pytest.raises(TransitionRefused) as refused:
        services.complaint_transition(complaint=complaint, to=S.REPLIED, by=officer)
    assert refused.value.messages == [
        "Record the reply given to the complainant: that moves the complaint to “Replied”."
    ]


def replied(make_complaint, officer):
    complaint = walk(make_complaint(), officer, S.INVESTIGATING, S.RESOLVED)
    services.complaint_record_reply(complaint=complaint, by=officer, text="Told the result.")
    return Complaint.objects.get(pk=complaint.pk)


def test_closing_needs_a_resolution_measure(make_complaint, officer):
    complaint = replied(make_complaint, officer)
    with pytest.raises(TransitionRefused) as refused:
        services.complaint_transition(complaint=complaint, to=S.CLOSED, by=officer)
    assert refused.value.messages == ["Record how the complaint was resolved before closing."]


def test_closing_is_refused_while_a_promise_is_open_and_allowed_once_delivered(make_complaint, officer):
    complaint = replied(make_complaint, officer)
    promise = services.promise_add(
        complaint=complaint, by=officer, what="Refund the second CT scan", owner=officer, due_on=dt.date(2030, 1, 4)
    )
    with pytest.raises(TransitionRefused) as refused:
        services.complaint_transition(
            complaint=complaint, to=S.CLOSED, by=officer, measures=["compensation"], compensation_amount=Decimal(300)
        )
    assert refused.value.messages == [
        "1 promise(s) to the complainant are not delivered yet; deliver them before closing."
    ]
    services.promise_deliver(promise=promise, by=officer)
    closed = services.complaint_transition(
        complaint=complaint, to=S.CLOSED, by=officer, measures=["compensation"], compensation_amount=Decimal(300)
    )
    assert closed.status == S.CLOSED
    assert list(complaint.events.filter(kind__startswith="promise").values_list("kind", flat=True)) == [
        "promise_added",
        "promise_delivered",
    ]


def test_a_promise_cannot_be_delivered_twice(make_complaint, officer):
    promise = services.promise_add(
        complaint=make_complaint(), by=officer, what="Call back", owner=officer, due_on=dt.date(2030, 1, 4)
    )
    services.promise_deliver(promise=promise, by=officer)
    with pytest.raises(ValidationError) as refused:
        services.promise_deliver(promise=promise, by=officer)
    assert refused.value.messages == ["This promise is already delivered."]


def test_closed_complaint_reopens_and_goes_back_to_investigation(make_complaint, officer):
    complaint = replied(make_complaint, officer)
    complaint = services.complaint_transition(complaint=complaint, to=S.CLOSED, by=officer, measures=["explanation"])
    complaint = walk(complaint, officer, S.REOPENED)
    assert (complaint.status, complaint.closed_at, complaint.resolved_at) == (S.REOPENED, None, None)
    with pytest.raises(TransitionRefused):
        services.complaint_transition(complaint=complaint, to=S.CLOSED, by=officer)
    assert walk(complaint, officer, S.INVESTIGATING).status == S.INVESTIGATING


def test_complainant_who_rejects_the_reply_reopens_the_complaint_for_more_investigation(make_complaint, officer):
    complaint = replied(make_complaint, officer)
    complaint = services.complaint_transition(
        complaint=complaint,
        to=S.REOPENED,
        by=officer,
        note="Does not accept the explanation.",
        handling_satisfaction=Complaint.Satisfaction.UNSATISFIED,
    )
    assert (complaint.status, complaint.resolved_at, complaint.handling_satisfaction) == (
        S.REOPENED,
        None,
        Complaint.Satisfaction.UNSATISFIED,
    )
    assert list(complaint.events.filter(kind=Event.Kind.STATUS).values_list("from_status", "to_status", "text"))[
        -1
    ] == (
        S.REPLIED,
        S.REOPENED,
        "Does not accept the explanation.",
    )
    assert walk(complaint, officer, S.INVESTIGATING).status == S.INVESTIGATING


def test_settled_on_the_spot_is_closed_in_one_step_with_reply_and_outcome(make_complaint, officer):
    complaint = make_complaint(
        settled_on_the_spot=True, measures=[Measure.EXPLANATION], reply="Explained the visiting hours."
    )
    assert complaint.status == S.CLOSED
    assert complaint.first_responded_at == complaint.resolved_at == complaint.closed_at == complaint.received_at
    assert list(complaint.events.values_list("kind", "from_status", "to_status", "text")) == [
        ("created", "", S.RECEIVED, "The nurse did not explain the discharge medicines."),
        ("reply", "", "", "Explained the visiting hours."),
        ("status", S.RECEIVED, S.CLOSED, "Settled on the spot."),
    ]


def test_settled_on_the_spot_without_a_reply_is_refused(make_complaint):
    with pytest.raises(ValidationError) as refused:
        make_complaint(settled_on_the_spot=True, measures=[Measure.EXPLANATION], reply="")
    assert refused.value.messages == ["A complaint settled on the spot needs how it was resolved and the reply given."]
    assert Complaint.objects.count() == 0


def test_timeline_rows_cannot_be_changed_or_deleted(make_complaint):
    event = make_complaint().events.get()
    event.text = "rewritten"
    with pytest.raises(ValueError):
        event.save()
    with pytest.raises(ValueError):
        event.delete()
    assert ComplaintEvent.objects.get(pk=event.pk).text == "The nurse did not explain the discharge medicines."


def test_reassigning_records_who_had_it_before(make_complaint, officer, head_nurse):
    complaint = services.complaint_reassign(complaint=make_complaint(), by=officer, owner=head_nurse, note="Her ward.")
    assert complaint.owner == head_nurse
    event = complaint.events.get(kind=Event.Kind.REASSIGNED)
    assert event.text == f"From {officer} to {head_nurse}. Her ward."
