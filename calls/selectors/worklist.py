"""Read queries of the nurse's worklist, the call screen and the head
nurse's clinical alert list. Department scope is applied here."""

import datetime as dt

from django.db.models import (
    BooleanField,
    Case,
    Count,
    Exists,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.http import Http404
from django.utils import timezone

from followup.models import User
from followup.roles import Role, roles_of

from ..models import CallAnswer, ClinicalAlert, FollowUpCall

TABS = ("today", "week", "overdue", "all")


def department_ids_of(user: User) -> list[int]:
    cached = getattr(user, "_followup_department_ids", None)
    if cached is None:
        cached = list(user.departments.values_list("pk", flat=True))
        user._followup_department_ids = cached
    return cached


def calls_visible_to(user: User) -> QuerySet[FollowUpCall]:
    """Calls a user may see: a head nurse her departments' calls; a nurse the
    calls assigned to her plus the unassigned ones of her departments.
    Deceased patients' calls never show."""
    calls = FollowUpCall.objects.filter(discharge__patient__deceased_on__isnull=True)
    if user.is_superuser:
        return calls
    held = roles_of(user)
    departments = department_ids_of(user)
    if Role.HEAD_NURSE in held:
        return calls.filter(discharge__department__in=departments)
    if Role.NURSE in held:
        return calls.filter(
            Q(assigned_to=user) | Q(assigned_to__isnull=True, discharge__department__in=departments)
        )
    return calls.none()


def _with_markers(calls: QuerySet[FollowUpCall], today: dt.date) -> QuerySet[FollowUpCall]:
    open_alert = ClinicalAlert.objects.filter(
        call__discharge__patient=OuterRef("discharge__patient"), resolved_at__isnull=True
    )
    return calls.annotate(
        has_red_flag=Exists(open_alert),
        is_overdue=Case(
            When(status__in=FollowUpCall.OPEN_STATUSES, due_date__lt=today, then=Value(True)),
            default=Value(False),
            output_field=BooleanField(),
        ),
        work_on=Coalesce("next_attempt_on", "due_date"),
    )


def week_of(day: dt.date) -> tuple[dt.date, dt.date]:
    monday = day - dt.timedelta(days=day.weekday())
    return monday, monday + dt.timedelta(days=6)


def _tab_filters(today: dt.date) -> dict[str, Q]:
    monday, sunday = week_of(today)
    is_open = Q(status__in=FollowUpCall.OPEN_STATUSES)
    return {
        "today": is_open & Q(work_on__lte=today),
        "week": is_open & Q(work_on__gte=monday, work_on__lte=sunday),
        "overdue": is_open & Q(due_date__lt=today),
        "all": Q(),
    }


def worklist_calls(*, user: User, tab: str = "today", today: dt.date | None = None) -> QuerySet[FollowUpCall]:
    """The worklist rows of one tab, most urgent first (see worklist_for_tab)."""
    return worklist_for_tab(worklist_base(user=user, today=today), tab=tab, today=today)


def worklist_tab_counts(*, calls: QuerySet[FollowUpCall], today: dt.date | None = None) -> dict[str, int]:
    """How many calls each tab holds, in one query (``calls`` already filtered
    by scope and the list filters, not by tab)."""
    today = today or timezone.localdate()
    filters = _tab_filters(today)
    return calls.aggregate(**{tab: Count("pk", filter=q) for tab, q in filters.items()})


def worklist_base(*, user: User, today: dt.date | None = None) -> QuerySet[FollowUpCall]:
    """Scope and markers without the tab, for the filters and the counts."""
    return _with_markers(calls_visible_to(user), today or timezone.localdate())


def worklist_for_tab(
    calls: QuerySet[FollowUpCall], *, tab: str, today: dt.date | None = None
) -> QuerySet[FollowUpCall]:
    """One tab's rows, most urgent first: patients with an open red flag,
    then overdue calls, then by the day to work on and the time."""
    today = today or timezone.localdate()
    return calls.filter(_tab_filters(today)[tab]).select_related(
        "discharge__patient", "discharge__department", "step", "assigned_to"
    ).order_by("-has_red_flag", "-is_overdue", "work_on", "scheduled_for", "pk")


def call_for_user(*, user: User, pk: int) -> FollowUpCall:
    """One call with what the call screen shows, or 404 outside the user's scope."""
    call = (
        calls_visible_to(user)
        .select_related(
            "discharge__patient",
            "discharge__department",
            "discharge__responsible_nurse",
            "step",
            "assigned_to",
            "script_version__script",
            "changed_by",
            "completed_by",
        )
        .filter(pk=pk)
        .first()
    )
    if call is None:
        raise Http404
    return call


def earlier_calls(*, call: FollowUpCall) -> list[FollowUpCall]:
    """The patient's other calls, newest first, with attempts and answers."""
    return list(
        FollowUpCall.objects.filter(discharge__patient_id=call.discharge.patient_id)
        .exclude(pk=call.pk)
        .filter(Q(status=FollowUpCall.Status.COMPLETED) | Q(due_date__lt=call.due_date) | Q(attempt_count__gt=0))
        .select_related("step", "completed_by", "discharge__department")
        .prefetch_related(
            Prefetch("answers", queryset=CallAnswer.objects.select_related("question").order_by("question__order")),
            "attempts",
        )
        .order_by("-due_date", "-pk")
    )


def alerts_open_for(*, user: User) -> QuerySet[ClinicalAlert]:
    """Open clinical alerts of the head nurse's departments, earliest deadline first."""
    alerts = ClinicalAlert.objects.filter(resolved_at__isnull=True)
    if not user.is_superuser:
        alerts = alerts.filter(call__discharge__department__in=department_ids_of(user))
    return alerts.select_related(
        "call__discharge__patient", "call__discharge__department", "call__completed_by", "call__step"
    ).order_by("due_at", "pk")


def alert_for_user(*, user: User, pk: int) -> ClinicalAlert:
    alert = alerts_open_for(user=user).filter(pk=pk).first()
    if alert is None:
        raise Http404
    return alert
