"""Celery tasks of the interop app: thin wrappers around the services."""

import logging

from celery import shared_task

from .services import inbound_message_process

logger = logging.getLogger(__name__)


@shared_task(name="interop.process_message")
def process_message(message_id: int) -> str | None:
    """Process one stored inbound message. Safe to run twice: the message is
    claimed with a conditional update, so the second run does nothing."""
    outcome = inbound_message_process(message_id=message_id)
    if outcome is None:
        logger.info("Inbound message %s already processed (or gone)", message_id)
        return None
    return outcome.status
