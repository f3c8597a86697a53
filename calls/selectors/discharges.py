"""Read queries about discharges; who sees which comes from followup.access."""

from django.db.models import QuerySet

from followup import access

from ..models import Discharge


def discharges_visible_to(user) -> QuerySet[Discharge]:
    """The stays a user may see, with what the list shows loaded in the same query."""
    return access.visible_discharges(user).select_related("patient", "department", "responsible_nurse")
