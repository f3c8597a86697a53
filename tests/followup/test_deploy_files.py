"""No Docker engine runs here, so check the deployment files by reading them:
every command must name modules and settings that exist in this project."""

import importlib
import importlib.util
import os
import shlex
import subprocess
import sys
from pathlib import Path

import yaml
from django.conf import settings

BASE = Path(settings.BASE_DIR)


def load_compose() -> dict:
    return yaml.safe_load((BASE / "docker-compose.yml").read_text())


def command_words(service: dict) -> list[str]:
    command = service["command"]
    return command if isinstance(command, list) else shlex.split(command)


def test_compose_has_every_service_with_a_healthcheck():
    services = load_compose()["services"]
    assert sorted(services) == ["beat", "hl7", "postgres", "redis", "web", "worker"]
    assert all("healthcheck" in service for service in services.values())
    assert "postgres-data:/var/lib/postgresql/data" in services["postgres"]["volumes"]


def test_web_migrates_collects_static_and_serves_the_project_wsgi_app():
    web = load_compose()["services"]["web"]
    words = command_words(web)
    script = " ".join(words)
    assert "manage.py migrate" in script
    assert "manage.py collectstatic" in script
    wsgi = next(w for w in script.split() if w.endswith(":application"))
    module, attr = wsgi.split(":")
    assert module == "followup.wsgi"
    assert importlib.util.find_spec(module) is not None
    assert (BASE / "followup" / "wsgi.py").read_text().count(f"{attr} = get_wsgi_application()") == 1


def test_worker_and_beat_name_the_project_celery_app_and_scheduler():
    services = load_compose()["services"]
    for name in ("worker", "beat"):
        words = command_words(services[name])
        app_module = words[words.index("--app") + 1]
        assert hasattr(importlib.import_module(app_module), "celery_app")
    beat = command_words(services["beat"])
    module, cls = beat[beat.index("--scheduler") + 1].split(":")
    assert hasattr(importlib.import_module(module), cls)
    assert f"{module}:{cls}" == settings.CELERY_BEAT_SCHEDULER


def test_app_services_share_settings_that_exist():
    services = load_compose()["services"]
    for name in ("web", "worker", "beat"):
        env = services[name]["environment"]
        assert importlib.util.find_spec(env["DJANGO_SETTINGS_MODULE"]) is not None
        assert env["DATABASE_URL"].startswith("postgres://")
        assert env["CELERY_BROKER_URL"] == "redis://redis:6379/0"
        assert env["DEBUG"] == "false"


def test_procfile_runs_web_worker_and_beat_from_the_project():
    lines = dict(line.split(": ", 1) for line in (BASE / "Procfile").read_text().splitlines() if line.strip())
    assert sorted(lines) == ["beat", "hl7", "web", "worker"]
    assert "manage.py runserver 127.0.0.1:${WEB_PORT:-8000}" in lines["web"]
    assert "--app followup worker" in lines["worker"]
    assert f"--scheduler {settings.CELERY_BEAT_SCHEDULER}" in lines["beat"]
    assert "manage.py hl7_listener --host 127.0.0.1 --port ${HL7_PORT:-2575}" in lines["hl7"]


def test_make_run_on_another_port_serves_and_prints_that_port():
    plan = subprocess.run(
        ["make", "--dry-run", "--always-make", "run", "PORT=8100"],
        cwd=BASE,
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "MAKEFLAGS": ""},
    ).stdout
    seed = next(line for line in plan.splitlines() if "seed_demo" in line)
    start = next(line for line in plan.splitlines() if "honcho" in line)
    assert seed.endswith("seed_demo --site-url http://127.0.0.1:8100/")
    assert "WEB_PORT=8100 " in start
    assert "SITE_URL=http://127.0.0.1:8100/ " in start


def test_hl7_service_runs_the_listener_command_on_its_published_port():
    hl7 = load_compose()["services"]["hl7"]
    words = command_words(hl7)
    assert words[:3] == ["python", "manage.py", "hl7_listener"]
    assert importlib.util.find_spec("interop.management.commands.hl7_listener") is not None
    port = words[words.index("--port") + 1]
    assert hl7["ports"] == [f"{port}:{port}"]
    assert hl7["environment"]["DJANGO_SETTINGS_MODULE"] == "followup.settings"


def test_nothing_in_the_repository_reads_a_folder_beside_it():
    """A fresh clone has nothing beside it: no file may point outside the repository."""
    outside = "../" + "shared"
    tracked = subprocess.run(["git", "ls-files"], cwd=BASE, capture_output=True, text=True, check=True).stdout
    offenders = [
        name
        for name in tracked.splitlines()
        if not name.startswith("tests/interop/samples/")
        and outside in (BASE / name).read_text(encoding="utf-8", errors="replace")
    ]
    assert offenders == []


def test_the_web_app_moves_what_it_loaded_out_of_the_garbage_collectors_way():
    """followup/startup.py: loading followup.wsgi (as gunicorn does) loads the
    URLconf and freezes what is loaded, so that full collections no longer
    walk the ~120,000 start-up objects on every request that sets one off."""
    probe = "import gc, sys; import followup.wsgi; print(gc.get_freeze_count(), 'calls.views.worklist' in sys.modules)"
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "followup.settings"}
    out = subprocess.run([sys.executable, "-c", probe], cwd=BASE, env=env, capture_output=True, text=True, check=True)
    frozen, views_loaded = out.stdout.split()
    assert int(frozen) > 50_000
    assert views_loaded == "True"
