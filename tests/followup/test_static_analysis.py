"""Bandit over every app, with the arguments `make test` gives it (read from
the Makefile, so the two never differ): no finding of medium severity or
above. `make test-fast` runs this too, so a finding shows before CI."""

import shlex
import subprocess
import sys
from pathlib import Path

from django.conf import settings

BASE = Path(settings.BASE_DIR)


def makefile_bandit_arguments() -> list[str]:
    lines = [line.strip() for line in (BASE / "Makefile").read_text().splitlines() if "$(BIN)/bandit" in line]
    assert len(lines) == 1, lines
    return shlex.split(lines[0])[1:]


def test_the_makefile_scans_every_app_at_medium_severity():
    arguments = makefile_bandit_arguments()
    assert arguments[-4:] == ["followup", "calls", "complaints", "interop"]
    assert arguments[arguments.index("--severity-level") + 1] == "medium"


def test_bandit_finds_nothing_in_the_apps():
    result = subprocess.run(
        [sys.executable, "-m", "bandit", *makefile_bandit_arguments()],
        cwd=BASE,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert (result.returncode, result.stdout) == (0, ""), result.stdout  # --quiet prints only findings
