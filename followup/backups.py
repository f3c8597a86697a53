"""Consistent database backups and restores into a fresh database.

PostgreSQL: ``pg_dump --format=custom`` (one snapshot, so the dump is
consistent while nurses keep working) and ``pg_restore`` into a database
that must be empty. SQLite: the online backup API, also consistent.
"""

import os
import sqlite3
import subprocess
from pathlib import Path
from urllib.parse import urlsplit

import environ


class BackupError(Exception):
    pass


def _pg_args(db: dict) -> tuple[list[str], dict]:
    args = ["--host", db.get("HOST") or "127.0.0.1", "--port", str(db.get("PORT") or 5432)]
    if db.get("USER"):
        args += ["--username", db["USER"]]
    env = {**os.environ}
    if db.get("PASSWORD"):
        env["PGPASSWORD"] = db["PASSWORD"]
    return args, env


def _run(command: list[str], env: dict) -> None:
    result = subprocess.run(command, env=env, capture_output=True, text=True, check=False)  # noqa: S603
    if result.returncode != 0:
        raise BackupError(f"{command[0]} failed: {result.stderr.strip() or result.stdout.strip()}")


def _sqlite_connect(name: str) -> sqlite3.Connection:
    return sqlite3.connect(name, uri=name.startswith("file:"))


def backup(*, db: dict, output: Path) -> Path:
    output.parent.mkdir(parents=True, exist_ok=True)
    engine = db["ENGINE"]
    if "postgresql" in engine:
        args, env = _pg_args(db)
        _run(["pg_dump", *args, "--format=custom", "--no-owner", "--file", str(output), db["NAME"]], env)
    elif "sqlite3" in engine:
        source = _sqlite_connect(str(db["NAME"]))
        target = sqlite3.connect(str(output))
        try:
            source.backup(target)
        finally:
            target.close()
            source.close()
    else:
        raise BackupError(f"Backups are not supported for {engine}.")
    return output


def _pg_connect(db: dict, dbname: str):
    import psycopg

    return psycopg.connect(
        host=db.get("HOST") or "127.0.0.1",
        port=db.get("PORT") or 5432,
        user=db.get("USER") or None,
        password=db.get("PASSWORD") or None,
        dbname=dbname,
        connect_timeout=5,
        autocommit=True,
    )


def _pg_database_exists(db: dict) -> bool:
    try:
        with _pg_connect(db, "postgres") as conn:
            return conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [db["NAME"]]).fetchone() is not None
    except Exception as exc:
        raise BackupError(f"Cannot reach PostgreSQL: {exc}") from exc


def _pg_table_count(db: dict) -> int:
    with _pg_connect(db, db["NAME"]) as conn:
        query = "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'"
        return conn.execute(query).fetchone()[0]


def restore(*, source: Path, target_url: str) -> None:
    """Restore ``source`` into the database at ``target_url``, which must be
    new or empty: a restore never overwrites data."""
    if not source.exists():
        raise BackupError(f"No backup file at {source}.")
    target = environ.Env.db_url_config(target_url)
    if "postgresql" in target["ENGINE"]:
        args, env = _pg_args(target)
        if _pg_database_exists(target):
            if _pg_table_count(target) > 0:
                raise BackupError(f"Database {target['NAME']} is not empty: restore only into a fresh database.")
        else:
            _run(["createdb", *args, target["NAME"]], env)
        _run(["pg_restore", *args, "--no-owner", "--exit-on-error", "--dbname", target["NAME"], str(source)], env)
    elif "sqlite3" in target["ENGINE"]:
        path = Path(urlsplit(target_url).path)
        if path.exists() and path.stat().st_size > 0:
            raise BackupError(f"{path} exists: restore only into a fresh database file.")
        src = sqlite3.connect(str(source))
        dst = sqlite3.connect(str(path))
        try:
            src.backup(dst)
        finally:
            dst.close()
            src.close()
    else:
        raise BackupError(f"Restores are not supported for {target['ENGINE']}.")
