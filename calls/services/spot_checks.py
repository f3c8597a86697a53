"""Spot checks (随机抽查): each week a share of every nurse's completed calls
is sampled for the head nurse to review, and she records a verdict."""

import datetime as dt
import math
import random

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone

from followup.audit import audit_change, audit_changes
from followup.dates import start_of_day
from followup.models import AuditEvent, User
from followup.services import notify

from .. import notices
from ..models import FollowUpCall, SpotCheck


def previous_week(today: dt.date | None = None) -> dt.date:
    today = today or timezone.localdate()
    return today - dt.timedelta(days=today.weekday() + 7)


def sample_size(completed: int, share: float) -> int:
    """``share`` of ``completed``, rounded up, at least one when there is any."""
    if completed <= 0:
        return 0
    return min(completed, max(1, math.ceil(completed * share - 1e-9)))


@transaction.atomic
def spot_checks_sample(*, week: dt.date, share: float | None = None, actor: "User | str" = "system") -> int:
    """Sample ``share`` (default settings.SPOT_CHECK_SHARE) of each nurse's
    calls completed in the week starting on Monday ``week``. Random but
    reproducible: each nurse's draw is seeded by the week and her id. A nurse
    already sampled for that week is skipped and the call is unique on
    SpotCheck, so running it twice adds nothing. Returns how many were added."""
    if week.weekday() != 0:
        raise ValueError("week must be a Monday")
    share = settings.SPOT_CHECK_SHARE if share is None else share
    # Monday 00:00 to the next Monday 00:00 in the hospital's time zone.
    start, end = start_of_day(week), start_of_day(week + dt.timedelta(days=7))
    already = (
        SpotCheck.objects.filter(week=week)
        .annotate(nurse=Coalesce("call__completed_by", "call__assigned_to"))
        .filter(nurse__isnull=False)
        .values_list("nurse", flat=True)
    )
    calls = (
        FollowUpCall.objects.filter(status=FollowUpCall.Status.COMPLETED, completed_at__gte=start, completed_at__lt=end)
        .filter(spot_check__isnull=True)
        .annotate(nurse=Coalesce("completed_by", "assigned_to"))
        .filter(nurse__isnull=False)
        .exclude(Q(nurse__in=already))
        .order_by("nurse", "pk")
        .values_list("nurse", "pk")
    )
    by_nurse: dict[int, list[int]] = {}
    for nurse_id, call_id in calls:
        by_nurse.setdefault(nurse_id, []).append(call_id)
    now = timezone.now()
    picks = []
    for nurse_id, call_ids in by_nurse.items():
        # Reproducible on purpose (not security): the same week and nurse draw the same calls.
        rng = random.Random(f"spot-check:{week.isoformat()}:{nurse_id}")  # noqa: S311
        picks.extend(rng.sample(call_ids, sample_size(len(call_ids), share)))
    SpotCheck.objects.bulk_create(
        [SpotCheck(call_id=pk, week=week, sampled_at=now) for pk in sorted(picks)], ignore_conflicts=True
    )
    # Those this run added (a concurrent run's rows carry another sampled_at).
    added = list(
        SpotCheck.objects.filter(week=week, sampled_at=now, call_id__in=picks)
        .order_by("pk")
        .values_list("pk", "call__discharge__patient_id")
    )
    audit_changes(actor=actor, action=AuditEvent.Action.CREATE, object_type="spot_check", objects=added)
    return len(added)


@transaction.atomic
def spot_check_review(*, spot_check: SpotCheck, by: User, verdict: str, comment: str) -> SpotCheck:
    """Record the head nurse's verdict (a second review replaces the first)."""
    if verdict not in SpotCheck.Verdict.values:
        raise ValueError(f"unknown verdict {verdict!r}")
    spot_check.verdict = verdict
    spot_check.comment = comment.strip()
    spot_check.reviewer = by
    spot_check.reviewed_at = timezone.now()
    spot_check.save(update_fields=["verdict", "comment", "reviewer", "reviewed_at"])
    call = spot_check.call
    audit_change(
        actor=by,
        object_type="spot_check",
        object_id=spot_check.pk,
        fields=["verdict", "comment", "reviewer", "reviewed_at"],
        patient_id=call.discharge.patient_id,
    )
    nurse = call.completed_by or call.assigned_to
    if nurse is not None and nurse.pk != by.pk:
        # The nurse whose call it was reads the verdict and the comment in her own language.
        made = timezone.localdate(call.completed_at) if call.completed_at else call.due_date
        notify(
            users=[nurse],
            link=reverse("calls:call_detail", args=[call.pk]),
            message_key=notices.SPOT_CHECK_REVIEWED,
            message_params={
                "by": str(by),
                "day": made.isoformat(),
                "verdict": verdict,
                "comment": notices.shorten(spot_check.comment),
            },
            email=False,
        )
    return spot_check
