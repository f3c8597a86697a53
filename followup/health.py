"""Checks behind /healthz: can we reach the database and the Celery broker?"""

import os

from django.conf import settings
from django.db import connections
from kombu import Connection


def check_database() -> str | None:
    """Return None when the default database answers, else a short reason."""
    try:
        with connections["default"].cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # any driver error means "not reachable"
        return f"database unreachable: {exc.__class__.__name__}"
    return None


def check_broker() -> str | None:
    """Return None when the broker accepts a connection, else a short reason."""
    url = settings.CELERY_BROKER_URL
    if url.startswith("filesystem://"):
        folder = settings.CELERY_BROKER_TRANSPORT_OPTIONS["data_folder_out"]
        if not (os.path.isdir(folder) and os.access(folder, os.W_OK)):
            return "broker unreachable: folder missing or not writable"
        return None
    try:
        with Connection(url, connect_timeout=2, transport_options=settings.CELERY_BROKER_TRANSPORT_OPTIONS) as conn:
            conn.ensure_connection(max_retries=1, interval_start=0, interval_step=0, timeout=3)
    except Exception as exc:
        return f"broker unreachable: {exc.__class__.__name__}"
    return None
