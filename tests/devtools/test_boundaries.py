"""The developer tools stay outside the product: no product module imports
followup.devtools (production runs without it), and production settings
leave the app out."""

import ast
import os
import subprocess
import sys
from pathlib import Path

from django.conf import settings

from tests.import_scan import imported_names

BASE = Path(settings.BASE_DIR)
PRODUCT_APPS = ("followup", "calls", "complaints", "interop")
DEVTOOLS = "followup.devtools"


def module_name(path: Path) -> str:
    parts = list(path.relative_to(BASE).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def dotted_strings(source: str) -> list[str]:
    """String constants that are a dotted path into devtools (import_string, INSTALLED_APPS)."""
    return [
        node.value
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and _in_devtools(node.value)
    ]


def _in_devtools(name: str) -> bool:
    return name == DEVTOOLS or name.startswith(DEVTOOLS + ".")


def product_modules():
    for app in PRODUCT_APPS:
        for path in sorted((BASE / app).rglob("*.py")):
            if not path.relative_to(BASE).as_posix().startswith("followup/devtools/"):
                yield path


def test_no_product_module_imports_the_developer_tools():
    offenders = []
    for path in product_modules():
        source = path.read_text(encoding="utf-8")
        names = imported_names(source, module_name(path), is_package=path.name == "__init__.py")
        offenders += [f"{path.relative_to(BASE)} imports {name}" for name in names if _in_devtools(name)]
        offenders += [f"{path.relative_to(BASE)} names {text}" for text in dotted_strings(source)]
    # The one mention allowed: settings adds the app when DEVTOOLS is on.
    assert offenders == ["followup/settings.py names followup.devtools"]


def test_the_import_scan_would_find_each_way_of_importing_devtools():
    assert _in_devtools(imported_names("from .devtools.demo import seed", "followup.access", is_package=False)[0])
    assert "followup.devtools" in imported_names("from . import devtools", "followup", is_package=True)
    assert "followup.devtools" in imported_names("from .. import devtools", "followup.management.x", is_package=False)
    assert "followup.devtools.guard" in imported_names("import followup.devtools.guard", "calls.x", is_package=False)
    assert "followup.devtools" in imported_names("from followup import devtools", "calls.x", is_package=False)
    assert dotted_strings("import_string('followup.devtools.demo.seed')") == ["followup.devtools.demo.seed"]
    assert imported_names("from .models import Patient", "calls.views", is_package=False) == [
        "calls.models",
        "calls.models.Patient",
    ]


def manage(*args: str, tmp_path: Path, **env: str) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in os.environ.items() if k not in ("DEBUG", "DEVTOOLS")}
    environment.update(DJANGO_SETTINGS_MODULE="followup.settings", VAR_DIR=str(tmp_path), **env)
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=BASE, env=environment, capture_output=True, text=True, timeout=60
    )


def test_production_settings_leave_the_developer_tools_out(tmp_path):
    done = manage("seed_demo", tmp_path=tmp_path, SECRET_KEY="a-production-key-for-this-test-only-0123456789")

    assert done.returncode == 1
    assert done.stderr.strip() == "Unknown command: 'seed_demo'\nType 'manage.py help' for usage."


def test_devtools_on_a_server_installs_the_commands_and_seed_demo_still_wants_force(tmp_path):
    done = manage(
        "seed_demo", tmp_path=tmp_path, SECRET_KEY="a-production-key-for-this-test-only-0123456789", DEVTOOLS="true"
    )

    assert done.returncode == 1
    assert done.stderr.strip() == (
        "CommandError: seed_demo refuses to run with DEBUG off: it creates demo log-ins. "
        "Use --force on a demo server only."
    )


def test_runtime_only_leaves_out_type_checking_imports():
    source = "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from calls.models import Patient\nimport os\n"
    assert "calls.models" in imported_names(source, "followup.access", is_package=False)
    assert imported_names(source, "followup.access", is_package=False, runtime_only=True) == [
        "typing",
        "typing.TYPE_CHECKING",
        "os",
    ]
