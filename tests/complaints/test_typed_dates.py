"""Dates typed on the complaint pages are plausible, and the analysis
report's quarter answers 400 with the reason when it is malformed or out of
range (a year near 9999 used to be a server error)."""

import datetime as dt

import pytest
import time_machine
from django.urls import reverse

from complaints import services
from complaints.models import Complaint, Holiday, Promise
from tests.complaints.conftest import at
from tests.complaints.test_create_from_call import form_data

pytestmark = pytest.mark.django_db

PRE_1900 = "Enter a date on or after 1 January 1900."


@pytest.fixture(autouse=True)
def _today():
    with time_machine.travel(at(2026, 11, 23, 9, 0), tick=False):
        yield


@pytest.mark.parametrize(
    ("received_at", "message"),
    [
        ("1899-12-31T10:30", PRE_1900),
        ("0001-01-01T00:00", PRE_1900),
        ("2026-11-24T08:00", "The complaint cannot be received in the future."),
    ],
)
def test_a_complaint_received_before_1900_or_tomorrow_is_refused(client_for, officer, ward, received_at, message):
    data = form_data(ward, received_at=received_at, patient_mrn="", channel=Complaint.Channel.HOTLINE)

    response = client_for(officer).post(reverse("complaints:create"), data)

    assert response.status_code == 200
    assert response.context["form"].errors == {"received_at": [message]}
    assert Complaint.objects.count() == 0


@pytest.mark.parametrize(
    ("due_on", "message"),
    [
        ("1899-12-31", PRE_1900),
        ("2036-11-24", "Enter a date no later than 2036-11-23."),
        ("9999-12-31", "Enter a date no later than 2036-11-23."),
    ],
)
def test_a_promise_is_due_from_1900_to_ten_years_ahead(client_for, officer, make_complaint, due_on, message):
    complaint = make_complaint()

    response = client_for(officer).post(
        reverse("complaints:action", args=[complaint.pk, "promise"]),
        {"promise-what": "Refund", "promise-owner": officer.pk, "promise-due_on": due_on},
    )

    assert response.status_code == 400
    assert response.context["forms"]["promise"].errors == {"due_on": [message]}
    assert message in response.content.decode()
    assert Promise.objects.count() == 0


@pytest.mark.parametrize(
    ("delivered_on", "message"),
    [("1899-12-31", PRE_1900), ("2026-11-24", "A promise cannot be delivered in the future.")],
)
def test_a_promise_is_delivered_between_1900_and_today(client_for, officer, make_complaint, delivered_on, message):
    complaint = make_complaint()
    promise = services.promise_add(
        complaint=complaint, by=officer, what="Call back", owner=officer, due_on=dt.date(2026, 12, 1)
    )

    response = client_for(officer).post(
        reverse("complaints:promise_deliver", args=[complaint.pk, promise.pk]), {"deliver-delivered_on": delivered_on}
    )

    assert response.status_code == 400
    assert response.context["deliver_form"].errors == {"delivered_on": [message]}
    assert message in response.content.decode()
    promise.refresh_from_db()
    assert promise.delivered_on is None


def test_complaint_list_explains_an_implausible_date_filter(client_for, officer, make_complaint):
    make_complaint()

    response = client_for(officer).get(reverse("complaints:list"), {"view": "all", "received_from": "1899-12-31"})

    assert response.status_code == 200
    assert response.context["filter"].form.errors == {"received_from": [PRE_1900]}


def test_report_refusal_reads_in_chinese(client_for, officer):
    response = client_for(officer).get(
        reverse("complaints:report"), {"quarter": "2026-Q9"}, HTTP_ACCEPT_LANGUAGE="zh-hans"
    )

    assert response.status_code == 400
    assert "季度请写成“年份-Q序号”，例如 2026-Q3。" in response.content.decode()


def test_report_refuses_a_bad_quarter_to_no_one_it_would_not_show_anyway(client_for, nurse):
    assert client_for(nurse).get(reverse("complaints:report"), {"quarter": "2026-Q9"}).status_code == 403


@pytest.mark.parametrize(
    ("day", "message"),
    [("1899-10-01", PRE_1900), ("2037-10-01", "Enter a date no later than 2036-11-23.")],
)
def test_holiday_admin_refuses_implausible_days(client_for, admin_user, day, message):
    response = client_for(admin_user).post(
        reverse("admin:complaints_holiday_add"), {"date": day, "name": "National Day"}
    )

    assert response.status_code == 200
    assert response.context["adminform"].form.errors == {"date": [message]}
    assert Holiday.objects.filter(name="National Day").count() == 0
