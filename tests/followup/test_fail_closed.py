"""Fail closed: DEBUG is off unless asked for (the start-up cases are in
test_settings.py), make and the image say what they need, and a debug page
never shows a password, not even one inside a URL setting."""

import secrets
import sys
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.test import RequestFactory
from django.views.debug import technical_500_response

from followup.errors import hide_url_passwords

BASE = Path(django_settings.BASE_DIR)


def debug_page(request, url_in_a_local: str) -> str:
    """The technical 500 page of an exception raised here (the page shows this
    frame's local variables and the source lines around it)."""
    try:
        raise RuntimeError(f"boom {len(url_in_a_local)}")
    except RuntimeError:
        return technical_500_response(request, *sys.exc_info()).content.decode()


def test_the_debug_page_shows_no_password_from_url_settings(settings):
    # Made here, so they are not in the source lines the page quotes.
    db, broker, results, mail, env_db, local = (secrets.token_hex(8) for _ in range(6))
    # Shaped as DATABASES is (overriding DATABASES itself is not allowed in a test).
    settings.ARCHIVE_DATABASES = {"default": {"ENGINE": "django.db.backends.postgresql", "PASSWORD": db}}
    settings.CELERY_BROKER_URL = f"redis://:{broker}@redis:6379/0"
    settings.CELERY_RESULT_BACKEND = f"redis://default:{results}@redis:6379/1"
    settings.EMAIL_URL = f"smtp+tls://desk%40hospital.cn:{mail}@mail.hospital.cn:587"
    settings.EMAIL_HOST_PASSWORD = mail
    request = RequestFactory().get("/calls/", DATABASE_URL=f"postgres://followup:{env_db}@db:5432/followup")
    page = debug_page(request, f"postgres://followup:{local}@db:5432/followup")
    made = {"db": db, "broker": broker, "results": results, "mail": mail, "env_db": env_db, "local": local}
    leaked = [name for name, secret in made.items() if secret in page]
    assert leaked == []
    assert "redis://:********************@redis:6379/0" in page
    assert "postgres://followup:********************@db:5432/followup" in page
    assert "RuntimeError" in page


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("postgres://followup:pw@db:5432/followup", "postgres://followup:***@db:5432/followup"),
        ("redis://:p@ss@redis:6379/0", "redis://:***@redis:6379/0"),
        ("postgres://postgres@127.0.0.1:5432/followup", "postgres://postgres@127.0.0.1:5432/followup"),
        ("https://followup.hospital.cn/calls/", "https://followup.hospital.cn/calls/"),
        ("two: amqp://a:b@h1/ and redis://:c@h2/0", "two: amqp://a:***@h1/ and redis://:***@h2/0"),
    ],
)
def test_url_passwords_are_hidden_and_nothing_else(url, shown):
    assert hide_url_passwords(url, "***") == shown


def test_the_image_runs_with_debug_off():
    dockerfile = (BASE / "Dockerfile").read_text()
    assert "ENV DEBUG=false" in dockerfile


def test_make_runs_in_development_mode_with_a_generated_key():
    makefile = (BASE / "Makefile").read_text()
    assert "export DEBUG ?= true" in makefile
    assert "secrets.token_urlsafe(50)" in makefile
    assert 'SECRET_KEY="$${SECRET_KEY:-$$(cat $(DEV_SECRET_KEY))}"' in makefile


def test_the_tests_run_with_debug_set_explicitly():
    import os

    assert os.environ["DEBUG"] == "true"
    assert os.environ["DJANGO_SETTINGS_MODULE"] == "followup.settings"
