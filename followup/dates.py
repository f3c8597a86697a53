"""Whether a date someone typed is plausible.

Nothing this hospital records happened before 1 January 1900 (``EARLIEST``):
an earlier date is a slip of the keyboard (0023 or 1023 for 2023...).

Where the date records something that already happened -- a birth, an
admission, a discharge, a death, a complaint received, a promise delivered --
it cannot be after today in the hospital's time zone
(``timezone.localdate()``).

Where a future date makes sense it has a horizon: a plan -- a promise's due
date, the next call booked, a call's corrected dates, a holiday -- at most
``PLAN_YEARS`` ahead (2206 for 2026 is a typo, not a plan); the end of a
period to show -- a list filter, the dashboard, the audit trail, a report --
at most ``PERIOD_YEARS`` ahead, which only keeps the date arithmetic done on
it clear of year 9999.

``date_problem`` says what is wrong in plain words (None when nothing is);
``check_date`` raises it as a ValidationError; ``PlausibleDateField`` is the
form field for a typed date, ``PeriodDateField`` and ``PeriodDateFilter`` for
the ends of a period to show; ``year_problem`` checks a year given as a
report parameter.
"""

import datetime as dt

import django_filters
from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext

EARLIEST = dt.date(1900, 1, 1)
PLAN_YEARS = 10
PERIOD_YEARS = 100
OLDEST_AGE_YEARS = 120  # nobody discharged was born longer ago than this


def add_years(day: dt.date, years: int) -> dt.date:
    """The same day ``years`` later (earlier when negative); 29 February
    becomes the 28th in a year without one."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def oldest_birth_date(today: dt.date | None = None) -> dt.date:
    """The earliest birth date of a living patient: OLDEST_AGE_YEARS before
    today. One further back is a typing error (1726 for 1976)."""
    return add_years(today or timezone.localdate(), -OLDEST_AGE_YEARS)


def latest_plausible(today: dt.date | None = None, *, years: int = PLAN_YEARS) -> dt.date:
    """The latest date accepted ``years`` ahead of today."""
    return add_years(today or timezone.localdate(), years)


def date_problem(
    day: dt.date | None,
    *,
    future: bool = False,
    future_message: str | None = None,
    future_years: int = PLAN_YEARS,
    today: dt.date | None = None,
) -> str | None:
    """What is wrong with ``day`` (None when nothing is, or when there is no
    date; a datetime is judged by its date in the hospital's time zone).
    ``future``: whether a day after today makes sense for this field, up to
    ``future_years`` ahead; ``future_message`` replaces the generic refusal
    of a future date."""
    if day is None:
        return None
    if isinstance(day, dt.datetime):
        try:
            day = timezone.localdate(day) if timezone.is_aware(day) else day.date()
        except OverflowError:  # next to year 1 or 9999
            day = day.date()
    today = today or timezone.localdate()
    if day < EARLIEST:
        return gettext("Enter a date on or after 1 January 1900.")
    if not future and day > today:
        return str(future_message) if future_message else gettext("This date cannot be in the future.")
    latest = latest_plausible(today, years=future_years)
    if future and day > latest:
        return gettext("Enter a date no later than %(date)s.") % {"date": latest.isoformat()}
    return None


def check_date(
    day: dt.date | None, *, future: bool = False, future_message: str | None = None, future_years: int = PLAN_YEARS
) -> None:
    """Raise ``date_problem`` as a ValidationError (code ``implausible_date``)."""
    problem = date_problem(day, future=future, future_message=future_message, future_years=future_years)
    if problem:
        raise ValidationError(problem, code="implausible_date")


class PlausibleDateField(forms.DateField):
    """A DateField that refuses dates before 1900, and dates after today
    unless ``future=True`` (then at most ``future_years`` ahead). A malformed
    date is refused by DateField itself ("Enter a valid date.")."""

    def __init__(
        self, *, future: bool = False, future_message: str | None = None, future_years: int = PLAN_YEARS, **kwargs
    ):
        self.future = future
        self.future_message = future_message
        self.future_years = future_years
        super().__init__(**kwargs)

    def validate(self, value):
        super().validate(value)
        check_date(value, future=self.future, future_message=self.future_message, future_years=self.future_years)


class PeriodDateField(PlausibleDateField):
    """One end of a period to show (a filter, a dashboard range): from 1900
    to ``PERIOD_YEARS`` ahead."""

    def __init__(self, **kwargs):
        super().__init__(future=True, future_years=PERIOD_YEARS, **kwargs)


class PeriodDateFilter(django_filters.DateFilter):
    """A list filter's date, checked as ``PeriodDateField`` checks it."""

    field_class = PeriodDateField


def year_problem(year: int, *, today: dt.date | None = None) -> str | None:
    """What is wrong with a year given as a report parameter."""
    last = latest_plausible(today, years=PERIOD_YEARS).year
    if year < EARLIEST.year or year > last:
        return gettext("Choose a year from %(first)s to %(last)s.") % {"first": EARLIEST.year, "last": last}
    return None


__all__ = [
    "EARLIEST",
    "PERIOD_YEARS",
    "PLAN_YEARS",
    "PeriodDateField",
    "PeriodDateFilter",
    "PlausibleDateField",
    "check_date",
    "date_problem",
    "latest_plausible",
    "year_problem",
]


# --- days and weeks in the hospital's time zone ----------------------------------------------


def start_of_day(day: dt.date) -> dt.datetime:
    """Midnight at the start of ``day`` in the hospital's time zone: a period
    of days [start, end] is ``start_of_day(start) <= t < start_of_day(end + 1 day)``."""
    return dt.datetime.combine(day, dt.time.min, tzinfo=timezone.get_current_timezone())


def week_bounds(day: dt.date) -> tuple[dt.date, dt.date]:
    """Monday and Sunday of the ISO week holding ``day``."""
    monday = day - dt.timedelta(days=day.weekday())
    return monday, monday + dt.timedelta(days=6)
