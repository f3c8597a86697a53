"""The head nurse's dashboard figures. Every figure is an aggregate query in
the database (Count/Avg with a filter); Python only arranges the few result
rows. The definitions are written out in docs/dashboard.md.

The unit is the call: the cohort of a period is every call of the chosen
departments whose due date falls in the period.

The complaint figures beside them come from the complaints app's own
selector (``complaints.selectors.complaint_figures``): this module is the one
place in ``calls`` that reads complaints.
"""

import datetime as dt
from dataclasses import dataclass, field

from django.db.models import Avg, Count, F, FloatField, Q, QuerySet, Sum
from django.db.models.functions import Cast, Coalesce, NullIf, TruncWeek
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from complaints.selectors import complaint_figures
from followup import access
from followup.dates import add_years
from followup.figures import Rate
from followup.models import User

from ..models import ClinicalAlert, DashboardDay, DashboardItemDay, Department, FollowUpCall, ItemScore, SpotCheck
from .summary import summary_in_use

Status = FollowUpCall.Status
Reason = FollowUpCall.CancelReason
Sat = FollowUpCall.Satisfaction

COMPLETED = Q(status=Status.COMPLETED)
RATED = COMPLETED & ~Q(satisfaction="")
TOP_BOX = Q(score__gte=9)
MIDDLE_BOX = Q(score__gte=7, score__lte=8)
BOTTOM_BOX = Q(score__lte=6)

# The conditions counted for every period (name -> condition on a call).
CALL_CONDITIONS: dict[str, Q] = {
    "due": Q(),
    # Reach denominator: every call due except those cancelled for another reason than death.
    "countable": ~Q(status=Status.CANCELLED) | Q(cancel_reason=Reason.DECEASED),
    "completed": COMPLETED,
    "unreachable": Q(status=Status.UNREACHABLE),
    "deceased": Q(status=Status.CANCELLED, cancel_reason=Reason.DECEASED),
    # A family member spoke, alone or with the patient.
    "family": COMPLETED & Q(answered_by__in=FollowUpCall.FAMILY_SPOKE),
    "rated": RATED,
    "satisfied": COMPLETED & Q(satisfaction=Sat.SATISFIED),
    "basic": COMPLETED & Q(satisfaction=Sat.BASIC),
    "unsatisfied": COMPLETED & Q(satisfaction=Sat.UNSATISFIED),
}


@dataclass(frozen=True)
class Period:
    start: dt.date
    end: dt.date

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def previous(self) -> "Period":
        return Period(self.start - dt.timedelta(days=self.days), self.start - dt.timedelta(days=1))

    def year_earlier(self) -> "Period":
        return Period(add_years(self.start, -1), add_years(self.end, -1))

    @property
    def q(self) -> Q:
        return Q(due_date__gte=self.start, due_date__lte=self.end)


def default_period(today: dt.date | None = None) -> Period:
    """The last four weeks up to today, in the hospital's time zone."""
    today = today or timezone.localdate()
    return Period(today - dt.timedelta(days=27), today)


@dataclass
class Headline:
    key: str
    label: str
    status: str  # worklist status filter behind the figure ("" = all)
    current: int | Rate
    previous: int | Rate
    year_ago: int | Rate

    @property
    def is_rate(self) -> bool:
        return isinstance(self.current, Rate)

    @staticmethod
    def _change(now, then) -> float | int | None:
        if isinstance(now, Rate):
            if now.percent is None or then.percent is None:
                return None
            return round(now.percent - then.percent, 1)
        return now - then

    @property
    def change_previous(self):
        return self._change(self.current, self.previous)

    @property
    def change_year(self):
        return self._change(self.current, self.year_ago)


@dataclass
class Dashboard:
    period: Period
    department_ids: list[int]
    headlines: list[Headline]
    counts: dict[str, int]
    boxes: list[tuple[str, Rate]]
    items: list[dict]
    items_total: dict
    weeks: list[dict]
    nurses: list[dict]
    alerts: dict[str, int]
    spot_checks: dict
    complaints: dict = field(default_factory=dict)


# --- scope ---------------------------------------------------------------------------------


def dashboard_departments(user: User) -> QuerySet[Department]:
    """The departments whose figures a user may see (followup.access)."""
    return access.dashboard_departments(user)


@dataclass(frozen=True)
class Source:
    """Where the call figures are counted: the calls themselves, or on
    PostgreSQL the trigger-kept summary (calls/dashboard/summary.py), which
    holds one row per combination with its number of calls. Both give the
    same figures; the summary sums a few thousand rows instead of a million."""

    summary: bool

    def calls(self, department_ids: list[int]) -> QuerySet:
        if self.summary:
            return DashboardDay.objects.filter(department_id__in=department_ids)
        return FollowUpCall.objects.filter(discharge__department_id__in=department_ids)

    def scores(self, department_ids: list[int], period: "Period") -> QuerySet:
        if self.summary:
            return DashboardItemDay.objects.filter(department_id__in=department_ids).filter(period.q)
        calls = FollowUpCall.objects.filter(discharge__department_id__in=department_ids).filter(period.q)
        return ItemScore.objects.filter(call__in=calls.values("pk"))

    def tally(self, condition: Q | None = None, *, zero: bool = True):
        """How many calls meet ``condition`` (``zero=False``: NULL for none,
        one expression node less where the caller reads None as 0)."""
        if self.summary:
            total = Sum("calls", filter=condition)
            return Coalesce(total, 0) if zero else total
        return Count("pk", filter=condition)

    def score_tally(self, condition: Q | None = None):
        if self.summary:
            return Coalesce(Sum("scores", filter=condition), 0)
        return Count("pk", filter=condition)

    def score_average(self):
        if self.summary:
            return Cast(Sum(F("score") * F("scores")), FloatField()) / NullIf(Sum("scores"), 0)
        return Avg("score")

    def duration_average(self, condition: Q):
        if self.summary:
            return Cast(Sum("duration_sum", filter=condition), FloatField()) / NullIf(
                Sum("duration_n", filter=condition), 0
            )
        return Avg("duration_seconds", filter=condition)

    def spot_checks(self, calls: QuerySet) -> dict:
        if self.summary:
            reviewed = [SpotCheck.Verdict.GOOD, SpotCheck.Verdict.NEEDS_IMPROVEMENT]
            return calls.aggregate(
                completed=self.tally(COMPLETED),
                sampled=self.tally(COMPLETED & ~Q(spot_check="")),
                reviewed=self.tally(COMPLETED & Q(spot_check__in=reviewed)),
                good=self.tally(COMPLETED & Q(spot_check=SpotCheck.Verdict.GOOD)),
                needs_improvement=self.tally(COMPLETED & Q(spot_check=SpotCheck.Verdict.NEEDS_IMPROVEMENT)),
            )
        return calls.filter(COMPLETED).aggregate(
            completed=Count("pk"),
            sampled=Count("spot_check"),
            reviewed=Count("spot_check", filter=~Q(spot_check__verdict="")),
            good=Count("spot_check", filter=Q(spot_check__verdict=SpotCheck.Verdict.GOOD)),
            needs_improvement=Count("spot_check", filter=Q(spot_check__verdict=SpotCheck.Verdict.NEEDS_IMPROVEMENT)),
        )


def default_source() -> Source:
    return Source(summary=summary_in_use())


# --- figures -------------------------------------------------------------------------------


def _period_counts(src: Source, calls: QuerySet, periods: dict[str, Period]) -> dict[str, dict[str, int]]:
    """Every CALL_CONDITIONS count for every period, in one query."""
    spans = Q()
    for period in periods.values():
        spans |= period.q
    row = calls.filter(spans).aggregate(
        **{
            f"{name}__{key}": src.tally(period.q & condition, zero=False)
            for name, period in periods.items()
            for key, condition in CALL_CONDITIONS.items()
        }
    )
    return {name: {key: row[f"{name}__{key}"] or 0 for key in CALL_CONDITIONS} for name in periods}


def _headline_values(c: dict[str, int]) -> dict[str, int | Rate]:
    return {
        "due": c["due"],
        "completed": c["completed"],
        "reach": Rate(c["completed"], c["countable"]),
        "unreachable": c["unreachable"],
        "deceased": c["deceased"],
        "family": Rate(c["family"], c["completed"]),
        "satisfied": Rate(c["satisfied"], c["rated"]),
        "satisfied_or_basic": Rate(c["satisfied"] + c["basic"], c["rated"]),
    }


HEADLINES = [
    ("due", _("Calls due"), ""),
    ("completed", _("Completed"), Status.COMPLETED),
    ("reach", _("Reach rate"), Status.COMPLETED),
    ("unreachable", _("Unreachable (lost to follow-up)"), Status.UNREACHABLE),
    ("deceased", _("Deceased"), Status.CANCELLED),
    ("family", _("Answered by family"), Status.COMPLETED),
    ("satisfied", _("Satisfied"), Status.COMPLETED),
    ("satisfied_or_basic", _("Satisfied or basically satisfied"), Status.COMPLETED),
]


def _item_figures(src: Source, scores: QuerySet) -> tuple[list[dict], dict]:
    boxes = {
        "n": src.score_tally(),
        "average": src.score_average(),
        "top": src.score_tally(TOP_BOX),
        "middle": src.score_tally(MIDDLE_BOX),
        "bottom": src.score_tally(BOTTOM_BOX),
    }
    rows = list(
        scores.values("item_id", "item__name", "item__name_zh", "item__order", "item__code")
        .annotate(**boxes)
        .filter(n__gt=0)
        .order_by("item__order", "item__code")
    )
    total = scores.aggregate(**boxes)
    chinese = (get_language() or "").startswith("zh")
    for row in [*rows, total]:
        row["n"] = row["n"] or 0
        row["average"] = round(row["average"], 1) if row["average"] is not None else None
        for box in ("top", "middle", "bottom"):
            row[f"{box}_rate"] = Rate(row[box] or 0, row["n"])
    for row in rows:
        row["label"] = row["item__name_zh"] if chinese and row["item__name_zh"] else row["item__name"]
    return rows, total


def _week_figures(src: Source, calls: QuerySet, today: dt.date) -> list[dict]:
    rows = list(
        calls.annotate(week=TruncWeek("due_date"))
        .values("week")
        .annotate(
            due=src.tally(),
            countable=src.tally(CALL_CONDITIONS["countable"]),
            completed=src.tally(COMPLETED),
            rated=src.tally(RATED),
            satisfied=src.tally(CALL_CONDITIONS["satisfied"]),
            basic=src.tally(CALL_CONDITIONS["basic"]),
        )
        .filter(due__gt=0)
        .order_by("week")
    )
    for row in rows:
        if isinstance(row["week"], dt.datetime):
            row["week"] = row["week"].date()
        row["week_end"] = row["week"] + dt.timedelta(days=6)
        # This week's calls still due later (or later today) count as not
        # reached yet: its rates are a figure so far, not the week's.
        row["in_progress"] = row["week"] <= today <= row["week_end"]
        row["reach"] = Rate(row["completed"], row["countable"])
        row["satisfaction"] = Rate(row["satisfied"], row["rated"])
        row["satisfied_or_basic"] = Rate(row["satisfied"] + row["basic"], row["rated"])
    return rows


def _nurse_figures(src: Source, calls: QuerySet, today: dt.date) -> list[dict]:
    rows = list(
        calls.values("assigned_to", "assigned_to__username", "assigned_to__display_name")
        .annotate(
            assigned=src.tally(),
            completed=src.tally(COMPLETED),
            overdue=src.tally(Q(status__in=FollowUpCall.OPEN_STATUSES, due_date__lt=today)),
            average_duration=src.duration_average(COMPLETED),
            rated=src.tally(RATED),
            satisfied=src.tally(CALL_CONDITIONS["satisfied"]),
        )
        .filter(assigned__gt=0)
        .order_by("assigned_to__display_name", "assigned_to__username")
    )
    for row in rows:
        row["name"] = row["assigned_to__display_name"] or row["assigned_to__username"] or ""
        row["satisfaction"] = Rate(row["satisfied"], row["rated"])
        seconds = row["average_duration"]
        row["average_minutes"] = round(seconds / 60, 1) if seconds is not None else None
    return rows


def _alert_figures(department_ids: list[int]) -> dict[str, int]:
    now = timezone.now()
    return ClinicalAlert.objects.filter(
        resolved_at__isnull=True, call__discharge__department_id__in=department_ids
    ).aggregate(open=Count("pk"), overdue=Count("pk", filter=Q(due_at__lt=now)))


def _spot_check_figures(src: Source, calls: QuerySet) -> dict:
    row = src.spot_checks(calls)
    row["coverage"] = Rate(row["sampled"], row["completed"])
    row["reviewed_rate"] = Rate(row["reviewed"], row["sampled"])
    row["good_rate"] = Rate(row["good"], row["reviewed"])
    return row


def dashboard_figures(
    *, department_ids: list[int], period: Period, today: dt.date | None = None, source: Source | None = None
) -> Dashboard:
    """Everything the dashboard shows for these departments and period, in a
    fixed number of queries whatever the amount of data."""
    today = today or timezone.localdate()
    src = source or default_source()
    calls = src.calls(department_ids)
    current = calls.filter(period.q)
    periods = {"current": period, "previous": period.previous(), "year_ago": period.year_earlier()}
    counts = _period_counts(src, calls, periods)
    values = {name: _headline_values(c) for name, c in counts.items()}
    headlines = [
        Headline(
            key=key,
            label=label,
            status=status,
            current=values["current"][key],
            previous=values["previous"][key],
            year_ago=values["year_ago"][key],
        )
        for key, label, status in HEADLINES
    ]
    now = counts["current"]
    boxes = [
        (_("Top box: satisfied"), Rate(now["satisfied"], now["rated"])),
        (_("Middle: basically satisfied"), Rate(now["basic"], now["rated"])),
        (_("Bottom box: unsatisfied"), Rate(now["unsatisfied"], now["rated"])),
    ]
    items, items_total = _item_figures(src, src.scores(department_ids, period))
    return Dashboard(
        period=period,
        department_ids=department_ids,
        headlines=headlines,
        counts=now,
        boxes=boxes,
        items=items,
        items_total=items_total,
        weeks=_week_figures(src, current, today),
        nurses=_nurse_figures(src, current, today),
        alerts=_alert_figures(department_ids),
        spot_checks=_spot_check_figures(src, current),
        complaints=complaint_figures(department_ids=department_ids, start=period.start, end=period.end),
    )
