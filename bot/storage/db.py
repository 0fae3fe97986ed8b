"""The SQLite connection: pragmas, transactions and small query helpers.

One writer connection (writes are serialised by a lock and run inside
`BEGIN IMMEDIATE`) and one reader connection, so reads never see a half-done write.
WAL with `synchronous=NORMAL`: an application crash loses nothing committed; a power
loss may lose the last transactions committed before it (the database stays intact).
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiosqlite

Params = Sequence[Any] | dict[str, Any]

_PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA synchronous=NORMAL",
    "PRAGMA foreign_keys=ON",
    "PRAGMA busy_timeout=10000",
    "PRAGMA temp_store=MEMORY",
    "PRAGMA cache_size=-32000",
)


async def _connect(path: Path | str) -> aiosqlite.Connection:
    connection = await aiosqlite.connect(str(path), isolation_level=None)
    connection.row_factory = sqlite3.Row
    for pragma in _PRAGMAS:
        await connection.execute(pragma)
    return connection


def _first(rows: Iterable[sqlite3.Row]) -> sqlite3.Row | None:
    # aiosqlite's execute_fetchall is one trip to the SQLite thread; a cursor's execute,
    # fetchone and close are three, and each trip costs more than a keyed lookup.
    return next(iter(rows), None)


class Transaction:
    """The writer connection inside an open `BEGIN IMMEDIATE` transaction."""

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


class Database:
    """The application's database: open it once at start, close it at shutdown."""

    def __init__(
        self, path: Path, writer: aiosqlite.Connection, reader: aiosqlite.Connection
    ) -> None:
        self.path = path
        self._writer = writer
        self._reader = reader
        self._lock = asyncio.Lock()

    @classmethod
    async def open(cls, path: Path | str) -> Database:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        writer = await _connect(path)
        reader = await _connect(path)
        return cls(path, writer, reader)

    async def close(self) -> None:
        async with self._lock:
            await self._writer.close()
            await self._reader.close()

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Transaction]:
        """A write transaction: committed on exit, rolled back on any exception."""
        async with self._lock:
            await self._writer.execute("BEGIN IMMEDIATE")
            try:
                yield Transaction(self._writer)
            except BaseException:
                await self._writer.execute("ROLLBACK")
                raise
            else:
                await self._writer.execute("COMMIT")

    async def write(self, sql: str, params: Params = ()) -> list[sqlite3.Row]:
        """Run one statement as a transaction of its own; return its rows (RETURNING).

        SQLite makes a lone statement atomic by itself: one trip to its thread instead of
        three (BEGIN IMMEDIATE, the statement, COMMIT), for the writes made on every update.
        """
        async with self._lock:
            return list(await self._writer.execute_fetchall(sql, params))

    async def fetchone(self, sql: str, params: Params = ()) -> sqlite3.Row | None:
        """The first row (the whole result is read: meant for lookups by key)."""
        return _first(await self._reader.execute_fetchall(sql, params))

    async def fetchall(self, sql: str, params: Params = ()) -> list[sqlite3.Row]:
        return list(await self._reader.execute_fetchall(sql, params))

    async def fetchval(self, sql: str, params: Params = ()) -> Any:
        row = await self.fetchone(sql, params)
        return None if row is None else row[0]

    async def integrity_check(self, *, quick: bool = True) -> str:
        pragma = "PRAGMA quick_check" if quick else "PRAGMA integrity_check"
        # The first row only ("ok" or the first problem): on a damaged file, reading on
        # may raise instead of reporting.
        async with self._reader.execute(pragma) as cursor:
            row = await cursor.fetchone()
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
