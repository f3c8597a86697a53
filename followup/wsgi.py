import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "followup.settings")
application = get_wsgi_application()

from followup.startup import settle  # noqa: E402 - needs the settings and apps loaded above

settle()
