"""The outbox: every message that is not an immediate reply is a row here first."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from bot.storage.db import Database, Transaction

PRIORITY_STAFF = 1
PRIORITY_RESIDENT = 3
PRIORITY_BULK = 8


@dataclass(frozen=True, slots=True)
class OutboxItem:
    """A message to send later; `key` makes enqueueing it twice a no-op."""

    key: str
    chat_id: int
    method: str
    params: dict[str, Any]
    not_before: float
    kind: str = "message"
    priority: int = PRIORITY_RESIDENT
    expires_at: float | None = None
    batch: str | None = None
    resend_if_unknown: bool = False
    depends_on: int | None = None
    fill_from: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class OutboxRow:
    id: int
    key: str
    kind: str
    chat_id: int
    method: str
    params: dict[str, Any]
    attempts: int
    priority: int
    resend_if_unknown: bool
    batch: str | None
    status: str = "sending"
    message_id: int | None = None
    error: str | None = None


@dataclass(frozen=True, slots=True)
class Outcome:
    """What happened to one send attempt."""

    row_id: int
    status: str  # sent | pending (retry) | failed | unknown
    message_id: int | None = None
    result: dict[str, Any] | None = None
    error: str | None = None
    retry_at: float | None = None


@dataclass(frozen=True, slots=True, eq=False)
class BulkMessage:
    """One message for many chats (a broadcast in one language): its call less the chat.

    Compared by identity: `enqueue_copies_in` encodes each one once.
    """

    method: str
    params: dict[str, Any]  # every parameter but chat_id


_encode = json.JSONEncoder(ensure_ascii=False).encode


def _after_chat_id(params: dict[str, Any]) -> str:
    """`params` as the JSON text that follows a leading `{"chat_id": N`."""
    return ", " + _encode(params)[1:] if params else "}"


_INSERT = (
    "INSERT OR IGNORE INTO outbox (idempotency_key, kind, chat_id, method, params, depends_on,"
    " fill_from, priority, resend_if_unknown, not_before, expires_at, batch, created_at,"
    " updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)


def _values(item: OutboxItem, now: float) -> tuple[Any, ...]:
    return (
        item.key,
        item.kind,
        item.chat_id,
        item.method,
        _encode(item.params),
        item.depends_on,
        json.dumps(item.fill_from) if item.fill_from else None,
        item.priority,
        1 if item.resend_if_unknown else 0,
        item.not_before,
        item.expires_at,
        item.batch,
        now,
        now,
    )


class OutboxRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    @staticmethod
    async def enqueue_in(tx: Transaction, item: OutboxItem, now: float) -> int:
        """Add the item inside the caller's transaction; return its id (new or existing)."""
        await tx.execute(_INSERT, _values(item, now))
        row = await tx.fetchone("SELECT id FROM outbox WHERE idempotency_key = ?", (item.key,))
        assert row is not None
        return int(row[0])

    @staticmethod
    async def enqueue_many_in(tx: Transaction, items: Iterable[OutboxItem], now: float) -> None:
        await tx.executemany(_INSERT, (_values(item, now) for item in items))

    @staticmethod
    async def enqueue_copies_in(
        tx: Transaction,
        deliveries: Iterable[tuple[int, BulkMessage]],
        *,
        key: str,
        now: float,
        priority: int,
        batch: str | None = None,
        kind: str = "message",
        expires_at: float | None = None,
    ) -> int:
        """Queue one row per (chat id, message) in the caller's transaction; return how many.

        Each row's key is `key` + ':<chat id>'. Each distinct message is encoded once and
        the chat id put in front of it: the rows are made while SQLite inserts them, so
        100,000 chats never exist as 100,000 items or parameter dicts at once.
        """
        tails: dict[BulkMessage, str] = {}
        count = 0

        def rows() -> Iterator[tuple[Any, ...]]:
            nonlocal count
            for chat_id, message in deliveries:
                tail = tails.get(message)
                if tail is None:
                    tail = tails[message] = _after_chat_id(message.params)
                count += 1
                yield (
                    f"{key}:{chat_id}",
                    kind,
                    chat_id,
                    message.method,
                    f'{{"chat_id": {chat_id}{tail}',
                    None,
                    None,
                    priority,
                    0,
                    now,
                    expires_at,
                    batch,
                    now,
                    now,
                )

        await tx.executemany(_INSERT, rows())
        return count

    async def enqueue(self, items: Sequence[OutboxItem], now: float) -> None:
        async with self._db.transaction() as tx:
            await self.enqueue_many_in(tx, items, now)

    async def claim_due(
        self, now: float, limit: int, *, skip_chats: Iterable[int] = ()
    ) -> list[OutboxRow]:
        """Take up to `limit` due rows, mark them `sending` and return them."""
        skip = list(skip_chats)
        # One statement text whatever the number of busy chats: a `NOT IN (?, ?, ...)` of
        # varying length filled SQLite's statement cache with thousand-parameter statements
        # (50 MB over a 100,000-row broadcast) and was prepared anew on every batch.
        skip_sql = " AND o.chat_id NOT IN (SELECT value FROM json_each(?))" if skip else ""
        async with self._db.transaction() as tx:
            await tx.execute(
                "UPDATE outbox SET status = 'cancelled', error = 'expired', updated_at = ?"
                " WHERE status = 'pending' AND expires_at IS NOT NULL AND expires_at <= ?",
                (now, now),
            )
            # From the few pending rows that depend on another to their parents: an
            # `IN (SELECT id ... WHERE status IN ...)` read the whole outbox on every batch.
            await tx.execute(
                "UPDATE outbox SET status = 'failed', error = 'the message it follows failed',"
                " updated_at = ? WHERE status = 'pending' AND depends_on IS NOT NULL"
                " AND EXISTS (SELECT 1 FROM outbox d WHERE d.id = outbox.depends_on"
                " AND d.status IN ('failed', 'cancelled', 'unknown'))",
                (now,),
            )
            # One statement takes and marks the rows: a SELECT and then an UPDATE per row
            # cost SQLite a second lookup of every row it had just read.
            rows = await tx.fetchall(
                "UPDATE outbox SET status = 'sending', attempts = attempts + 1, updated_at = ?"
                " WHERE id IN (SELECT o.id FROM outbox o"
                " LEFT JOIN outbox d ON d.id = o.depends_on"
                " WHERE o.status = 'pending' AND o.not_before <= ?"
                " AND (o.depends_on IS NULL OR d.status = 'sent')"
                + skip_sql
                + " ORDER BY o.priority, o.not_before, o.id LIMIT ?)"
                f" RETURNING {_COLUMNS}, not_before,"
                " (SELECT d.result FROM outbox d WHERE d.id = outbox.depends_on)",
                (now, now, *([json.dumps(skip)] if skip else []), limit),
            )
        # RETURNING gives no order: sends go out in the order they were chosen in.
        rows.sort(key=_claim_order)
        claimed = [_row(row, row[_DEPENDENCY]) for row in rows]
        return claimed

    async def record(self, outcomes: Sequence[Outcome], now: float) -> None:
        """Store the outcomes of a batch of sends in one transaction."""
        if not outcomes:
            return
        async with self._db.transaction() as tx:
            await tx.executemany(
                "UPDATE outbox SET status = ?, message_id = coalesce(?, message_id), result = ?,"
                " error = ?, not_before = coalesce(?, not_before), updated_at = ? WHERE id = ?",
                (
                    (
                        o.status,
                        o.message_id,
                        json.dumps(o.result) if o.result is not None else None,
                        o.error,
                        o.retry_at,
                        now,
                        o.row_id,
                    )
                    for o in outcomes
                ),
            )

    async def release(self, row_ids: Sequence[int], now: float) -> None:
        """Put claimed rows back untouched (they were not attempted)."""
        async with self._db.transaction() as tx:
            await tx.executemany(
                "UPDATE outbox SET status = 'pending', attempts = attempts - 1, updated_at = ?"
                " WHERE id = ? AND status = 'sending'",
                ((now, row_id) for row_id in row_ids),
            )

    async def recover_interrupted(self, now: float) -> tuple[int, int]:
        """After a crash: rows left `sending` are resent if safe, else marked `unknown`."""
        async with self._db.transaction() as tx:
            resent = await tx.execute_rowcount(
                "UPDATE outbox SET status = 'pending', updated_at = ?"
                " WHERE status = 'sending' AND resend_if_unknown = 1",
                (now,),
            )
            unknown = await tx.execute_rowcount(
                "UPDATE outbox SET status = 'unknown', error = 'interrupted while sending',"
                " updated_at = ? WHERE status = 'sending'",
                (now,),
            )
        return resent, unknown

    async def next_due_at(self) -> float | None:
        value = await self._db.fetchval(
            "SELECT min(not_before) FROM outbox WHERE status = 'pending'"
        )
        return None if value is None else float(value)

    async def get(self, key: str) -> OutboxRow | None:
        row = await self._db.fetchone(
            f"SELECT {_COLUMNS} FROM outbox WHERE idempotency_key = ?", (key,)
        )
        if row is None:
            return None
        stored = _row(row, None)
        # A pending row is shown with the attempt it is waiting for.
        return (
            replace(stored, attempts=stored.attempts + 1) if stored.status == "pending" else stored
        )

    async def batch_counts(self, batch: str) -> dict[str, int]:
        rows = await self._db.fetchall(
            "SELECT status, count(*) FROM outbox WHERE batch = ? GROUP BY status", (batch,)
        )
        return {row[0]: int(row[1]) for row in rows}

    async def cancel_batch(self, batch: str, now: float) -> int:
        async with self._db.transaction() as tx:
            return await tx.execute_rowcount(
                "UPDATE outbox SET status = 'cancelled', error = 'cancelled', updated_at = ?"
                " WHERE batch = ? AND status = 'pending'",
                (now, batch),
            )

    async def prune(self, older_than: float) -> int:
        """Delete settled rows last touched before `older_than` (none another row follows)."""
        async with self._db.transaction() as tx:
            return await tx.execute_rowcount(
                "DELETE FROM outbox WHERE status IN ('sent', 'failed', 'cancelled', 'unknown')"
                " AND updated_at < ? AND NOT EXISTS"
                " (SELECT 1 FROM outbox AS later WHERE later.depends_on = outbox.id)",
                (older_than,),
            )

    async def counts(self) -> dict[str, int]:
        rows = await self._db.fetchall("SELECT status, count(*) FROM outbox GROUP BY status")
        return {row[0]: int(row[1]) for row in rows}


# The columns an OutboxRow is read from, in the order `_row` unpacks them.
_COLUMNS = (
    "id, idempotency_key, kind, chat_id, method, params, fill_from, attempts, priority,"
    " resend_if_unknown, batch, status, message_id, error"
)
_PRIORITY, _NOT_BEFORE, _DEPENDENCY = 8, 14, 15


def _claim_order(row: sqlite3.Row) -> tuple[int, float, int]:
    return row[_PRIORITY], row[_NOT_BEFORE], row[0]


def _row(row: sqlite3.Row, dependency_result: str | None) -> OutboxRow:
    """An OutboxRow from the `_COLUMNS` of a row (by position: a lookup by name scans the
    column names, and a broadcast reads 100,000 rows)."""
    (
        row_id,
        key,
        kind,
        chat_id,
        method,
        params_json,
        fill_from,
        attempts,
        priority,
        resend_if_unknown,
        batch,
        status,
        message_id,
        error,
    ) = row[:14]
    params: dict[str, Any] = json.loads(params_json)
    if fill_from and dependency_result:
        dependency = json.loads(dependency_result)
        for param, source in json.loads(fill_from).items():
            if source in dependency:
                params[param] = dependency[source]
    return OutboxRow(
        id=row_id,
        key=key,
        kind=kind,
        chat_id=chat_id,
        method=method,
        params=params,
        attempts=attempts,
        priority=priority,
        resend_if_unknown=bool(resend_if_unknown),
        batch=batch,
        status=status,
        message_id=message_id,
        error=error,
    )
