"""Every date typed on the calls side is plausible: nothing before 1900,
nothing after today where that is meaningless (births, stays, deaths), no
absurd horizon where the future makes sense (the next call, filters). A
malformed or implausible dashboard parameter answers 400 with the reason,
never 500."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse

from calls.forms.call_work import CompleteForm
from calls.models import Discharge, FollowUpCall, Patient
from calls.services.discharge_import import discharges_import
from calls.services.records import call_correct_problems
from tests.calls.test_discharge_form import post_data
from tests.calls.test_import_discharges import csv_rows
from tests.factories import DepartmentFactory, DischargeFactory, FollowUpCallFactory, RuleStepFactory

pytestmark = pytest.mark.django_db

PRE_1900 = "Enter a date on or after 1 January 1900."


@pytest.fixture(autouse=True)
def _today():
    with time_machine.travel(dt.datetime(2026, 11, 23, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai")), tick=False):
        yield


@pytest.fixture
def ward(nurse, head_nurse):
    department = DepartmentFactory(code="CARD", name="Cardiology")
    department.staff.add(nurse, head_nurse)
    RuleStepFactory(rule__department=department, offset_days=7, weekdays=[3])
    return department


# --- the discharge form ------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"birth_date": "1899-12-31"}, "birth_date", PRE_1900),
        ({"birth_date": "0958-03-02"}, "birth_date", PRE_1900),
        ({"admitted_on": "0026-11-10"}, "admitted_on", PRE_1900),
        ({"admitted_on": "1026-11-10", "discharged_on": "1026-11-16"}, "discharged_on", PRE_1900),
        (
            {"admitted_on": "2026-11-24", "discharged_on": "2026-11-25"},
            "admitted_on",
            "The admission date cannot be in the future.",
        ),
        ({"birth_date": "2026-11-24"}, "birth_date", "The birth date cannot be in the future."),
        ({"admitted_on": "2026-11-31"}, "admitted_on", "Enter a valid date."),
    ],
)
def test_discharge_form_refuses_implausible_dates_in_plain_words(client_for, nurse, ward, changes, field, message):
    response = client_for(nurse).post(reverse("calls:discharge_new"), post_data(ward, **changes))

    assert response.status_code == 200
    assert response.context["form"].errors[field] == [message]
    assert (Patient.objects.count(), Discharge.objects.count()) == (0, 0)


def test_discharge_form_accepts_a_birth_120_years_ago_and_refuses_one_earlier(client_for, nurse, ward):
    # Today is 2026-11-23 here: 1900 is a possible date, but nobody discharged is 126.
    client = client_for(nurse)
    refused = client.post(reverse("calls:discharge_new"), post_data(ward, birth_date="1906-11-22"))
    assert refused.context["form"].errors["birth_date"] == [
        "The birth date 1906-11-22 is more than 120 years ago: check the year."
    ]
    response = client.post(reverse("calls:discharge_new"), post_data(ward, birth_date="1906-11-23"))
    assert response.status_code == 302
    assert Patient.objects.get().birth_date == dt.date(1906, 11, 23)


def test_the_discharge_form_speaks_chinese(client_for, nurse, ward):
    response = client_for(nurse).post(
        reverse("calls:discharge_new"), post_data(ward, birth_date="1899-12-31"), HTTP_ACCEPT_LANGUAGE="zh-hans"
    )
    assert response.context["form"].errors["birth_date"] == ["请输入1900年1月1日或之后的日期。"]


# --- import rows ----------------------------------------------------------------------


def test_import_rows_with_implausible_dates_are_reported_and_nothing_is_imported(ward):
    rows = csv_rows(
        "ZY002,李秀英,F,1899-12-31,13912345678,,,,CARD,2026-11-12,2026-11-18,心衰,I50.9,,,1,",
        "ZY003,王芳,F,2026-12-01,13912345679,,,,CARD,2026-11-12,2026-11-18,心衰,I50.9,,,1,",
        "ZY004,赵军,M,1950-01-01,13912345670,,,,CARD,0026-11-12,2026-11-18,心衰,I50.9,,,1,",
        "ZY005,钱伟,M,1950-01-01,13912345671,,,,CARD,2026-11-24,2026-11-25,心衰,I50.9,,,1,",
    )

    report = discharges_import(rows=rows, by=None, dry_run=False)

    assert report.errors == [
        (2, "birth_date: Enter a date on or after 1 January 1900."),
        (3, "birth_date: This date cannot be in the future."),
        (4, "admitted_on: The admission date is before 1 January 1900."),
        (5, "admitted_on: The admission date is in the future."),
        (5, "discharged_on: The discharge date is in the future."),
    ]
    assert Discharge.objects.count() == 0


# --- the admin ------------------------------------------------------------------------


def patient_admin_post(client, patient, **changes):
    url = reverse("admin:calls_patient_change", args=[patient.pk])
    form = client.get(url).context["adminform"].form
    data = {k: v for k, v in form.initial.items() if v is not None}
    data.update({"communication_needs": "[]", **changes})
    return client.post(url, data)


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"birth_date": "1899-12-31"}, "birth_date", PRE_1900),
        ({"birth_date": "2026-11-24"}, "birth_date", "The birth date cannot be in the future."),
        ({"deceased_on": "0202-11-20"}, "deceased_on", PRE_1900),
        ({"deceased_on": "2026-12-01"}, "deceased_on", "The date of death cannot be in the future."),
        ({"declined_calls_on": "2026-12-01"}, "declined_calls_on", "This date cannot be in the future."),
    ],
)
def test_patient_admin_refuses_implausible_dates(client_for, admin_user, changes, field, message):
    call = FollowUpCallFactory()
    patient = call.discharge.patient

    response = patient_admin_post(client_for(admin_user), patient, **changes)

    assert response.status_code == 200
    assert response.context["adminform"].form.errors[field] == [message]
    call.refresh_from_db()
    assert call.status == FollowUpCall.Status.SCHEDULED


def test_discharge_admin_refuses_a_stay_before_1900(client_for, admin_user, ward):
    stay = DischargeFactory(department=ward, admitted_on=dt.date(2026, 11, 10), discharged_on=dt.date(2026, 11, 16))
    client = client_for(admin_user)
    url = reverse("admin:calls_discharge_change", args=[stay.pk])
    form = client.get(url).context["adminform"].form
    data = {k: v for k, v in form.initial.items() if v is not None}
    data.update({"admitted_on": "1026-11-10", "discharged_on": "1026-11-16", "responsible_nurse": ""})

    response = client.post(url, data)

    assert response.status_code == 200
    assert response.context["adminform"].form.non_field_errors() == [
        "The admission date is before 1 January 1900.",
        "The discharge date is before 1 January 1900.",
    ]
    stay.refresh_from_db()
    assert (stay.admitted_on, stay.discharged_on) == (dt.date(2026, 11, 10), dt.date(2026, 11, 16))


def test_a_calls_corrected_dates_are_plausible():
    call = FollowUpCallFactory()
    changes = {
        "due_date": dt.date(1899, 12, 31),
        "latest_on": dt.date(2040, 1, 1),
        "scheduled_for": dt.datetime(1, 1, 1, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai")),
    }

    problems = call_correct_problems(call=call, changes=changes, expected_version=None)

    assert problems == [
        "Due date: Enter a date on or after 1 January 1900.",
        "May be made until: Enter a date no later than 2036-11-23.",
        "Scheduled for: Enter a date on or after 1 January 1900.",
    ]


# --- the call screen ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("died_on", "message"),
    [("1899-12-31", PRE_1900), ("2026-11-24", "The date of death cannot be in the future.")],
)
def test_date_of_death_before_1900_or_tomorrow_is_refused(client_for, nurse, ward, died_on, message):
    call = FollowUpCallFactory(discharge__department=ward, assigned_to=nurse)

    response = client_for(nurse).post(
        reverse("calls:call_deceased", args=[call.pk]),
        {"deceased-expected_version": call.version, "deceased-died_on": died_on, "deceased-note": ""},
    )

    assert response.status_code == 400
    assert response.context["deceased_form"].errors["died_on"] == [message]
    call.discharge.patient.refresh_from_db()
    assert call.discharge.patient.deceased_on is None


@pytest.mark.parametrize(
    ("typed", "errors"),
    [
        ("2026-12-07", []),
        ("2036-11-23", []),
        ("2036-11-24", ["Enter a date no later than 2036-11-23."]),
        ("9999-12-31", ["Enter a date no later than 2036-11-23."]),
        ("2026-11-23", ["The next call must be booked for a day after today."]),
    ],
)
def test_the_next_call_is_booked_after_today_and_within_ten_years(typed, errors):
    form = CompleteForm({"outcome-next_call_on": typed}, items=[])
    form.is_valid()
    assert form.errors.get("next_call_on", []) == errors


# --- list filters ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url_name", "params", "field", "message"),
    [
        ("calls:discharge_list", {"discharged_from": "1899-12-31"}, "discharged_from", PRE_1900),
        (
            "calls:discharge_list",
            {"discharged_to": "9999-12-31"},
            "discharged_to",
            "Enter a date no later than 2126-11-23.",
        ),
        ("calls:worklist", {"due_from": "0001-01-01"}, "due_from", PRE_1900),
        ("calls:worklist", {"due_to": "2026-02-30"}, "due_to", "Enter a valid date."),
    ],
)
def test_list_filters_explain_an_implausible_date(client_for, head_nurse, ward, url_name, params, field, message):
    response = client_for(head_nurse).get(reverse(url_name), params)

    assert response.status_code == 200
    assert response.context["filter"].form.errors == {field: [message]}


# --- the dashboard --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "errors"),
    [
        ({"start": "0001-01-01", "end": "0002-12-31"}, {"start": [PRE_1900], "end": [PRE_1900]}),
        (
            {"start": "9998-01-01", "end": "9999-12-31"},
            {
                "start": ["Enter a date no later than 2126-11-23."],
                "end": ["Enter a date no later than 2126-11-23."],
            },
        ),
        ({"start": "2026-13-01"}, {"start": ["Enter a valid date."]}),
        ({"end": "x" * 5000}, {"end": ["Enter a valid date."]}),
    ],
)
def test_dashboard_answers_400_with_the_reason_for_implausible_or_malformed_dates(
    client_for, head_nurse, ward, params, errors
):
    response = client_for(head_nurse).get(reverse("calls:dashboard"), params)

    assert response.status_code == 400
    assert response.context["figures"] is None
    assert response.context["form"].errors == errors


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_dashboard_export_answers_400_with_the_reason(client_for, head_nurse, ward, fmt):
    response = client_for(head_nurse).get(
        reverse(f"calls:dashboard_export_{fmt}"), {"start": "1899-12-31", "end": "1900-01-31"}
    )

    assert response.status_code == 400
    assert response.content.decode() == PRE_1900


@pytest.mark.parametrize(
    ("params", "errors"),
    [
        ({"due_from": "1899-12-31"}, {"due_from": [PRE_1900]}),
        ({"due_to": "99999-01-01"}, {"due_to": ["Enter a valid date."]}),
        (
            {"due_from": "2026-11-20", "due_to": "2026-11-01"},
            {"__all__": ["The start date must be on or before the end date."]},
        ),
    ],
)
def test_the_calls_behind_a_figure_answer_400_and_list_nothing_for_a_bad_filter(
    client_for, head_nurse, ward, params, errors
):
    FollowUpCallFactory(discharge__department=ward)

    response = client_for(head_nurse).get(reverse("calls:dashboard_calls"), params)

    assert response.status_code == 400
    assert response.context["form"].errors == errors
    assert list(response.context["page"]) == []


def test_spot_check_list_explains_an_implausible_week(client_for, head_nurse, ward):
    response = client_for(head_nurse).get(reverse("calls:spot_checks"), {"week": "1899-12-25"})

    assert response.status_code == 200
    assert response.context["form"].errors == {"week": [PRE_1900]}
