"""Read queries of the complaints app (scope from followup.access): lists, the timeline
and the analysis of a quarter, a year or any range of days (every figure
aggregated in the database)."""

import datetime as dt
import re
from dataclasses import dataclass

from django.db import connection
from django.db.models import Count, Exists, F, OuterRef, Prefetch, Q, QuerySet
from django.db.models.functions import ExtractYear
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from followup import access
from followup.dates import add_years, start_of_day
from followup.figures import Rate
from followup.prepared import Params
from followup.roles import Role, has_role

from .models import Category, Complaint, ComplaintEvent, Measure, Promise, ResolutionMeasure, Severity

LIST_VIEWS = ("open", "mine", "breached", "all")

# "In time", as every complaint figure counts it: the step's real time (the
# first contact, the resolution, the reply) came by its deadline and it is not
# flagged late. Recording a step sets its flag from these times, so a step
# typed in late but taken in time counts in time.
RESPONDED_IN_TIME = Q(first_responded_at__lte=F("first_response_due"), first_response_breached=False)
RESOLVED_IN_TIME = Q(resolved_at__lte=F("resolution_due"), resolution_breached=False)
REPLIED_IN_TIME = Q(replied_at__lte=F("reply_due"), reply_breached=False)


def late_q(now: dt.datetime) -> Q:
    """Late at any step, as the report counts it: a step taken after its
    deadline or flagged late, or a running complaint past a deadline with
    the step not taken yet (before the ten-minute check has flagged it)."""
    running = Q(status__in=Complaint.OPEN_STATUSES, waiting_on_complainant=False)
    return (
        Q(first_response_breached=True)
        | Q(resolution_breached=True)
        | Q(reply_breached=True)
        | Q(first_responded_at__gt=F("first_response_due"))
        | Q(resolved_at__gt=F("resolution_due"))
        | Q(replied_at__gt=F("reply_due"))
        | (running & Q(first_responded_at__isnull=True, first_response_due__lt=now))
        | (running & Q(resolved_at__isnull=True, resolution_due__lt=now))
        | (running & Q(replied_at__isnull=True, reply_due__lt=now))
    )


def complaint_list(*, user, view: str = "open") -> QuerySet[Complaint]:
    complaints = (
        access.visible_complaints(user).select_related("category", "owner", "patient").prefetch_related("departments")
    )
    if view == "mine":
        return complaints.filter(owner=user, status__in=Complaint.OPEN_STATUSES).order_by("resolution_due", "pk")
    if view == "breached":
        return complaints.filter(late_q(timezone.now())).order_by("-received_at", "-pk")
    if view == "all":
        return complaints.order_by("-received_at", "-pk")
    return complaints.filter(status__in=Complaint.OPEN_STATUSES).order_by("resolution_due", "pk")


PHONE_TYPING = re.compile(r"[\s()\-.]")


def complaint_search(complaints: QuerySet[Complaint], text: str) -> QuerySet[Complaint]:
    """Reference, description, complainant's name or phone, patient's name or
    inpatient number (MRN) containing the words; on PostgreSQL also a
    full-text match (stemmed English). Chinese has no word breaks, so the
    substring match is what finds it. A phone typed with spaces or dashes
    ("138 1234-5678") finds the stored "+8613812345678"."""
    text = text.strip()
    if not text:
        return complaints
    match = (
        Q(reference__icontains=text)
        | Q(description__icontains=text)
        | Q(complainant_name__icontains=text)
        | Q(patient__name__icontains=text)
        | Q(patient__mrn__icontains=text)
    )
    digits = PHONE_TYPING.sub("", text)
    if len(digits) >= 4 and digits.lstrip("+").isdigit():
        match |= Q(complainant_phone__contains=digits.lstrip("+"))
    if connection.vendor == "postgresql":
        from django.contrib.postgres.search import SearchQuery, SearchVector

        complaints = complaints.annotate(search=SearchVector("reference", "description"))
        match |= Q(search=SearchQuery(text, search_type="websearch"))
    return complaints.filter(match)


def complaint_detail(*, user, pk: int) -> Complaint:
    complaint = (
        access.visible_complaints(user)
        .select_related("category", "owner", "received_by", "patient", "source_call__discharge__patient")
        .prefetch_related(
            "departments",
            "staff_involved",
            "secondary_categories",
            "measures",
            Prefetch("events", queryset=ComplaintEvent.objects.select_related("by")),
            Prefetch("promises", queryset=Promise.objects.select_related("owner", "delivered_by")),
        )
        .filter(pk=pk)
        .first()
    )
    if complaint is None:
        raise Http404
    return complaint


def complaint_links(*, user, complaint: Complaint) -> dict[str, bool]:
    """Whether the complaint page links to the call it was raised from and
    to the patient's page: only when the user may open them (a nurse the
    calls of her wards she works on, nurses and head nurses the patients of
    their wards; an officer sees neither page)."""
    nursing = user.is_superuser or has_role(user, Role.NURSE, Role.HEAD_NURSE)
    return {
        "source_call_openable": bool(
            nursing
            and complaint.source_call_id
            and access.visible_calls(user).filter(pk=complaint.source_call_id).exists()
        ),
        "patient_openable": bool(
            nursing and complaint.patient_id and access.can_see_patient(user, complaint.patient_id)
        ),
    }


def evidence_event(*, user, complaint_pk: int, event_pk: int) -> ComplaintEvent:
    event = (
        ComplaintEvent.objects.filter(
            pk=event_pk,
            complaint_id=complaint_pk,
            kind=ComplaintEvent.Kind.EVIDENCE,
            complaint__in=access.visible_complaints(user),
        )
        .exclude(file="")
        .first()
    )
    if event is None:
        raise Http404
    return event


def open_promises(*, user) -> QuerySet[Promise]:
    return (
        Promise.objects.filter(delivered_on__isnull=True, complaint__in=access.visible_complaints(user))
        .select_related("complaint", "owner")
        .order_by("due_on", "pk")
    )


# --- the analysis of a period ------------------------------------------------------------

QUARTER_RE = re.compile(r"^(\d{4})-Q([1-4])$")


@dataclass(frozen=True)
class Quarter:
    year: int
    number: int

    @classmethod
    def parse(cls, text: str) -> "Quarter":
        match = QUARTER_RE.match((text or "").strip().upper())
        if not match:
            raise ValueError(text)
        return cls(int(match[1]), int(match[2]))

    @classmethod
    def containing(cls, day: dt.date) -> "Quarter":
        return cls(day.year, (day.month - 1) // 3 + 1)

    def __str__(self) -> str:
        return f"{self.year}-Q{self.number}"

    @property
    def previous(self) -> "Quarter":
        return Quarter(self.year, self.number - 1) if self.number > 1 else Quarter(self.year - 1, 4)

    @property
    def next(self) -> "Quarter":
        return Quarter(self.year, self.number + 1) if self.number < 4 else Quarter(self.year + 1, 1)

    @property
    def year_before(self) -> "Quarter":
        return Quarter(self.year - 1, self.number)

    @property
    def first_day(self) -> dt.date:
        return dt.date(self.year, 3 * self.number - 2, 1)

    def bounds(self) -> tuple[dt.datetime, dt.datetime]:
        """[start, end) in the hospital's time zone."""
        return Period.of_quarter(self).bounds()

    def q(self) -> Q:
        return Period.of_quarter(self).q()


def _add_months(day: dt.date, months: int) -> dt.date:
    """The first of the month ``months`` after the month of ``day`` (a first)."""
    index = day.year * 12 + day.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


@dataclass(frozen=True)
class Period:
    """The days a report covers, first and last included: a quarter, a
    calendar year or any range of days (several years too). ``kind`` says
    which, so that the report compares like with like: the previous quarter
    or year, or for a range the as many days just before it."""

    start: dt.date
    end: dt.date
    kind: str = "range"  # "quarter", "year" or "range"

    @classmethod
    def of_quarter(cls, quarter: Quarter) -> "Period":
        return cls(quarter.first_day, quarter.next.first_day - dt.timedelta(days=1), "quarter")

    @classmethod
    def of_year(cls, year: int) -> "Period":
        return cls(dt.date(year, 1, 1), dt.date(year, 12, 31), "year")

    def __str__(self) -> str:
        if self.kind == "quarter":
            return str(Quarter.containing(self.start))
        if self.kind == "year":
            return str(self.start.year)
        return f"{self.start:%Y-%m-%d} – {self.end:%Y-%m-%d}"

    @property
    def slug(self) -> str:
        """The period in a file name."""
        return str(self) if self.kind != "range" else f"{self.start:%Y%m%d}-{self.end:%Y%m%d}"

    @property
    def query(self) -> dict[str, str]:
        """The report page's address parameters for this period."""
        if self.kind == "quarter":
            return {"quarter": str(self)}
        if self.kind == "year":
            return {"year": str(self.start.year)}
        return {"start": self.start.isoformat(), "end": self.end.isoformat()}

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def years(self) -> list[int]:
        return list(range(self.start.year, self.end.year + 1))

    @property
    def previous(self) -> "Period":
        if self.kind == "quarter":
            return Period.of_quarter(Quarter.containing(self.start).previous)
        if self.kind == "year":
            return Period.of_year(self.start.year - 1)
        months = self.whole_months
        if months:
            return Period(_add_months(self.start, -months), self.start - dt.timedelta(days=1))
        return Period(self.start - dt.timedelta(days=self.days), self.start - dt.timedelta(days=1))

    @property
    def next(self) -> "Period":
        if self.kind == "quarter":
            return Period.of_quarter(Quarter.containing(self.start).next)
        if self.kind == "year":
            return Period.of_year(self.start.year + 1)
        months = self.whole_months
        if months:
            return Period(
                self.end + dt.timedelta(days=1),
                _add_months(self.end + dt.timedelta(days=1), months) - dt.timedelta(days=1),
            )
        return Period(self.end + dt.timedelta(days=1), self.end + dt.timedelta(days=self.days))

    @property
    def whole_months(self) -> int:
        """How many calendar months the period spans when it starts on a
        first and ends on a last day of a month (2008-01-01 to 2010-12-31:
        36), else 0. The period before such a range is as many months."""
        if self.start.day != 1 or (self.end + dt.timedelta(days=1)).day != 1:
            return 0
        return (self.end.year * 12 + self.end.month) - (self.start.year * 12 + self.start.month) + 1

    @property
    def year_before(self) -> "Period":
        return Period(add_years(self.start, -1), add_years(self.end, -1), self.kind)

    def bounds(self) -> tuple[dt.datetime, dt.datetime]:
        """[start, end) in the hospital's time zone."""
        tz = timezone.get_current_timezone()
        return (
            dt.datetime.combine(self.start, dt.time.min, tzinfo=tz),
            dt.datetime.combine(self.end + dt.timedelta(days=1), dt.time.min, tzinfo=tz),
        )

    def q(self) -> Q:
        start, end = self.bounds()
        return Q(received_at__gte=start, received_at__lt=end)


def _outcome_aggregates(within: Q | None = None) -> dict:
    """The aggregates outcome_shares() reads, to be put in a caller's own
    aggregate query (one query for all its figures); ``within`` restricts
    them like the caller's other figures. EXISTS rather than a join, so that
    the complaints' other counts are not multiplied by their measures."""
    within = within if within is not None else Q()

    def taken(**kinds):
        return Exists(ResolutionMeasure.objects.filter(complaint=OuterRef("pk"), **kinds))

    return {
        "outcome_total": Count("pk", filter=within),
        "outcome_base": Count("pk", filter=within & Q(taken())),
        **{f"outcome_{kind}": Count("pk", filter=within & Q(taken(kind=kind))) for kind in Measure.values},
    }


def _outcome_counts(complaints: QuerySet[Complaint]) -> dict:
    """The aggregates ``_outcome_aggregates()`` gives (``outcome_base`` and
    ``outcome_<kind>``, without ``outcome_total``), counted in one query over
    the measures of ``complaints`` rather than one EXISTS per complaint and
    kind: a complaint has at most one measure of a kind
    (``one_measure_of_a_kind``), so the measures of a kind are the
    complaints that took it. For a year of complaints this is a few
    milliseconds where the EXISTS were hundreds (and made PostgreSQL JIT-
    compile the query)."""
    return _outcome_measures(complaints).aggregate(**_outcome_measure_counts())


def _outcome_measures(complaints: QuerySet[Complaint]) -> QuerySet[ResolutionMeasure]:
    return ResolutionMeasure.objects.filter(complaint__in=complaints.values("pk"))


def _outcome_measure_counts() -> dict:
    return {
        "outcome_base": Count("complaint_id", distinct=True),
        **{f"outcome_{kind}": Count("pk", filter=Q(kind=kind)) for kind in Measure.values},
    }


def _outcome_result(row: dict) -> dict:
    base = row["outcome_base"]
    return {
        "base": base,
        "pending": row["outcome_total"] - base,
        "rows": [
            {"value": kind, "label": label, "n": row[f"outcome_{kind}"], "rate": Rate(row[f"outcome_{kind}"], base)}
            for kind, label in Measure.choices
        ],
    }


def outcome_shares(complaints: QuerySet[Complaint]) -> dict:
    """How complaints were resolved, as the report and the dashboard both
    count it (the one definition of an outcome share):

    - ``base``: the complaints with at least one resolution measure recorded;
    - each measure: the complaints that took it, and its share of ``base``.
      A complaint with several measures (apology and compensation) counts
      under each, so the shares may add up to more than 100%;
    - ``pending``: the complaints with no measure yet, counted apart and never
      in a share.
    """
    return _outcome_result(complaints.aggregate(**_outcome_aggregates()))


def _share(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None


def _change(now: int, before: int) -> dict:
    return {"before": before, "difference": now - before, "percent": _share(now - before, before)}


def _rows(queryset, key: str, label) -> list[dict]:
    """Label, count and share of each group; the group of rows without a
    value (no department, no outcome yet) is left out."""
    groups = [r for r in queryset if r[key] not in (None, "")]
    total = sum(r["n"] for r in groups)
    return [{"label": label(r), "count": r["n"], "share": _share(r["n"], total)} for r in groups]


def complaint_report(
    *, user, period: Period | Quarter, valid_only: bool = False, department_ids: list[int] | None = None
) -> dict:
    """Every figure of the analysis of a period (a quarter, a year, or any
    range of days), computed with aggregate queries over the complaints the
    user may see, optionally only the valid ones and only those involving
    ``department_ids``. It compares with the period before and the same
    period a year earlier, filtered alike."""
    if isinstance(period, Quarter):
        period = Period.of_quarter(period)
    scope = access.visible_complaints(user)
    if valid_only:
        scope = scope.filter(validity=Complaint.Validity.VALID)
    if department_ids is not None:
        involved = Complaint.departments.through.objects.filter(
            complaint=OuterRef("pk"), department_id__in=department_ids
        )
        scope = scope.filter(Exists(involved))
    cur = period.q()
    valid = Q(validity=Complaint.Validity.VALID)
    figures = scope.aggregate(
        total=Count("pk", filter=cur),
        valid=Count("pk", filter=cur & valid),
        not_valid=Count("pk", filter=cur & Q(validity=Complaint.Validity.NOT_VALID)),
        undetermined=Count("pk", filter=cur & Q(validity=Complaint.Validity.UNDETERMINED)),
        settled=Count("pk", filter=cur & Q(settled_on_the_spot=True)),
        closed=Count("pk", filter=cur & Q(status=Complaint.Status.CLOSED)),
        previous_total=Count("pk", filter=period.previous.q()),
        previous_valid=Count("pk", filter=period.previous.q() & valid),
        year_before_total=Count("pk", filter=period.year_before.q()),
        year_before_valid=Count("pk", filter=period.year_before.q() & valid),
        responded=Count("pk", filter=cur & Q(first_responded_at__isnull=False)),
        responded_in_time=Count("pk", filter=cur & RESPONDED_IN_TIME),
        resolved=Count("pk", filter=cur & Q(resolved_at__isnull=False)),
        resolved_in_time=Count("pk", filter=cur & RESOLVED_IN_TIME),
        replied=Count("pk", filter=cur & Q(replied_at__isnull=False, reply_due__isnull=False)),
        replied_in_time=Count("pk", filter=cur & REPLIED_IN_TIME),
        late=Count("pk", filter=cur & late_q(timezone.now())),
        disputes=Count("pk", filter=cur & Q(is_dispute=True)),
        **_outcome_aggregates(cur),
        satisfaction_asked=Count("pk", filter=cur & ~Q(handling_satisfaction="")),
        satisfied=Count(
            "pk",
            filter=cur & Q(handling_satisfaction__in=[Complaint.Satisfaction.SATISFIED, Complaint.Satisfaction.BASIC]),
        ),
    )
    current = scope.filter(cur)

    def counted(field: str, *extra: str):
        return current.values(field, *extra).annotate(n=Count("pk", distinct=True)).order_by("-n", field)

    total = figures["total"]
    outcomes = _outcome_result(figures)
    by_year = []
    if len(period.years) > 1:
        years = dict(
            current.annotate(year=ExtractYear("received_at")).values_list("year").annotate(n=Count("pk")).order_by()
        )
        by_year = [
            {"label": str(year), "count": years.get(year, 0), "share": _share(years.get(year, 0), total)}
            for year in period.years
        ]
    return {
        "period": period,
        "valid_only": valid_only,
        "figures": figures,
        "by_year": by_year,
        "valid_change_previous": _change(figures["valid"], figures["previous_valid"]),
        "valid_change_year_before": _change(figures["valid"], figures["year_before_valid"]),
        "total_change_previous": _change(total, figures["previous_total"]),
        "total_change_year_before": _change(total, figures["year_before_total"]),
        "settled_share": _share(figures["settled"], total),
        "satisfaction_share": _share(figures["satisfied"], figures["satisfaction_asked"]),
        "first_response_compliance": _share(figures["responded_in_time"], figures["responded"]),
        "resolution_compliance": _share(figures["resolved_in_time"], figures["resolved"]),
        "reply_compliance": _share(figures["replied_in_time"], figures["replied"]),
        "by_category": _rows(
            counted("category__code", "category__name_en", "category__name_zh"),
            "category__code",
            lambda r: Category.localized_name(r["category__name_en"], r["category__name_zh"]),
        ),
        "by_channel": _rows(counted("channel"), "channel", lambda r: Complaint.Channel(r["channel"]).label),
        "by_department": _rows(
            counted("departments__name"),
            "departments__name",
            lambda r: r["departments__name"],
        ),
        "by_staff": _rows(
            counted("staff_involved__pk", "staff_involved__display_name", "staff_involved__username"),
            "staff_involved__pk",
            lambda r: r["staff_involved__display_name"] or r["staff_involved__username"],
        ),
        "by_secondary_category": _rows(
            counted("secondary_categories__code", "secondary_categories__name_en", "secondary_categories__name_zh"),
            "secondary_categories__code",
            lambda r: Category.localized_name(r["secondary_categories__name_en"], r["secondary_categories__name_zh"]),
        ),
        "outcome_base": outcomes["base"],
        "outcome_pending": outcomes["pending"],
        "by_outcome": [
            {"label": r["label"], "count": r["n"], "share": _share(r["n"], outcomes["base"])}
            for r in outcomes["rows"]
            if r["n"]
        ],
        "by_satisfaction": _rows(
            counted("handling_satisfaction"),
            "handling_satisfaction",
            lambda r: Complaint.Satisfaction(r["handling_satisfaction"]).label,
        ),
        # The promises made on this period's complaints that are still open.
        "open_promises": list(
            Promise.objects.filter(delivered_on__isnull=True, complaint__in=current)
            .select_related("complaint", "owner")
            .order_by("due_on", "pk")
        ),
    }


def report_rows(report: dict) -> list[tuple[str, str, object, object]]:
    """The report flattened to (section, item, count, share %) for export."""
    f = report["figures"]
    pct = lambda v: "" if v is None else v  # noqa: E731
    rows = [
        (_("Report"), _("Period: %(period)s") % {"period": report["period"]}, "", ""),
        (_("Report"), _("Departments: %(names)s") % {"names": report.get("departments_label", "")}, "", ""),
        (
            _("Report"),
            _("Valid complaints only") if report["valid_only"] else _("All complaints, valid or not"),
            "",
            "",
        ),
        (_("Summary"), _("Complaints"), f["total"], ""),
        (_("Summary"), _("Valid"), f["valid"], pct(_share(f["valid"], f["total"]))),
        (_("Summary"), _("Not valid"), f["not_valid"], pct(_share(f["not_valid"], f["total"]))),
        (_("Summary"), _("Not yet determined"), f["undetermined"], pct(_share(f["undetermined"], f["total"]))),
        (_("Summary"), _("Settled on the spot"), f["settled"], pct(report["settled_share"])),
        (_("Summary"), _("Medical disputes"), f["disputes"], pct(_share(f["disputes"], f["total"]))),
        (_("Summary"), _("Closed"), f["closed"], pct(_share(f["closed"], f["total"]))),
        (
            _("Change"),
            _("Valid, previous period"),
            f["previous_valid"],
            pct(report["valid_change_previous"]["percent"]),
        ),
        (
            _("Change"),
            _("Valid, same period a year earlier"),
            f["year_before_valid"],
            pct(report["valid_change_year_before"]["percent"]),
        ),
        (_("Change"), _("All, previous period"), f["previous_total"], pct(report["total_change_previous"]["percent"])),
        (
            _("Change"),
            _("All, same period a year earlier"),
            f["year_before_total"],
            pct(report["total_change_year_before"]["percent"]),
        ),
        (_("SLA"), _("First response in time"), f["responded_in_time"], pct(report["first_response_compliance"])),
        (_("SLA"), _("Resolved in time"), f["resolved_in_time"], pct(report["resolution_compliance"])),
        (_("SLA"), _("Replied within the legal time"), f["replied_in_time"], pct(report["reply_compliance"])),
        (_("SLA"), _("Late at some step"), f["late"], pct(_share(f["late"], f["total"]))),
        (_("Satisfaction"), _("Satisfied or basically satisfied"), f["satisfied"], pct(report["satisfaction_share"])),
    ]
    for key, section in [
        ("by_year", _("Year")),
        ("by_category", _("Main category")),
        ("by_secondary_category", _("Other categories")),
        ("by_channel", _("Channel")),
        ("by_department", _("Department")),
        ("by_staff", _("Staff")),
        ("by_outcome", _("How it was resolved")),
        ("by_satisfaction", _("Satisfaction with handling")),
    ]:
        rows += [(section, str(r["label"]), r["count"], pct(r["share"])) for r in report[key]]
        if key == "by_outcome":
            rows += [
                (
                    section,
                    _("Complaints with a measure recorded (the base of these shares)"),
                    report["outcome_base"],
                    "",
                ),
                (section, _("No measure recorded yet"), report["outcome_pending"], ""),
            ]
    for p in report["open_promises"]:
        rows.append((_("Open promises"), f"{p.complaint.reference}: {p.what} ({p.owner}, {p.due_on:%Y-%m-%d})", 1, ""))
    return rows


def complaint_figures(*, department_ids: list[int], start: dt.date, end: dt.date) -> dict:
    """Complaints involving the departments, received in the period (hospital
    time zone): by category, severity, status and outcome, and SLA compliance
    as the complaint report defines it (in time / answered, in time / resolved).
    Outcome shares follow outcome_shares(), as in the report: ``by_outcome``
    rows have the complaints with a measure recorded as their n."""
    # Built and compiled once, run with this view's values (followup/prepared.py).
    p = Params(department_ids=department_ids, since=start_of_day(start), until=start_of_day(end + dt.timedelta(days=1)))

    def complaints() -> QuerySet[Complaint]:
        involved = Complaint.departments.through.objects.filter(
            complaint=OuterRef("pk"), department__id__in=p["department_ids"]
        )
        return Complaint.objects.filter(Exists(involved), received_at__gte=p["since"], received_at__lt=p["until"])

    groups = {
        "severity": Severity.choices,
        "status": Complaint.Status.choices,
    }
    categories = [
        (c["pk"], c["name_en"], c["name_zh"], c["code"])
        for c in p.rows(
            ("complaints", "categories"),
            lambda: Category.objects.order_by("order", "pk").values("pk", "name_en", "name_zh", "code"),
        )
    ]
    sla = {
        "responded": Q(first_responded_at__isnull=False),
        "responded_in_time": RESPONDED_IN_TIME,
        "resolved": Q(resolved_at__isnull=False),
        "resolved_in_time": RESOLVED_IN_TIME,
        "replied": Q(replied_at__isnull=False, reply_due__isnull=False),
        "replied_in_time": REPLIED_IN_TIME,
    }
    # One query: the complaints per severity, status and category (a few dozen rows), added up.
    row = dict.fromkeys(["total", *sla], 0)
    row.update({f"{name}__{value}": 0 for name, choices in groups.items() for value, _label in choices})
    row.update({f"category__{pk}": 0 for pk, _en, _zh, _code in categories})
    per_group = p.rows(
        ("complaints", "groups"),
        lambda: (
            complaints()
            .values(*groups, "category_id")
            .annotate(n=Count("pk"), **{key: Count("pk", filter=q) for key, q in sla.items()})
            .order_by()
        ),
    )
    for group in per_group:
        row["total"] += group["n"]
        for key in sla:
            row[key] += group[key]
        for counted in [*(f"{name}__{group[name]}" for name in groups), f"category__{group['category_id']}"]:
            if counted in row:  # a value no longer among the choices is counted in the total only, as before
                row[counted] += group["n"]
    total = row["total"]
    row.update(
        p.total(("complaints", "outcomes"), lambda: _outcome_measures(complaints()), **_outcome_measure_counts()),
        outcome_total=total,
    )
    result = {
        "total": total,
        "first_response": Rate(row["responded_in_time"], row["responded"]),
        "resolution": Rate(row["resolved_in_time"], row["resolved"]),
        "reply": Rate(row["replied_in_time"], row["replied"]),
        "by_category": [
            {
                "param": "category",
                "value": pk,
                "n": row[f"category__{pk}"],
                "rate": Rate(row[f"category__{pk}"], total),
                "label": Category.localized_name(name_en, name_zh),
                "code": code,
            }
            for pk, name_en, name_zh, code in categories
            if row[f"category__{pk}"]
        ],
    }
    outcomes = _outcome_result(row)
    result["outcome_base"] = outcomes["base"]
    result["outcome_pending"] = outcomes["pending"]
    result["by_outcome"] = [{"param": "outcome", **r} for r in outcomes["rows"]]
    for name, choices in groups.items():
        result[f"by_{name}"] = [
            {
                "param": name,
                "value": value,
                "label": label,
                "n": row[f"{name}__{value}"],
                "rate": Rate(row[f"{name}__{value}"], total),
            }
            for value, label in choices
        ]
    return result


# --- complaints raised on the follow-up calls of hospital stays (the dashboard's patients) ---------


def _raised_on(stays) -> QuerySet[Complaint]:
    # source_call first: most complaints come another way, and the planner then
    # looks up the few calls instead of hashing every call of the hospital.
    return Complaint.objects.filter(source_call__isnull=False, source_call__discharge__in=stays)


def complaint_reasons(*, stays) -> list[dict]:
    """By main category, the complaints raised on a follow-up call of the
    ``stays`` (a queryset of discharges, already scoped by the caller) and
    how many of the stays had one: one aggregate query."""
    rows = (
        _raised_on(stays)
        .values("category_id", "category__code", "category__name_en", "category__name_zh", "category__order")
        .annotate(complaints=Count("pk"), stays=Count("source_call__discharge", distinct=True))
        .order_by("category__order", "category__code")
    )
    return [
        {
            "category_id": r["category_id"],
            "code": r["category__code"],
            "label": Category.localized_name(r["category__name_en"], r["category__name_zh"]),
            "complaints": r["complaints"],
            "stays": r["stays"],
        }
        for r in rows
    ]


def stay_has_complaint(category_id: int) -> Exists:
    """For a queryset of discharges: a complaint of this main category was
    raised on one of the stay's follow-up calls (as complaint_reasons counts)."""
    return Exists(Complaint.objects.filter(source_call__discharge=OuterRef("pk"), category_id=category_id))


def complaints_raised_on_stay(*, discharge_id: int) -> QuerySet[Complaint]:
    """The complaints raised on the follow-up calls of one stay (the caller
    has checked the stay is in the user's scope)."""
    return (
        Complaint.objects.filter(source_call__discharge_id=discharge_id)
        .select_related("category")
        .order_by("received_at", "pk")
    )
