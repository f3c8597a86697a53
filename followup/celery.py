"""The Celery application: configured from Django settings (CELERY_*), tasks
autodiscovered from every installed app's ``tasks.py``; beat reads its
schedule from the database (django-celery-beat) so an admin can change it.

Database connections live as long as in the web processes: Celery's Django
fixup would close them before and after every task (a new PostgreSQL
connection per task: most of a feed message's cost), so CELERY_DB_REUSE_MAX
lets it keep them, and around each task Django's own rule applies as around
each request (``close_old_connections``: CONN_MAX_AGE and the health check),
so a connection the database dropped is replaced at the next task."""

import os

from celery import Celery
from celery.signals import task_postrun, task_prerun, worker_process_init, worker_ready

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "followup.settings")

app = Celery("followup")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
app.autodiscover_tasks(["calls.dashboard"])


@task_prerun.connect
@task_postrun.connect
def _connections_as_in_a_request(sender=None, **kwargs) -> None:
    """Between tasks a worker is between requests; a task run in the caller's
    process (eager, or ``apply``) is inside the caller's work: left alone."""
    if getattr(getattr(sender, "request", None), "is_eager", False):
        return
    from django.db import close_old_connections

    close_old_connections()


@worker_process_init.connect
@worker_ready.connect
def _settle(**kwargs) -> None:
    """A worker process settles once as a web process does (followup.startup):
    its imports and feed batches create many objects, and every full
    collection would walk the project's own again."""
    from followup.startup import settle

    settle()
