import os

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FollowupConfig(AppConfig):
    name = "followup"
    verbose_name = _("Follow-up desk")

    def ready(self) -> None:
        # The file-system broker needs its folders before the first message.
        from django.conf import settings

        from . import audit, sessions  # noqa: F401  (connect the log-in signals)

        if settings.CELERY_BROKER_URL.startswith("filesystem://"):
            for key in ("data_folder_in", "data_folder_out", "processed_folder", "control_folder"):
                folder = settings.CELERY_BROKER_TRANSPORT_OPTIONS[key]
                os.makedirs(folder, exist_ok=True)
        if settings.CELERY_RESULT_BACKEND.startswith("file://"):
            os.makedirs(settings.CELERY_RESULT_BACKEND.removeprefix("file://"), exist_ok=True)
        os.makedirs(settings.STATIC_ROOT, exist_ok=True)
