from django.apps import AppConfig


class DevtoolsConfig(AppConfig):
    name = "followup.devtools"
    label = "devtools"
    default_auto_field = "django.db.models.BigAutoField"
