"""Read queries about discharges, scoped to the user's departments."""

from django.db.models import QuerySet

from ..models import Discharge


def discharges_visible_to(user) -> QuerySet[Discharge]:
    """Discharges of the user's departments (every department for a superuser),
    with what the list shows loaded in the same query."""
    discharges = Discharge.objects.select_related("patient", "department", "responsible_nurse")
    if user.is_superuser:
        return discharges
    return discharges.filter(department__in=user.departments.all())
