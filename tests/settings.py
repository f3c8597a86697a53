"""Settings for the test run (pyproject's DJANGO_SETTINGS_MODULE).

The app fails closed: with DEBUG unset it runs as production and needs a
SECRET_KEY. The tests run as a laptop does, so this module puts DEBUG=true,
DEVTOOLS=true (the demo, benchmark and load-test commands) and a test-only key
into the environment before the real settings are read, and
points DJANGO_SETTINGS_MODULE back at followup.settings: the processes some
tests start (Celery workers, the HL7 listener, manage.py) inherit the same
environment and read the same settings. (pytest-django turns settings.DEBUG off
again while the tests run, as Django's test runner does.)
"""

import os

os.environ["DEBUG"] = "true"
os.environ["DEVTOOLS"] = "true"
os.environ.setdefault("SECRET_KEY", "tests-only-secret-key-never-used-on-a-server-5b1f0c9d2e7a4")
os.environ["DJANGO_SETTINGS_MODULE"] = "followup.settings"

from followup.settings import *  # noqa: F403
