"""Read queries of the nurse's worklist, the call screen and the head
nurse's clinical alert list. Who sees what comes from followup.access."""

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

from followup import access
from followup.models import User

from ..models import CallAnswer, ClinicalAlert, FollowUpCall

TABS = ("today", "week", "overdue", "all")
ROW_RELATED = ("discharge__patient", "discharge__department", "step", "assigned_to")


def _with_markers(calls: QuerySet[FollowUpCall], today: dt.date) -> QuerySet[FollowUpCall]:
    # A red flag of the same stay (any of its calls) still waiting for action.
    open_alert = ClinicalAlert.objects.filter(call__discharge_id=OuterRef("discharge_id"), resolved_at__isnull=True)
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
    return {
        "today": Q(work_on__lte=today),
        "week": Q(work_on__gte=monday, work_on__lte=sunday),
        "overdue": Q(due_date__lt=today),
        "all": Q(),
    }


def worklist_calls(*, user: User, tab: str = "today", today: dt.date | None = None) -> QuerySet[FollowUpCall]:
    """The worklist rows of one tab, most urgent first (see worklist_for_tab)."""
    return worklist_for_tab(worklist_base(user=user, today=today), tab=tab, today=today).select_related(*ROW_RELATED)


def worklist_tab_counts(*, calls: QuerySet[FollowUpCall], today: dt.date | None = None) -> dict[str, int]:
    """How many calls each tab holds, in one query (``calls``: worklist_base
    with the list filters, not yet a tab)."""
    today = today or timezone.localdate()
    filters = _tab_filters(today)
    return calls.aggregate(**{tab: Count("pk", filter=q) for tab, q in filters.items()})


def worklist_base(*, user: User, today: dt.date | None = None) -> QuerySet[FollowUpCall]:
    """The user's open calls (the work queue) with their markers, before tab
    and filters. Closed calls are history: the call screen shows them."""
    calls = access.visible_calls(user).filter(status__in=FollowUpCall.OPEN_STATUSES)
    return _with_markers(calls, today or timezone.localdate())


def worklist_for_tab(
    calls: QuerySet[FollowUpCall], *, tab: str, today: dt.date | None = None
) -> QuerySet[FollowUpCall]:
    """One tab's calls, most urgent first: an open red flag of the stay,
    then overdue calls, then by the day to work on and the time. Every sort
    key lives on the call row, so a page is picked without any join."""
    today = today or timezone.localdate()
    return calls.filter(_tab_filters(today)[tab]).order_by(
        "-has_red_flag", "-is_overdue", "work_on", "scheduled_for", "pk"
    )


def worklist_rows(*, ids: list[int], today: dt.date | None = None) -> list[FollowUpCall]:
    """The calls of one page (``ids`` in display order) with their patient,
    department, step and nurse: one query by primary key."""
    calls = _with_markers(FollowUpCall.objects.filter(pk__in=ids), today or timezone.localdate())
    by_pk = {call.pk: call for call in calls.select_related(*ROW_RELATED)}
    return [by_pk[pk] for pk in ids if pk in by_pk]


def call_for_user(*, user: User, pk: int) -> FollowUpCall:
    """One call with what the call screen shows, or 404 outside the user's scope."""
    return access.call_for(
        user,
        pk,
        related=(
            "discharge__patient",
            "discharge__department",
            "discharge__responsible_nurse",
            "step",
            "assigned_to",
            "script_version__script",
            "changed_by",
            "completed_by",
        ),
    )


def earlier_calls(*, call: FollowUpCall, user: User) -> list[FollowUpCall]:
    """The patient's other calls in stays ``user`` may see (never another
    ward's), newest first, with their answers."""
    return list(
        FollowUpCall.objects.filter(
            discharge__patient_id=call.discharge.patient_id, discharge__in=access.visible_discharges(user)
        )
        .exclude(pk=call.pk)
        .filter(Q(status=FollowUpCall.Status.COMPLETED) | Q(due_date__lt=call.due_date) | Q(attempt_count__gt=0))
        .select_related("step", "completed_by", "discharge__department")
        .prefetch_related(
            Prefetch(
                "answers",
                queryset=CallAnswer.objects.select_related("question__version").order_by("question__order"),
            ),
        )
        .order_by("-due_date", "-pk")
    )


def complaints_raised_on(*, call: FollowUpCall, user: User) -> list:
    """The complaints raised from this call that ``user`` may see, oldest first."""
    return list(access.visible_complaints(user).filter(source_call=call).order_by("received_at", "pk"))


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
