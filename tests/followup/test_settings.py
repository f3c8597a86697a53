"""Settings as a newcomer and as a hospital server see them. Each case runs
in a fresh Python process with exactly the environment under test."""

import json
import subprocess
import sys
from pathlib import Path

from django.conf import settings

BASE = Path(settings.BASE_DIR)
PROBE = (
    "import json, django; from django.conf import settings; django.setup();"
    "print(json.dumps({'engine': settings.DATABASES['default']['ENGINE'],"
    " 'db_name': str(settings.DATABASES['default']['NAME']),"
    " 'broker': settings.CELERY_BROKER_URL,"
    " 'broker_folder': settings.CELERY_BROKER_TRANSPORT_OPTIONS.get('data_folder_in'),"
    " 'debug': settings.DEBUG, 'tz': settings.TIME_ZONE, 'var': str(settings.VAR_DIR)}))"
)


def run_python(code: str, env: dict, *args: str) -> subprocess.CompletedProcess:
    full_env = {"PATH": "/usr/bin:/bin", "DJANGO_SETTINGS_MODULE": "followup.settings", **env}
    return subprocess.run(
        [sys.executable, *(["-c", code] if code else []), *args],
        cwd=BASE,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_with_no_environment_the_app_runs_as_production_and_stops_without_a_secret_key():
    result = run_python(PROBE, {})
    assert result.returncode == 1
    assert "SECRET_KEY must be set when DEBUG is off" in result.stderr


def test_with_no_environment_but_a_key_debug_is_off():
    result = run_python(PROBE, {"SECRET_KEY": "k" * 50})
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["debug"] is False


def test_on_a_laptop_debug_true_alone_uses_sqlite_and_a_file_broker_under_var():
    result = run_python(PROBE, {"DEBUG": "true"})
    assert result.returncode == 0, result.stderr
    seen = json.loads(result.stdout)
    var = str(BASE / "var")
    assert seen == {
        "engine": "django.db.backends.sqlite3",
        "db_name": f"{var}/db.sqlite3",
        "broker": "filesystem://",
        "broker_folder": f"{var}/celery/broker",
        "debug": True,
        "tz": "Asia/Shanghai",
        "var": var,
    }


def test_database_and_broker_urls_switch_to_postgresql_and_redis():
    result = run_python(
        PROBE,
        {
            "DEBUG": "true",
            "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/followup",
            "CELERY_BROKER_URL": "redis://127.0.0.1:6379/0",
        },
    )
    assert result.returncode == 0, result.stderr
    seen = json.loads(result.stdout)
    assert (seen["engine"], seen["db_name"], seen["broker"], seen["broker_folder"]) == (
        "django.db.backends.postgresql",
        "followup",
        "redis://127.0.0.1:6379/0",
        None,
    )


def test_debug_off_without_secret_key_stops_with_a_clear_error():
    result = run_python(PROBE, {"DEBUG": "false"})
    assert result.returncode == 1
    assert "SECRET_KEY must be set when DEBUG is off" in result.stderr


def test_check_deploy_is_clean_with_production_variables(tmp_path):
    env = {
        "DEBUG": "false",
        "SECRET_KEY": "a" * 20 + "-production-like-key-with-enough-entropy-5f9c2e",
        "ALLOWED_HOSTS": "followup.hospital.example",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'deploy.sqlite3'}",
        "VAR_DIR": str(tmp_path),
    }
    result = run_python("", env, "manage.py", "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == "System check identified no issues (0 silenced)."


SITE_URL_PROBE = "import django; from django.conf import settings; django.setup(); print(settings.SITE_URL)"
SERVER = {"DEBUG": "false", "SECRET_KEY": "s" * 50}


def test_e_mail_links_point_at_the_first_allowed_host_over_https_on_a_server():
    result = run_python(SITE_URL_PROBE, {**SERVER, "ALLOWED_HOSTS": ".followup.hospital.example,10.0.0.5"})
    assert (result.returncode, result.stdout.strip()) == (0, "https://followup.hospital.example"), result.stderr


def test_site_url_set_by_the_hospital_wins_without_its_trailing_slash():
    env = {**SERVER, "ALLOWED_HOSTS": "10.0.0.5", "SITE_URL": "https://followup.hospital.example:8443/"}
    result = run_python(SITE_URL_PROBE, env)
    assert (result.returncode, result.stdout.strip()) == (0, "https://followup.hospital.example:8443"), result.stderr
