"""Every benchmark still runs (tiny sizes; figures are not asserted, only produced)."""

from __future__ import annotations

import importlib

import pytest

from bench.__main__ import available


@pytest.mark.parametrize("name", available())
def test_benchmark_runs_in_smoke_mode(name: str) -> None:
    module = importlib.import_module(f"bench.{name}")
    results = module.run(smoke=True)
    assert results
    report = module.format_report(results)
    assert isinstance(report, str) and len(report.splitlines()) > 2
