"""The database's two ways of running work: inline on the event loop, or on aiosqlite's thread."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from bot.storage import db as db_module
from bot.storage.db import Database, InlineTransaction, Transaction


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = await Database.open(tmp_path / "bot.sqlite3")
    async with database.transaction() as tx:
        await tx.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL)")
    yield database
    await database.close()


@pytest.fixture
def holder(db: Database) -> Iterator[sqlite3.Connection]:
    """Another process's connection, as a CLI command or a backup tool would have."""
    connection = sqlite3.connect(str(db.path), timeout=0, isolation_level=None)
    yield connection
    if connection.in_transaction:
        connection.execute("ROLLBACK")
    connection.close()


async def count(db: Database) -> int:
    return int(await db.fetchval("SELECT count(*) FROM notes"))


async def test_an_inline_transaction_commits_and_is_seen_by_every_reader(db: Database) -> None:
    async with db.transaction(inline=True) as tx:
        assert isinstance(tx, InlineTransaction)
        first = await tx.execute("INSERT INTO notes (body) VALUES (?)", ("one",))
        await tx.executemany("INSERT INTO notes (body) VALUES (?)", [("two",), ("three",)])
        assert await tx.execute_rowcount("UPDATE notes SET body = upper(body)") == 3
        assert [r["body"] for r in await tx.fetchall("SELECT body FROM notes ORDER BY id")] == [
            "ONE",
            "TWO",
            "THREE",
        ]
    assert first == 1
    row = await db.fetchone("SELECT body FROM notes WHERE id = ?", (first,))
    assert row is not None and row["body"] == "ONE"
    assert await count(db) == 3  # the thread's reader sees it too


async def test_an_inline_transaction_rolls_back_on_an_error(db: Database) -> None:
    with pytest.raises(RuntimeError):
        async with db.transaction(inline=True) as tx:
            await tx.execute("INSERT INTO notes (body) VALUES ('lost')")
            raise RuntimeError("the update failed half-way")
    assert await count(db) == 0
    async with db.transaction(inline=True) as tx:  # the connection is usable again
        await tx.execute("INSERT INTO notes (body) VALUES ('kept')")
    assert await count(db) == 1


async def test_a_failed_statement_rolls_the_whole_inline_transaction_back(db: Database) -> None:
    with pytest.raises(sqlite3.IntegrityError):
        async with db.transaction(inline=True) as tx:
            await tx.execute("INSERT INTO notes (id, body) VALUES (1, 'a')")
            await tx.execute("INSERT INTO notes (id, body) VALUES (1, 'b')")
    assert await count(db) == 0


async def test_while_another_process_writes_an_inline_transaction_waits_on_the_thread(
    db: Database, holder: sqlite3.Connection
) -> None:
    holder.execute("BEGIN IMMEDIATE")

    async def write() -> type[Transaction]:
        async with db.transaction(inline=True) as tx:
            await tx.execute("INSERT INTO notes (body) VALUES ('after the lock')")
            return type(tx)

    task = asyncio.create_task(write())
    ticks = 0
    await asyncio.sleep(0)  # the task starts and takes the lock
    assert db._lock.locked()
    for _ in range(20):  # the event loop keeps running while the write waits
        await asyncio.sleep(0.005)
        ticks += 1
    assert not task.done() and ticks == 20
    holder.execute("COMMIT")
    assert await asyncio.wait_for(task, timeout=15) is Transaction  # aiosqlite's thread
    assert await count(db) == 1


async def test_while_another_process_writes_a_single_write_waits_on_the_thread(
    db: Database, holder: sqlite3.Connection
) -> None:
    holder.execute("BEGIN IMMEDIATE")
    holder.execute("INSERT INTO notes (body) VALUES ('theirs')")
    task = asyncio.create_task(
        db.write("INSERT INTO notes (body) VALUES ('ours') RETURNING id, body")
    )
    await asyncio.sleep(0.05)
    assert not task.done()
    holder.execute("COMMIT")
    rows = await asyncio.wait_for(task, timeout=15)
    assert [(r["id"], r["body"]) for r in rows] == [(2, "ours")]


async def test_reads_inline_never_wait_for_a_writer(
    db: Database, holder: sqlite3.Connection
) -> None:
    await db.write("INSERT INTO notes (body) VALUES ('committed')")
    holder.execute("BEGIN IMMEDIATE")
    holder.execute("INSERT INTO notes (body) VALUES ('not yet')")
    row = await db.fetchone("SELECT count(*) AS n FROM notes")
    assert row is not None and row["n"] == 1  # the last committed state, at once


async def test_other_errors_are_not_mistaken_for_a_lock(db: Database) -> None:
    with pytest.raises(sqlite3.OperationalError, match="no such table"):
        await db.write("INSERT INTO missing (x) VALUES (1)")
    with pytest.raises(sqlite3.OperationalError, match="no such table"):
        await db.fetchone("SELECT * FROM missing")
    with pytest.raises(sqlite3.OperationalError, match="no such table"):
        async with db.transaction(inline=True) as tx:
            await tx.execute("INSERT INTO missing (x) VALUES (1)")
    assert not db._lock.locked()


async def test_inline_commits_leave_checkpoints_to_the_thread(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(db_module, "CHECKPOINT_EVERY", 1_000)
    for n in range(20):
        await db.write("INSERT INTO notes (body) VALUES (?)", (f"note {n}",))
    assert db._checkpoint is None
    busy, pages, copied = await db.checkpoint()  # everything still waits in the WAL
    assert busy == 0 and pages >= 20 and copied == pages
    monkeypatch.setattr(db_module, "CHECKPOINT_EVERY", 5)
    db._inline_commits = 0
    for n in range(4):
        await db.write("INSERT INTO notes (body) VALUES (?)", (f"more {n}",))
    assert db._checkpoint is None
    async with db.transaction(inline=True) as tx:  # the fifth inline commit
        await tx.execute("INSERT INTO notes (body) VALUES ('fifth')")
    task = db._checkpoint
    assert task is not None
    busy, pages, copied = await task
    assert busy == 0 and copied == pages > 0
    await asyncio.sleep(0)
    assert db._checkpoint is None and await count(db) == 25


@pytest.mark.parametrize("inline", [True, False])
async def test_a_failed_commit_leaves_no_transaction_open(db: Database, inline: bool) -> None:
    async with db.transaction() as tx:
        await tx.execute("CREATE TABLE parents (id INTEGER PRIMARY KEY)")
        await tx.execute(
            "CREATE TABLE children (id INTEGER PRIMARY KEY, parent INTEGER"
            " REFERENCES parents (id) DEFERRABLE INITIALLY DEFERRED)"
        )
    with pytest.raises(sqlite3.IntegrityError):
        async with db.transaction(inline=inline) as tx:
            await tx.execute("INSERT INTO children (parent) VALUES (42)")  # checked at COMMIT
    assert not db._inline_writer.in_transaction and not db._writer.in_transaction
    # Both ways of writing work again, and nothing of the failed transaction is left.
    await db.write("INSERT INTO notes (body) VALUES ('after')")
    async with db.transaction(inline=True) as tx:
        await tx.execute("INSERT INTO parents (id) VALUES (1)")
    async with db.transaction() as tx:
        await tx.execute("INSERT INTO children (parent) VALUES (1)")
    assert await count(db) == 1
    assert await db.fetchval("SELECT count(*) FROM children") == 1


async def test_a_database_that_cannot_use_wal_is_reported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(db_module, "_PRAGMAS", ("PRAGMA journal_mode=DELETE",))
    monkeypatch.setattr(db_module, "_INLINE_PRAGMAS", ("PRAGMA busy_timeout=0",))
    database = await Database.open(tmp_path / "plain.sqlite3")
    try:
        assert any("not in WAL mode" in r.getMessage() for r in caplog.records)
    finally:
        await database.close()
    caplog.clear()
    monkeypatch.undo()
    database = await Database.open(tmp_path / "wal.sqlite3")  # the usual pragmas again
    await database.close()
    assert not any("WAL" in r.getMessage() for r in caplog.records)


async def test_a_checkpoint_during_the_integrity_check_succeeds(db: Database) -> None:
    async with db.transaction() as tx:
        await tx.executemany(
            "INSERT INTO notes (body) VALUES (?)", [(f"note {i}",) for i in range(5000)]
        )
    check, checkpoint = await asyncio.gather(db.integrity_check(quick=True), db.checkpoint())
    assert check == "ok"
    busy, _wal_pages, _copied = checkpoint
    assert busy == 0
