"""Shared fixtures: one user per role plus one with no role (as healthchecks
does with alice, bob and charlie), and the CI guard that refuses to run the
suite on SQLite or without Redis when CI=true. (The roles, periodic tasks and
defaults that a flush empties come back by themselves: followup.sync.)"""

import os
import threading
import time

import pytest
from django.conf import settings
from django.utils import translation

from calls.selectors.scripts import _LOCKED_CONTENT
from calls.templatetags.scripts import _blocks as script_blocks
from followup.roles import Role
from tests.factories import UserFactory


def pytest_sessionstart(session):
    if os.environ.get("CI") != "true":
        return
    problems = []
    engine = settings.DATABASES["default"]["ENGINE"]
    if "postgresql" not in engine:
        problems.append(f"CI=true needs DATABASE_URL pointing at PostgreSQL, got {engine}")
    else:
        import psycopg

        db = settings.DATABASES["default"]
        try:
            psycopg.connect(
                host=db["HOST"],
                port=db["PORT"] or 5432,
                user=db["USER"],
                password=db["PASSWORD"] or None,
                dbname="postgres",
                connect_timeout=3,
            ).close()
        except psycopg.Error as exc:
            problems.append(f"PostgreSQL unreachable: {exc}")
    if not settings.CELERY_BROKER_URL.startswith("redis://"):
        problems.append(f"CI=true needs CELERY_BROKER_URL pointing at Redis, got {settings.CELERY_BROKER_URL}")
    else:
        from followup.health import check_broker

        reason = check_broker()
        if reason:
            problems.append(f"Redis {reason}")
    if problems:
        pytest.exit("CI prerequisites missing:\n  " + "\n  ".join(problems), returncode=3)


class _InFlight:
    """The live server's application, counting the requests it is serving."""

    def __init__(self, app):
        self.app, self.serving = app, 0
        self.idle = threading.Condition()

    def __call__(self, environ, start_response):
        with self.idle:
            self.serving += 1
        try:
            return self.app(environ, start_response)
        finally:
            with self.idle:
                self.serving -= 1
                self.idle.notify_all()

    def wait_idle(self, timeout: float = 10.0) -> None:
        # Twice, a moment apart: a request the closing browser sent last may
        # still be on its way to the server.
        for _round in range(2):
            with self.idle:
                self.idle.wait_for(lambda: self.serving == 0, timeout)
            time.sleep(0.05)


@pytest.fixture(autouse=True)
def _live_server_done_before_the_flush(request):
    """A browser test's page may still be sending (a draft saved 0.8 s after
    the last key) when the test ends: the live server finishes it before the
    test's database is emptied. On SQLite the server shares the test's
    connection, and a request served during the flush broke it for every
    later test."""
    if "live_server" not in request.fixturenames:
        yield
        return
    httpd = request.getfixturevalue("live_server").thread.httpd
    if not isinstance(httpd.get_app(), _InFlight):
        httpd.set_app(_InFlight(httpd.get_app()))
    yield
    httpd.get_app().wait_idle()


@pytest.fixture(autouse=True)
def _no_language_left_behind():
    """A request in Chinese leaves Chinese active in this thread (LocaleMiddleware
    activates, nothing deactivates): the next test starts in the default again."""
    yield
    translation.deactivate()


@pytest.fixture(autouse=True)
def _no_script_kept_from_another_test():
    """Published scripts' content and rendered blocks are kept per process
    (calls.selectors.scripts, calls.templatetags.scripts): each test's
    database starts afresh, and SQLite gives its ids again."""
    yield
    _LOCKED_CONTENT.clear()
    script_blocks.clear()


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def nurse(db):
    return UserFactory(username="alice", roles=[Role.NURSE])


@pytest.fixture
def head_nurse(db):
    return UserFactory(username="bob", roles=[Role.HEAD_NURSE])


@pytest.fixture
def officer(db):
    return UserFactory(username="carol", roles=[Role.COMPLAINT_OFFICER])


@pytest.fixture
def admin_user(db):
    return UserFactory(username="dave", roles=[Role.ADMIN])


@pytest.fixture
def no_role_user(db):
    return UserFactory(username="charlie")


@pytest.fixture
def client_for(client):
    """Log the test client in as the given user and return it."""

    def login(user):
        client.force_login(user)
        return client

    return login
