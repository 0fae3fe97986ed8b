"""Helpers shared by the benchmarks: settings, memory, percentiles, timing, tables."""

from __future__ import annotations

import os
import resource
import statistics
import time
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any

from bot.config import Settings, load_settings

# Opt in to PTB's future `retry_after` type, as the bot's entry point does.
os.environ.setdefault("PTB_TIMEDELTA", "1")

TOKEN = "123456:BENCH-TOKEN-abcdefghijklmnopqrstuvwxyz"
STAFF_CHAT_ID = -1001000000001
ADMIN_ID = 900001


def bench_settings(database: Path) -> Settings:
    """Settings for the example city on `database`, as the tests' settings fixture."""
    return load_settings(
        {
            "BOT_TOKEN": TOKEN,
            "STAFF_CHAT_ID": str(STAFF_CHAT_ID),
            "ADMIN_IDS": str(ADMIN_ID),
            "DATABASE_PATH": str(database),
            "HASH_SECRET": "bench-hash-secret-0123456789",
            "LOG_LEVEL": "WARNING",
        }
    )


# --- memory -------------------------------------------------------------------------------
def _status_kib(field: str) -> int | None:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def peak_rss_mb() -> float:
    """This process's peak resident set size (VmHWM; ru_maxrss where /proc is missing)."""
    kib = _status_kib("VmHWM")
    if kib is None:
        kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    return kib / 1024


def rss_mb() -> float:
    """This process's current resident set size."""
    kib = _status_kib("VmRSS")
    return (kib or 0) / 1024


# --- statistics ---------------------------------------------------------------------------
def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0-100) by linear interpolation; NaN for no values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    position = (len(ordered) - 1) * q / 100
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def ratio(ours: float, baseline: float) -> float:
    return ours / baseline if baseline else float("inf")


async def time_async(
    call: Callable[[], Awaitable[Any]], *, repeats: int, warmup: int = 1
) -> dict[str, float]:
    """Run `call` `warmup` + `repeats` times; the median and best time in ms."""
    for _ in range(warmup):
        await call()
    spent = []
    for _ in range(repeats):
        start = time.perf_counter()
        await call()
        spent.append((time.perf_counter() - start) * 1000)
    return {"median_ms": statistics.median(spent), "min_ms": min(spent), "max_ms": max(spent)}


# --- printing -----------------------------------------------------------------------------
def fmt(value: Any, digits: int = 1) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "NO"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        if value != value:  # NaN
            return "-"
        if value == float("inf"):
            return "inf"
        return f"{value:,.{digits}f}"
    return str(value)


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> list[str]:
    """A plain-text table: the first column left-aligned, the others right-aligned."""
    cells = [[str(h) for h in headers]] + [
        [c if isinstance(c, str) else fmt(c) for c in r] for r in rows
    ]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]

    def line(row: Sequence[str]) -> str:
        return "  ".join(
            cell.ljust(widths[i]) if i == 0 else cell.rjust(widths[i]) for i, cell in enumerate(row)
        ).rstrip()

    out = [line(cells[0]), "  ".join("-" * w for w in widths)]
    out += [line(row) for row in cells[1:]]
    return out
