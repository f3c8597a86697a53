"""Small helpers the benchmarks share: percentiles, the machine's load."""

import os
from pathlib import Path


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
