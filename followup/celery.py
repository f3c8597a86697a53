"""The Celery application: configured from Django settings (CELERY_*), tasks
autodiscovered from every installed app's ``tasks.py``; beat reads its
schedule from the database (django-celery-beat) so an admin can change it."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "followup.settings")

app = Celery("followup")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
app.autodiscover_tasks(["calls.dashboard"])
