from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CallsConfig(AppConfig):
    name = "calls"
    verbose_name = _("Follow-up calls")
    # The rows every database needs, synced after each migrate by followup.sync:
    # (the function's dotted path, the models it reads and writes).
    sync_steps = [("calls.defaults.create_default_satisfaction_items", ("calls.SatisfactionItem",))]

    def ready(self) -> None:
        from . import notices

        notices.register()  # the nurse's notifications about calls, in each reader's language
