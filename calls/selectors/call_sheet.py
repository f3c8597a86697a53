"""The printed call sheet: one day's calls with the full phone numbers, for
the nurse who makes them. Who sees what comes from followup.access; this
narrows it further (docs/call-screen.md)."""

import datetime as dt

from django.db.models import QuerySet

from followup import access
from followup.models import User
from followup.roles import Role, has_role

from ..models import FollowUpCall
from .worklist import ROW_RELATED, worklist_base

SHEET_ORDER = ("-has_red_flag", "-is_overdue", "work_on", "scheduled_for", "pk")


def sheet_sees_the_ward(user: User) -> bool:
    """A head nurse (or superuser) prints her wards' calls; a nurse only her own."""
    return access.is_superuser(user) or has_role(user, Role.HEAD_NURSE)


def call_sheet_calls(*, user: User, day: dt.date, today: dt.date, nurse: User | None = None) -> QuerySet[FollowUpCall]:
    """The open calls to make on ``day``, most urgent first, with everything
    the sheet prints, in one query.

    Today's sheet holds what the worklist's "today" tab holds (overdue calls
    and tries put off to today included); a later day's, the calls planned
    for that day. A nurse gets only the calls assigned to her: unassigned
    calls of her wards are on her worklist to pick up, but their numbers do
    not go onto her paper. A head nurse gets her wards' calls, or one
    nurse's (``nurse``, a member of her wards' staff, checked by the form)."""
    calls = worklist_base(user=user, today=today)
    if not sheet_sees_the_ward(user):
        calls = calls.filter(assigned_to=user)
    elif nurse is not None:
        calls = calls.filter(assigned_to=nurse)
    calls = calls.filter(work_on__lte=day) if day == today else calls.filter(work_on=day)
    return calls.select_related(*ROW_RELATED).order_by(*SHEET_ORDER)
