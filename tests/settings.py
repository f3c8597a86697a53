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
# Tests run in parallel (pytest-xdist, `make test`): each worker process keeps
# its files (uploads, outbox, the file-system broker, SQLite) in a folder of its
# own, and the processes its tests start inherit it.
if worker := os.environ.get("PYTEST_XDIST_WORKER"):
    os.environ["VAR_DIR"] = os.path.join(
        os.environ.get("VAR_DIR", os.path.join(os.path.dirname(__file__), "..", "var")), worker
    )

from followup.settings import *  # noqa: F403
