"""The plausibility rule every typed date goes through (followup/dates.py):
nothing before 1 January 1900, nothing after today where the date records
what happened, a horizon where a future date makes sense."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse
from django.utils import translation

from followup.dates import PeriodDateField, PlausibleDateField, date_problem, year_problem
from tests.factories import FollowUpCallFactory

# Monday 23 November 2026, 00:30 in Shanghai: still Sunday 22 November in UTC.
JUST_AFTER_MIDNIGHT = dt.datetime(2026, 11, 23, 0, 30, tzinfo=ZoneInfo("Asia/Shanghai"))


@pytest.fixture(autouse=True)
def _today():
    with time_machine.travel(JUST_AFTER_MIDNIGHT, tick=False):
        yield


@pytest.mark.parametrize(
    ("day", "future", "problem"),
    [
        (dt.date(1900, 1, 1), False, None),
        (dt.date(1899, 12, 31), False, "Enter a date on or after 1 January 1900."),
        (dt.date(1, 1, 1), True, "Enter a date on or after 1 January 1900."),
        (dt.date(2026, 11, 23), False, None),  # today in the hospital, though not yet in UTC
        (dt.date(2026, 11, 24), False, "This date cannot be in the future."),
        (dt.date(2036, 11, 23), True, None),
        (dt.date(2036, 11, 24), True, "Enter a date no later than 2036-11-23."),
        (dt.date(9999, 12, 31), True, "Enter a date no later than 2036-11-23."),
        (None, False, None),
    ],
)
def test_date_problem_in_plain_words(day, future, problem):
    assert date_problem(day, future=future) == problem


def test_a_moment_is_judged_by_its_day_in_the_hospital():
    late_sunday_utc = dt.datetime(2026, 11, 22, 16, 30, tzinfo=dt.UTC)  # Monday 00:30 in Shanghai
    assert date_problem(late_sunday_utc) is None
    assert date_problem(dt.datetime(1, 1, 1, tzinfo=dt.UTC)) == "Enter a date on or after 1 January 1900."


def test_a_refused_future_date_can_say_which_date_it_is():
    problem = date_problem(dt.date(2027, 1, 1), future_message="The birth date cannot be in the future.")
    assert problem == "The birth date cannot be in the future."


def test_the_messages_read_in_chinese():
    with translation.override("zh-hans"):
        assert date_problem(dt.date(1899, 1, 1)) == "请输入1900年1月1日或之后的日期。"
        assert date_problem(dt.date(2027, 1, 1)) == "该日期不能晚于今天。"
        assert date_problem(dt.date(2040, 1, 1), future=True) == "请输入不晚于2036-11-23的日期。"


@pytest.mark.parametrize(
    ("field", "typed", "errors"),
    [
        (PlausibleDateField(), "1899-12-31", ["Enter a date on or after 1 January 1900."]),
        (PlausibleDateField(), "2026-11-24", ["This date cannot be in the future."]),
        (PlausibleDateField(), "2026-02-30", ["Enter a valid date."]),
        (PlausibleDateField(), "99999-01-01", ["Enter a valid date."]),
        (PlausibleDateField(future=True), "2030-01-01", []),
        (PeriodDateField(), "2099-12-31", []),
        (PeriodDateField(), "9999-12-31", ["Enter a date no later than 2126-11-23."]),
    ],
)
def test_form_fields_refuse_implausible_or_malformed_dates(field, typed, errors):
    from django import forms

    class Form(forms.Form):
        day = field

    form = Form({"day": typed})
    assert form.errors.get("day", []) == errors


def test_report_years_run_from_1900_to_a_century_ahead():
    assert [year_problem(year) for year in (1900, 2126)] == [None, None]
    assert year_problem(1899) == year_problem(2127) == "Choose a year from 1900 to 2126."


@pytest.mark.parametrize(
    ("params", "error"),
    [
        ({"since": "1899-12-31"}, "Enter a date on or after 1 January 1900."),
        ({"until": "9999-12-31"}, "Enter a date no later than 2126-11-23."),
    ],
)
def test_audit_trail_filter_refuses_implausible_days(client_for, head_nurse, params, error):
    call = FollowUpCallFactory()
    call.discharge.department.staff.add(head_nurse)
    url = reverse("calls:patient_access", args=[call.discharge.patient_id])
    response = client_for(head_nurse).get(url, params)
    assert response.status_code == 200
    assert response.context["form"].errors == {next(iter(params)): [error]}
