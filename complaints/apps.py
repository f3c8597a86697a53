from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ComplaintsConfig(AppConfig):
    name = "complaints"
    verbose_name = _("Complaints")
    # The rows every database needs, synced after each migrate by followup.sync:
    # (the function's dotted path, the models it reads and writes).
    sync_steps = [
        (
            "complaints.defaults.create_default_configuration",
            ("complaints.Category", "complaints.SlaPolicy", "complaints.WorkingCalendar"),
        )
    ]

    def ready(self) -> None:
        from functools import partial

        from followup.messages import register_message

        from .models import SYSTEM_MESSAGES, system_message

        # Notifications about complaints are shown in each reader's language.
        for key in SYSTEM_MESSAGES:
            register_message(key, partial(system_message, key))
