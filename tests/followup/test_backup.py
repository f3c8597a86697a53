"""A consistent backup and a restore into a fresh database, with the real
database engine of the run (PostgreSQL in CI, SQLite on a laptop)."""

import sqlite3
import uuid

import psycopg
import pytest
from django.conf import settings
from django.core.management import CommandError, call_command

from followup.models import User
from tests.factories import UserFactory


def pg_connect(db: dict, name: str, **kwargs):
    return psycopg.connect(host=db["HOST"], port=db["PORT"] or 5432, user=db["USER"], dbname=name, **kwargs)


def count_users_in(db: dict, url: str) -> int:
    if "postgresql" in db["ENGINE"]:
        with pg_connect(db, url.rsplit("/", 1)[1]) as conn:
            return conn.execute("SELECT count(*) FROM followup_user").fetchone()[0]
    with sqlite3.connect(url.removeprefix("sqlite:///")) as conn:
        return conn.execute("SELECT count(*) FROM followup_user").fetchone()[0]


def fresh_target(db: dict, tmp_path) -> tuple[str, str | None]:
    if "postgresql" in db["ENGINE"]:
        name = f"followup_restore_{uuid.uuid4().hex[:8]}"
        return f"postgres://{db['USER']}@{db['HOST']}:{db['PORT'] or 5432}/{name}", name
    return f"sqlite:///{tmp_path / 'restored.sqlite3'}", None


def drop_database(db: dict, name: str | None) -> None:
    if name:
        with pg_connect(db, "postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}"')


@pytest.mark.django_db(transaction=True)
def test_backup_then_restore_into_a_fresh_database_keeps_every_row(tmp_path):
    UserFactory.create_batch(3)
    db = settings.DATABASES["default"]
    backup_file = tmp_path / "backup.dump"
    call_command("backup_db", output=backup_file)
    url, name = fresh_target(db, tmp_path)
    try:
        call_command("restore_db", str(backup_file), target_url=url)
        assert count_users_in(db, url) == User.objects.count() == 3
        with pytest.raises(CommandError, match="restore only into a fresh database"):
            call_command("restore_db", str(backup_file), target_url=url)
    finally:
        drop_database(db, name)


@pytest.mark.django_db
def test_restore_of_a_missing_file_says_so(tmp_path):
    with pytest.raises(CommandError, match="No backup file at"):
        call_command("restore_db", str(tmp_path / "nope.dump"), target_url=f"sqlite:///{tmp_path / 'x.sqlite3'}")
