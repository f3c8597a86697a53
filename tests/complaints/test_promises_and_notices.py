"""Promises reach the people who act: the owner can see and deliver it (or is
a named person without a log-in for whom an officer records the delivery),
is notified, and overdue promises alert the owner and the officers; a
promise on a closed complaint reopens it; a promise made earlier is recorded
with its day; the report's open promises follow the period. Officers hear of
every complaint a nurse raises or that arrives with no owner."""

import datetime as dt

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.urls import reverse

from complaints import services
from complaints.models import Complaint, Promise
from complaints.selectors import Quarter, complaint_report
from complaints.tasks import alert_overdue_promises
from followup.models import AuditEvent, Notification
from followup.roles import Role
from tests.complaints.conftest import at
from tests.factories import UserFactory

S = Complaint.Status
MONDAY = at(2026, 11, 23, 10, 0)


@pytest.fixture(autouse=True)
def _monday():
    with time_machine.travel(MONDAY, tick=False):
        yield


def notices(user) -> list[str]:
    return list(Notification.objects.filter(recipient=user).order_by("pk").values_list("text", flat=True))


def test_the_owner_choices_are_the_wards_staff_and_the_officers(client_for, officer, nurse, head_nurse, make_complaint):
    stranger = UserFactory(username="stranger", roles=[Role.NURSE])  # no department
    complaint = make_complaint()
    form = client_for(officer).get(reverse("complaints:detail", args=[complaint.pk])).context["forms"]["promise"]
    assert set(form.fields["owner"].queryset) == {officer, nurse, head_nurse}
    assert stranger not in form.fields["owner"].queryset


def test_a_nurse_named_owner_is_notified_sees_it_and_delivers_it(client_for, officer, nurse, make_complaint):
    complaint = make_complaint()
    response = client_for(officer).post(
        reverse("complaints:action", args=[complaint.pk, "promise"]),
        {"promise-what": "Call back with the lab result", "promise-owner": nurse.pk, "promise-due_on": "2026-11-25"},
    )
    assert response.status_code == 302
    promise = complaint.promises.get()
    assert notices(nurse) == [
        f"{complaint.reference}: you are to deliver “Call back with the lab result” by 2026-11-25."
    ]
    nurse_client = client_for(nurse)
    assert [p.pk for p in nurse_client.get(reverse("complaints:promises")).context["page"]] == [promise.pk]
    page = nurse_client.get(reverse("complaints:detail", args=[complaint.pk]))
    assert page.context["deliverable"] == {promise.pk}
    delivered = nurse_client.post(
        reverse("complaints:promise_deliver", args=[complaint.pk, promise.pk]), {"deliver-delivered_on": "2026-11-23"}
    )
    assert delivered.status_code == 302
    promise.refresh_from_db()
    assert (promise.delivered_on, promise.delivered_by) == (dt.date(2026, 11, 23), nurse)


def test_another_nurse_may_not_deliver_it(client_for, officer, nurse, ward, make_complaint):
    colleague = UserFactory(username="colleague", roles=[Role.NURSE])
    ward.staff.add(colleague)
    promise = services.promise_add(
        complaint=make_complaint(), by=officer, what="Call back", owner=nurse, due_on=dt.date(2026, 11, 25)
    )
    url = reverse("complaints:promise_deliver", args=[promise.complaint_id, promise.pk])
    assert client_for(colleague).post(url, {"deliver-delivered_on": "2026-11-23"}).status_code == 403
    promise.refresh_from_db()
    assert promise.delivered_on is None


def test_another_wards_promise_is_not_found(client_for, officer, head_nurse, make_complaint, other_ward):
    promise = services.promise_add(
        complaint=make_complaint(departments=[other_ward]),
        by=officer,
        what="Call back",
        owner=officer,
        due_on=dt.date(2026, 11, 25),
    )
    url = reverse("complaints:promise_deliver", args=[promise.complaint_id, promise.pk])
    assert client_for(head_nurse).post(url, {"deliver-delivered_on": "2026-11-23"}).status_code == 404


def test_someone_who_cannot_see_the_complaint_cannot_be_named(make_complaint, officer, other_ward):
    outsider = UserFactory(username="outsider", roles=[Role.NURSE])
    other_ward.staff.add(outsider)
    with pytest.raises(ValidationError) as refused:
        services.promise_add(
            complaint=make_complaint(), by=officer, what="x", owner=outsider, due_on=dt.date(2026, 11, 25)
        )
    assert refused.value.messages == [
        f"{outsider} cannot see this complaint: choose someone of the departments involved or an officer."
    ]
    assert Promise.objects.count() == 0


def test_a_doctor_without_a_log_in_owns_it_and_an_officer_records_the_delivery(client_for, officer, make_complaint):
    complaint = make_complaint()
    client = client_for(officer)
    response = client.post(
        reverse("complaints:action", args=[complaint.pk, "promise"]),
        {
            "promise-what": "Explain the scan",
            "promise-owner_name": "Dr Li (cardiology)",
            "promise-due_on": "2026-11-27",
        },
    )
    assert response.status_code == 302
    promise = complaint.promises.get()
    assert (promise.owner, promise.owner_label) == (None, "Dr Li (cardiology)")
    client.post(
        reverse("complaints:promise_deliver", args=[complaint.pk, promise.pk]), {"deliver-delivered_on": "2026-11-23"}
    )
    event = complaint.events.get(kind="promise_delivered")
    assert (event.text, event.by) == ("Explain the scan (on behalf of Dr Li (cardiology)).", officer)


@pytest.mark.parametrize(
    ("data", "errors"),
    [
        ({"promise-what": "x", "promise-due_on": "2026-11-25"}, {"owner": ["Say who delivers the promise."]}),
        (
            {
                "promise-what": "x",
                "promise-due_on": "2026-11-25",
                "promise-owner": "OFFICER",
                "promise-owner_name": "Li",
            },
            {"owner_name": ["Choose a user or write a name, not both."]},
        ),
        (
            {
                "promise-what": "x",
                "promise-due_on": "2026-11-25",
                "promise-owner_name": "Li",
                "promise-made_on": "2026-11-24",
            },
            {"made_on": ["A promise cannot be made in the future."]},
        ),
        (
            {
                "promise-what": "x",
                "promise-due_on": "2026-11-25",
                "promise-owner_name": "Li",
                "promise-made_on": "2026-11-01",
            },
            {"made_on": ["A promise cannot be made before the complaint was received (2026-11-16)."]},
        ),
        (
            {
                "promise-what": "x",
                "promise-due_on": "2026-11-17",
                "promise-owner_name": "Li",
                "promise-made_on": "2026-11-18",
            },
            {"due_on": ["A promise cannot be due before the day it was made."]},
        ),
        (
            {"promise-what": "x", "promise-due_on": "0000-01-01", "promise-owner_name": "Li"},
            {"due_on": ["Enter a valid date."]},
        ),
        (
            {"promise-what": "x", "promise-due_on": "2026-11-25", "promise-owner": "99999999999999999999"},
            {"owner": ["Select a valid choice. That choice is not one of the available choices."]},
        ),
    ],
)
def test_implausible_promises_are_refused_with_a_message(client_for, officer, make_complaint, data, errors):
    complaint = make_complaint(received_at=at(2026, 11, 16, 9, 0))
    data = {k: (officer.pk if v == "OFFICER" else v) for k, v in data.items()}
    response = client_for(officer).post(reverse("complaints:action", args=[complaint.pk, "promise"]), data)
    assert response.status_code == 400
    assert response.context["forms"]["promise"].errors == errors
    assert Promise.objects.count() == 0


def test_a_promise_made_last_week_is_recorded_with_its_day(make_complaint, officer):
    complaint = make_complaint(received_at=at(2026, 11, 16, 9, 0))
    promise = services.promise_add(
        complaint=complaint,
        by=officer,
        what="Refund",
        owner=officer,
        made_on=dt.date(2026, 11, 17),
        due_on=dt.date(2026, 11, 20),
    )
    assert (promise.made_on, promise.due_on) == (dt.date(2026, 11, 17), dt.date(2026, 11, 20))
    event = complaint.events.get(kind="promise_added")
    assert (event.at, event.recorded_at) == (at(2026, 11, 17, 0, 0), MONDAY)


def test_a_promise_on_a_closed_complaint_reopens_it(client_for, officer, make_complaint):
    complaint = make_complaint(settled_on_the_spot=True, measures=["apology"], reply="Sorry.")
    response = client_for(officer).post(
        reverse("complaints:action", args=[complaint.pk, "promise"]),
        {"promise-what": "Send the written apology", "promise-owner": officer.pk, "promise-due_on": "2026-11-30"},
    )
    assert response.status_code == 302
    complaint.refresh_from_db()
    assert (complaint.status, complaint.closed_at) == (S.REOPENED, None)
    assert list(complaint.events.filter(kind="status").values_list("from_status", "to_status"))[-1] == (
        S.CLOSED,
        S.REOPENED,
    )


def test_overdue_promises_alert_owner_complaint_owner_and_officers_once(make_complaint, officer, head_nurse, nurse):
    complaint = make_complaint(owner=head_nurse)
    services.promise_add(complaint=complaint, by=officer, what="Call back", owner=nurse, due_on=dt.date(2026, 11, 24))
    Notification.objects.all().delete()
    with time_machine.travel(at(2026, 11, 24, 20, 0), tick=False):
        assert alert_overdue_promises() == 0  # due today: not overdue yet
    with time_machine.travel(at(2026, 11, 25, 7, 30), tick=False):
        assert alert_overdue_promises() == 1
        assert alert_overdue_promises() == 0
    text = f"{complaint.reference}: the promise “Call back” ({nurse}) was due 2026-11-24 and is not delivered."
    assert sorted(Notification.objects.values_list("recipient__username", "text")) == sorted(
        [(u.username, text) for u in (nurse, head_nurse, officer)]
    )
    audit = AuditEvent.objects.get(note=f"complaint {complaint.pk}: promise overdue")
    assert (audit.actor_name, audit.object_type) == ("task:complaints.alert_overdue_promises", "promise")


def test_the_reports_open_promises_follow_the_period(make_complaint, officer):
    q3 = make_complaint(received_at=at(2026, 8, 3, 9, 0))
    q4 = make_complaint(received_at=at(2026, 11, 2, 9, 0))
    for complaint, what in ((q3, "Q3 refund"), (q4, "Q4 call back")):
        services.promise_add(complaint=complaint, by=officer, what=what, owner=officer, due_on=dt.date(2026, 12, 1))
    assert [p.what for p in complaint_report(user=officer, period=Quarter(2026, 3))["open_promises"]] == ["Q3 refund"]
    assert [p.what for p in complaint_report(user=officer, period=Quarter(2026, 4))["open_promises"]] == [
        "Q4 call back"
    ]


def test_officers_hear_of_a_complaint_a_nurse_raises(make_complaint, nurse, officer):
    second_officer = UserFactory(username="erin", roles=[Role.COMPLAINT_OFFICER])
    complaint = make_complaint(by=nurse, owner=None, channel="followup_call")
    text = f"{complaint.reference}: a new complaint (Follow-up call) needs an officer."
    assert (notices(officer), notices(second_officer), notices(nurse)) == ([text], [text], [])


def test_officers_hear_of_an_unassigned_complaint_but_not_of_their_own_assigned_one(make_complaint, officer):
    other = UserFactory(username="erin", roles=[Role.COMPLAINT_OFFICER])
    unassigned = make_complaint(owner=None)
    make_complaint(owner=officer)
    assert (notices(officer), notices(other)) == (
        [],  # the officer who recorded it is not told of it
        [f"{unassigned.reference}: a new complaint (Hotline) needs an officer."],
    )


def test_the_new_complaint_notice_reads_in_each_readers_language(client_for, make_complaint, nurse, officer):
    complaint = make_complaint(by=nurse, owner=None)
    html = client_for(officer).get(reverse("complaints:notifications"), HTTP_ACCEPT_LANGUAGE="zh-hans").content
    assert f"{complaint.reference}：新投诉（投诉热线）需要投诉专员处理。" in html.decode()
