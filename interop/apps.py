from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class InteropConfig(AppConfig):
    name = "interop"
    verbose_name = _("Hospital system feeds")

    def ready(self):
        # Register the Celery tasks in every process (web, MLLP listener), not
        # only in the worker that autodiscovers them: the services queue them
        # by name (interop.services.PROCESS_MESSAGE_TASK).
        from . import tasks  # noqa: F401
