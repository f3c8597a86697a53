"""Shared fixtures: one user per role plus one with no role (as healthchecks
does with alice, bob and charlie), the CI guard that refuses to run the
suite on SQLite or without Redis when CI=true, and the rows the data
migrations seed put back after every flush."""

import functools
import os

import pytest
from django.apps import apps as django_apps
from django.conf import settings
from django.db.migrations.loader import MigrationLoader
from django.db.models.signals import post_migrate
from django.utils import translation

from calls.defaults import create_default_satisfaction_items
from complaints.defaults import create_default_configuration
from followup.roles import Role, sync_roles
from followup.schedules import sync_periodic_tasks
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


# --- the rows the data migrations seed -------------------------------------------
#
# A transactional test (transactional_db, live_server, django_db(transaction=True))
# ends with a flush that empties every table. The flush then sends post_migrate,
# as migrate does, so Django re-creates the content types and permissions; the
# receiver below runs the data migrations' own functions on the migrations'
# model state, so the next test finds the database as migrate left it. The
# dashboard summary migration (calls 0007) adds triggers, which a flush keeps,
# and an empty summary, which a flush matches. A new data migration adds its
# function here. (Marking a test serialized_rollback would stop this: its flush
# sends no post_migrate.)
MIGRATION_SEEDERS = (
    sync_roles,  # followup 0002 and 0004, calls 0002, complaints 0003, interop 0002
    sync_periodic_tasks,  # followup 0003, complaints 0003, calls 0006
    create_default_satisfaction_items,  # calls 0003
    create_default_configuration,  # complaints 0002
)


@functools.cache
def migrated_apps():
    """The models as the last migration leaves them, as the data migrations
    see them: without the real models' save() and signals."""
    return MigrationLoader(None).project_state().apps


def put_back_migration_data(sender, plan=None, **kwargs) -> None:
    if plan is not None:
        return  # sent by migrate, whose data migrations just ran
    for seeder in MIGRATION_SEEDERS:
        seeder(migrated_apps())


@pytest.fixture(scope="session", autouse=True)
def _migration_data_survives_flushes():
    # post_migrate goes to each app in turn: answer the last one, once per flush.
    last_app = [config for config in django_apps.get_app_configs() if config.models_module][-1]
    post_migrate.connect(put_back_migration_data, sender=last_app)
    yield
    post_migrate.disconnect(put_back_migration_data, sender=last_app)


@pytest.fixture(autouse=True)
def _no_language_left_behind():
    """A request in Chinese leaves Chinese active in this thread (LocaleMiddleware
    activates, nothing deactivates): the next test starts in the default again."""
    yield
    translation.deactivate()


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
