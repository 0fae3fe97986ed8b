"""The broadcast benchmark in smoke mode: it runs, delivers everything once, breaks no limit."""

from __future__ import annotations

from pathlib import Path

from bench import bench_broadcast


def test_broadcast_benchmark_smoke_run_delivers_everything_within_the_limits() -> None:
    results = bench_broadcast.run(smoke=True)
    fast, slow = results["unthrottled"], results["throttled"]
    assert fast["planned"] == fast["delivered"] == fast["residents"] + 1  # and the admin
    assert fast["outbox"] == {"sent": fast["planned"]}
    assert slow["delivered"] == slow["planned"]
    assert slow["violations"] == 0  # stamps at completion: the fake never counts 31 a second
    report = bench_broadcast.format_report(results)
    assert "smoke run" in report and "flood violations" in report


def test_the_report_replaces_only_its_own_section(tmp_path: Path) -> None:
    docs = tmp_path / "benchmarks.md"
    docs.write_text("# Benchmarks\n\n## bench_detect\n\nkept\n\n## bench_broadcast\n\nold\n")
    bench_broadcast.write_section("new figures", docs)
    text = docs.read_text()
    assert "kept" in text and "new figures" in text and "old" not in text
    bench_broadcast.write_section("newer", docs)
    assert docs.read_text().count("## bench_broadcast") == 1
