"""Every environment variable followup/settings.py reads has a row in one of
README.md's settings tables (| variable | meaning | default |), and every
row names a variable the settings read."""

import ast
import re
from pathlib import Path

from django.conf import settings

BASE = Path(settings.BASE_DIR)
TABLE_HEADER = "| variable | meaning | default |"
VARIABLE = re.compile(r"`([A-Z][A-Z0-9_]*)`")


def _string(node: ast.expr | None) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def _is_os_environ(node: ast.expr) -> bool:
    return isinstance(node, ast.Attribute) and node.attr == "environ" and _is_name(node.value, "os")


def _is_name(node: ast.expr, name: str) -> bool:
    return isinstance(node, ast.Name) and node.id == name


def variables_the_settings_read(source: str) -> set[str]:
    """Names read through django-environ (``env("X")``, ``env.bool("X", ...)``,
    ``env.db("X")``...) or ``os.environ`` / ``os.getenv``. A read whose name
    is not a literal fails: this test could not see it."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Subscript) and _is_os_environ(node.value):
            read, first = True, node.slice
        elif isinstance(node, ast.Call):
            func = node.func
            first = node.args[0] if node.args else None
            read = (
                _is_name(func, "env")
                or (isinstance(func, ast.Attribute) and _is_name(func.value, "env") and func.attr != "read_env")
                or (isinstance(func, ast.Attribute) and func.attr == "get" and _is_os_environ(func.value))
                or (isinstance(func, ast.Attribute) and func.attr == "getenv" and _is_name(func.value, "os"))
            )
        else:
            continue
        if read:
            name = _string(first)
            assert name, f"an environment read without a literal name at line {node.lineno}"
            names.add(name)
    return names


def variables_the_readme_documents(text: str) -> list[str]:
    """The variables in the first column of every settings table."""
    names: list[str] = []
    in_table = False
    for line in text.splitlines():
        if line.strip() == TABLE_HEADER:
            in_table = True
        elif in_table and line.startswith("|"):
            first_cell = line.strip("|").split("|")[0]
            names.extend(VARIABLE.findall(first_cell))
        else:
            in_table = False
    return names


def test_the_parsers_see_every_kind_of_read_and_every_table_row():
    source = (
        "import os\n"
        "A = env('ONE')\nB = env.bool('TWO', default=False)\nC = env.db('THREE')\n"
        "D = os.environ['FOUR']\nE = os.environ.get('FIVE')\nF = os.getenv('SIX')\n"
        "env.read_env(BASE_DIR / '.env')\n"
    )
    readme = (
        "| variable | meaning | default |\n|---|---|---|\n"
        "| `ONE` | uses `NOT_A_VARIABLE` | `x` |\n| `TWO`, `THREE` | both | empty |\n\n"
        "| column | required | content |\n|---|---|---|\n| `FOUR` | no | elsewhere |\n"
    )
    assert variables_the_settings_read(source) == {"ONE", "TWO", "THREE", "FOUR", "FIVE", "SIX"}
    assert variables_the_readme_documents(readme) == ["ONE", "TWO", "THREE"]


def test_readme_settings_tables_list_exactly_the_variables_the_settings_read():
    read = variables_the_settings_read((BASE / "followup" / "settings.py").read_text(encoding="utf-8"))
    documented = variables_the_readme_documents((BASE / "README.md").read_text(encoding="utf-8"))

    assert sorted(read - set(documented)) == [], "read by followup/settings.py but missing from README.md"
    assert sorted(set(documented) - read) == [], "in README.md but not read by followup/settings.py"
    assert len(documented) == len(set(documented)), "a variable has two rows"
