"""Demo call scripts for ``manage.py seed_demo``: cardiology, breast-cancer
surgery, oncology and a general script, each in Simplified Chinese and in
English, published and linked to the demo departments (CARD, BRST, ONCO,
GSUR). The texts follow DOMAIN.md sections 4 and 7.

The scripts are the files in ``scripts/``, in the exchange format hospitals
share scripts with (calls/services/scripts.py). They go through the same
import service as an administrator's upload, then are published by the demo
admin. Idempotent: a script (by name and language) that already has a version
is left as it is.

``link_rule_steps()`` points every rule step of those departments that has no
script yet at the department's script (in the language of
settings.LANGUAGE_CODE, else Chinese). ``seed`` calls it; a seeder that
creates rules later (discharges.seed) calls it again.
"""

import json
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction

from calls.models import CallScript, Department, RuleStep
from calls.services.scripts import script_version_import, script_version_publish

from .departments import seed_departments

SCRIPTS_DIR = Path(__file__).resolve().parent / "scripts"
ZH, EN = CallScript.Language.CHINESE, CallScript.Language.ENGLISH


def script_files() -> list[Path]:
    return sorted(SCRIPTS_DIR.glob("*.json"))


def script_header(path: Path) -> dict:
    """The file's "script" object: name, language, diagnosis_match, departments."""
    return json.loads(path.read_bytes())["script"]


def link_rule_steps() -> int:
    """Give every demo-department rule step without a script the department's
    demo script (language of settings.LANGUAGE_CODE, else Chinese). Returns
    how many steps changed; a second run changes none."""
    preferred = EN if settings.LANGUAGE_CODE.lower().startswith("en") else ZH
    changed = 0
    for path in script_files():
        header = script_header(path)
        if header["language"] != preferred:
            continue
        script = CallScript.objects.filter(name=header["name"], language=preferred).first()
        if script is None:
            continue
        changed += RuleStep.objects.filter(
            rule__department__code__in=header["departments"], script__isnull=True
        ).update(script=script)
    return changed


@transaction.atomic
def seed(stdout) -> list[CallScript]:
    seed_departments(stdout)  # the files name the demo departments
    publisher = get_user_model().objects.filter(username="admin").first()  # the demo admin, if seeded
    scripts = []
    created = 0
    for path in script_files():
        data = path.read_bytes()
        header = json.loads(data)["script"]
        script = CallScript.objects.filter(name=header["name"], language=header["language"]).first()
        if script is None or not script.versions.exists():
            draft = script_version_import(data=data, by=None, via=f"import:{path.name}")
            script_version_publish(version=draft, by=publisher)
            script = draft.script
            created += 1
        script.departments.add(*Department.objects.filter(code__in=header["departments"]))
        scripts.append(script)
    linked = link_rule_steps()
    stdout.write(f"Call scripts: {len(scripts)} in place, {created} published now, {linked} rule steps linked.")
    return scripts
