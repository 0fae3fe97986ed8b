"""Faults survived, in process: a flaky Telegram, duplicate updates, a locked database,
an online backup, the start-up check.

The figures these tests produce (reports submitted vs delivered, broadcasts sent vs
expected, duplicates, retries, ambiguous sends) are printed, and appended as JSON lines
to the file named by RELIABILITY_FIGURES when it is set (see docs/reliability.md).
`make test` runs smaller counts; `make soak` (SOAK=1) the full ones.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import sqlite3
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from bot.app import check_database
from bot.storage import Database
from bot.storage.broadcasts import Audience, BroadcastRepository, NewBroadcast
from bot.testing import CallbackQueryRecord, FakeUser
from tests.conftest import TEST_TOKEN
from tests.harness import Harness
from tests.integration.test_report_delivery import cards

SOAK = bool(os.environ.get("SOAK"))
REPORTS = 1000 if SOAK else 100
BROADCAST = 5000 if SOAK else 500
FAULT_SHARE = 0.20
BROADCAST_TEXT = "Community cleanup on Saturday, 9am"


def record_figures(test: str, figures: dict[str, Any]) -> None:
    """Print the figures and append them to $RELIABILITY_FIGURES (JSON lines)."""
    line = json.dumps({"test": test, "soak": SOAK, **figures}, sort_keys=True)
    print(line)
    target = os.environ.get("RELIABILITY_FIGURES")
    if target:
        with Path(target).open("a", encoding="utf-8") as out:
            out.write(line + "\n")


def flaky(harness: Harness, share: float = FAULT_SHARE, seed: int = 7) -> list[Any]:
    """Fail `share` of all calls: 429 with retry_after, 500, 502, timeouts, drops (equal parts).

    The injector tries faults in order, each with its own draw, so the conditional
    probabilities below add up to exactly `share`.
    """
    faults = harness.tg.faults
    faults.seed(seed)
    kinds = ["429", "500", "502", "timeout", "drop"]
    each = share / len(kinds)
    added = []
    left = 1.0
    for kind in kinds:
        added.append(
            faults.add(kind=kind, probability=min(each / left, 1.0), times=None, retry_after=2)
        )
        left -= each
    return added


async def deliver_everything(harness: Harness, rounds: int = 400) -> None:
    """Deliver, moving the clock past retry delays and backoff, until the outbox is quiet."""
    for _ in range(rounds):
        await harness.deliver_outbox(max_rounds=50)
        due = await harness.services.outbox.next_due_at()
        if due is None:
            return
        harness.advance(max(due - harness.clock.time(), 0) + 0.1)
    raise AssertionError(f"outbox still busy: {await harness.outbox_counts()}")


async def next_report_step(user: FakeUser, text: str) -> None:
    """What a persistent resident does next with whatever the bot showed last."""
    last = user.messages[-1] if user.messages else None
    buttons = last.buttons if last is not None else []
    if "Noise" in buttons:
        await user.tap("Noise", message=last)
    elif "Main South" in buttons:
        await user.tap("Main South", message=last)
    elif "✅ Confirm and send" in buttons:
        await user.tap("✅ Confirm and send", message=last)
    elif "🕶 Stay anonymous" in buttons:
        await user.tap("🕶 Stay anonymous", message=last)
    elif "➡️ Continue" in buttons:
        await user.tap("➡️ Continue", message=last)
    elif last is not None and "Step 3 of 4" in last.text:
        await user.send(text)
    else:
        await user.send("/report")


async def submit_report(harness: Harness, user: FakeUser, text: str) -> int:
    """File one report like a persistent resident: whatever the bot managed to show,
    take the next step; if nothing useful is on screen, (re)open /report. Return the
    number of actions it took."""
    reports = harness.services.reports
    for actions in range(1, 80):
        if await reports.count_for_resident(user.id):
            return actions - 1
        await next_report_step(user, text)
    raise AssertionError(f"{user.first_name} could not file a report: {user.messages[-3:]}")


async def seed_residents(harness: Harness, count: int) -> list[FakeUser]:
    """Residents who opened the bot once (rows written directly, as a big city has them)."""
    users = [harness.resident(f"B{index}") for index in range(count)]
    now = harness.clock.time()
    async with harness.services.db.transaction() as tx:
        await tx.executemany(
            "INSERT INTO residents (user_id, chat_id, language, language_source, created_at,"
            " last_seen_at) VALUES (?, ?, 'en', 'telegram', ?, ?)",
            ((user.id, user.id, now, now) for user in users),
        )
    return users


async def start_broadcast(harness: Harness, text: str = BROADCAST_TEXT) -> int:
    """A broadcast to everyone, due now, planned by the service as the tick would."""
    now = harness.clock.time()
    async with harness.services.db.transaction() as tx:
        broadcast_id = await BroadcastRepository.insert_in(
            tx,
            NewBroadcast(
                created_by=harness.admin.id,
                admin_chat_id=harness.admin.id,
                admin_language="en",
                texts={"en": text},
                photo_file_id=None,
                audience=Audience((), ()),
                send_at=now,
                progress_message_id=None,
            ),
            "scheduled",
            now,
        )
    assert await harness.services.broadcasts.start_due() == [broadcast_id]
    return broadcast_id


# --------------------------------------------------------------------------- flaky Telegram


@pytest.mark.slow
async def test_reports_and_a_broadcast_complete_with_a_fifth_of_calls_failing(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.CRITICAL)  # thousands of expected handler errors
    faults = flaky(harness)
    residents = [harness.resident(f"R{index}") for index in range(REPORTS)]
    actions = 0
    for index, user in enumerate(residents):
        actions += await submit_report(harness, user, f"Loud music at night, house {index}.")
        if index % 50 == 49:
            await deliver_everything(harness)
    recipients = await seed_residents(harness, BROADCAST)
    broadcast_id = await start_broadcast(harness)
    await deliver_everything(harness)

    sender = harness.services.sender.stats
    filed = await harness.services.db.fetchall("SELECT reference FROM reports")
    references = {row[0] for row in filed}
    found = cards(harness.staff_chat.bot_messages)
    duplicate_cards = sum(found.values()) - len(found)
    counts = await harness.outbox_counts()
    broadcast_rows = await harness.services.outbox.batch_counts(f"broadcast:{broadcast_id}")
    got = Counter(user.id for user in recipients for m in user.messages if BROADCAST_TEXT in m.text)
    reporters_got = sum(1 for user in residents for m in user.messages if BROADCAST_TEXT in m.text)
    injected = sum(fault.hits for fault in faults)
    record_figures(
        "flaky_telegram",
        {
            "reports_submitted": len(residents),
            "reports_filed": len(references),
            "report_cards_delivered": len(set(found) & references),
            "duplicate_cards": duplicate_cards,
            "resident_actions": actions,
            "broadcast_expected": BROADCAST + len(residents),
            "broadcast_delivered_once": sum(1 for n in got.values() if n == 1) + reporters_got,
            "broadcast_duplicates": sum(n - 1 for n in got.values() if n > 1),
            "calls": len(harness.tg.calls),
            "faults_injected": injected,
            "retries": sender.retried + sender.retry_after + sender.resent_after_timeout,
            "retry_after": sender.retry_after,
            "ambiguous_sends": sender.unknown,
            "resent_after_timeout": sender.resent_after_timeout,
            "outbox": counts,
        },
    )
    assert len(references) == REPORTS  # every resident's report was filed, once
    assert set(found) == references  # ... and has its card in the staff chat
    assert duplicate_cards <= sender.resent_after_timeout  # re-sent only after a timeout
    assert set(counts) <= {"sent", "unknown"}, counts  # nothing left, nothing failed
    # Every resident got the broadcast exactly once: a timeout means Telegram did take it
    # (the row is `unknown`, never resent); a drop means it did not (the row is retried).
    assert all(got[user.id] == 1 for user in recipients), got.most_common(3)
    assert sum(broadcast_rows.values()) == BROADCAST + len(residents)
    assert injected >= 0.15 * len(harness.tg.calls)
    assert sender.unknown > 0 and sender.retried > 0 and sender.retry_after > 0


# --------------------------------------------------------------------------- duplicates


async def test_every_kind_of_update_delivered_twice_has_one_effect(harness: Harness) -> None:
    alice = harness.resident("Alice")
    tg = harness.tg
    await alice.send("/report")
    await tg.redeliver(tg.last_update_id)  # a command
    await alice.tap("Noise")
    await tg.redeliver(tg.last_update_id)  # a button
    await alice.tap("Main South")
    await alice.send("Loud music every night until 3am from the corner house.")
    await tg.redeliver(tg.last_update_id)  # a text that is added to the description
    await alice.tap("➡️ Continue")
    await alice.tap("🕶 Stay anonymous")
    await alice.tap("✅ Confirm and send")
    await tg.redeliver(tg.last_update_id)  # the confirmation
    (report,) = await harness.services.reports.for_resident(alice.id, 5)
    assert report.description == "Loud music every night until 3am from the corner house."
    await harness.deliver_outbox()
    stored = await harness.services.reports.get(report.id)
    assert stored is not None
    sam = harness.staff_member("Sam")
    await sam.send_in(harness.staff_chat, "On our way", thread_id=stored.staff_thread_id)
    await tg.redeliver(tg.last_update_id)  # a staff message to relay
    card = harness.staff_chat.message(stored.card_message_id or 0)
    assert card is not None
    await sam.tap("✅ Resolved", message=card)
    await tg.redeliver(tg.last_update_id)  # a status press
    await harness.deliver_outbox()
    texts = [m.text for m in alice.messages]
    assert sum("On our way" in t for t in texts) == 1
    assert sum("marked as resolved" in t for t in texts) == 1
    events = [e.kind for e in await harness.services.reports.repo.events(report.id)]
    assert events == ["created", "staff_message", "status"]
    assert sum("received" in t for t in texts) == 1
    assert cards(harness.staff_chat.bot_messages) == {report.reference: 1}


async def test_updates_out_of_order_and_repeated_change_nothing_twice(harness: Harness) -> None:
    alice = harness.resident("Alice")
    await alice.send("/start nb_downtown")
    first = harness.tg.last_update_id
    await alice.send("/start nb_main-south")
    second = harness.tg.last_update_id
    for update_id in (second, first, second, first):
        await harness.tg.redeliver(update_id)
    settings = await harness.services.alerts.settings(alice.id)
    assert set(settings.areas) == {"downtown", "main-south"}
    assert len(alice.messages) == 2


# --------------------------------------------------------------------------- the database


async def walk_to_confirm(harness: Harness, user: FakeUser) -> None:
    await user.send("/report")
    await user.tap("Noise")
    await user.tap("Main South")
    await user.send("Loud music every night until 3am from the corner house.")
    await user.tap("➡️ Continue")
    await user.tap("🕶 Stay anonymous")
    assert "✅ Confirm and send" in user.last_message.buttons


async def test_a_locked_database_delays_a_report_but_loses_nothing(harness: Harness) -> None:
    alice = harness.resident("Alice")
    await walk_to_confirm(harness, alice)
    db = harness.services.db
    holder = sqlite3.connect(str(db.path), timeout=0, isolation_level=None)
    try:
        holder.execute("BEGIN IMMEDIATE")  # another writer holds the database
        pressing = asyncio.create_task(alice.tap("✅ Confirm and send"))
        # The bot waits for the lock (busy_timeout) instead of failing.
        await harness.tg.wait_for(
            lambda: db._lock.locked() and not pressing.done(), what="the bot to wait"
        )
        assert not any("received" in m.text for m in alice.messages)  # not told yet
        assert holder.execute("SELECT count(*) FROM reports").fetchone()[0] == 0
        holder.execute("COMMIT")
        await asyncio.wait_for(pressing, timeout=30)
    finally:
        holder.close()
    (report,) = await harness.services.reports.for_resident(alice.id, 5)
    assert report.reference in alice.last_message.text and "received" in alice.last_message.text


async def test_a_lock_longer_than_the_busy_timeout_keeps_the_draft(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    alice = harness.resident("Alice", language="es")
    es = harness.services.catalogs.get("es")
    await alice.send("/report")
    await alice.tap("Ruido")
    await alice.tap("Main South")
    await alice.send("Música alta todas las noches hasta las 3 de la mañana.")
    await alice.tap(es._("➡️ Continue"))
    await alice.tap(es._("🕶 Stay anonymous"))
    confirm = alice.last_message
    db = harness.services.db
    await db._writer.execute("PRAGMA busy_timeout = 100")  # not ten seconds in a test
    dialog = await harness.services.dialogs.get(alice.id)
    assert dialog is not None
    holder = sqlite3.connect(str(db.path), timeout=0, isolation_level=None)
    try:
        holder.execute("BEGIN IMMEDIATE")
        with caplog.at_level(logging.WARNING):
            record = await alice.tap(confirm.buttons[0], message=confirm)
        holder.execute("ROLLBACK")
    finally:
        holder.close()
    assert isinstance(record, CallbackQueryRecord) and record.answered
    assert "Inténtelo de nuevo" in (record.text or ""), record.text  # a kind "try again"
    # The update stopped there: it did not go on to fail again in later handlers.
    logged = [r.getMessage() for r in caplog.records if r.name == "bot.errors"]
    assert len(logged) == 1 and "error while handling update" in logged[0], logged
    assert await harness.services.reports.for_resident(alice.id, 5) == []
    kept = await harness.services.dialogs.get(alice.id)
    assert kept is not None and kept.data == dialog.data and kept.version == dialog.version
    await db._writer.execute("PRAGMA busy_timeout = 10000")
    await alice.tap(confirm.buttons[0], message=confirm)  # the same button works now
    (report,) = await harness.services.reports.for_resident(alice.id, 5)
    assert report.reference in alice.last_message.text


def test_backup_is_an_online_copy_while_the_bot_writes(tmp_path: Path) -> None:
    live = tmp_path / "live.sqlite3"
    env = {**os.environ, "DATABASE_PATH": str(live), "BOT_TOKEN": TEST_TOKEN}
    subprocess.run([sys.executable, "-m", "bot", "migrate"], env=env, check=True, timeout=60)
    writer = sqlite3.connect(str(live), isolation_level=None)
    try:
        writer.execute("PRAGMA journal_mode=WAL")
        writer.execute("BEGIN IMMEDIATE")  # a write in progress, not committed
        writer.execute(
            "INSERT INTO bot_state (key, value) VALUES ('uncommitted', 'not in the copy')"
        )
        writer.execute("INSERT INTO bot_state (key, value) VALUES ('x', 'y')")
        result = subprocess.run(
            [sys.executable, "-m", "bot", "backup", str(tmp_path / "copy.sqlite3")],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        writer.execute("COMMIT")
    finally:
        writer.close()
    assert result.returncode == 0, result.stderr
    assert "integrity_check ok" in result.stdout
    copy = sqlite3.connect(str(tmp_path / "copy.sqlite3"))
    try:
        assert copy.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert copy.execute("SELECT count(*) FROM bot_state").fetchone()[0] == 0
        assert copy.execute("SELECT count(*) FROM schema_migrations").fetchone()[0] >= 7
    finally:
        copy.close()


async def test_the_start_up_check_reports_a_damaged_database(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "damaged.sqlite3"
    connection = sqlite3.connect(str(path))
    connection.execute("CREATE TABLE t (x INTEGER PRIMARY KEY, y TEXT)")
    connection.executemany("INSERT INTO t (y) VALUES (?)", [("v" * 50,)] * 2000)
    connection.commit()
    connection.close()
    with path.open("r+b") as damaged:
        damaged.seek(4096 * 5 + 8)  # the cell pointers of a table page
        damaged.write(b"\xff" * 40)
    db = await Database.open(path)
    try:
        with caplog.at_level(logging.ERROR, logger="bot.app"):
            await check_database(db)
    finally:
        await db.close()
    assert any("quick_check reported" in r.getMessage() for r in caplog.records)


async def test_the_start_up_check_is_scheduled(harness: Harness) -> None:
    assert harness.app is not None and harness.app.job_queue is not None
    assert harness.app.job_queue.get_jobs_by_name("database-quick-check")
    await check_database(harness.services.db)  # a healthy database: nothing to report
