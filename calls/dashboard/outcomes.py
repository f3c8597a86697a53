"""Did calling help? The outcome ledger of the stays a department
discharged in a period, for the patients its calls reached by day N against
those they did not, per readmission risk tier (docs/outcomes.md).

One query reads the cohort (a row per stay: department, tier, discharge date,
first completed call, the four outcomes); the counting is linear in Python.
A comparison is an association, not a proven effect: the page says so.
"""

import datetime as dt
import math
import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from django.db.models import Count, F, Min, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from followup import access
from followup.figures import Rate, min_n

from ..models import Discharge, FollowUpCall
from ..risk import RiskTier
from ..risk.outcomes import READMISSION_DAYS

Z95 = 1.959964

OUTCOMES = (
    ("readmitted_unplanned_31", _("Unplanned readmission 0-31 days")),
    ("readmitted_30", _("Readmission within 30 days, any cause")),
    ("emergency_visit_30", _("Emergency visit within 30 days")),
    ("died_30", _("Death within 30 days")),
)
TIERS = (*RiskTier.choices, ("", _("All tiers")))
# Days from discharge to the first completed call, grouped for the distribution.
CONTACT_BANDS = ((0, 3, _("0-3 days")), (4, 7, _("4-7 days")), (8, 14, _("8-14 days")), (15, 30, _("15-30 days")))
HIGH_RISK_REACHED_DAYS = 3  # "within 72 hours" of discharge, counted in days (discharges carry a date)


def wilson(x: int, n: int, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval of a proportion x/n."""
    if n == 0:
        return 0.0, 1.0
    p = x / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return centre - half, centre + half


def difference_interval(x1: int, n1: int, x2: int, n2: int, z: float = Z95) -> tuple[float, float, float]:
    """p1 - p2 and its 95% confidence interval by Newcombe's hybrid score
    method (Newcombe RG. Stat Med 1998;17:873-890, method 10)."""
    p1, p2 = x1 / n1, x2 / n2
    l1, u1 = wilson(x1, n1, z)
    l2, u2 = wilson(x2, n2, z)
    d = p1 - p2
    return d, d - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2), d + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)


@dataclass(frozen=True)
class Comparison:
    reached: Rate
    not_reached: Rate

    @property
    def too_few(self) -> bool:
        return self.reached.too_few or self.not_reached.too_few

    @property
    def difference(self) -> tuple[float, float, float] | None:
        """(difference, low, high) in percentage points, or None when a group is too small."""
        if self.too_few:
            return None
        d, low, high = difference_interval(self.reached.num, self.reached.n, self.not_reached.num, self.not_reached.n)
        return round(100 * d, 1), round(100 * low, 1), round(100 * high, 1)


@dataclass
class TierRow:
    tier: str
    label: str
    discharges: int
    reached: int
    comparisons: dict[str, Comparison]


@dataclass
class MonthRow:
    month: dt.date
    discharges: int
    reached: Rate
    unplanned: Comparison


@dataclass
class OutcomeReport:
    start: dt.date
    end: dt.date
    reach_days: int
    closed_before: dt.date  # stays discharged after this day still have their 31 days running
    rows: list[TierRow] = field(default_factory=list)
    by_department: dict[str, list[TierRow]] = field(default_factory=dict)
    months: list[MonthRow] = field(default_factory=list)
    contact_median: float | None = None
    contact_bands: list[tuple[str, int]] = field(default_factory=list)
    high_risk_discharges: int = 0
    high_risk_reached_72h: int = 0
    min_n: int = 0
    department_label: str = ""

    @property
    def discharges(self) -> int:
        return self.rows[-1].discharges if self.rows else 0

    @property
    def tables(self) -> list[tuple[str, str, list[tuple[TierRow, Comparison]]]]:
        """One table per outcome: (name, title, [(tier row, its comparison)])."""
        return [(name, label, [(row, row.comparisons[name]) for row in self.rows]) for name, label in OUTCOMES]


@dataclass(frozen=True)
class _Stay:
    department: str
    tier: str
    discharged_on: dt.date
    first_contact_days: int | None
    outcomes: tuple[bool, ...]


def _cohort(*, department_ids: Sequence[int], start: dt.date, end: dt.date) -> Iterable[_Stay]:
    rows = (
        Discharge.objects.filter(department_id__in=department_ids, discharged_on__range=(start, end), archived=False)
        # Patients who died in hospital (on or before the discharge day) were never to be called.
        .exclude(patient__deceased_on__lte=F("discharged_on"))
        .annotate(first_contact=Min("calls__completed_at", filter=Q(calls__status=FollowUpCall.Status.COMPLETED)))
        .values_list(
            "department__name", "risk_tier", "discharged_on", "first_contact", *(name for name, _label in OUTCOMES)
        )
        .order_by()
    )
    zone = timezone.get_current_timezone()
    for department, tier, discharged_on, first_contact, *outcomes in rows.iterator(chunk_size=2000):
        days = None if first_contact is None else (first_contact.astimezone(zone).date() - discharged_on).days
        yield _Stay(department, tier, discharged_on, days, tuple(outcomes))


def _tier_rows(stays: list[_Stay], reach_days: int) -> list[TierRow]:
    rows = []
    for tier, label in TIERS:
        chosen = [stay for stay in stays if not tier or stay.tier == tier]
        reached = [s for s in chosen if s.first_contact_days is not None and s.first_contact_days <= reach_days]
        others = [s for s in chosen if not (s.first_contact_days is not None and s.first_contact_days <= reach_days)]
        comparisons = {
            name: Comparison(
                reached=Rate(sum(s.outcomes[i] for s in reached), len(reached)),
                not_reached=Rate(sum(s.outcomes[i] for s in others), len(others)),
            )
            for i, (name, _label) in enumerate(OUTCOMES)
        }
        rows.append(TierRow(tier, label, len(chosen), len(reached), comparisons))
    return rows


def outcome_report(
    *, user, department_ids: Sequence[int], start: dt.date, end: dt.date, reach_days: int = 7, today=None
) -> OutcomeReport:
    """The report for the stays discharged from ``start`` to ``end`` whose
    31-day window has closed, in the user's departments among ``department_ids``."""
    today = today or timezone.localdate()
    allowed = set(access.dashboard_departments(user).values_list("pk", flat=True))
    ids = [pk for pk in department_ids if pk in allowed]
    closed_before = today - dt.timedelta(days=READMISSION_DAYS + 1)
    report = OutcomeReport(start=start, end=end, reach_days=reach_days, closed_before=closed_before, min_n=min_n())
    stays = list(_cohort(department_ids=ids, start=start, end=min(end, closed_before)))
    report.rows = _tier_rows(stays, reach_days)
    departments: dict[str, list[_Stay]] = defaultdict(list)
    months: dict[dt.date, list[_Stay]] = defaultdict(list)
    for stay in stays:
        departments[stay.department].append(stay)
        months[stay.discharged_on.replace(day=1)].append(stay)
    if len(departments) > 1:
        report.by_department = {name: _tier_rows(group, reach_days) for name, group in sorted(departments.items())}
    for month, group in sorted(months.items()):
        row = _tier_rows(group, reach_days)[-1]
        report.months.append(
            MonthRow(
                month, row.discharges, Rate(row.reached, row.discharges), row.comparisons["readmitted_unplanned_31"]
            )
        )
    contacts = [s.first_contact_days for s in stays if s.first_contact_days is not None and s.first_contact_days >= 0]
    report.contact_median = statistics.median(contacts) if contacts else None
    bands = Counter()
    for days in contacts:
        label = next((label for low, high, label in CONTACT_BANDS if low <= days <= high), _("More than 30 days"))
        bands[label] += 1
    report.contact_bands = [
        *((label, bands[label]) for _low, _high, label in CONTACT_BANDS),
        (_("More than 30 days"), bands[_("More than 30 days")]),
        (_("Never reached"), len(stays) - len(contacts)),
    ]
    high = [s for s in stays if s.tier == RiskTier.HIGH]
    report.high_risk_discharges = len(high)
    report.high_risk_reached_72h = sum(
        1 for s in high if s.first_contact_days is not None and s.first_contact_days <= HIGH_RISK_REACHED_DAYS
    )
    return report


def outcome_figures(
    *, department_ids: Sequence[int], start: dt.date, end: dt.date, today: dt.date | None = None
) -> dict[str, int]:
    """The outcome ledger's counts for the stays discharged in the period
    (the figures export's keys, docs/dashboard.md): the outcomes only of
    stays whose 31 days have passed (``discharges_with_outcome``), the
    high-risk stays and those reached within 72 hours (by day 3) of them all.
    Two queries."""
    today = today or timezone.localdate()
    closed_before = today - dt.timedelta(days=READMISSION_DAYS + 1)
    stays = Discharge.objects.filter(
        department_id__in=department_ids, discharged_on__range=(start, end), archived=False
    )
    closed = Q(discharged_on__lte=closed_before)
    counts = stays.aggregate(
        discharges_with_outcome=Count("pk", filter=closed),
        readmitted_0_31_unplanned=Count("pk", filter=closed & Q(readmitted_unplanned_31=True)),
        readmitted_30_all_cause=Count("pk", filter=closed & Q(readmitted_30=True)),
        emergency_visit_within_30=Count("pk", filter=closed & Q(emergency_visit_30=True)),
        died_within_30=Count("pk", filter=closed & Q(died_30=True)),
        high_risk_discharges=Count("pk", filter=Q(risk_tier=RiskTier.HIGH)),
    )
    zone = timezone.get_current_timezone()
    high = (
        stays.filter(risk_tier=RiskTier.HIGH)
        .annotate(first_contact=Min("calls__completed_at", filter=Q(calls__status=FollowUpCall.Status.COMPLETED)))
        .values_list("discharged_on", "first_contact")
        .order_by()
    )
    counts["high_risk_reached_72h"] = sum(
        1
        for discharged_on, first in high.iterator(chunk_size=2000)
        if first is not None and (first.astimezone(zone).date() - discharged_on).days <= HIGH_RISK_REACHED_DAYS
    )
    return counts
