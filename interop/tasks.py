"""Celery tasks of the interop app: thin wrappers around the services."""

import logging

from celery import shared_task
from django.db import OperationalError

from .services import PROCESS_MESSAGE_TASK, inbound_message_process

logger = logging.getLogger(__name__)


@shared_task(
    name=PROCESS_MESSAGE_TASK,
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=6,
)
def process_message(message_id: int) -> str | None:
    """Process one stored inbound message. Safe to run twice: the message is
    claimed with a conditional update, so the second run does nothing. A
    lost database connection rolls everything back and retries with backoff."""
    outcome = inbound_message_process(message_id=message_id)
    if outcome is None:
        logger.info("Inbound message %s already processed (or gone)", message_id)
        return None
    return outcome.status
