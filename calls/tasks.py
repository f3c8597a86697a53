"""Celery tasks of the calls app: thin wrappers around the services."""

import logging

from celery import shared_task
from django.utils import timezone

from .services.drafts import call_drafts_purge
from .services.queue import generate_calls, parse_iso_week

logger = logging.getLogger(__name__)


@shared_task(name="calls.generate_weekly_queue")
def generate_weekly_queue(week: str | None = None) -> dict:
    """Create the week's follow-up calls (default: the current week in the
    hospital's time zone; or an ISO week such as "2026-W48") and catch up on
    earlier ones. Safe to run twice. A department whose rules fail is logged
    and listed under ``failed_departments`` (codes); the others are generated."""
    day = parse_iso_week(week) if week else timezone.localdate()
    result = generate_calls(week=day, actor="task:calls.generate_weekly_queue")
    logger.info("Call queue for the week of %s: %s", day, result)
    if result.failed_departments:
        logger.error(
            "Call queue for the week of %s: departments not generated: %s", day, ", ".join(result.failed_departments)
        )
    return {
        "created": result.created,
        "already_present": result.already_present,
        "missed": result.missed,
        "failed_departments": list(result.failed_departments),
    }


@shared_task(name="calls.purge_call_drafts")
def purge_call_drafts() -> int:
    """Delete the call drafts of closed calls and those untouched for a week
    (calls.services.drafts.KEEP_DAYS). Safe to run twice."""
    purged = call_drafts_purge()
    logger.info("Call drafts purged: %d", purged)
    return purged
