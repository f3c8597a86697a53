"""Playwright driving Debian's Chromium (/usr/bin/chromium; never a
downloaded browser) against pytest-django's live server. One browser per
session; each test gets a fresh context (cookies) and page."""

import os
from pathlib import Path

import pytest
from django.conf import settings

# Playwright's sync API runs an event loop in this thread; Django refuses ORM
# calls from a thread with a running loop unless told it is fine (tests only).
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = Path(settings.BASE_DIR) / "var" / "artifacts"


@pytest.fixture(scope="session")
def migrated_contents(django_db_setup, django_db_blocker) -> str:
    """What the migrations put in the database (role groups, schedules).
    Live-server tests run in real transactions and leave empty tables
    behind, so they put this back (see restored_db). Inside Playwright's
    sync API Django sees fresh connection objects, where pytest-django's
    serialized_rollback does not find its own copy."""
    from django.db import connection

    with django_db_blocker.unblock():
        return connection.creation.serialize_db_to_string()


@pytest.fixture(scope="session")
def browser(migrated_contents):
    from playwright.sync_api import sync_playwright

    assert Path(CHROMIUM).exists(), "Chromium is needed for browser tests: apt-get install chromium"
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield chromium
        chromium.close()
        # While Playwright's loop runs, Django keeps its connections per
        # context: close those here, or the test database cannot be dropped.
        from django.db import connections

        connections.close_all()


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(base_url=live_server.url, locale="en-GB", viewport={"width": 1280, "height": 900})
    context.set_default_timeout(10_000)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def restored_db(transactional_db, migrated_contents) -> None:
    """Start from the migrated contents if an earlier test flushed them, and
    hand pytest-django its copy so this test's flush skips post_migrate (the
    tests are marked serialized_rollback) and the next test is restored."""
    from django.contrib.contenttypes.models import ContentType
    from django.db import connection

    connection._test_serialized_contents = migrated_contents
    if not ContentType.objects.exists():
        connection.creation.deserialize_db_from_string(migrated_contents)


@pytest.fixture(scope="module", autouse=True)
def _restore_database_after_module(django_db_blocker, migrated_contents):
    """Put the migrated contents back for the tests that run after this
    module (the last live-server test flushed them)."""
    yield
    from django.db import connection

    with django_db_blocker.unblock():
        connection.creation.deserialize_db_from_string(migrated_contents)
        connection.close()  # this context's own connection: let the test database be dropped


@pytest.fixture
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS
