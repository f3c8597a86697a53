"""Celery tasks of the calls app: thin wrappers around the services."""

import logging

from celery import shared_task
from django.utils import timezone

from followup.sms import SmsError, get_backend

from .models import FollowUpCall
from .services.drafts import call_drafts_purge
from .services.queue import generate_calls, parse_iso_week
from .services.self_report import (
    calls_due_a_link,
    in_quiet_hours,
    self_report_link_claim,
    self_report_message_failed,
    self_report_message_sent,
)

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


SEND_LINK = "calls.send_self_report_link"
SEND_LINK_RETRIES = 5


def send_backoff(retries: int) -> int:
    """Seconds before the next try after a temporary refusal: 1, 2, 4, 8, 16 minutes."""
    return 60 * 2**retries


@shared_task(name="calls.send_due_self_report_links")
def send_due_self_report_links() -> dict:
    """Queue the self-report links due now (docs/self-report.md); nothing
    during quiet hours. Runs every few minutes; safe to run twice."""
    now = timezone.now()
    if in_quiet_hours(now):
        return {"queued": 0, "quiet_hours": True}
    due = calls_due_a_link(now=now)
    for call_id in due:
        send_self_report_link.delay(call_id)
    if due:
        logger.info("Self-report links queued: %d", len(due))
    return {"queued": len(due), "quiet_hours": False}


@shared_task(name=SEND_LINK, bind=True, max_retries=SEND_LINK_RETRIES)
def send_self_report_link(self, call_id: int) -> str:
    """Send one call's self-report link: at most once per call, retried with
    backoff while the gateway refuses for a temporary reason (throttling,
    its own faults, no network). Returns what happened."""
    call = FollowUpCall.objects.filter(pk=call_id).first()
    if call is None:
        logger.warning("Self-report link: call %s is gone", call_id)
        return "gone"
    actor = f"task:{SEND_LINK}"
    claim = self_report_link_claim(call=call, actor=actor)
    if claim.outcome != "send":
        return claim.outcome
    try:
        result = get_backend().send(claim.sms)
    except SmsError as error:
        final = not error.temporary or self.request.retries >= self.max_retries
        self_report_message_failed(message=claim.message, error=error, final=final, actor=actor)
        logger.warning("Self-report link of call %s: gateway said %s (final: %s)", call_id, error.code, final)
        if final:
            return f"failed:{error.code}"
        raise self.retry(countdown=send_backoff(self.request.retries)) from None
    self_report_message_sent(message=claim.message, result=result, actor=actor)
    return "sent"


@shared_task(name="calls.purge_call_drafts")
def purge_call_drafts() -> int:
    """Delete the call drafts of closed calls and those untouched for a week
    (calls.services.drafts.KEEP_DAYS). Safe to run twice."""
    purged = call_drafts_purge()
    logger.info("Call drafts purged: %d", purged)
    return purged
