"""Small helpers the benchmarks share: percentiles, the machine's load,
the process's memory and the CPU time of its PostgreSQL backend."""

import os
from pathlib import Path

from django.db import connection


def percentile(values: list[float], fraction: float) -> float:
    """The nearest-rank percentile (``fraction`` 0.95 for the p95)."""
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(fraction * len(ordered) + 0.5) - 1))
    return ordered[index]


def load_average() -> str:
    """The load averages over 1, 5 and 15 minutes and the CPU count, as
    printed beside every measurement (other work on the machine slows it)."""
    try:
        one, five, fifteen = Path("/proc/loadavg").read_text().split()[:3]
    except OSError:
        one, five, fifteen = (f"{v:.2f}" for v in os.getloadavg())
    return f"load average {one} {five} {fifteen} on {os.cpu_count()} CPUs"


def memory_kib(field: str) -> int | None:
    """VmRSS / VmHWM of this process in KiB (Linux), None elsewhere."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(f"{field}:"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def reset_peak_rss() -> bool:
    """Restart VmHWM at the current size (Linux >= 4.0); False when not possible."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def backend_cpu() -> float | None:
    """CPU seconds the PostgreSQL backend of this connection has used (the
    server on this machine, Linux), None when it cannot be read."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        (pid,) = cursor.fetchone()
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_text(before: int | None, peak: int | None) -> str:
    """A peak resident size (KiB, memory_kib) and its growth over ``before``."""
    if before is None or peak is None:
        return "not measured (needs Linux /proc)"
    return f"{peak / 1024:.1f} MiB ({(peak - before) / 1024:+.1f} MiB over the {before / 1024:.1f} MiB before it)"


def write_table(stdout, rows: list[tuple[str, str]]) -> None:
    """A benchmark's (measure, value) rows as a Markdown table, then the load average."""
    width = max(len(label) for label, _value in rows)
    stdout.write("")
    stdout.write(f"| {'measure':<{width}} | value |")
    stdout.write(f"|{'-' * (width + 2)}|-------|")
    for label, value in rows:
        stdout.write(f"| {label:<{width}} | {value} |")
    stdout.write(load_average())
