"""The business-hours clock of complaint SLAs (see docs/sla.md).

Time only counts on working days, between the calendar's start and end
hours, in the hospital's time zone. A working day is, in this order: a
hospital's own day (Admin → hospital days off and working days) as it says;
else China's public holidays are closed and their make-up working days (调休)
open, as the ``holidays`` package has them from the State Council's notices
(when the calendar follows them); else one of the calendar's weekdays.

"One day" of a first-response or resolution budget is one working day's
worth of hours. The legal reply deadline counts whole working days instead:
it ends when the desk closes on the n-th working day after the day the
complaint was received (医疗机构投诉管理办法 2019, art. 35: 5 working days,
10 when several departments must cooperate)."""

import datetime as dt
import functools
from dataclasses import dataclass, field
from typing import NamedTuple

import holidays
from django.utils import timezone

from .models import ChannelResponseTarget, Holiday, Severity, SlaPolicy, TimeUnit, WorkingCalendar

DEFAULT_WEEKDAYS = (0, 1, 2, 3, 4)
DEFAULT_START = dt.time(8, 0)
DEFAULT_END = dt.time(17, 30)

# severity -> (first response value, unit, resolution value, unit)
DEFAULT_POLICIES = {
    Severity.URGENT: (30, TimeUnit.MINUTES, 1, TimeUnit.WORKING_DAYS),
    Severity.MAJOR: (4, TimeUnit.HOURS, 3, TimeUnit.WORKING_DAYS),
    Severity.GENERAL: (1, TimeUnit.WORKING_DAYS, 7, TimeUnit.WORKING_DAYS),
}
# 医疗机构投诉管理办法 (2019), art. 35: working days to tell the complainant how
# the complaint is handled; the longer one when several departments cooperate.
LEGAL_REPLY_DAYS = 5
LEGAL_REPLY_DAYS_COORDINATED = 10

MAX_DAYS = 3 * 366  # a deadline further away than this is a configuration error


@functools.cache
def china(year: int) -> tuple[frozenset[dt.date], frozenset[dt.date]]:
    """(public holidays, make-up working days) of a year in mainland China.
    For a year whose schedule the State Council has not published yet (or a
    package older than it), only the statutory holidays are known and no
    make-up days: the hospital adds them under its own days."""
    calendar = holidays.China(years=year)
    days_off = frozenset(day for day in calendar if day.year == year)
    working = frozenset(day for day in calendar.weekend_workdays if day.year == year)
    return days_off, working


@dataclass(frozen=True)
class Calendar:
    weekdays: tuple[int, ...] = DEFAULT_WEEKDAYS
    start: dt.time = DEFAULT_START
    end: dt.time = DEFAULT_END
    days_off: frozenset[dt.date] = field(default_factory=frozenset)
    working_days: frozenset[dt.date] = field(default_factory=frozenset)
    national: bool = False

    @property
    def minutes_per_day(self) -> int:
        return (self.end.hour * 60 + self.end.minute) - (self.start.hour * 60 + self.start.minute)

    def is_working_day(self, day: dt.date) -> bool:
        if day in self.working_days:
            return True
        if day in self.days_off:
            return False
        if self.national:
            public_holidays, make_up_days = china(day.year)
            if day in public_holidays:
                return False
            if day in make_up_days:
                return True
        return day.weekday() in self.weekdays

    def window(self, day: dt.date) -> tuple[dt.datetime, dt.datetime]:
        tz = timezone.get_current_timezone()
        return (
            dt.datetime.combine(day, self.start, tzinfo=tz),
            dt.datetime.combine(day, self.end, tzinfo=tz),
        )


def load_calendar() -> Calendar:
    row = WorkingCalendar.objects.order_by("pk").first()
    own = dict(Holiday.objects.values_list("date", "is_working_day"))
    days_off = frozenset(day for day, working in own.items() if not working)
    working_days = frozenset(day for day, working in own.items() if working)
    if row is None:
        return Calendar(days_off=days_off, working_days=working_days, national=True)
    weekdays = tuple(int(d) for d in row.weekdays) if row.weekdays else DEFAULT_WEEKDAYS
    return Calendar(
        weekdays=weekdays,
        start=row.start_time,
        end=row.end_time,
        days_off=days_off,
        working_days=working_days,
        national=row.national_holidays,
    )


def to_minutes(value: int, unit: str, calendar: Calendar) -> int:
    if unit == TimeUnit.WORKING_DAYS:
        return value * calendar.minutes_per_day
    if unit == TimeUnit.HOURS:
        return value * 60
    return value


class Budgets(NamedTuple):
    first_response: int  # business minutes
    resolution: int  # business minutes
    reply_days: int  # whole working days


def budgets(severity: str, calendar: Calendar, *, channel: str = "", coordinated: bool = False) -> Budgets:
    """The budgets of a complaint: its severity's, with the channel's first
    response target when that is sooner, and the legal reply time."""
    policy = SlaPolicy.objects.filter(severity=severity).first()
    if policy is None:
        fr_value, fr_unit, res_value, res_unit = DEFAULT_POLICIES[Severity(severity)]
        reply_days = LEGAL_REPLY_DAYS_COORDINATED if coordinated else LEGAL_REPLY_DAYS
    else:
        fr_value, fr_unit = policy.first_response_value, policy.first_response_unit
        res_value, res_unit = policy.resolution_value, policy.resolution_unit
        reply_days = policy.reply_days_coordinated if coordinated else policy.reply_days
    first_response = to_minutes(fr_value, fr_unit, calendar)
    target = ChannelResponseTarget.objects.filter(channel=channel).first() if channel else None
    if target is not None:
        promised = to_minutes(target.first_response_value, target.first_response_unit, calendar)
        first_response = min(first_response, promised)
    return Budgets(first_response, to_minutes(res_value, res_unit, calendar), reply_days)


def add_business_minutes(start: dt.datetime, minutes: int, calendar: Calendar) -> dt.datetime:
    """The moment ``minutes`` of working time after ``start``."""
    current = timezone.localtime(start)
    day = current.date()
    remaining = dt.timedelta(minutes=minutes)
    for _ in range(MAX_DAYS):
        if calendar.is_working_day(day):
            opens, closes = calendar.window(day)
            current = max(current, opens)
            if current < closes:
                available = closes - current
                if remaining <= available:
                    return current + remaining
                remaining -= available
        day += dt.timedelta(days=1)
        current = dt.datetime.combine(day, dt.time(0, 0), tzinfo=timezone.get_current_timezone())
    raise ValueError("The working calendar has no working hours: check weekdays and holidays.")


def close_of_working_day(start: dt.datetime, days: int, calendar: Calendar) -> dt.datetime:
    """Closing time of the ``days``-th working day after the day of ``start``
    (the day itself does not count, as Chinese law counts periods; 0: the
    closing time of that day itself)."""
    day = timezone.localtime(start).date()
    if days == 0:
        return calendar.window(day)[1]
    counted = 0
    for _ in range(MAX_DAYS):
        day += dt.timedelta(days=1)
        if calendar.is_working_day(day):
            counted += 1
            if counted == days:
                return calendar.window(day)[1]
    raise ValueError("The working calendar has no working days: check weekdays and holidays.")


def business_minutes_between(start: dt.datetime, end: dt.datetime, calendar: Calendar) -> int:
    """Working minutes from ``start`` to ``end`` (0 when end is not after start)."""
    start, end = timezone.localtime(start), timezone.localtime(end)
    total = dt.timedelta()
    day = start.date()
    while day <= end.date():
        if calendar.is_working_day(day):
            opens, closes = calendar.window(day)
            lo, hi = max(opens, start), min(closes, end)
            if hi > lo:
                total += hi - lo
        day += dt.timedelta(days=1)
    return int(total.total_seconds() // 60)


class Deadlines(NamedTuple):
    first_response: dt.datetime
    resolution: dt.datetime
    reply: dt.datetime


def deadlines(
    *,
    received_at: dt.datetime,
    severity: str,
    channel: str = "",
    coordinated: bool = False,
    paused_minutes: int = 0,
) -> Deadlines:
    """The first response, resolution and (legal) reply deadlines: the
    budgets counted in business time from receipt (the reply in whole
    working days), each pushed back by the working time spent paused."""
    calendar = load_calendar()
    budget = budgets(severity, calendar, channel=channel, coordinated=coordinated)
    reply = close_of_working_day(received_at, budget.reply_days, calendar)
    return Deadlines(
        add_business_minutes(received_at, budget.first_response + paused_minutes, calendar),
        add_business_minutes(received_at, budget.resolution + paused_minutes, calendar),
        add_business_minutes(reply, paused_minutes, calendar) if paused_minutes else reply,
    )
