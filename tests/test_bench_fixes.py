"""The behaviour kept by the performance fixes that `make bench` led to (issue 8)."""

from __future__ import annotations

import logging
import sqlite3

import pytest

from bot.app import check_database
from bot.storage import (
    Database,
    Dialog,
    DialogRepository,
    OutboxItem,
    OutboxRepository,
    ResidentRepository,
    UpdateLog,
)
from bot.storage.reports import ReportRepository
from bot.storage.residents import SEEN_EVERY
from tests.harness import Harness


async def test_one_trip_helpers_keep_their_answers(db: Database) -> None:
    async with db.transaction() as tx:
        first = await tx.execute("INSERT INTO bot_state (key, value) VALUES ('a', '1')")
        second = await tx.execute("INSERT INTO bot_state (key, value) VALUES ('b', '2')")
        assert second == first + 1
        assert await tx.fetchone("SELECT value FROM bot_state WHERE key = 'zz'") is None
        row = await tx.fetchone("SELECT value FROM bot_state ORDER BY key")
        assert row is not None and row[0] == "1"
        assert [r[0] for r in await tx.fetchall("SELECT key FROM bot_state ORDER BY key")] == [
            "a",
            "b",
        ]
    assert await db.fetchone("SELECT * FROM bot_state WHERE key = 'zz'") is None
    assert await db.fetchval("SELECT count(*) FROM bot_state") == 2


async def test_an_update_is_claimed_once(db: Database) -> None:
    log = UpdateLog(db)
    assert await log.claim(7, 100.0)
    assert not await log.claim(7, 101.0)
    assert await log.claim(8, 101.0)


async def test_dialog_versions_count_up_and_restart_after_clearing(db: Database) -> None:
    dialogs = DialogRepository(db)
    dialog = Dialog(chat_id=5, user_id=5, flow="report", step="category")
    versions = []
    for step in ("category", "where", "what"):
        dialog.step = step
        versions.append((await dialogs.save(dialog, 10.0)).version)
    assert versions == [1, 2, 3]
    stored = await dialogs.get(5)
    assert stored is not None and (stored.step, stored.version) == ("what", 3)
    assert await dialogs.clear(5)
    fresh = await dialogs.save(Dialog(chat_id=5, user_id=5, flow="report", step="x"), 11.0)
    assert fresh.version == 1


async def test_a_resident_seen_recently_is_read_not_written(db: Database) -> None:
    residents = ResidentRepository(db)

    async def touch(now: float) -> float:
        resident = await residents.touch(
            user_id=1, chat_id=1, language="en", language_source="telegram", now=now
        )
        return resident.last_seen_at

    assert await touch(1000.0) == 1000.0
    assert await touch(1000.0 + SEEN_EVERY - 1) == 1000.0
    assert await touch(1000.0 + SEEN_EVERY) == 1000.0 + SEEN_EVERY
    await residents.set_active(1, False)  # blocked, and now writing again: active at once
    resident = await residents.touch(
        user_id=1, chat_id=1, language="en", language_source="telegram", now=1001.0 + SEEN_EVERY
    )
    assert resident.active


async def _report(db: Database, number: int, status: str, created_at: float) -> None:
    async with db.transaction() as tx:
        await tx.execute(
            "INSERT INTO reports (reference, resident_id, resident_chat_id, category,"
            " description, language, anonymous, pseudonym, status, created_at, updated_at)"
            " VALUES (?, 1, 1, 'noise', 'loud music at night', 'en', 1, 'AB12', ?, ?, ?)",
            (f"R-2026-{number:06d}", status, created_at, created_at),
        )


async def test_open_report_counts_and_oldest(db: Database) -> None:
    repo = ReportRepository(db)
    for number, (status, at) in enumerate(
        [
            ("resolved", 1.0),
            ("in_progress", 5.0),
            ("new", 3.0),
            ("new", 4.0),
            ("acknowledged", 6.0),
        ],
        start=1,
    ):
        await _report(db, number, status, at)
    counts = await repo.status_counts()
    assert counts.counts == {"new": 2, "acknowledged": 1, "in_progress": 1}
    assert (counts.oldest_open_reference, counts.oldest_open_at) == ("R-2026-000003", 3.0)
    assert [r.reference for r in await repo.open_reports(2)] == ["R-2026-000003", "R-2026-000004"]


def _item(key: str, **extra: object) -> OutboxItem:
    fields: dict[str, object] = {"not_before": 0.0, **extra}
    return OutboxItem(
        key=key,
        chat_id=42,
        method="sendMessage",
        params={"chat_id": 42, "text": key},
        **fields,  # type: ignore[arg-type]
    )


async def test_rows_following_a_failed_row_fail_and_others_wait(db: Database) -> None:
    outbox = OutboxRepository(db)
    async with db.transaction() as tx:
        failed = await outbox.enqueue_in(tx, _item("parent-failed"), 1.0)
        waiting = await outbox.enqueue_in(tx, _item("parent-pending", not_before=50.0), 1.0)
        await outbox.enqueue_in(tx, _item("child-of-failed", depends_on=failed), 1.0)
        await outbox.enqueue_in(tx, _item("child-of-pending", depends_on=waiting), 1.0)
        await tx.execute("UPDATE outbox SET status = 'failed' WHERE id = ?", (failed,))
    claimed = await outbox.claim_due(10.0, 10)
    assert claimed == []  # the pending parent is not due yet, its child waits for it
    child = await outbox.get("child-of-failed")
    assert child is not None and child.status == "failed"
    assert child.error == "the message it follows failed"
    other = await outbox.get("child-of-pending")
    assert other is not None and other.status == "pending"


async def test_a_crash_mid_send_is_still_settled_at_start(db: Database) -> None:
    outbox = OutboxRepository(db)
    await outbox.enqueue([_item("a"), _item("b", resend_if_unknown=True), _item("c")], 1.0)
    assert len(await outbox.claim_due(2.0, 2)) == 2
    assert await outbox.recover_interrupted(3.0) == (1, 1)
    assert {key: (await outbox.get(key)).status for key in "abc"} == {  # type: ignore[union-attr]
        "a": "unknown",
        "b": "pending",
        "c": "pending",
    }


async def test_the_quick_check_runs_after_start_not_during_it(harness: Harness) -> None:
    assert harness.app is not None and harness.app.job_queue is not None
    (job,) = harness.app.job_queue.get_jobs_by_name("database-quick-check")
    assert job is not None


async def test_a_failed_quick_check_is_logged(
    db: Database, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    with caplog.at_level(logging.ERROR, logger="bot.app"):
        await check_database(db)
        assert not caplog.records

        async def broken(*, quick: bool = True) -> str:
            return "*** in database main ***\nPage 7: btreeInitPage() returns error code 11"

        monkeypatch.setattr(db, "integrity_check", broken)
        await check_database(db)
    assert "btreeInitPage" in caplog.text


async def test_a_quick_check_that_raises_is_logged_too(
    db: Database, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def malformed(*, quick: bool = True) -> str:
        raise sqlite3.DatabaseError("database disk image is malformed")

    monkeypatch.setattr(db, "integrity_check", malformed)
    with caplog.at_level(logging.ERROR, logger="bot.app"):
        await check_database(db)
    assert "malformed" in caplog.text
