"""Read queries of the head nurse's spot-check list and of the calls behind a dashboard figure."""

import datetime as dt

from django.db.models import QuerySet

from followup import access
from followup.models import User

from ..dashboard.patients import family_conditions
from ..models import FollowUpCall, SpotCheck


def spot_checks_for(*, user: User, state: str = "", week: dt.date | None = None) -> QuerySet[SpotCheck]:
    """Spot checks of the calls of the user's departments (head nurse), newest
    week first; ``state`` "pending" or "done"; ``week`` any day of the week."""
    checks = SpotCheck.objects.filter(call__discharge__department__in=access.dashboard_departments(user))
    if state == "pending":
        checks = checks.filter(reviewed_at__isnull=True)
    elif state == "done":
        checks = checks.filter(reviewed_at__isnull=False)
    if week is not None:
        checks = checks.filter(week=week - dt.timedelta(days=week.weekday()))
    return checks.select_related(
        "call__discharge__patient",
        "call__discharge__department",
        "call__completed_by",
        "call__assigned_to",
        "reviewer",
    ).order_by("-week", "reviewed_at", "pk")


def dashboard_calls(
    *,
    user: User,
    department=None,
    status: str = "",
    due_from: dt.date | None = None,
    due_to: dt.date | None = None,
    nurse: int | None = None,
    cancel_reason: str = "",
    satisfaction: list[str] | tuple[str, ...] = (),
    family: str = "",
) -> QuerySet[FollowUpCall]:
    """The calls behind a dashboard figure, in the head nurse's departments
    (deceased patients' calls included: they are counted too). ``family``:
    "family" or "patient_and_family", as the dashboard counts who took part."""
    departments = access.dashboard_departments(user)
    calls = FollowUpCall.objects.filter(discharge__department__in=departments)
    if department is not None:
        calls = calls.filter(discharge__department=department)
    if status:
        calls = calls.filter(status=status)
    if due_from:
        calls = calls.filter(due_date__gte=due_from)
    if due_to:
        calls = calls.filter(due_date__lte=due_to)
    if nurse:
        calls = calls.filter(assigned_to_id=nurse)
    if cancel_reason:
        calls = calls.filter(cancel_reason=cancel_reason)
    if satisfaction:
        calls = calls.filter(satisfaction__in=satisfaction)
    if family:
        calls = calls.filter(family_conditions()[family])
    return calls.select_related("discharge__patient", "discharge__department", "assigned_to").order_by(
        "-due_date", "pk"
    )
