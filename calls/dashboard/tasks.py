"""Celery tasks of the dashboard part (autodiscovered from the
``calls.dashboard`` package, see followup/celery.py)."""

import datetime as dt
import logging

from celery import shared_task

from ..services.spot_checks import previous_week, spot_checks_sample

logger = logging.getLogger(__name__)


@shared_task(name="calls.sample_spot_checks")
def sample_spot_checks(week: str | None = None) -> int:
    """Sample last week's completed calls (or the week starting on the
    Monday ``week``, ISO date) for the head nurses' spot checks. Safe to run twice."""
    monday = dt.date.fromisoformat(week) if week else previous_week()
    added = spot_checks_sample(week=monday, actor="task:calls.sample_spot_checks")
    logger.info("spot checks sampled for week %s: %d added", monday, added)
    return added
