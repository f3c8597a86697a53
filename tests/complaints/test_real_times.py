"""Real times: a complaint entered late keeps when it was received and when
the first contact and the reply really happened (who typed them in and when
stays on the timeline); the first response is the first contact with the
complainant; recording the reply moves the complaint to replied; a closed
complaint offers only reopening; the status control offers only allowed
moves; the late list shows every complaint late at any step."""

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.urls import reverse

from complaints import services
from complaints.models import Category, Complaint, ComplaintEvent
from complaints.selectors import Quarter, complaint_report
from tests.complaints.conftest import at

S = Complaint.Status
# Tuesday 2026-11-24, 10:00: the desk types in yesterday's phone complaints.
TUESDAY = at(2026, 11, 24, 10, 0)
YESTERDAY_9 = at(2026, 11, 23, 9, 0)


@pytest.fixture(autouse=True)
def _tuesday():
    with time_machine.travel(TUESDAY, tick=False):
        yield


def test_yesterdays_phone_complaint_entered_today_is_in_time(make_complaint, officer):
    complaint = make_complaint(received_at=YESTERDAY_9)  # general: first response due Tuesday 09:00
    assert complaint.first_response_due == at(2026, 11, 24, 9, 0)
    services.complaint_record_contact(
        complaint=complaint, by=officer, text="Called her back.", at=at(2026, 11, 23, 11, 0)
    )
    services.complaint_record_reply(
        complaint=complaint, by=officer, text="The bill is corrected.", at=at(2026, 11, 23, 16, 0)
    )
    complaint.refresh_from_db()
    assert (complaint.status, complaint.first_responded_at, complaint.replied_at, complaint.resolved_at) == (
        S.REPLIED,
        at(2026, 11, 23, 11, 0),
        at(2026, 11, 23, 16, 0),
        at(2026, 11, 23, 16, 0),
    )
    assert (complaint.first_response_breached, complaint.resolution_breached, complaint.reply_breached) == (
        False,
        False,
        False,
    )
    report = complaint_report(user=officer, period=Quarter(2026, 4))
    f = report["figures"]
    assert (f["responded_in_time"], f["resolved_in_time"], f["replied_in_time"], f["late"]) == (1, 1, 1, 0)
    # the timeline keeps when each step happened and when it was typed in
    rows = list(complaint.events.values_list("kind", "at", "recorded_at", "by"))
    assert rows == [
        ("created", YESTERDAY_9, TUESDAY, officer.pk),
        ("contact", at(2026, 11, 23, 11, 0), TUESDAY, officer.pk),
        ("reply", at(2026, 11, 23, 16, 0), TUESDAY, officer.pk),
        ("status", at(2026, 11, 23, 16, 0), TUESDAY, officer.pk),
    ]


def test_the_timeline_shows_when_a_back_dated_step_was_entered(client_for, officer, make_complaint):
    complaint = make_complaint(received_at=YESTERDAY_9)
    html = client_for(officer).get(reverse("complaints:detail", args=[complaint.pk])).content.decode()
    assert f'2026-11-23 09:00 · {officer} <span class="event-entered">(entered 2026-11-24 10:00)</span>' in html


def test_moving_on_inside_the_hospital_is_not_a_first_response(make_complaint, officer):
    complaint = make_complaint(received_at=YESTERDAY_9)
    services.complaint_reassign(complaint=complaint, by=officer, owner=officer)
    services.complaint_transition(complaint=complaint, to=S.INVESTIGATING, by=officer, at=at(2026, 11, 23, 9, 30))
    complaint.refresh_from_db()
    assert complaint.first_responded_at is None


def test_an_earlier_contact_typed_in_later_becomes_the_first_response(make_complaint, officer):
    complaint = make_complaint(received_at=YESTERDAY_9)
    services.complaint_record_contact(complaint=complaint, by=officer, text="Second call.", at=TUESDAY)
    services.complaint_record_contact(complaint=complaint, by=officer, text="First call.", at=at(2026, 11, 23, 10, 0))
    complaint.refresh_from_db()
    assert (complaint.first_responded_at, complaint.first_response_breached) == (at(2026, 11, 23, 10, 0), False)


def test_a_flag_raised_before_the_real_time_was_typed_in_is_corrected(make_complaint, officer):
    complaint = make_complaint(received_at=YESTERDAY_9)
    assert services.complaint_flag_sla_breaches() == 1  # first response was due 09:00 today
    services.complaint_record_contact(complaint=complaint, by=officer, text="Called.", at=at(2026, 11, 23, 9, 20))
    complaint.refresh_from_db()
    assert complaint.first_response_breached is False


@pytest.mark.parametrize(
    ("moment", "message"),
    [
        (at(2026, 11, 24, 10, 5), "The time of the contact cannot be in the future."),
        (
            at(2026, 11, 23, 8, 59),
            "The time of the contact cannot be before the complaint was received (2026-11-23 09:00).",
        ),
    ],
)
def test_implausible_times_are_refused_and_nothing_changes(make_complaint, officer, moment, message):
    complaint = make_complaint(received_at=YESTERDAY_9)
    with pytest.raises(ValidationError) as refused:
        services.complaint_record_contact(complaint=complaint, by=officer, text="x", at=moment)
    assert refused.value.messages == [message]
    complaint.refresh_from_db()
    assert (complaint.first_responded_at, complaint.events.count()) == (None, 1)


@pytest.mark.parametrize(
    ("value", "error"),
    [
        ("2026-11-24T10:30", "This cannot be in the future."),
        ("2026-11-22T10:00", "This cannot be before the complaint was received (2026-11-23 09:00)."),
        ("2026-13-45T99:99", "Enter a valid date/time."),
        ("<script>alert(1)</script>", "Enter a valid date/time."),
        ("99999-01-01T10:00", "Enter a valid date/time."),
    ],
)
def test_the_reply_form_refuses_implausible_times(client_for, officer, make_complaint, value, error):
    complaint = make_complaint(received_at=YESTERDAY_9)
    response = client_for(officer).post(
        reverse("complaints:action", args=[complaint.pk, "reply"]), {"reply-text": "Told.", "reply-at": value}
    )
    assert response.status_code == 400
    assert response.context["forms"]["reply"].errors == {"at": [error]}
    complaint.refresh_from_db()
    assert (complaint.status, complaint.replied_at) == (S.RECEIVED, None)


def test_recording_the_reply_on_the_page_moves_the_complaint_to_replied(client_for, officer, make_complaint):
    complaint = make_complaint(received_at=YESTERDAY_9)
    response = client_for(officer).post(
        reverse("complaints:action", args=[complaint.pk, "reply"]),
        {"reply-text": "Explained.", "reply-at": "2026-11-23T15:00"},
    )
    assert response.status_code == 302
    complaint.refresh_from_db()
    assert (complaint.status, complaint.replied_at) == (S.REPLIED, at(2026, 11, 23, 15, 0))


def test_the_status_control_offers_only_the_allowed_moves(client_for, officer, make_complaint):
    complaint = make_complaint()
    client = client_for(officer)

    def offered():
        forms = client.get(reverse("complaints:detail", args=[complaint.pk])).context["forms"]
        return list(forms["transition"].fields["to"].widget.choices) if "transition" in forms else None

    assert offered() == [(S.INVESTIGATING, "Investigating")]
    services.complaint_transition(complaint=complaint, to=S.INVESTIGATING, by=officer)
    assert offered() == [(S.RESOLVED, "Resolved")]
    services.complaint_transition(complaint=complaint, to=S.RESOLVED, by=officer)
    assert offered() is None  # the reply moves it on
    services.complaint_record_reply(complaint=complaint, by=officer, text="Told.")
    assert offered() == [(S.CLOSED, "Closed"), (S.REOPENED, "Reopened")]


def test_a_closed_complaint_offers_only_reopening(client_for, officer, make_complaint):
    complaint = make_complaint(settled_on_the_spot=True, measures=["explanation"], reply="Explained.")
    response = client_for(officer).get(reverse("complaints:detail", args=[complaint.pk]))
    forms = response.context["forms"]
    assert list(forms) == ["transition"]
    assert list(forms["transition"].fields["to"].widget.choices) == [(S.REOPENED, "Reopened")]
    assert list(forms["transition"].fields) == ["to", "at", "note"]


@pytest.mark.parametrize(
    ("action", "data"),
    [
        ("note", {"note-text": "x"}),
        ("contact", {"contact-text": "x"}),
        ("reply", {"reply-text": "x"}),
        ("pause", {"pause-note": "x"}),
        ("measures", {"measures-measures": ["apology"]}),
        ("reassign", {"reassign-owner": "OFFICER"}),
    ],
)
def test_a_stale_page_cannot_act_on_a_closed_complaint(client_for, officer, make_complaint, action, data):
    complaint = make_complaint(settled_on_the_spot=True, measures=["explanation"], reply="Explained.")
    data = {k: (officer.pk if v == "OFFICER" else v) for k, v in data.items()}
    events = complaint.events.count()
    response = client_for(officer).post(reverse("complaints:action", args=[complaint.pk, action]), data)
    assert response.status_code == 400
    assert response.context["forms"][action].non_field_errors() in (
        ["This complaint is closed: reopen it first."],
        ["A closed complaint has no clock to pause."],
    )
    assert complaint.events.count() == events


def test_late_list_shows_complaints_late_at_any_step_as_the_report_counts_them(client_for, officer, make_complaint):
    in_time = make_complaint(received_at=YESTERDAY_9)
    services.complaint_record_contact(complaint=in_time, by=officer, text="x", at=at(2026, 11, 23, 10, 0))
    answered_late = make_complaint(received_at=at(2026, 11, 20, 9, 0))  # due Monday 09:00
    services.complaint_record_contact(complaint=answered_late, by=officer, text="x", at=at(2026, 11, 23, 11, 0))
    not_answered = make_complaint(received_at=at(2026, 11, 20, 10, 0))  # due Monday 10:00, not flagged yet
    page = client_for(officer).get(reverse("complaints:list"), {"view": "breached"}).context["page"]
    assert sorted(c.reference for c in page) == sorted([answered_late.reference, not_answered.reference])
    report = complaint_report(user=officer, period=Quarter(2026, 4))
    assert report["figures"]["late"] == 2
    assert (report["figures"]["responded_in_time"], report["figures"]["responded"]) == (1, 2)


def test_the_kinds_of_step_have_their_names(make_complaint, officer):
    complaint = make_complaint()
    event = services.complaint_record_contact(complaint=complaint, by=officer, text="x")
    assert ComplaintEvent.objects.get(pk=event.pk).get_kind_display() == "Contact with the complainant"


def create_data(ward, **overrides):
    data = {
        "channel": "hotline",
        "received_at": "2026-11-23T09:00",
        "complainant_name": "王女士",
        "complainant_relation": "patient",
        "category": Category.objects.get(code="fees").pk,
        "severity": "general",
        "validity": "undetermined",
        "departments": [ward.pk],
        "description": "Charged twice.",
    }
    data.update(overrides)
    return data


@pytest.mark.parametrize(
    ("received_at", "error"),
    [
        ("2026-11-24T10:30", "The complaint cannot be received in the future."),
        ("1999-12-31T09:00", "A complaint received before 2000-01-01 cannot be recorded here."),
        ("2026-02-30T09:00", "Enter a valid date/time."),
    ],
)
def test_the_record_form_refuses_implausible_receipt_times(client_for, officer, ward, received_at, error):
    response = client_for(officer).post(reverse("complaints:create"), create_data(ward, received_at=received_at))
    assert response.status_code == 200
    assert response.context["form"].errors == {"received_at": [error]}
    assert Complaint.objects.count() == 0


def test_yesterdays_complaint_recorded_on_the_page_keeps_its_receipt_time(client_for, officer, ward, other_ward):
    response = client_for(officer).post(
        reverse("complaints:create"), create_data(ward, departments=[ward.pk, other_ward.pk])
    )
    assert response.status_code == 302
    complaint = Complaint.objects.get()
    # two departments: they must cooperate, the legal reply time is 10 working days
    assert (complaint.received_at, complaint.coordinated, complaint.reply_due) == (
        YESTERDAY_9,
        True,
        at(2026, 12, 7, 17, 30),
    )
    ticked = client_for(officer).post(reverse("complaints:create"), create_data(ward, coordinated="on"))
    assert ticked.status_code == 302
    assert Complaint.objects.order_by("pk").last().coordinated is True
