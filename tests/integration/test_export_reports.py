"""`resident-bot export reports --since DATE --format csv|open311 --out FILE`."""

from __future__ import annotations

import asyncio
import csv
import io
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

import bot.__main__ as cli
from bot.storage import Database, migrate
from tests.integration.test_stats_storage import add_report

DAY = 86400.0
OCT_10 = datetime(2026, 10, 10, 16, 0, tzinfo=UTC).timestamp()


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    database = tmp_path / "cli.sqlite3"
    for key in ("BOT_TOKEN", "CITY_CONFIG", "STAFF_CHAT_ID", "ADMIN_IDS"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("DATABASE_PATH", str(database))
    monkeypatch.setenv("HASH_SECRET", "cli-secret-0123456789")
    monkeypatch.setattr(cli, "setup_logging", lambda *args, **kwargs: None)

    async def fill() -> None:
        db = await Database.open(database)
        try:
            await migrate(db)
            await add_report(db, "noise", "main-south", "new", filed=OCT_10 - 30 * DAY)
            await add_report(
                db,
                "streetlight",
                "downtown",
                "resolved",
                filed=OCT_10,
                ack_after_h=1,
                status_after_h=20,
                anonymous=False,
                resident_id=424242,
                name="Maria Example",
                photos=1,
                latitude=42.262612,
                longitude=-71.802345,
                address="12 Main St",
            )
            await add_report(
                db,
                "drugs",
                "piedmont",
                "new",
                filed=OCT_10 + DAY,
                resident_id=434343,
                photos=2,
                latitude=42.255555,
                longitude=-71.811111,
                address="45 Elm St",
                description="Dealing every night at the blue house, 45 Elm St.",
            )
        finally:
            await db.close()

    asyncio.run(fill())
    return database


def test_open311_json_since_a_date(
    env: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "requests.json"
    code = cli.main(
        [
            "export", "reports", "--since", "2026-10-01", "--format", "open311", "--out", str(out),
            "--media-base-url", "https://example.org/photos",
        ]
    )  # fmt: skip
    assert code == 0
    assert f"reports exported to {out}" in capsys.readouterr().out
    document = json.loads(out.read_text(encoding="utf-8"))
    requests = document["service_requests"]
    assert len(requests) == 2  # the September report is before --since
    light, drugs = requests
    assert light["status"] == "closed" and light["status_notes"] == "Resolved"
    assert light["requested_datetime"] == "2026-10-10T12:00:00-04:00"
    assert light["media_url"].endswith(f"/{light['service_request_id']}.jpg")
    assert drugs["lat"] == 42.26 and drugs["long"] == -71.81 and drugs["media_url"] == ""
    assert drugs["address"] == "Piedmont"
    text = out.read_text(encoding="utf-8")
    for secret in ("424242", "434343", "Maria", "user_name", "B00B", "Elm", "photo-"):
        assert secret not in text
    assert [s["service_code"] for s in document["services"]][:2] == ["streetlight", "road"]


def test_csv_to_stdout(env: Path, capsysbinary: pytest.CaptureFixture[bytes]) -> None:
    assert cli.main(["export", "reports", "--out", "-"]) == 0
    data = capsysbinary.readouterr().out.decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(data)))
    assert [r["service_code"] for r in rows] == ["noise", "streetlight", "drugs"]
    assert rows[1]["media_url"] == ""  # no --media-base-url


@pytest.mark.parametrize("since", ["2026-13-01", "01/10/2026", "last week"])
def test_a_bad_since_is_explained_and_nothing_is_written(
    env: Path, tmp_path: Path, since: str, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "never.csv"
    assert cli.main(["export", "reports", "--since", since, "--out", str(out)]) == 2
    assert "--since expects a date written YYYY-MM-DD, like 2026-01-31" in capsys.readouterr().err
    assert not out.exists()


def test_a_missing_folder_or_database_is_explained(
    env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "nowhere" / "x.json"
    assert cli.main(["export", "reports", "--format", "open311", "--out", str(out)]) == 2
    assert "does not exist" in capsys.readouterr().err
    monkeypatch.setenv("DATABASE_PATH", str(tmp_path / "missing.sqlite3"))
    assert cli.main(["export", "reports", "--out", str(tmp_path / "x.csv")]) == 1
    assert "there is no database" in capsys.readouterr().err
    assert not (tmp_path / "missing.sqlite3").exists()


def test_an_unknown_format_is_refused_by_the_parser(env: Path, tmp_path: Path) -> None:
    with pytest.raises(SystemExit):
        cli.main(["export", "reports", "--format", "xml", "--out", str(tmp_path / "x")])
