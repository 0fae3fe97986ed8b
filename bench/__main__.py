"""`make bench`: run every benchmark, print its figures, write docs/benchmarks.md.

Each benchmark module has `run(smoke=False) -> dict` and `format_report(dict) -> str`,
and measures its baseline in the same run, so the figures compare like with like on
whatever machine runs them. Each one runs in a process of its own, so its peak RSS is
its own and not what an earlier benchmark left behind.
"""

from __future__ import annotations

import argparse
import importlib
import os
import platform
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

BENCHMARKS = ("bench_detect", "bench_updates", "bench_broadcast", "bench_scale")
DOCS = Path(__file__).resolve().parent.parent / "docs" / "benchmarks.md"


def available() -> list[str]:
    here = Path(__file__).resolve().parent
    return [name for name in BENCHMARKS if (here / f"{name}.py").exists()]


def write_docs(fresh: dict[str, str]) -> None:
    """Replace the sections of the benchmarks just run; keep the others as they were."""
    kept: dict[str, str] = {}
    if DOCS.exists():
        for chunk in DOCS.read_text(encoding="utf-8").split("\n## ")[1:]:
            name = chunk.split("\n", 1)[0].strip()
            kept[name] = "## " + chunk.rstrip() + "\n"
    kept.update(fresh)
    header = (
        "# Benchmarks\n\n"
        f"Written by `make bench` (last run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, "
        f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}). "
        "Each figure is printed next to a baseline measured in the same run.\n\n"
    )
    order = [name for name in BENCHMARKS if name in kept] + [n for n in kept if n not in BENCHMARKS]
    DOCS.parent.mkdir(exist_ok=True)
    DOCS.write_text(header + "\n".join(kept[name] for name in order), encoding="utf-8")
    print(f"written to {DOCS}")


def run_one(name: str, smoke: bool) -> str:
    """One benchmark's report, measured in a fresh process."""
    command = [sys.executable, "-m", "bench", "--one", name, *(["--smoke"] if smoke else [])]
    child = subprocess.run(command, stdout=subprocess.PIPE, text=True, check=True)
    return child.stdout.rstrip("\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument(
        "names", nargs="*", help=f"which benchmarks (default: all of {', '.join(BENCHMARKS)})"
    )
    parser.add_argument(
        "--smoke", action="store_true", help="tiny sizes, to check that they still run"
    )
    parser.add_argument("--no-write", action="store_true", help="do not update docs/benchmarks.md")
    parser.add_argument("--one", help=argparse.SUPPRESS)  # the child process of run_one
    args = parser.parse_args(argv)
    if args.one:
        module = importlib.import_module(f"bench.{args.one}")
        print(module.format_report(module.run(smoke=args.smoke)), flush=True)
        return 0
    names = args.names or available()
    sections: list[str] = []
    for name in names:
        started = time.perf_counter()
        print(f"== {name} ...", flush=True)
        report = run_one(name, args.smoke)
        print(report, flush=True)
        print(f"({name} took {time.perf_counter() - started:.1f} s)\n", flush=True)
        sections.append(f"## {name}\n\n```\n{report}\n```\n")
    if not args.smoke and not args.no_write:
        write_docs(dict(zip(names, sections, strict=True)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
