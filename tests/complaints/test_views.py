import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from complaints import services
from complaints.models import Category, Complaint
from followup.models import Notification
from followup.services import notify
from tests.pagination import Pager, pager

S = Complaint.Status


def urls(pk: int) -> dict[str, str]:
    return {
        "list": reverse("complaints:list"),
        "create": reverse("complaints:create"),
        "promises": reverse("complaints:promises"),
        "notifications": reverse("complaints:notifications"),
        "badge": reverse("complaints:notification_badge"),
        "detail": reverse("complaints:detail", args=[pk]),
    }


@pytest.mark.parametrize("page", ["list", "create", "promises", "notifications", "badge", "detail"])
def test_users_without_a_complaint_role_are_refused(client_for, no_role_user, admin_user, make_complaint, page):
    url = urls(make_complaint().pk)[page]
    assert client_for(no_role_user).get(url).status_code == 403
    assert client_for(admin_user).get(url).status_code == 403


@pytest.mark.parametrize("action", ["transition", "note", "reply", "evidence", "promise", "reassign", "classify"])
def test_actions_are_refused_to_users_without_a_complaint_role(client_for, no_role_user, make_complaint, action):
    url = reverse("complaints:action", args=[make_complaint().pk, action])
    assert client_for(no_role_user).post(url, {}).status_code == 403


def test_nurse_may_add_a_note_but_not_change_the_status(client_for, nurse, make_complaint):
    complaint = make_complaint()
    client = client_for(nurse)
    response = client.post(reverse("complaints:action", args=[complaint.pk, "note"]), {"note-text": "Called the ward."})
    assert response.status_code == 302
    response = client.post(
        reverse("complaints:action", args=[complaint.pk, "transition"]), {"transition-to": S.INVESTIGATING}
    )
    assert response.status_code == 403
    assert Complaint.objects.get(pk=complaint.pk).status == S.RECEIVED


def test_nurses_see_only_their_departments_complaints(client_for, nurse, officer, make_complaint, other_ward):
    mine = make_complaint()
    theirs = make_complaint(departments=[other_ward])
    nurse_page = client_for(nurse).get(reverse("complaints:list"))
    assert [c.reference for c in nurse_page.context["page"]] == [mine.reference]
    assert client_for(nurse).get(reverse("complaints:detail", args=[theirs.pk])).status_code == 404
    assert (
        client_for(nurse).post(reverse("complaints:action", args=[theirs.pk, "note"]), {"note-text": "x"}).status_code
        == 404
    )
    officer_page = client_for(officer).get(reverse("complaints:list"))
    assert sorted(c.reference for c in officer_page.context["page"]) == sorted([mine.reference, theirs.reference])


def test_list_tabs_open_mine_and_breached(client_for, officer, head_nurse, make_complaint):
    open_one = make_complaint(received_at=dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.UTC))
    mine = make_complaint(owner=head_nurse)
    make_complaint(settled_on_the_spot=True, measures=["explanation"], reply="Explained.")
    Complaint.objects.filter(pk=open_one.pk).update(resolution_breached=True)
    client = client_for(head_nurse)

    def refs(view):
        return [c.reference for c in client.get(reverse("complaints:list"), {"view": view}).context["page"]]

    assert refs("open") == [open_one.reference, mine.reference]  # soonest resolution due first
    assert refs("mine") == [mine.reference]
    assert refs("breached") == [open_one.reference]
    assert len(refs("all")) == 3


def test_list_filters_and_searches(client_for, officer, make_complaint, other_ward):
    fees = Category.objects.get(code="fees")
    bill = make_complaint(category=fees, description="Charged twice for the CT scan", channel="letter")
    make_complaint(departments=[other_ward], severity="urgent")
    client = client_for(officer)

    def refs(**params):
        return [c.reference for c in client.get(reverse("complaints:list"), params).context["page"]]

    assert refs(q="ct scan") == [bill.reference]
    assert refs(q=bill.reference) == [bill.reference]
    assert refs(category=fees.pk) == [bill.reference]
    assert refs(channel="letter") == [bill.reference]
    assert len(refs(severity="urgent", department=other_ward.pk)) == 1
    assert refs(received_from="2099-01-01") == []


def test_list_next_page_keeps_the_view_tab_and_the_filters(client_for, officer, make_complaint):
    for _ in range(26):
        make_complaint(channel="letter")
    make_complaint(channel="hotline")
    client = client_for(officer)

    first = client.get(reverse("complaints:list"), {"view": "all", "channel": "letter"})
    assert pager(first) == Pager(current="Page 1 of 2", links={"Next": "?view=all&channel=letter&page=2"})

    second = client.get(reverse("complaints:list") + pager(first).links["Next"])
    assert pager(second) == Pager(current="Page 2 of 2", links={"Previous": "?view=all&channel=letter&page=1"})
    assert [c.channel for c in second.context["page"]] == ["letter"]


@pytest.mark.parametrize("count", [1, 3])
def test_list_runs_a_fixed_number_of_queries(client_for, officer, make_complaint, django_assert_num_queries, count):
    for _ in range(count):
        make_complaint()
    client = client_for(officer)
    client.get(reverse("complaints:list"))  # warm the session
    with django_assert_num_queries(14):
        response = client.get(reverse("complaints:list"))
    assert len(response.context["page"]) == count


@pytest.mark.parametrize("count", [1, 3])
def test_nurse_list_runs_a_fixed_number_of_queries(client_for, nurse, make_complaint, django_assert_num_queries, count):
    for _ in range(count):
        make_complaint()
    client = client_for(nurse)
    client.get(reverse("complaints:list"))
    with django_assert_num_queries(14):
        response = client.get(reverse("complaints:list"))
    assert len(response.context["page"]) == count


def test_detail_shows_the_timeline_and_the_actions_for_the_officer(client_for, officer, make_complaint):
    complaint = make_complaint()
    services.complaint_add_note(complaint=complaint, by=officer, text="Asked the ward for the duty roster.")
    response = client_for(officer).get(reverse("complaints:detail", args=[complaint.pk]))
    assert response.status_code == 200
    assert "Asked the ward for the duty roster." in response.content.decode()
    assert sorted(response.context["forms"]) == sorted(
        [
            "transition",
            "classify",
            "measures",
            "note",
            "evidence",
            "contact",
            "reply",
            "reassign",
            "promise",
            "pause",
        ]
    )


def test_refused_transition_is_explained_on_the_page(client_for, officer, make_complaint):
    complaint = make_complaint()
    response = client_for(officer).post(
        reverse("complaints:action", args=[complaint.pk, "transition"]), {"transition-to": S.CLOSED}
    )
    assert response.status_code == 400
    assert response.context["forms"]["transition"].non_field_errors() == [
        "A complaint that is “Received” cannot become “Closed”; next allowed: Investigating."
    ]


def test_officer_works_a_complaint_to_closed_through_the_pages(client_for, officer, make_complaint):
    complaint = make_complaint()
    client = client_for(officer)
    in_a_month = (timezone.localdate() + dt.timedelta(days=30)).isoformat()

    def post(action, data):
        response = client.post(reverse("complaints:action", args=[complaint.pk, action]), data)
        assert response.status_code == 302, response.context and [f.errors for f in response.context["forms"].values()]

    post("transition", {"transition-to": S.INVESTIGATING})
    post("promise", {"promise-what": "Refund", "promise-owner": officer.pk, "promise-due_on": in_a_month})
    post("transition", {"transition-to": S.RESOLVED})
    post("reply", {"reply-text": "Refund on its way.", "reply-handling_satisfaction": "basic"})
    promise = complaint.promises.get()
    response = client.post(
        reverse("complaints:promise_deliver", args=[complaint.pk, promise.pk]),
        {"deliver-delivered_on": timezone.localdate().isoformat()},
    )
    assert response.status_code == 302
    post(
        "transition",
        {
            "transition-to": S.CLOSED,
            "transition-measures": ["apology", "compensation"],
            "transition-compensation_amount": "1200.50",
        },
    )
    complaint.refresh_from_db()
    assert (complaint.status, complaint.handling_satisfaction) == (S.CLOSED, "basic")
    assert list(complaint.measures.values_list("kind", "amount")) == [
        ("apology", None),
        ("compensation", Decimal("1200.50")),
    ]


def test_open_promises_page_lists_undelivered_promises_in_scope(client_for, nurse, officer, make_complaint, other_ward):
    mine = services.promise_add(
        complaint=make_complaint(), by=officer, what="Call back Friday", owner=officer, due_on=dt.date(2030, 1, 4)
    )
    services.promise_add(
        complaint=make_complaint(departments=[other_ward]),
        by=officer,
        what="Refund",
        owner=officer,
        due_on=dt.date(2030, 1, 4),
    )
    response = client_for(nurse).get(reverse("complaints:promises"))
    assert [p.pk for p in response.context["page"]] == [mine.pk]


def test_notifications_page_shows_mine_and_marks_them_read(client_for, nurse, officer):
    notify(users=[nurse], text="TS-2026-00001: first response is late.", link="/complaints/1/")
    notify(users=[officer], text="Not for the nurse", link="")
    client = client_for(nurse)
    response = client.get(reverse("complaints:notifications"))
    assert [n.text for n in response.context["page"]] == ["TS-2026-00001: first response is late."]
    assert response.context["unread"] == 1
    badge = client.get(reverse("complaints:notification_badge")).content.decode()
    assert badge == '<span class="badge text-bg-warning">1<span class="visually-hidden"> unread</span></span>\n'
    assert 'hx-get="/complaints/notifications/badge/"' in client.get(reverse("complaints:list")).content.decode()
    client.post(reverse("complaints:notifications"))
    assert Notification.objects.filter(recipient=nurse, read_at__isnull=True).count() == 0
    assert client.get(reverse("complaints:notification_badge")).content.decode() == "\n"


@pytest.mark.parametrize("count", [1, 3])
def test_open_promises_page_runs_a_fixed_number_of_queries(
    client_for, officer, make_complaint, django_assert_num_queries, count
):
    for _ in range(count):
        services.promise_add(
            complaint=make_complaint(), by=officer, what="Call back", owner=officer, due_on=dt.date(2030, 1, 4)
        )
    client = client_for(officer)
    client.get(reverse("complaints:promises"))
    with django_assert_num_queries(9):
        response = client.get(reverse("complaints:promises"))
    assert len(response.context["page"]) == count


@pytest.mark.parametrize("name", ["complaints:promises", "complaints:notifications"])
def test_open_promises_and_notifications_page_through_the_same_pager(client_for, officer, make_complaint, name):
    complaint = make_complaint()
    for n in range(26):
        services.promise_add(
            complaint=complaint, by=officer, what=f"Call back {n}", owner=officer, due_on=dt.date(2030, 1, 4)
        )
    notify(users=[officer] * 26, text="Late", link="/complaints/1/")
    client = client_for(officer)

    first = client.get(reverse(name))
    assert pager(first) == Pager(current="Page 1 of 2", links={"Next": "?page=2"})

    second = client.get(reverse(name) + pager(first).links["Next"])
    assert pager(second) == Pager(current="Page 2 of 2", links={"Previous": "?page=1"})
    assert len(second.context["page"]) == 1


@pytest.mark.parametrize("count", [1, 3])
def test_notifications_page_runs_a_fixed_number_of_queries(client_for, nurse, django_assert_num_queries, count):
    notify(users=[nurse] * count, text="Late", link="/complaints/1/")
    client = client_for(nurse)
    client.get(reverse("complaints:notifications"))
    with django_assert_num_queries(10):
        response = client.get(reverse("complaints:notifications"))
    assert len(response.context["page"]) == count


def test_classifying_a_complaint_as_urgent_brings_its_deadlines_forward(client_for, officer, make_complaint, ward):
    complaint = make_complaint(received_at=dt.datetime(2026, 11, 16, 1, 0, tzinfo=dt.UTC))  # Monday 09:00 local
    response = client_for(officer).post(
        reverse("complaints:action", args=[complaint.pk, "classify"]),
        {
            "classify-category": Category.objects.get(code="nursing").pk,
            "classify-severity": "urgent",
            "classify-validity": "valid",
            "classify-departments": [ward.pk],
        },
    )
    assert response.status_code == 302
    complaint.refresh_from_db()
    assert (complaint.category.code, complaint.severity, complaint.validity) == ("nursing", "urgent", "valid")
    assert complaint.first_response_due == dt.datetime(2026, 11, 16, 1, 30, tzinfo=dt.UTC)
    assert complaint.events.last().text == "Classified: Nursing, Urgent (紧急), Valid (有效)."


def test_actions_are_audited_against_the_complaint(client_for, officer, make_complaint):
    from followup.models import AuditEvent

    complaint = make_complaint()
    client_for(officer).post(reverse("complaints:action", args=[complaint.pk, "note"]), {"note-text": "Called back."})
    assert list(AuditEvent.objects.filter(action=AuditEvent.Action.CHANGE).values_list("object_type", "object_id")) == [
        ("complaint", str(complaint.pk))
    ]


def test_the_department_and_staff_lists_say_how_to_choose_several(client_for, officer, make_complaint):
    hint = "Hold Ctrl (⌘ on a Mac) to choose more than one."
    client = client_for(officer)
    assert client.get(reverse("complaints:create")).content.decode().count(hint) == 2
    assert client.get(reverse("complaints:detail", args=[make_complaint().pk])).content.decode().count(hint) == 2
