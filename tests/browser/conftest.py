"""Playwright driving Debian's Chromium (/usr/bin/chromium; never a
downloaded browser) against pytest-django's live server. One browser per
session; each test gets a fresh context (cookies) and page."""

import os
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import timezone

from followup.roles import Role
from tests.calls.call_work_helpers import make_call, scripted_version, ward_of
from tests.factories import SatisfactionItemFactory, UserFactory

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
# The longest a browser test may take (pytest-timeout): one that waits on a
# page that never comes (a hung live server, a dialog nobody closes) fails
# with its stack instead of holding CI until the job is killed. The slowest
# take well under a minute on a loaded 2-CPU machine.
BROWSER_TEST_SECONDS = 180


def pytest_collection_modifyitems(items):
    here = Path(__file__).parent
    for item in items:
        if here in item.path.parents:
            item.add_marker(pytest.mark.timeout(BROWSER_TEST_SECONDS))


@pytest.fixture(scope="session")
def browser(django_db_setup):
    # After django_db_setup, so it ends (and closes its connections) before
    # the test database is dropped.
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
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


@pytest.fixture
def desk(transactional_db):
    """A ward with a nurse (lina) and a head nurse (wangfang), a published
    script with a red-flag question, and one call due today for Zhou Min."""
    nurse = UserFactory(username="lina", display_name="Li Na", roles=[Role.NURSE])
    head = UserFactory(username="wangfang", display_name="Wang Fang", roles=[Role.HEAD_NURSE])
    ward = ward_of(nurse, head)
    _version, chest, note = scripted_version(department=ward)
    attitude = SatisfactionItemFactory(code="medicines_explained", name="Medicines explained clearly")
    today = timezone.localdate()
    call = make_call(department=ward, nurse=nurse, due=today, patient__name="Zhou Min", patient__phone="+8613812345678")
    return {
        "nurse": nurse,
        "head": head,
        "ward": ward,
        "chest": chest,
        "note": note,
        "attitude": attitude,
        "call": call,
        "today": today,
    }
