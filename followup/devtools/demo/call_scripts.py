"""Demo call scripts for ``manage.py seed_demo``: cardiology, breast-cancer
surgery, oncology and a general script, each with a published Simplified
Chinese and English version, linked to the demo departments (CARD, BRST,
ONCO, GSUR). The texts follow DOMAIN.md sections 4 and 7.

The scripts are the files in ``scripts/``, in the exchange format hospitals
share scripts with (calls/services/scripts.py): one file per version, the two
files of a script carrying the same script name. They go through the same
import service as an administrator's upload, then are published by the demo
admin. Idempotent: a script that already has a version in a file's language
is left as it is.

``link_rule_steps()`` points every rule step of those departments that has no
script yet at the department's script, so a Chinese nurse sees the Chinese
version and an English one the English version (docs/scripts.md). Steps that
still name a single-language demo script of an earlier seeding (named as the
Chinese title) move to the bilingual one. ``seed`` calls it; a seeder that
creates rules later (discharges.seed) calls it again.
"""

import json
from pathlib import Path

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Q

from calls.models import CallScript, Department, RuleStep
from calls.services.scripts import script_version_import, script_version_publish

from .departments import seed_departments

SCRIPTS_DIR = Path(__file__).resolve().parent / "scripts"


def script_files() -> list[Path]:
    return sorted(SCRIPTS_DIR.glob("*.json"))


def script_header(path: Path) -> dict:
    """The file's "script" object: name, language, diagnosis_match, departments."""
    return json.loads(path.read_bytes())["script"]


def version_header(path: Path) -> dict:
    """The file's "version" object: number, language, title, notes."""
    return json.loads(path.read_bytes())["version"]


def link_rule_steps() -> int:
    """Give every demo-department rule step without a script (or with an
    earlier seeding's single-language demo script) the department's demo
    script. Returns how many steps changed; a second run changes none."""
    changed = 0
    for path in script_files():
        header, version = script_header(path), version_header(path)
        script = CallScript.objects.filter(name=header["name"]).order_by("pk").first()
        if script is None:
            continue
        steps = RuleStep.objects.filter(rule__department__code__in=header["departments"])
        obsolete = Q(script__name=version["title"]) & ~Q(script=script) if version["title"] else Q(pk__in=[])
        changed += steps.filter(Q(script__isnull=True) | obsolete).update(script=script)
    return changed


@transaction.atomic
def seed(stdout) -> list[CallScript]:
    seed_departments(stdout)  # the files name the demo departments
    publisher = get_user_model().objects.filter(username="admin").first()  # the demo admin, if seeded
    scripts = []
    created = 0
    for path in script_files():
        data = path.read_bytes()
        header, version = json.loads(data)["script"], json.loads(data)["version"]
        script = CallScript.objects.filter(name=header["name"]).order_by("pk").first()
        if script is None or not script.versions.filter(language=version["language"]).exists():
            draft = script_version_import(data=data, by=None, script=script, via=f"import:{path.name}")
            script_version_publish(version=draft, by=publisher)
            script = draft.script
            created += 1
        script.departments.add(*Department.objects.filter(code__in=header["departments"]))
        if script not in scripts:
            scripts.append(script)
    linked = link_rule_steps()
    stdout.write(
        f"Call scripts: {len(scripts)} in place, {created} versions published now, {linked} rule steps linked."
    )
    return scripts
