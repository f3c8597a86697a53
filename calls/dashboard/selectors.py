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

from django.db import connection
from django.db.models import Avg, Count, F, FloatField, OuterRef, Q, QuerySet, Subquery, Sum
from django.db.models.functions import Cast, Coalesce, NullIf, TruncWeek
from django.http import Http404
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from complaints.selectors import complaint_figures, complaint_reasons, complaints_raised_on_stay, stay_has_complaint
from followup import access
from followup.dates import add_years
from followup.figures import Rate
from followup.models import User
from followup.prepared import Params

from ..models import (
    ClinicalAlert,
    DashboardDay,
    DashboardItemDay,
    DashboardStay,
    DashboardStayDay,
    Department,
    Discharge,
    FollowUpCall,
    ItemScore,
    Patient,
    SpotCheck,
)
from ..selectors.self_report import TOTALS, SelfReportFigures, self_report_figures
from . import patients as pt
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
    # who took part: calls.dashboard.patients.family_conditions, the one reader of answered_by
    "family": pt.family_conditions()["family"],
    "patient_and_family": pt.family_conditions()["patient_and_family"],
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
    params: dict  # the call-list filters behind the figure (its count, or a rate's numerator)
    current: int | Rate
    previous: int | Rate
    year_ago: int | Rate

    @property
    def is_rate(self) -> bool:
        return isinstance(self.current, Rate)

    @property
    def count(self) -> int:
        """What the figure's link lists: the count, or a rate's numerator."""
        return self.current.num if self.is_rate else self.current

    @property
    def query(self) -> str:
        return urlencode(self.params, doseq=True)

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
    departments: list[Department]
    headlines: list[Headline]
    counts: dict[str, int]
    boxes: list[tuple[str, Rate, str]]  # label, share, call-list filters of its numerator
    items: list[dict]
    items_total: dict
    weeks: list[dict]
    nurses: list[dict]
    alerts: dict[str, int]
    spot_checks: dict
    complaints: dict = field(default_factory=dict)
    patients: "PatientFigures | None" = None
    today: dt.date | None = None
    self_report: SelfReportFigures | None = None


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

    # department__id, not department_id: the same SQL, but a plain __in lookup, which
    # takes the Slots of calls/dashboard/prepared.py (a relation's __in wants values).
    def calls(self, department_ids: list) -> QuerySet:
        if self.summary:
            return DashboardDay.objects.filter(department__id__in=department_ids)
        return FollowUpCall.objects.filter(discharge__department__id__in=department_ids)

    def scores(self, department_ids: list, period: "Period") -> QuerySet:
        if self.summary:
            return DashboardItemDay.objects.filter(department__id__in=department_ids).filter(period.q)
        calls = FollowUpCall.objects.filter(discharge__department__id__in=department_ids).filter(period.q)
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

    def spot_checks(self, calls: QuerySet) -> tuple[QuerySet, dict]:
        """The calls and the aggregates of the spot-check figures."""
        if self.summary:
            reviewed = [SpotCheck.Verdict.GOOD, SpotCheck.Verdict.NEEDS_IMPROVEMENT]
            return calls, {
                "completed": self.tally(COMPLETED),
                "sampled": self.tally(COMPLETED & ~Q(spot_check="")),
                "reviewed": self.tally(COMPLETED & Q(spot_check__in=reviewed)),
                "good": self.tally(COMPLETED & Q(spot_check=SpotCheck.Verdict.GOOD)),
                "needs_improvement": self.tally(COMPLETED & Q(spot_check=SpotCheck.Verdict.NEEDS_IMPROVEMENT)),
            }
        return calls.filter(COMPLETED), {
            "completed": Count("pk"),
            "sampled": Count("spot_check"),
            "reviewed": Count("spot_check", filter=~Q(spot_check__verdict="")),
            "good": Count("spot_check", filter=Q(spot_check__verdict=SpotCheck.Verdict.GOOD)),
            "needs_improvement": Count("spot_check", filter=Q(spot_check__verdict=SpotCheck.Verdict.NEEDS_IMPROVEMENT)),
        }


class DashboardParams(Params):
    """A dashboard view's values (followup/prepared.py): its departments,
    the start and end of each period, today and now."""

    def __init__(self, *, department_ids: list[int], periods: dict[str, Period], today: dt.date, now: dt.datetime):
        ends = {f"{name}_{end}": getattr(period, end) for name, period in periods.items() for end in ("start", "end")}
        super().__init__(department_ids=department_ids, today=today, now=now, **ends)
        self.department_ids, self.today, self.now = self["department_ids"], self["today"], self["now"]
        self.periods = {name: Period(self[f"{name}_start"], self[f"{name}_end"]) for name in periods}


def default_source() -> Source:
    return Source(summary=summary_in_use())


# --- figures -------------------------------------------------------------------------------


# The columns CALL_CONDITIONS look at (each an exact or __in lookup, NOT NULL in both sources).
CONDITION_COLUMNS = ("status", "cancel_reason", "answered_by", "satisfaction")


def _holds(condition: Q, row: dict) -> bool:
    """Whether a row of CONDITION_COLUMNS values meets ``condition``, a Q of
    exact and ``__in`` lookups (CALL_CONDITIONS), as the database decides it."""
    results = []
    for child in condition.children:
        if isinstance(child, Q):
            results.append(_holds(child, row))
            continue
        lookup, value = child
        column, _sep, kind = lookup.partition("__")
        if kind == "in":
            results.append(row[column] in value)
        elif kind in ("", "exact"):
            results.append(row[column] == value)
        else:
            raise ValueError(f"unsupported lookup in a call condition: {lookup}")
    held = all(results) if condition.connector == Q.AND else any(results)
    return not held if condition.negated else held


def _period_counts(src: Source, p: DashboardParams) -> dict[str, dict[str, int]]:
    """Every CALL_CONDITIONS count for every period, in one query: the calls
    of each period per combination of CONDITION_COLUMNS (a few dozen rows),
    each combination added to the conditions it meets."""
    periods = p.periods

    def build() -> QuerySet:
        spans = Q()
        for period in periods.values():
            spans |= period.q
        return (
            src.calls(p.department_ids)
            .filter(spans)
            .values(*CONDITION_COLUMNS)
            .annotate(**{f"in_{name}": src.tally(period.q, zero=False) for name, period in periods.items()})
            .order_by()
        )

    rows = p.rows(("dashboard", "period_counts", src.summary), build)
    counts = {name: dict.fromkeys(CALL_CONDITIONS, 0) for name in periods}
    for row in rows:
        met = [key for key, condition in CALL_CONDITIONS.items() if _holds(condition, row)]
        for name in periods:
            n = row[f"in_{name}"] or 0
            for key in met:
                counts[name][key] += n
    return counts


def _headline_values(c: dict[str, int]) -> dict[str, int | Rate]:
    return {
        "due": c["due"],
        "completed": c["completed"],
        "reach": Rate(c["completed"], c["countable"]),
        "unreachable": c["unreachable"],
        "deceased": c["deceased"],
        "family": Rate(c["family"], c["completed"]),
        "patient_and_family": c["patient_and_family"],
        "satisfied": Rate(c["satisfied"], c["rated"]),
        "satisfied_or_basic": Rate(c["satisfied"] + c["basic"], c["rated"]),
    }


COMPLETED_PARAMS = {"status": Status.COMPLETED}
# key, label, the call-list filters listing what the figure counts (a rate: its numerator)
HEADLINES = [
    ("due", _("Calls due"), {}),
    ("completed", _("Completed"), COMPLETED_PARAMS),
    ("reach", _("Reach rate"), COMPLETED_PARAMS),
    ("unreachable", _("Unreachable (lost to follow-up)"), {"status": Status.UNREACHABLE}),
    ("deceased", _("Deceased"), {"status": Status.CANCELLED, "cancel_reason": Reason.DECEASED}),
    ("family", _("Family took part"), {**COMPLETED_PARAMS, "family": "family"}),
    ("patient_and_family", _("Patient and family together"), {**COMPLETED_PARAMS, "family": "patient_and_family"}),
    ("satisfied", _("Satisfied"), {**COMPLETED_PARAMS, "satisfaction": [Sat.SATISFIED]}),
    (
        "satisfied_or_basic",
        _("Satisfied or basically satisfied"),
        {**COMPLETED_PARAMS, "satisfaction": [Sat.SATISFIED, Sat.BASIC]},
    ),
]


def _item_figures(src: Source, p: DashboardParams) -> tuple[list[dict], dict]:
    def boxes() -> dict:
        return {
            "n": src.score_tally(),
            "average": src.score_average(),
            "top": src.score_tally(TOP_BOX),
            "middle": src.score_tally(MIDDLE_BOX),
            "bottom": src.score_tally(BOTTOM_BOX),
        }

    def scores() -> QuerySet:
        return src.scores(p.department_ids, p.periods["current"])

    rows = p.rows(
        ("dashboard", "items", src.summary),
        lambda: (
            scores()
            .values("item_id", "item__name", "item__name_zh", "item__order", "item__code")
            .annotate(**boxes())
            .filter(n__gt=0)
            .order_by("item__order", "item__code")
        ),
    )
    total = p.total(("dashboard", "items_total", src.summary), scores, **boxes())
    chinese = (get_language() or "").startswith("zh")
    for row in [*rows, total]:
        row["n"] = row["n"] or 0
        row["average"] = round(row["average"], 1) if row["average"] is not None else None
        for box in ("top", "middle", "bottom"):
            row[f"{box}_rate"] = Rate(row[box] or 0, row["n"])
    for row in rows:
        row["label"] = row["item__name_zh"] if chinese and row["item__name_zh"] else row["item__name"]
    return rows, total


def _week_figures(src: Source, p: DashboardParams, today: dt.date) -> list[dict]:
    rows = p.rows(
        ("dashboard", "weeks", src.summary),
        lambda: (
            src.calls(p.department_ids)
            .filter(p.periods["current"].q)
            .annotate(week=TruncWeek("due_date"))
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
        ),
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


def _nurse_figures(src: Source, p: DashboardParams) -> list[dict]:
    rows = p.rows(
        ("dashboard", "nurses", src.summary),
        lambda: (
            src.calls(p.department_ids)
            .filter(p.periods["current"].q)
            .values("assigned_to", "assigned_to__username", "assigned_to__display_name")
            .annotate(
                assigned=src.tally(),
                completed=src.tally(COMPLETED),
                overdue=src.tally(Q(status__in=FollowUpCall.OPEN_STATUSES, due_date__lt=p.today)),
                average_duration=src.duration_average(COMPLETED),
                rated=src.tally(RATED),
                satisfied=src.tally(CALL_CONDITIONS["satisfied"]),
            )
            .filter(assigned__gt=0)
            .order_by("assigned_to__display_name", "assigned_to__username")
        ),
    )
    for row in rows:
        row["name"] = row["assigned_to__display_name"] or row["assigned_to__username"] or ""
        row["satisfaction"] = Rate(row["satisfied"], row["rated"])
        seconds = row["average_duration"]
        row["average_minutes"] = round(seconds / 60, 1) if seconds is not None else None
    return rows


def _alert_figures(p: DashboardParams) -> dict[str, int]:
    return p.total(
        (
            "dashboard",
            "alerts",
        ),
        lambda: ClinicalAlert.objects.filter(
            resolved_at__isnull=True, call__discharge__department__id__in=p.department_ids
        ),
        open=Count("pk"),
        overdue=Count("pk", filter=Q(due_at__lt=p.now)),
    )


def _spot_check_figures(src: Source, p: DashboardParams) -> dict:
    calls, aggregates = src.spot_checks(src.calls(p.department_ids).filter(p.periods["current"].q))
    row = p.total(("dashboard", "spot_checks", src.summary), lambda: calls, **aggregates)
    row["coverage"] = Rate(row["sampled"], row["completed"])
    row["reviewed_rate"] = Rate(row["reviewed"], row["sampled"])
    row["good_rate"] = Rate(row["good"], row["reviewed"])
    return row


# --- patients ------------------------------------------------------------------------------

# What a stay is counted by (calls/dashboard/patients.py): one row per combination.
STAY_KEYS = ("sex", "age_band", "icd10", "reached", "deceased", "lost", "family", "rating")
# A stay's state as the list shows it (with_states' annotations, DashboardStay's columns).
STAY_STATE_FIELDS = (*pt.STAY_CALL_COUNTS, "rating", "sex", "age_band")


@dataclass
class PatientFigure:
    key: str  # stable key (the JSON export's)
    label: str
    count: int
    rate: Rate | None  # the count's share, with its n; None for the cohort itself
    params: dict  # the patient-list filters listing what it counts

    @property
    def query(self) -> str:
        return urlencode(self.params)


@dataclass
class PatientFigures:
    discharged: int
    reached: int
    deceased: int
    lost: int
    family: int
    rated: int
    satisfied: int
    basic: int
    unsatisfied: int
    headlines: list[PatientFigure]
    by_sex: list[dict]
    by_age_band: list[dict]
    by_chapter: list[dict]
    by_icd10: list[dict]
    complaint_reasons: list[dict]


def _stay_rows(src: Source, department_ids: list[int], period: Period, p: DashboardParams) -> list[dict]:
    """The period's stays counted per combination of STAY_KEYS, in one query:
    each stay's state (pt.with_states: its calls joined and counted once),
    grouped again by state; on PostgreSQL the trigger-kept stay summary
    (calls/dashboard/stay_summary.py), a few rows per day."""
    if src.summary:
        slots = p.periods["current"]
        rows = p.rows(
            ("dashboard", "stays"),
            lambda: (
                DashboardStayDay.objects.filter(
                    department__id__in=p.department_ids, discharged_on__gte=slots.start, discharged_on__lte=slots.end
                )
                .values(*STAY_KEYS)
                .annotate(n=Sum("stays"))
                .filter(n__gt=0)
                .order_by()
            ),
        )
        return [{**{key: row[key] for key in STAY_KEYS}, "stays": row["n"]} for row in rows]
    if not department_ids:
        return []
    stays = pt.with_states(pt.cohort(department_ids=department_ids, start=period.start, end=period.end))
    per_stay = stays.values("pk", "sex", "age_band", "icd10", "rating", *pt.STAY_CALL_COUNTS).order_by()
    inner, params = per_stay.query.sql_with_params()
    flags = {
        "reached": "completed_calls > 0",
        "deceased": "deceased_calls > 0",
        "lost": "completed_calls = 0 AND deceased_calls = 0 AND unreachable_calls > 0",
        "family": "family_calls > 0",
    }
    cases = [f"CASE WHEN {condition} THEN 1 ELSE 0 END" for condition in flags.values()]
    columns = ", ".join(["sex", "age_band", "icd10", "rating", *cases])
    # the ORM's SQL (its values as parameters) and constants
    sql = f"SELECT {columns}, COUNT(*) FROM ({inner}) AS stays GROUP BY 1, 2, 3, 4, 5, 6, 7, 8"  # noqa: S608  # nosec B608
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        found = cursor.fetchall()
    return [
        {
            "sex": sex,
            "age_band": age_band,
            "icd10": icd10,
            "rating": rating,
            **{flag: bool(value) for flag, value in zip(flags, values, strict=True)},
            "stays": n,
        }
        for sex, age_band, icd10, rating, *values, n in found
    ]


def _breakdown(rows: list[dict], key, values: list[str], label, param: str, discharged: int) -> list[dict]:
    """Patients and reached patients per value of ``key`` (a row's key or a
    function of the row), in the order of ``values``; values no stay has are
    left out unless listed first in ``values``."""
    patients: dict[str, int] = {}
    reached: dict[str, int] = {}
    for row in rows:
        value = key(row) if callable(key) else row[key]
        patients[value] = patients.get(value, 0) + row["stays"]
        reached[value] = reached.get(value, 0) + (row["stays"] if row["reached"] else 0)
    ordered = [v for v in values if v in patients] + sorted(v for v in patients if v not in values)
    return [
        {
            "value": value,
            "label": label(value),
            "patients": patients[value],
            "reached": reached[value],
            "rate": Rate(patients[value], discharged),
            "reach": Rate(reached[value], patients[value]),
            "query": urlencode({param: value if value != "" else pt.BLANK_CODE}),
        }
        for value in ordered
    ]


def _patient_figures(src: Source, department_ids: list[int], period: Period, p: DashboardParams) -> PatientFigures:
    rows = _stay_rows(src, department_ids, period, p)

    def total(**flags) -> int:
        return sum(r["stays"] for r in rows if all(r[k] == v for k, v in flags.items()))

    discharged = total()
    reached, deceased, lost, family = total(reached=True), total(deceased=True), total(lost=True), total(family=True)
    rated = sum(r["stays"] for r in rows if r["rating"])
    satisfied, basic, unsatisfied = (total(rating=value) for value in pt.SATISFACTIONS)
    headlines = [
        PatientFigure("patients_discharged", _("Patients discharged"), discharged, None, {}),
        PatientFigure(
            "patients_reached",
            _("Reached (at least one completed call)"),
            reached,
            Rate(reached, discharged),
            {"outcome": "reached"},
        ),
        PatientFigure(
            "patients_deceased", _("Deceased"), deceased, Rate(deceased, discharged), {"outcome": "deceased"}
        ),
        PatientFigure("patients_lost", _("Lost to follow-up"), lost, Rate(lost, discharged), {"outcome": "lost"}),
        PatientFigure("patients_with_family", _("Family took part"), family, Rate(family, reached), {"family": "on"}),
        PatientFigure(
            "patients_satisfied", _("Satisfied"), satisfied, Rate(satisfied, rated), {"satisfaction": "satisfied"}
        ),
        PatientFigure(
            "patients_basically_satisfied",
            _("Basically satisfied"),
            basic,
            Rate(basic, rated),
            {"satisfaction": "basic"},
        ),
        PatientFigure(
            "patients_unsatisfied",
            _("Unsatisfied"),
            unsatisfied,
            Rate(unsatisfied, rated),
            {"satisfaction": "unsatisfied"},
        ),
    ]
    sexes = dict(Patient.Sex.choices)
    reasons = complaint_reasons(stays=pt.cohort(department_ids=department_ids, start=period.start, end=period.end))
    for reason in reasons:
        reason["rate"] = Rate(reason["stays"], discharged)
        reason["query"] = urlencode({"complaint_category": reason["category_id"]})
    return PatientFigures(
        discharged=discharged,
        reached=reached,
        deceased=deceased,
        lost=lost,
        family=family,
        rated=rated,
        satisfied=satisfied,
        basic=basic,
        unsatisfied=unsatisfied,
        headlines=headlines,
        by_sex=_breakdown(rows, "sex", pt.SEX_CODES, lambda v: str(sexes.get(v, v)), "sex", discharged),
        by_age_band=_breakdown(rows, "age_band", pt.AGE_BAND_CODES, pt.age_band_label, "age_band", discharged),
        by_chapter=_breakdown(
            rows, lambda r: pt.chapter_of(r["icd10"]), pt.CHAPTER_CODES, pt.chapter_label, "chapter", discharged
        ),
        by_icd10=sorted(
            _breakdown(rows, "icd10", [], lambda v: v or str(_("No code")), "icd10", discharged),
            key=lambda r: (-r["patients"], r["value"]),
        ),
        complaint_reasons=reasons,
    )


def dashboard_figures(
    *,
    department_ids: list[int],
    period: Period,
    today: dt.date | None = None,
    source: Source | None = None,
    departments: list[Department] | None = None,
) -> Dashboard:
    """Everything the dashboard shows for these departments and period, in a
    fixed number of queries whatever the amount of data. ``departments``:
    the Department rows of ``department_ids`` when the caller has them
    (read here otherwise), which exports and print name."""
    today = today or timezone.localdate()
    if departments is None:
        departments = list(Department.objects.filter(pk__in=department_ids).order_by("name", "pk"))
    src = source or default_source()
    periods = {"current": period, "previous": period.previous(), "year_ago": period.year_earlier()}
    p = DashboardParams(department_ids=department_ids, periods=periods, today=today, now=timezone.now())
    counts = _period_counts(src, p)
    values = {name: _headline_values(c) for name, c in counts.items()}
    headlines = [
        Headline(
            key=key,
            label=label,
            params=params,
            current=values["current"][key],
            previous=values["previous"][key],
            year_ago=values["year_ago"][key],
        )
        for key, label, params in HEADLINES
    ]
    now = counts["current"]

    def rated(value: str) -> str:
        return urlencode({**COMPLETED_PARAMS, "satisfaction": value})

    boxes = [
        (_("Top box: satisfied"), Rate(now["satisfied"], now["rated"]), rated(Sat.SATISFIED)),
        (_("Middle: basically satisfied"), Rate(now["basic"], now["rated"]), rated(Sat.BASIC)),
        (_("Bottom box: unsatisfied"), Rate(now["unsatisfied"], now["rated"]), rated(Sat.UNSATISFIED)),
    ]
    items, items_total = _item_figures(src, p)
    return Dashboard(
        period=period,
        department_ids=department_ids,
        departments=departments,
        headlines=headlines,
        counts=now,
        boxes=boxes,
        items=items,
        items_total=items_total,
        weeks=_week_figures(src, p, today),
        nurses=_nurse_figures(src, p),
        alerts=_alert_figures(p),
        spot_checks=_spot_check_figures(src, p),
        complaints=complaint_figures(department_ids=department_ids, start=period.start, end=period.end),
        patients=_patient_figures(src, department_ids, period, p),
        today=today,
        self_report=self_report_figures(
            department_ids=department_ids, period=period, totals={key: now[key] for key in TOTALS}
        ),
    )


# --- the lists behind the patient figures -------------------------------------------------------


def dashboard_stays(
    *,
    user: User,
    department: Department | None = None,
    discharged_from: dt.date | None = None,
    discharged_to: dt.date | None = None,
    outcome: str = "",
    satisfaction: str = "",
    family: bool = False,
    sex: str = "",
    age_band: str = "",
    icd10: str | None = None,
    chapter: str = "",
    complaint_category: int | None = None,
    source: Source | None = None,
) -> QuerySet[Discharge]:
    """The stays behind a patient figure, in the head nurse's departments,
    with the conditions the figure counts (calls/dashboard/patients.py);
    ``icd10`` pt.BLANK_CODE: stays without a code."""
    stays = access.visible_discharges(user).filter(department__in=access.dashboard_departments(user), archived=False)
    if department is not None:
        stays = stays.filter(department=department)
    if discharged_from:
        stays = stays.filter(discharged_on__gte=discharged_from)
    if discharged_to:
        stays = stays.filter(discharged_on__lte=discharged_to)
    if icd10 is not None:
        stays = stays.filter(icd10="" if icd10 == pt.BLANK_CODE else icd10)
    if chapter:
        stays = stays.filter(pt.chapter_q(chapter))
    if complaint_category is not None:
        stays = stays.filter(stay_has_complaint(complaint_category))
    conditions = [
        *([pt.OUTCOMES[outcome]] if outcome else []),
        *([Q(rating=satisfaction)] if satisfaction else []),
        *([pt.FAMILY] if family else []),
        *([Q(sex=sex)] if sex else []),
        *([Q(age_band=age_band)] if age_band else []),
    ]
    if (source or default_source()).summary:
        # The trigger-kept stay rows answer the conditions (the same names as
        # with_states'), and give the shown rows their state.
        if conditions:
            stays = stays.filter(pk__in=DashboardStay.objects.filter(*conditions).values("discharge_id"))
        kept = DashboardStay.objects.filter(discharge_id=OuterRef("pk"))
        return (
            stays.annotate(**{name: Subquery(kept.values(name)[:1]) for name in STAY_STATE_FIELDS})
            .select_related("patient", "department")
            .order_by("-discharged_on", "patient__name", "pk")
        )
    stays = pt.with_states(stays).filter(*conditions)
    return stays.select_related("patient", "department").order_by("-discharged_on", "patient__name", "pk")


def dashboard_stay(*, user: User, pk: int) -> tuple[Discharge, list[FollowUpCall], list]:
    """One stay of the head nurse's departments with its calls (every one,
    a deceased patient's too) and the complaints raised on them, or 404."""
    stay = (
        pt.with_states(access.visible_discharges(user).filter(department__in=access.dashboard_departments(user)))
        .select_related("patient", "department")
        .filter(pk=pk)
        .first()
    )
    if stay is None:
        raise Http404
    calls = list(
        FollowUpCall.objects.filter(discharge=stay)
        .select_related("assigned_to", "completed_by")
        .order_by("due_date", "pk")
    )
    return stay, calls, list(complaints_raised_on_stay(discharge_id=stay.pk))
