"""Read queries of the nurse's worklist, the call screen and the head
nurse's clinical alert list. Who sees what comes from followup.access."""

import datetime as dt
from collections.abc import Callable, Mapping

from django.db.models import (
    BooleanField,
    Case,
    Count,
    Exists,
    ExpressionWrapper,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce, TruncDate
from django.http import Http404
from django.utils import timezone

from followup import access
from followup.models import User
from followup.prepared import Params

from ..models import CallAnswer, CallAttempt, ClinicalAlert, DeathRecord, FollowUpCall, SelfReportLink
from ..risk import RiskTier

TABS = ("today", "week", "overdue", "all")
# Within a day, the patients most likely to come back first (docs/risk.md); unknown before low.
RISK_ORDER = (RiskTier.HIGH, RiskTier.MODERATE, RiskTier.UNKNOWN, RiskTier.LOW)
ROW_RELATED = ("discharge__patient", "discharge__department", "step", "assigned_to")
# The columns a worklist row shows (calls/templatetags/worklist.py,
# the risk badge, the masked phone and the age): a row's stay and patient
# have some thirty columns each, and building them cost more than the query.
# A column left out here is loaded by one more query per row when read.
ROW_FIELDS = (
    *("discharge", "step", "assigned_to", "due_date", "scheduled_for", "next_attempt_on", "callback_at"),
    *("status", "attempt_count"),
    *(f"discharge__{name}" for name in ("patient", "department", "discharged_on")),
    *(f"discharge__{name}" for name in ("risk_tier", "risk_score", "risk_lower_bound")),
    *(f"discharge__patient__{name}" for name in ("name", "phone", "birth_date")),
    "discharge__department__name",
    "step__offset_days",
    *(f"assigned_to__{name}" for name in ("username", "first_name", "last_name", "display_name")),
)
_RISK_RANK = Case(
    *(When(risk_tier=tier, then=Value(rank)) for rank, tier in enumerate(RISK_ORDER)),
    default=Value(len(RISK_ORDER)),
    output_field=IntegerField(),
)


# The markers' subqueries, built once: annotate() copies an expression as it
# resolves it, and building these querysets anew took a millisecond a page.
# A red flag of the same stay (any of its calls) still waiting for action.
_OPEN_ALERT = Exists(
    ClinicalAlert.objects.filter(call__discharge_id=OuterRef("discharge_id"), resolved_at__isnull=True)
)
# The patient asked for a call on the self-report form: this call (not yet
# answered) or the call back booked after answering (docs/self-report.md).
_ASKED_ON_CALL = Q(call_id=OuterRef("pk"), call_me_at__isnull=False)
_ASKED_FOR_CALLBACK = Q(callback_call_id=OuterRef("pk"))
_ASKED = SelfReportLink.objects.filter(_ASKED_ON_CALL | _ASKED_FOR_CALLBACK)
# The same as Exists(_ASKED), as two simple subqueries PostgreSQL runs once
# each (a hashed subplan) instead of once for each of the ward's open calls
# the sort reads (the OR of two columns in one subquery).
_PATIENT_ASKED = ExpressionWrapper(
    Q(Exists(SelfReportLink.objects.filter(_ASKED_ON_CALL)))
    | Q(Exists(SelfReportLink.objects.filter(_ASKED_FOR_CALLBACK))),
    output_field=BooleanField(),
)
_PATIENT_NOTE = Subquery(_ASKED.order_by("-pk").values("call_me_note")[:1])
_WORK_ON = Coalesce("next_attempt_on", TruncDate("scheduled_for"), "due_date")
_WORK_AT = Coalesce("callback_at", "scheduled_for")
# Most urgent first (worklist_for_tab says why).
WORK_ORDER = (
    *("-has_red_flag", "-callback_due", "-patient_asked", "-is_overdue"),
    *("work_on", "risk_rank", "work_at", "pk"),
)


def _with_flags(calls: QuerySet[FollowUpCall]) -> QuerySet[FollowUpCall]:
    """The markers that need other tables: ``has_red_flag`` (an open red
    flag of the stay), ``patient_asked`` and ``patient_note`` (the patient
    asked for a call on the self-report form)."""
    return calls.annotate(has_red_flag=_OPEN_ALERT, patient_asked=_PATIENT_ASKED, patient_note=_PATIENT_NOTE)


def _with_markers(calls: QuerySet[FollowUpCall], today: dt.date, now: dt.datetime) -> QuerySet[FollowUpCall]:
    """The sort keys and badges of a worklist row, all from the call's own
    row (and the flags, _with_flags): ``work_on`` is the planned day as
    FollowUpCall.planned_on says it, ``work_at`` the planned moment (an
    agreed callback's, else the queue's), ``callback_due`` a callback whose
    time has come (worklist_rows works it and ``is_overdue`` out in Python)."""
    return _with_flags(calls).annotate(
        callback_due=Case(
            When(callback_at__lte=now, then=Value(True)),
            default=Value(False),
            output_field=BooleanField(),
        ),
        is_overdue=Case(
            When(status__in=FollowUpCall.OPEN_STATUSES, due_date__lt=today, then=Value(True)),
            default=Value(False),
            output_field=BooleanField(),
        ),
        work_on=_WORK_ON,
        work_at=_WORK_AT,
        risk_rank=_RISK_RANK,  # the stay's tier, carried by the call (FollowUpCall.risk_tier)
    )


def week_of(day: dt.date) -> tuple[dt.date, dt.date]:
    monday = day - dt.timedelta(days=day.weekday())
    return monday, monday + dt.timedelta(days=6)


def _tab_filters(today, monday=None, sunday=None) -> dict[str, Q]:
    """Each tab's filter; ``monday`` and ``sunday`` (today's week unless
    given) and ``today`` may be placeholders (followup/prepared.py)."""
    if monday is None:
        monday, sunday = week_of(today)
    return {
        "today": Q(work_on__lte=today),
        "week": Q(work_on__gte=monday, work_on__lte=sunday),
        "overdue": Q(due_date__lt=today),
        "all": Q(),
    }


def worklist_calls(
    *, user: User, tab: str = "today", today: dt.date | None = None, now: dt.datetime | None = None
) -> QuerySet[FollowUpCall]:
    """The worklist rows of one tab, most urgent first (see worklist_for_tab)."""
    base = worklist_base(user=user, today=today, now=now)
    return worklist_for_tab(base, tab=tab, today=today).select_related(*ROW_RELATED)


def worklist_tab_counts(*, calls: QuerySet[FollowUpCall], today: dt.date | None = None) -> dict[str, int]:
    """How many calls each tab holds, in one query (``calls``: worklist_base
    with the list filters, not yet a tab)."""
    today = today or timezone.localdate()
    filters = _tab_filters(today)
    return calls.aggregate(**{tab: Count("pk", filter=q) for tab, q in filters.items()})


def worklist_base(
    *, user: User, today: dt.date | None = None, now: dt.datetime | None = None
) -> QuerySet[FollowUpCall]:
    """The user's open calls (the work queue) with their markers, before tab
    and filters. Closed calls are history: the call screen shows them."""
    calls = access.visible_calls(user).filter(status__in=FollowUpCall.OPEN_STATUSES)
    now = now or timezone.now()
    return _with_markers(calls, today or timezone.localdate(now), now)


def worklist_for_tab(
    calls: QuerySet[FollowUpCall], *, tab: str, today: dt.date | None = None
) -> QuerySet[FollowUpCall]:
    """One tab's calls, most urgent first: an open red flag of the stay,
    then callbacks whose agreed time has come (earliest first), then a
    patient's request for a call on the self-report form, then overdue
    calls, then by the planned day, within a day by readmission risk (high
    first), then by the planned time. Every sort key but the markers lives
    on the call row (the stay's risk tier too: FollowUpCall.risk_tier)."""
    today = today or timezone.localdate()
    return calls.filter(_tab_filters(today)[tab]).order_by(*WORK_ORDER)


def worklist_rows(
    *, ids: list[int], today: dt.date | None = None, now: dt.datetime | None = None
) -> list[FollowUpCall]:
    """The calls of one page (``ids`` in display order) with their patient,
    department, step and nurse: one query by primary key, compiled once per
    number of rows (followup/prepared.py)."""
    now = now or timezone.now()
    today = today or timezone.localdate(now)
    if not ids:
        return []
    p = Params(ids=ids)

    def build() -> QuerySet[FollowUpCall]:
        calls = FollowUpCall.objects.filter(pk__in=p["ids"]).select_related(*ROW_RELATED).only(*ROW_FIELDS)
        return _with_flags(calls)

    calls = p.objects(("worklist-rows",), build)
    by_pk = {}
    for call in calls:
        # What _with_markers says in SQL, from the row's own columns.
        call.callback_due = call.callback_at is not None and call.callback_at <= now
        call.is_overdue = call.status in FollowUpCall.OPEN_STATUSES and call.due_date < today
        by_pk[call.pk] = call
    return [by_pk[pk] for pk in ids if pk in by_pk]


class Worklist(Params):
    """One user's worklist with the list filters (tab counts, a tab's page
    of calls), its statements compiled once per shape and run with her
    values (followup/prepared.py): what worklist_base, worklist_for_tab and
    worklist_tab_counts say with the ORM, without building and compiling
    three queries each view (a third of the page's time).

    A statement is shared by every user of the same scope
    (followup.access.calls_scope), number of departments and set of
    filters; her id, her departments' ids, the days, the time and the
    filters' values are placeholders. ``filters``: the list filters' valid
    values by name, and ``apply_filters(calls, placeholders)`` the function
    that filters ``calls`` by them (the list's FilterSet) with a
    placeholder in place of each value."""

    def __init__(
        self,
        *,
        user: User,
        today: dt.date,
        now: dt.datetime,
        filters: Mapping[str, object] | None = None,
        apply_filters: Callable[[QuerySet, dict], QuerySet] | None = None,
    ):
        filters = dict(filters or {})
        monday, sunday = week_of(today)
        values = {f"filter_{name}": value for name, value in filters.items()}
        departments = access.department_ids(user)
        super().__init__(
            me=user.pk, departments=departments, today=today, monday=monday, sunday=sunday, now=now, **values
        )
        self.user = user
        self.scope = access.calls_scope(user)
        self._filters, self._apply_filters = sorted(filters), apply_filters
        # Everything the statements' SQL depends on but the placeholders'
        # values: the scope, the time zone (planned days are dates there)
        # and which filters are set.
        self.key = (self.scope, timezone.get_current_timezone_name(), *self._filters)

    def _base(self) -> QuerySet[FollowUpCall]:
        """worklist_base with the filters, before the markers."""
        calls = access.visible_calls(self.user, placeholders=(self["me"], self["departments"])).filter(
            status__in=FollowUpCall.OPEN_STATUSES
        )
        if self._filters:
            calls = self._apply_filters(calls, {name: self[f"filter_{name}"] for name in self._filters})
        return calls

    def _tabs(self) -> dict[str, Q]:
        return _tab_filters(self["today"], self["monday"], self["sunday"])

    def counts(self) -> dict[str, int]:
        """How many calls each tab holds (worklist_tab_counts)."""
        if self.scope == "none":
            return dict.fromkeys(TABS, 0)
        aggregates = {tab: Count("pk", filter=q) for tab, q in self._tabs().items()}
        return self.total(("worklist-counts", *self.key), lambda: self._base().annotate(work_on=_WORK_ON), **aggregates)

    def ids(self, tab: str, *, offset: int, count: int) -> list[int]:
        """The primary keys of ``count`` calls of ``tab`` from ``offset``,
        most urgent first (worklist_for_tab)."""
        if self.scope == "none" or count <= 0:
            return []

        def build() -> QuerySet:
            calls = _with_markers(self._base(), self["today"], self["now"])
            return calls.filter(self._tabs()[tab]).order_by(*WORK_ORDER).values("pk")

        rows = self.rows(("worklist-ids", tab, *self.key), build, window=(offset, count))
        return [row["pk"] for row in rows]

    def page_of(self, tab: str, count: int) -> "WorklistPage":
        """``tab``'s calls for a Paginator: ``count`` of them (the tab's
        count), their keys read a page at a time."""
        return WorklistPage(self, tab, count)


class WorklistPage:
    """What a Paginator reads of a tab: its length and a page's keys."""

    def __init__(self, worklist: Worklist, tab: str, count: int):
        self.worklist, self.tab, self._count = worklist, tab, count

    def count(self) -> int:
        return self._count

    def __len__(self) -> int:
        return self._count

    def __getitem__(self, window: slice) -> list[int]:
        return self.worklist.ids(self.tab, offset=window.start or 0, count=(window.stop or 0) - (window.start or 0))


# Whether any complaint was raised from the call: through the call's reverse
# relation (the calls app does not import the complaints app); built once,
# as the statement it is part of (followup.access.call_for).
_HAS_COMPLAINTS = Exists(FollowUpCall.objects.filter(pk=OuterRef("pk"), complaints__isnull=False))


def call_for_user(*, user: User, pk: int, screen: bool = False) -> FollowUpCall:
    """One call with what the call screen shows, or 404 outside the user's
    scope. A deceased patient's calls open too (read-only: closed calls
    show no forms, and the services refuse to change them).

    The relations every call has are joined. What only a closed call has
    (the script version it used, a spot check) and the nurses who may be
    named on it (responsible, last changed, completed, the reviewer) are
    read when shown, which is no query for an open call: each join costs
    PostgreSQL planning time whether or not the row has one (the call with
    six joins took 2.2 ms to plan and 0.1 ms to run; with four, 0.7 ms;
    twelve joins took 3-10 ms).

    ``screen``: for showing the call screen, which lists the complaints
    raised from the call: ``call.has_complaints`` says whether there is any
    at all, so that complaints_raised_on asks nothing for the many calls
    without one."""
    return access.call_for(
        user,
        pk,
        include_deceased=True,
        related=(
            "discharge__patient",
            "discharge__department",
            "step",
            "assigned_to",
        ),
        annotations={"has_complaints": _HAS_COMPLAINTS} if screen else None,
    )


# What the call screen shows of an earlier call (calls/includes/_earlier_calls.html,
# _call_outcome.html), and of the nurse named on it: reading only these
# columns halves the work of compiling and reading the rows.
_EARLIER_CALL_COLUMNS = (
    "due_date",
    "status",
    "channel",
    "completed_at",
    "answered_by",
    "family_member_relation",
    "family_member_name",
    "satisfaction",
    "cancel_reason",
    "summary",
    "next_call_on",
    "step__offset_days",
    *(f"completed_by__{name}" for name in access.STAFF_NAME_COLUMNS),
)


# What _call_outcome.html shows of an answer and its question.
_EARLIER_ANSWER_COLUMNS = (
    "call",
    "value",
    "is_red_flag",
    "is_out_of_range",
    *(f"question__{name}" for name in ("text", "kind", "unit", "min_value", "max_value", "order")),
    "question__version__language",
)


def earlier_calls(*, call: FollowUpCall, user: User) -> list[FollowUpCall]:
    """The patient's other calls in stays ``user`` may see (never another
    ward's), newest first, each with its answers in ``shown_answers``: only
    what the call screen shows of them (_EARLIER_CALL_COLUMNS). Both
    statements are compiled once per shape (followup/prepared.py): the
    user's scope (access.stays_scope) and number of departments, the number
    of earlier calls."""
    scope = access.stays_scope(user)
    if scope == "none":
        return []
    p = Params(
        departments=access.department_ids(user), patient=call.discharge.patient_id, call=call.pk, due=call.due_date
    )

    def build() -> QuerySet[FollowUpCall]:
        return (
            access.calls_in_visible_stays(user, departments=p["departments"])
            .filter(discharge__patient_id=p["patient"])
            .exclude(pk=p["call"])
            .filter(Q(status=FollowUpCall.Status.COMPLETED) | Q(due_date__lt=p["due"]) | Q(attempt_count__gt=0))
            .select_related("step", "completed_by")
            .only(*_EARLIER_CALL_COLUMNS)
            .order_by("-due_date", "-pk")
        )

    calls = p.objects(("earlier-calls", scope), build)
    by_call: dict[int, list[CallAnswer]] = {c.pk: [] for c in calls}
    if calls:
        a = Params(ids=list(by_call))
        answers = a.objects(
            ("earlier-answers",),
            lambda: (
                CallAnswer.objects.filter(call__id__in=a["ids"])
                .select_related("question__version")
                .only(*_EARLIER_ANSWER_COLUMNS)
                .order_by("question__order", "pk")
            ),
        )
        for answer in answers:
            by_call[answer.call_id].append(answer)
    for earlier in calls:
        earlier.shown_answers = by_call[earlier.pk]
    return calls


def call_attempts(*, call: FollowUpCall) -> list:
    """The call's dials, first first, with the nurse who dialled (compiled
    once, followup/prepared.py)."""
    p = Params(call=call.pk)
    return p.objects(
        ("call-attempts",),
        lambda: CallAttempt.objects.filter(call=p["call"]).select_related("nurse").order_by("started_at", "pk"),
    )


def calls_a_death_cancels(*, call: FollowUpCall, user: User) -> tuple[list[FollowUpCall], int]:
    """What recording the patient's death would cancel: her open calls in
    stays ``user`` may see (soonest first), and how many more in other wards."""
    open_calls = FollowUpCall.objects.filter(
        discharge__patient_id=call.discharge.patient_id, status__in=FollowUpCall.OPEN_STATUSES
    )
    mine = access.visible_discharges(user)
    shown = list(
        open_calls.filter(discharge__in=mine)
        .select_related("step", "discharge__department", "assigned_to")
        .order_by("due_date", "pk")
    )
    return shown, open_calls.exclude(discharge__in=mine).count()


def death_records_of(*, patient_id: int) -> list[DeathRecord]:
    """The patient's death records, the standing one first, then reversed ones newest first."""
    return list(
        DeathRecord.objects.filter(patient_id=patient_id)
        .select_related("recorded_by", "reversed_by", "call")
        .order_by(F("reversed_at").desc(nulls_first=True), "-pk")
    )


def complaints_raised_on(*, call: FollowUpCall, user: User) -> list:
    """The complaints raised from this call that ``user`` may see, oldest
    first: what the call screen shows of them (calls/includes/_call_complaints.html).
    None and no query when call_for_user found none raised from it at all."""
    if getattr(call, "has_complaints", True) is False:
        return []
    return list(
        access.visible_complaints(user)
        .filter(source_call=call)
        .only("reference", "complainant_name", "status")
        .order_by("received_at", "pk")
    )


def alerts_open_for(*, user: User) -> QuerySet[ClinicalAlert]:
    """Open clinical alerts of the head nurse's departments, earliest deadline first."""
    return (
        access.visible_alerts(user)
        .filter(resolved_at__isnull=True)
        .select_related("call__discharge__patient", "call__discharge__department", "call__completed_by", "call__step")
        .order_by("due_at", "pk")
    )


def alert_for_user(*, user: User, pk: int) -> ClinicalAlert:
    alert = alerts_open_for(user=user).filter(pk=pk).first()
    if alert is None:
        raise Http404
    return alert
