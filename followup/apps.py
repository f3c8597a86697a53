import os

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FollowupConfig(AppConfig):
    name = "followup"
    verbose_name = _("Follow-up desk")

    def ready(self) -> None:
        from django.apps import apps
        from django.conf import settings
        from django.db.models.signals import post_migrate

        from . import audit, lookups, sessions  # noqa: F401  (connect the log-in signals; register __any)
        from .sync import sync_after_migrate

        # Roles, periodic tasks and defaults (followup.sync) after every
        # migrate or flush. post_migrate is sent to each app with models in
        # turn: answering only the last one runs the sync once, after the
        # other apps' content types and permissions.
        last_app = [config for config in apps.get_app_configs() if config.models_module][-1]
        post_migrate.connect(sync_after_migrate, sender=last_app, dispatch_uid="followup.sync")

        # The file-system broker needs its folders before the first message.
        if settings.CELERY_BROKER_URL.startswith("filesystem://"):
            for key in ("data_folder_in", "data_folder_out", "processed_folder", "control_folder"):
                folder = settings.CELERY_BROKER_TRANSPORT_OPTIONS[key]
                os.makedirs(folder, exist_ok=True)
        if settings.CELERY_RESULT_BACKEND.startswith("file://"):
            os.makedirs(settings.CELERY_RESULT_BACKEND.removeprefix("file://"), exist_ok=True)
        os.makedirs(settings.STATIC_ROOT, exist_ok=True)
