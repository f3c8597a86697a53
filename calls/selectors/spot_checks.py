"""Read queries of the head nurse's spot-check list."""

import datetime as dt

from django.db.models import QuerySet

from followup.models import User

from ..models import SpotCheck
from .dashboard import dashboard_departments


def spot_checks_for(*, user: User, state: str = "", week: dt.date | None = None) -> QuerySet[SpotCheck]:
    """Spot checks of the calls of the user's departments (head nurse), newest
    week first; ``state`` "pending" or "done"; ``week`` any day of the week."""
    checks = SpotCheck.objects.filter(call__discharge__department__in=dashboard_departments(user))
    if state == "pending":
        checks = checks.filter(reviewed_at__isnull=True)
    elif state == "done":
        checks = checks.filter(reviewed_at__isnull=False)
    if week is not None:
        checks = checks.filter(week=week - dt.timedelta(days=week.weekday()))
    return checks.select_related(
        "call__discharge__patient", "call__discharge__department", "call__completed_by", "call__assigned_to",
        "reviewer",
    ).order_by("-week", "reviewed_at", "pk")
