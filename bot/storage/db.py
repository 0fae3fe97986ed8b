"""The SQLite connection: pragmas, transactions and small query helpers.

One writer (writes are serialised by a lock and run inside `BEGIN IMMEDIATE`) and
separate readers, so reads never see a half-done write. WAL with `synchronous=NORMAL`:
an application crash loses nothing committed; a power loss may lose the last
transactions committed before it (the database stays intact).

Two ways to run a statement. aiosqlite's thread, for anything that may take long (counts,
aggregates, planning a broadcast, checks, backups): the event loop never waits for it,
but each trip there costs about 55 µs of CPU and a wake-up of the loop. And inline, on
the event loop itself, for the small keyed work done on every update (a lookup by key
costs SQLite about 6 µs): `fetchone`, `write` and `transaction(inline=True)`. Inline
work never waits for a lock: it uses a connection with no busy timeout, and when another
process holds the write lock it is handed to aiosqlite's thread, which waits there
(`busy_timeout`) while the loop goes on serving other residents.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiosqlite

Params = Sequence[Any] | dict[str, Any]
log = logging.getLogger(__name__)

BUSY_TIMEOUT_MS = 10_000
_PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA synchronous=NORMAL",
    "PRAGMA foreign_keys=ON",
    f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}",
    "PRAGMA temp_store=MEMORY",
    "PRAGMA cache_size=-32000",
)
# The inline connections never wait for a lock (a wait would stop the event loop: the
# work goes to aiosqlite's thread instead) and never checkpoint the WAL into the database
# file (a few milliseconds of writing and syncing): `CHECKPOINT_EVERY` inline commits ask
# aiosqlite's thread to do it.
_INLINE_PRAGMAS = (
    *_PRAGMAS[:3],
    "PRAGMA busy_timeout=0",
    *_PRAGMAS[4:],
    "PRAGMA wal_autocheckpoint=0",
)
CHECKPOINT_EVERY = 200


async def _connect(path: Path | str) -> aiosqlite.Connection:
    connection = await aiosqlite.connect(str(path), isolation_level=None)
    connection.row_factory = sqlite3.Row
    for pragma in _PRAGMAS:
        await connection.execute(pragma)
    return connection


def _connect_inline(path: Path | str) -> sqlite3.Connection:
    connection = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
    connection.row_factory = sqlite3.Row
    for pragma in _INLINE_PRAGMAS:
        connection.execute(pragma)
    return connection


def _busy(error: sqlite3.OperationalError) -> bool:
    """SQLite answered SQLITE_BUSY: another connection holds the lock just now."""
    return (getattr(error, "sqlite_errorcode", 0) & 0xFF) == sqlite3.SQLITE_BUSY


def _first(rows: Iterable[sqlite3.Row]) -> sqlite3.Row | None:
    # aiosqlite's execute_fetchall is one trip to the SQLite thread; a cursor's execute,
    # fetchone and close are three, and each trip costs more than a keyed lookup.
    return next(iter(rows), None)


class Transaction:
    """The writer inside an open `BEGIN IMMEDIATE` transaction (on aiosqlite's thread)."""

    def __init__(self, connection: aiosqlite.Connection) -> None:
        self._connection = connection

    async def execute(self, sql: str, params: Params = ()) -> int:
        """Run a statement; return the last inserted rowid."""
        # One trip to the SQLite thread (execute, then last_insert_rowid(), which is what
        # the cursor's lastrowid reports) instead of two (execute, then close the cursor).
        row = await self._connection.execute_insert(sql, params)
        return int(row[0] or 0) if row is not None else 0

    async def execute_rowcount(self, sql: str, params: Params = ()) -> int:
        cursor = await self._connection.execute(sql, params)
        count = cursor.rowcount
        await cursor.close()
        return count

    async def executemany(self, sql: str, rows: Iterable[Params]) -> None:
        await self._connection.executemany(sql, rows)

    async def fetchone(self, sql: str, params: Params = ()) -> sqlite3.Row | None:
        """The first row (the whole result is read: meant for lookups by key)."""
        return _first(await self._connection.execute_fetchall(sql, params))

    async def fetchall(self, sql: str, params: Params = ()) -> list[sqlite3.Row]:
        return list(await self._connection.execute_fetchall(sql, params))


class InlineTransaction(Transaction):
    """The same, run on the event loop: for the few keyed statements of one update."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        self._inline = connection

    async def execute(self, sql: str, params: Params = ()) -> int:
        return self._inline.execute(sql, params).lastrowid or 0

    async def execute_rowcount(self, sql: str, params: Params = ()) -> int:
        return self._inline.execute(sql, params).rowcount

    async def executemany(self, sql: str, rows: Iterable[Params]) -> None:
        self._inline.executemany(sql, rows)

    async def fetchone(self, sql: str, params: Params = ()) -> sqlite3.Row | None:
        row: sqlite3.Row | None = self._inline.execute(sql, params).fetchone()
        return row

    async def fetchall(self, sql: str, params: Params = ()) -> list[sqlite3.Row]:
        return list(self._inline.execute(sql, params).fetchall())


class Database:
    """The application's database: open it once at start, close it at shutdown."""

    def __init__(
        self,
        path: Path,
        writer: aiosqlite.Connection,
        reader: aiosqlite.Connection,
        inline_writer: sqlite3.Connection,
        inline_reader: sqlite3.Connection,
    ) -> None:
        self.path = path
        self._writer = writer
        self._reader = reader
        self._inline_writer = inline_writer
        self._inline_reader = inline_reader
        self._lock = asyncio.Lock()
        self._inline_commits = 0
        self._checkpoint: asyncio.Task[tuple[int, int, int]] | None = None

    @classmethod
    async def open(cls, path: Path | str) -> Database:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        writer = await _connect(path)
        reader = await _connect(path)
        database = cls(path, writer, reader, _connect_inline(path), _connect_inline(path))
        mode = await database.fetchval("PRAGMA journal_mode")
        if str(mode).lower() != "wal":
            # WAL cannot work on some network file systems: readers and writers then
            # block each other, and a crash may cost more than the last transactions.
            log.error(
                "the database %s is not in WAL mode (journal_mode=%s): keep it on a local disk",
                path,
                mode,
            )
        return database

    async def close(self) -> None:
        async with self._lock:
            while self._checkpoint is not None:
                await asyncio.gather(self._checkpoint, return_exceptions=True)
                await asyncio.sleep(0)  # its done-callback clears it
            # The inline connections first: the last connection to close checkpoints the
            # WAL, and that is work for aiosqlite's thread, not for the event loop.
            self._inline_writer.close()
            self._inline_reader.close()
            await self._writer.close()
            await self._reader.close()

    @asynccontextmanager
    async def transaction(self, *, inline: bool = False) -> AsyncIterator[Transaction]:
        """A write transaction: committed on exit, rolled back on any exception.

        `inline=True` is for the short transactions of handling one update (a few keyed
        statements): they run on the event loop unless another process holds the write
        lock, in which case the transaction runs on aiosqlite's thread and waits there.
        """
        async with self._lock:
            if inline and self._begin_inline():
                connection = self._inline_writer
                try:
                    yield InlineTransaction(connection)
                    connection.execute("COMMIT")
                except BaseException:
                    # Also when COMMIT itself fails: the connection must not stay inside
                    # a transaction (holding the write lock) once the lock is released.
                    if connection.in_transaction:
                        connection.execute("ROLLBACK")
                    raise
                self._committed_inline()
                return
            await self._writer.execute("BEGIN IMMEDIATE")
            try:
                yield Transaction(self._writer)
                await self._writer.execute("COMMIT")
            except BaseException:
                if self._writer.in_transaction:
                    await self._writer.execute("ROLLBACK")
                raise

    def _begin_inline(self) -> bool:
        try:
            self._inline_writer.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as error:
            if _busy(error):
                return False
            raise
        return True

    async def write(self, sql: str, params: Params = ()) -> list[sqlite3.Row]:
        """Run one keyed statement as a transaction of its own; return its rows (RETURNING).

        SQLite makes a lone statement atomic by itself. It runs inline (see the module's
        notes), or on aiosqlite's thread while another process holds the write lock.
        """
        async with self._lock:
            try:
                rows = self._inline_writer.execute(sql, params).fetchall()
            except sqlite3.OperationalError as error:
                if not _busy(error):
                    raise
                return list(await self._writer.execute_fetchall(sql, params))
            self._committed_inline()
            return rows

    def _committed_inline(self) -> None:
        self._inline_commits += 1
        if self._inline_commits >= CHECKPOINT_EVERY and self._checkpoint is None:
            self._inline_commits = 0
            self._checkpoint = asyncio.create_task(self.checkpoint(), name="wal-checkpoint")
            self._checkpoint.add_done_callback(self._checkpoint_done)

    def _checkpoint_done(self, task: asyncio.Task[tuple[int, int, int]]) -> None:
        self._checkpoint = None
        if not task.cancelled() and task.exception() is not None:
            log.warning("WAL checkpoint failed: %s", task.exception())

    async def checkpoint(self) -> tuple[int, int, int]:
        """Copy the WAL into the database file as far as no reader needs it (PASSIVE).

        Runs on aiosqlite's thread; returns SQLite's (busy, WAL pages, pages copied).
        """
        row = _first(await self._reader.execute_fetchall("PRAGMA wal_checkpoint(PASSIVE)"))
        assert row is not None
        return int(row[0]), int(row[1]), int(row[2])

    async def fetchone(self, sql: str, params: Params = ()) -> sqlite3.Row | None:
        """The first row of a lookup by key, read inline (see the module's notes)."""
        return _first(await self.fetchall(sql, params, inline=True))

    async def fetchall(
        self, sql: str, params: Params = (), *, inline: bool = False
    ) -> list[sqlite3.Row]:
        """Every row, read on aiosqlite's thread; `inline=True` for a few rows by key."""
        if inline:
            try:
                return self._inline_reader.execute(sql, params).fetchall()
            except sqlite3.OperationalError as error:
                if not _busy(error):
                    raise
        return list(await self._reader.execute_fetchall(sql, params))

    async def fetchval(self, sql: str, params: Params = (), *, inline: bool = False) -> Any:
        """The first column of the first row, read on aiosqlite's thread (counts, sums);
        `inline=True` for a count over a few rows by key."""
        row = _first(await self.fetchall(sql, params, inline=inline))
        return None if row is None else row[0]

    async def integrity_check(self, *, quick: bool = True) -> str:
        pragma = "PRAGMA quick_check" if quick else "PRAGMA integrity_check"
        # The first row only ("ok" or the first problem): on a damaged file, reading on
        # may raise instead of reporting. On a connection of its own: the check reads the
        # whole file, and a statement left open on the shared reader would make the WAL
        # checkpoints queued behind it fail ("database table is locked").
        connection = await _connect(self.path)
        try:
            async with connection.execute(pragma) as cursor:
                row = await cursor.fetchone()
        finally:
            await connection.close()
        return str(None if row is None else row[0])

    async def backup(self, target: Path) -> None:
        """Copy the live database to `target` with SQLite's online backup API."""
        target.parent.mkdir(parents=True, exist_ok=True)
        destination = await aiosqlite.connect(str(target))
        try:
            async with self._lock:
                await self._writer.backup(destination)
        finally:
            await destination.close()
