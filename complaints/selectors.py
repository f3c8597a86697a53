"""Read queries of the complaints app (scope from followup.access): lists, the timeline
and the quarterly analysis (every figure aggregated in the database)."""

import datetime as dt
import re
from dataclasses import dataclass

from django.db import connection
from django.db.models import Count, Exists, F, OuterRef, Prefetch, Q, QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from followup import access
from followup.figures import Rate

from .models import Category, Complaint, ComplaintEvent, Notification, Promise, Severity

LIST_VIEWS = ("open", "mine", "breached", "all")

# "In time", as every complaint figure counts it: answered (resolved) before
# the deadline and never flagged late.
RESPONDED_IN_TIME = Q(first_responded_at__lte=F("first_response_due"), first_response_breached=False)
RESOLVED_IN_TIME = Q(resolved_at__lte=F("resolution_due"), resolution_breached=False)


def complaint_list(*, user, view: str = "open") -> QuerySet[Complaint]:
    complaints = (
        access.visible_complaints(user).select_related("category", "owner", "patient").prefetch_related("departments")
    )
    if view == "mine":
        return complaints.filter(owner=user, status__in=Complaint.OPEN_STATUSES).order_by("resolution_due", "pk")
    if view == "breached":
        return complaints.filter(Q(first_response_breached=True) | Q(resolution_breached=True)).order_by(
            "resolution_due", "pk"
        )
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
        .select_related("category", "owner", "received_by", "patient", "source_call")
        .prefetch_related(
            "departments",
            "staff_involved",
            Prefetch("events", queryset=ComplaintEvent.objects.select_related("by")),
            Prefetch("promises", queryset=Promise.objects.select_related("owner", "delivered_by")),
        )
        .filter(pk=pk)
        .first()
    )
    if complaint is None:
        raise Http404
    return complaint


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


def notifications_for(user) -> QuerySet[Notification]:
    return Notification.objects.filter(recipient=user)


def unread_notification_count(user) -> int:
    return Notification.objects.filter(recipient=user, read_at__isnull=True).count()


# --- the quarterly analysis -------------------------------------------------------------

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

    def bounds(self) -> tuple[dt.datetime, dt.datetime]:
        """[start, end) in the hospital's time zone."""
        tz = timezone.get_current_timezone()
        nxt = self.next
        start = dt.datetime(self.year, 3 * self.number - 2, 1, tzinfo=tz)
        end = dt.datetime(nxt.year, 3 * nxt.number - 2, 1, tzinfo=tz)
        return start, end

    def q(self) -> Q:
        start, end = self.bounds()
        return Q(received_at__gte=start, received_at__lt=end)


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


def complaint_report(*, user, quarter: Quarter) -> dict:
    """Every figure of the quarter's analysis, computed with aggregate
    queries over the complaints the user may see."""
    scope = access.visible_complaints(user)
    cur = quarter.q()
    valid = Q(validity=Complaint.Validity.VALID)
    figures = scope.aggregate(
        total=Count("pk", filter=cur),
        valid=Count("pk", filter=cur & valid),
        not_valid=Count("pk", filter=cur & Q(validity=Complaint.Validity.NOT_VALID)),
        undetermined=Count("pk", filter=cur & Q(validity=Complaint.Validity.UNDETERMINED)),
        settled=Count("pk", filter=cur & Q(settled_on_the_spot=True)),
        closed=Count("pk", filter=cur & Q(status=Complaint.Status.CLOSED)),
        previous_total=Count("pk", filter=quarter.previous.q()),
        previous_valid=Count("pk", filter=quarter.previous.q() & valid),
        year_before_total=Count("pk", filter=quarter.year_before.q()),
        year_before_valid=Count("pk", filter=quarter.year_before.q() & valid),
        responded=Count("pk", filter=cur & Q(first_responded_at__isnull=False)),
        responded_in_time=Count("pk", filter=cur & RESPONDED_IN_TIME),
        resolved=Count("pk", filter=cur & Q(resolved_at__isnull=False)),
        resolved_in_time=Count("pk", filter=cur & RESOLVED_IN_TIME),
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
    return {
        "quarter": quarter,
        "figures": figures,
        "valid_change_previous": _change(figures["valid"], figures["previous_valid"]),
        "valid_change_year_before": _change(figures["valid"], figures["year_before_valid"]),
        "total_change_previous": _change(total, figures["previous_total"]),
        "total_change_year_before": _change(total, figures["year_before_total"]),
        "settled_share": _share(figures["settled"], total),
        "satisfaction_share": _share(figures["satisfied"], figures["satisfaction_asked"]),
        "first_response_compliance": _share(figures["responded_in_time"], figures["responded"]),
        "resolution_compliance": _share(figures["resolved_in_time"], figures["resolved"]),
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
        "by_outcome": _rows(counted("outcome"), "outcome", lambda r: Complaint.Outcome(r["outcome"]).label),
        "by_satisfaction": _rows(
            counted("handling_satisfaction"),
            "handling_satisfaction",
            lambda r: Complaint.Satisfaction(r["handling_satisfaction"]).label,
        ),
        "open_promises": list(
            Promise.objects.filter(delivered_on__isnull=True, complaint__in=scope)
            .select_related("complaint", "owner")
            .order_by("due_on", "pk")
        ),
    }


def report_rows(report: dict) -> list[tuple[str, str, object, object]]:
    """The report flattened to (section, item, count, share %) for export."""
    f = report["figures"]
    pct = lambda v: "" if v is None else v  # noqa: E731
    rows = [
        (_("Summary"), _("Complaints"), f["total"], ""),
        (_("Summary"), _("Valid"), f["valid"], pct(_share(f["valid"], f["total"]))),
        (_("Summary"), _("Not valid"), f["not_valid"], pct(_share(f["not_valid"], f["total"]))),
        (_("Summary"), _("Not yet determined"), f["undetermined"], pct(_share(f["undetermined"], f["total"]))),
        (_("Summary"), _("Settled on the spot"), f["settled"], pct(report["settled_share"])),
        (_("Summary"), _("Closed"), f["closed"], pct(_share(f["closed"], f["total"]))),
        (
            _("Change"),
            _("Valid, previous quarter"),
            f["previous_valid"],
            pct(report["valid_change_previous"]["percent"]),
        ),
        (
            _("Change"),
            _("Valid, same quarter last year"),
            f["year_before_valid"],
            pct(report["valid_change_year_before"]["percent"]),
        ),
        (_("Change"), _("All, previous quarter"), f["previous_total"], pct(report["total_change_previous"]["percent"])),
        (
            _("Change"),
            _("All, same quarter last year"),
            f["year_before_total"],
            pct(report["total_change_year_before"]["percent"]),
        ),
        (_("SLA"), _("First response in time"), f["responded_in_time"], pct(report["first_response_compliance"])),
        (_("SLA"), _("Resolved in time"), f["resolved_in_time"], pct(report["resolution_compliance"])),
        (_("Satisfaction"), _("Satisfied or basically satisfied"), f["satisfied"], pct(report["satisfaction_share"])),
    ]
    for key, section in [
        ("by_category", _("Category")),
        ("by_channel", _("Channel")),
        ("by_department", _("Department")),
        ("by_staff", _("Staff")),
        ("by_outcome", _("Outcome")),
        ("by_satisfaction", _("Satisfaction with handling")),
    ]:
        rows += [(section, str(r["label"]), r["count"], pct(r["share"])) for r in report[key]]
    for p in report["open_promises"]:
        rows.append((_("Open promises"), f"{p.complaint.reference}: {p.what} ({p.owner}, {p.due_on:%Y-%m-%d})", 1, ""))
    return rows


def complaint_figures(*, department_ids: list[int], start: dt.date, end: dt.date) -> dict:
    """Complaints involving the departments, received in the period (hospital
    time zone): by category, severity, status and outcome, and SLA compliance
    as the complaint report defines it (in time / answered, in time / resolved)."""
    tz = timezone.get_current_timezone()
    since = dt.datetime.combine(start, dt.time.min, tzinfo=tz)
    until = dt.datetime.combine(end + dt.timedelta(days=1), dt.time.min, tzinfo=tz)
    involved = Complaint.departments.through.objects.filter(complaint=OuterRef("pk"), department_id__in=department_ids)
    complaints = Complaint.objects.filter(Exists(involved), received_at__gte=since, received_at__lt=until)
    groups = {
        "severity": Severity.choices,
        "status": Complaint.Status.choices,
        "outcome": Complaint.Outcome.choices,
    }
    categories = list(Category.objects.order_by("order", "pk").values_list("pk", "name_en", "name_zh"))
    row = complaints.aggregate(
        total=Count("pk"),
        responded=Count("pk", filter=Q(first_responded_at__isnull=False)),
        responded_in_time=Count("pk", filter=RESPONDED_IN_TIME),
        resolved=Count("pk", filter=Q(resolved_at__isnull=False)),
        resolved_in_time=Count("pk", filter=RESOLVED_IN_TIME),
        **{
            f"{name}__{value}": Count("pk", filter=Q(**{name: value}))
            for name, choices in groups.items()
            for value, _label in choices
        },
        **{f"category__{pk}": Count("pk", filter=Q(category_id=pk)) for pk, _en, _zh in categories},
    )
    total = row["total"]
    result = {
        "total": total,
        "first_response": Rate(row["responded_in_time"], row["responded"]),
        "resolution": Rate(row["resolved_in_time"], row["resolved"]),
        "by_category": [
            {
                "param": "category",
                "value": pk,
                "n": row[f"category__{pk}"],
                "rate": Rate(row[f"category__{pk}"], total),
                "label": Category.localized_name(name_en, name_zh),
            }
            for pk, name_en, name_zh in categories
            if row[f"category__{pk}"]
        ],
    }
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
