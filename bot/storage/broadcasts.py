"""Broadcasts: the message, its audience, its state, and its deliveries' counts."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bot.storage.db import Database, Transaction


@dataclass(frozen=True, slots=True)
class Audience:
    """Who a broadcast is for; empty tuples mean everyone."""

    neighborhoods: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()

    @property
    def everyone(self) -> bool:
        return not (self.neighborhoods or self.languages)

    def to_json(self) -> str:
        return json.dumps(
            {"neighborhoods": list(self.neighborhoods), "languages": list(self.languages)}
        )

    @classmethod
    def from_json(cls, text: str) -> Audience:
        data = json.loads(text)
        return cls(tuple(data.get("neighborhoods", ())), tuple(data.get("languages", ())))


@dataclass(frozen=True, slots=True)
class Broadcast:
    id: int
    created_by: int
    admin_chat_id: int
    admin_language: str
    texts: Mapping[str, str]
    photo_file_id: str | None
    audience: Audience
    status: str  # scheduled | sending | done | cancelled
    send_at: float
    planned: int
    progress_message_id: int | None
    progress_seq: int
    progress_shown: dict[str, int] | None
    reported: bool
    created_at: float
    started_at: float | None
    finished_at: float | None

    @property
    def batch(self) -> str:
        return f"broadcast:{self.id}"

    def text(self, language: str, default: str) -> str:
        return (
            self.texts.get(language) or self.texts.get(default) or next(iter(self.texts.values()))
        )


@dataclass(frozen=True, slots=True)
class NewBroadcast:
    created_by: int
    admin_chat_id: int
    admin_language: str
    texts: Mapping[str, str]
    photo_file_id: str | None
    audience: Audience
    send_at: float
    progress_message_id: int | None


@dataclass(frozen=True, slots=True)
class DeliveryCounts:
    """Where a broadcast's deliveries stand (blocked and unknown are kinds of failure)."""

    queued: int = 0
    sent: int = 0
    failed: int = 0
    blocked: int = 0
    cancelled: int = 0

    @property
    def total(self) -> int:
        return self.queued + self.sent + self.failed + self.blocked + self.cancelled

    @property
    def finished(self) -> bool:
        return self.queued == 0

    def as_dict(self) -> dict[str, int]:
        return {
            "queued": self.queued,
            "sent": self.sent,
            "failed": self.failed,
            "blocked": self.blocked,
            "cancelled": self.cancelled,
        }


def _broadcast(row: sqlite3.Row) -> Broadcast:
    return Broadcast(
        id=row["id"],
        created_by=row["created_by"],
        admin_chat_id=row["admin_chat_id"],
        admin_language=row["admin_language"],
        texts=json.loads(row["texts"]),
        photo_file_id=row["photo_file_id"],
        audience=Audience.from_json(row["audience"]),
        status=row["status"],
        send_at=row["send_at"],
        planned=row["planned"],
        progress_message_id=row["progress_message_id"],
        progress_seq=row["progress_seq"],
        progress_shown=json.loads(row["progress_shown"]) if row["progress_shown"] else None,
        reported=bool(row["reported"]),
        created_at=row["created_at"],
        started_at=row["started_at"],
        finished_at=row["finished_at"],
    )


class BroadcastRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    @staticmethod
    async def insert_in(tx: Transaction, new: NewBroadcast, status: str, now: float) -> int:
        return await tx.execute(
            "INSERT INTO broadcasts (created_by, admin_chat_id, admin_language, texts,"
            " photo_file_id, audience, status, send_at, progress_message_id, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                new.created_by,
                new.admin_chat_id,
                new.admin_language,
                json.dumps(dict(new.texts), ensure_ascii=False),
                new.photo_file_id,
                new.audience.to_json(),
                status,
                new.send_at,
                new.progress_message_id,
                now,
            ),
        )

    async def get(self, broadcast_id: int) -> Broadcast | None:
        row = await self._db.fetchone("SELECT * FROM broadcasts WHERE id = ?", (broadcast_id,))
        return None if row is None else _broadcast(row)

    @staticmethod
    async def get_in(tx: Transaction, broadcast_id: int) -> Broadcast | None:
        row = await tx.fetchone("SELECT * FROM broadcasts WHERE id = ?", (broadcast_id,))
        return None if row is None else _broadcast(row)

    async def due(self, now: float) -> list[int]:
        rows = await self._db.fetchall(
            "SELECT id FROM broadcasts WHERE status = 'scheduled' AND send_at <= ?"
            " AND reported = 0 ORDER BY send_at, id",
            (now,),
        )
        return [int(row[0]) for row in rows]

    async def unreported(self) -> list[Broadcast]:
        """Broadcasts whose final report is not out yet (sending, or cancelled lately)."""
        rows = await self._db.fetchall(
            "SELECT * FROM broadcasts WHERE reported = 0 AND status != 'scheduled' ORDER BY id"
        )
        return [_broadcast(row) for row in rows]

    async def scheduled(self) -> list[Broadcast]:
        rows = await self._db.fetchall(
            "SELECT * FROM broadcasts WHERE status = 'scheduled' ORDER BY send_at, id"
        )
        return [_broadcast(row) for row in rows]

    @staticmethod
    async def mark_sending_in(tx: Transaction, broadcast_id: int, planned: int, now: float) -> bool:
        count = await tx.execute_rowcount(
            "UPDATE broadcasts SET status = 'sending', planned = ?, started_at = ?"
            " WHERE id = ? AND status = 'scheduled'",
            (planned, now, broadcast_id),
        )
        return count == 1

    @staticmethod
    async def set_status_in(
        tx: Transaction, broadcast_id: int, status: str, now: float, *, only_from: Sequence[str]
    ) -> bool:
        count = await tx.execute_rowcount(
            "UPDATE broadcasts SET status = ?, finished_at = coalesce(finished_at, ?)"
            f" WHERE id = ? AND status IN ({','.join('?' * len(only_from))})",
            (status, now, broadcast_id, *only_from),
        )
        return count == 1

    @staticmethod
    async def record_progress_in(
        tx: Transaction, broadcast_id: int, shown: Mapping[str, Any], *, reported: bool
    ) -> int:
        """Store what the progress message now shows; return the new sequence number."""
        await tx.execute(
            "UPDATE broadcasts SET progress_seq = progress_seq + 1, progress_shown = ?,"
            " reported = ? WHERE id = ?",
            (json.dumps(dict(shown)), 1 if reported else 0, broadcast_id),
        )
        row = await tx.fetchone("SELECT progress_seq FROM broadcasts WHERE id = ?", (broadcast_id,))
        return int(row[0]) if row else 0

    async def delivery_counts(self, batch: str) -> DeliveryCounts:
        """Counts of a batch's outbox rows by outcome (uses the batch indexes only)."""
        rows = await self._db.fetchall(
            "SELECT status, count(*) FROM outbox WHERE batch = ? GROUP BY status", (batch,)
        )
        by_status = {str(row[0]): int(row[1]) for row in rows}
        blocked = int(
            await self._db.fetchval(
                "SELECT count(*) FROM outbox WHERE batch = ? AND status = 'failed'"
                " AND error LIKE 'forbidden%'",
                (batch,),
            )
            or 0
        )
        return DeliveryCounts(
            queued=by_status.get("pending", 0) + by_status.get("sending", 0),
            sent=by_status.get("sent", 0),
            failed=by_status.get("failed", 0) - blocked + by_status.get("unknown", 0),
            blocked=blocked,
            cancelled=by_status.get("cancelled", 0),
        )
