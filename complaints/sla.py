"""The business-hours clock of complaint SLAs (see docs/sla.md).

Time only counts on working weekdays that are not holidays, between the
calendar's start and end hours, in the hospital's time zone. "One day" of a
deadline is one working day's worth of hours."""

import datetime as dt
from dataclasses import dataclass, field

from django.utils import timezone

from .models import Holiday, Severity, SlaPolicy, TimeUnit, WorkingCalendar

DEFAULT_WEEKDAYS = (0, 1, 2, 3, 4)
DEFAULT_START = dt.time(8, 0)
DEFAULT_END = dt.time(17, 30)

# severity -> (first response value, unit, resolution value, unit)
DEFAULT_POLICIES = {
    Severity.URGENT: (30, TimeUnit.MINUTES, 1, TimeUnit.WORKING_DAYS),
    Severity.MAJOR: (4, TimeUnit.HOURS, 3, TimeUnit.WORKING_DAYS),
    Severity.GENERAL: (1, TimeUnit.WORKING_DAYS, 7, TimeUnit.WORKING_DAYS),
}

MAX_DAYS = 3 * 366  # a deadline further away than this is a configuration error


@dataclass(frozen=True)
class Calendar:
    weekdays: tuple[int, ...] = DEFAULT_WEEKDAYS
    start: dt.time = DEFAULT_START
    end: dt.time = DEFAULT_END
    holidays: frozenset[dt.date] = field(default_factory=frozenset)

    @property
    def minutes_per_day(self) -> int:
        return (self.end.hour * 60 + self.end.minute) - (self.start.hour * 60 + self.start.minute)

    def is_working_day(self, day: dt.date) -> bool:
        return day.weekday() in self.weekdays and day not in self.holidays

    def window(self, day: dt.date) -> tuple[dt.datetime, dt.datetime]:
        tz = timezone.get_current_timezone()
        return (
            dt.datetime.combine(day, self.start, tzinfo=tz),
            dt.datetime.combine(day, self.end, tzinfo=tz),
        )


def load_calendar() -> Calendar:
    row = WorkingCalendar.objects.order_by("pk").first()
    holidays = frozenset(Holiday.objects.values_list("date", flat=True))
    if row is None:
        return Calendar(holidays=holidays)
    weekdays = tuple(int(d) for d in row.weekdays) if row.weekdays else DEFAULT_WEEKDAYS
    return Calendar(weekdays=weekdays, start=row.start_time, end=row.end_time, holidays=holidays)


def to_minutes(value: int, unit: str, calendar: Calendar) -> int:
    if unit == TimeUnit.WORKING_DAYS:
        return value * calendar.minutes_per_day
    if unit == TimeUnit.HOURS:
        return value * 60
    return value


def budgets(severity: str, calendar: Calendar) -> tuple[int, int]:
    """(first response, resolution) in business minutes for a severity."""
    policy = SlaPolicy.objects.filter(severity=severity).first()
    if policy is None:
        fr_value, fr_unit, res_value, res_unit = DEFAULT_POLICIES[Severity(severity)]
    else:
        fr_value, fr_unit = policy.first_response_value, policy.first_response_unit
        res_value, res_unit = policy.resolution_value, policy.resolution_unit
    return to_minutes(fr_value, fr_unit, calendar), to_minutes(res_value, res_unit, calendar)


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


def deadlines(*, received_at: dt.datetime, severity: str, paused_minutes: int = 0) -> tuple[dt.datetime, dt.datetime]:
    """(first response due, resolution due): the severity's budgets counted
    in business time from receipt, pushed back by the time spent paused."""
    calendar = load_calendar()
    first_response, resolution = budgets(severity, calendar)
    return (
        add_business_minutes(received_at, first_response + paused_minutes, calendar),
        add_business_minutes(received_at, resolution + paused_minutes, calendar),
    )
