"""Reports, their history and the relay map between the staff chat and residents."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass, field

from bot.storage.db import Database, Transaction

STATUSES = ("new", "acknowledged", "in_progress", "resolved", "not_actionable")
OPEN_STATUSES = ("new", "acknowledged", "in_progress")
# Spelled out in the SQL (constants, not input): SQLite uses the partial index
# `reports_open` only when a query names its statuses as literals, not as parameters.
_OPEN_SQL = "(" + ", ".join(f"'{status}'" for status in OPEN_STATUSES) + ")"


@dataclass(frozen=True, slots=True)
class NewReport:
    """What a resident confirmed; the repository adds the reference and the ids."""

    resident_id: int
    resident_chat_id: int
    category: str
    description: str
    language: str
    anonymous: bool
    pseudonym: str
    neighborhood: str | None = None
    address: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    outside_area: bool = False
    photos: tuple[str, ...] = ()
    voice: str | None = None
    text_language: str | None = None
    reporter_name: str | None = None
    reporter_username: str | None = None
    emergency_words: tuple[str, ...] = ()
    staff_chat_id: int | None = None
    staff_thread_id: int | None = None
    uses_topic: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class Report(NewReport):
    """A filed report: what the resident confirmed, plus what filing and staff added."""

    id: int
    reference: str
    status: str
    created_at: float
    updated_at: float
    card_message_id: int | None = None
    status_by_name: str | None = None
    status_at: float | None = None
    acknowledged_at: float | None = None
    escalated_at: float | None = None

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def has_location(self) -> bool:
        return self.latitude is not None and self.longitude is not None

    @property
    def detached(self) -> bool:
        """The resident deleted their data, or retention ran: nobody to write to."""
        return self.resident_chat_id == 0


@dataclass(frozen=True, slots=True)
class ReportEvent:
    id: int
    report_id: int
    kind: str  # created | status | staff_message | resident_message | escalated
    created_at: float
    status: str | None = None
    actor_id: int | None = None
    actor_name: str | None = None
    body: str | None = None


@dataclass(frozen=True, slots=True)
class StatusCounts:
    """Open reports per status, and when the oldest open one was filed."""

    counts: dict[str, int] = field(default_factory=dict)
    oldest_open_at: float | None = None
    oldest_open_reference: str | None = None

    @property
    def open_total(self) -> int:
        return sum(self.counts.get(status, 0) for status in OPEN_STATUSES)


def _report(row: sqlite3.Row) -> Report:
    return Report(
        id=row["id"],
        reference=row["reference"],
        resident_id=row["resident_id"],
        resident_chat_id=row["resident_chat_id"],
        category=row["category"],
        description=row["description"],
        language=row["language"],
        anonymous=bool(row["anonymous"]),
        pseudonym=row["pseudonym"],
        status=row["status"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        neighborhood=row["neighborhood"],
        address=row["address"],
        latitude=row["latitude"],
        longitude=row["longitude"],
        outside_area=bool(row["outside_area"]),
        photos=tuple(json.loads(row["photos"])),
        voice=row["voice"],
        text_language=row["text_language"],
        reporter_name=row["reporter_name"],
        reporter_username=row["reporter_username"],
        emergency_words=tuple(json.loads(row["emergency_words"])),
        staff_chat_id=row["staff_chat_id"],
        staff_thread_id=row["staff_thread_id"],
        uses_topic=bool(row["uses_topic"]),
        card_message_id=row["card_message_id"],
        status_by_name=row["status_by_name"],
        status_at=row["status_at"],
        acknowledged_at=row["acknowledged_at"],
        escalated_at=row["escalated_at"],
    )


def _event(row: sqlite3.Row) -> ReportEvent:
    return ReportEvent(
        id=row["id"],
        report_id=row["report_id"],
        kind=row["kind"],
        created_at=row["created_at"],
        status=row["status"],
        actor_id=row["actor_id"],
        actor_name=row["actor_name"],
        body=row["body"],
    )


class ReportRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    # -- writing, inside the caller's transaction ------------------------------------------

    @staticmethod
    async def next_reference_in(tx: Transaction, year: int) -> str:
        """Allocate the next `R-<year>-<6 digits>` reference."""
        await tx.execute(
            "INSERT INTO report_counters (year, last) VALUES (?, 1)"
            " ON CONFLICT (year) DO UPDATE SET last = last + 1",
            (year,),
        )
        row = await tx.fetchone("SELECT last FROM report_counters WHERE year = ?", (year,))
        assert row is not None
        return f"R-{year}-{int(row[0]):06d}"

    @staticmethod
    async def insert_in(tx: Transaction, new: NewReport, reference: str, now: float) -> Report:
        report_id = await tx.execute(
            "INSERT INTO reports (reference, resident_id, resident_chat_id, category,"
            " neighborhood, address, latitude, longitude, outside_area, description, photos,"
            " voice, text_language, language, anonymous, reporter_name, reporter_username,"
            " pseudonym, emergency_words, staff_chat_id, staff_thread_id, uses_topic,"
            " created_at, updated_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                reference,
                new.resident_id,
                new.resident_chat_id,
                new.category,
                new.neighborhood,
                new.address,
                new.latitude,
                new.longitude,
                1 if new.outside_area else 0,
                new.description,
                json.dumps(list(new.photos)),
                new.voice,
                new.text_language,
                new.language,
                1 if new.anonymous else 0,
                new.reporter_name,
                new.reporter_username,
                new.pseudonym,
                json.dumps(list(new.emergency_words), ensure_ascii=False),
                new.staff_chat_id,
                new.staff_thread_id,
                1 if new.uses_topic else 0,
                now,
                now,
            ),
        )
        await ReportRepository.add_event_in(tx, report_id, "created", now, status="new")
        row = await tx.fetchone("SELECT * FROM reports WHERE id = ?", (report_id,))
        assert row is not None
        return _report(row)

    @staticmethod
    async def add_event_in(
        tx: Transaction,
        report_id: int,
        kind: str,
        now: float,
        *,
        status: str | None = None,
        actor_id: int | None = None,
        actor_name: str | None = None,
        body: str | None = None,
    ) -> int:
        return await tx.execute(
            "INSERT INTO report_events (report_id, kind, status, actor_id, actor_name, body,"
            " created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (report_id, kind, status, actor_id, actor_name, body, now),
        )

    @staticmethod
    async def get_in(tx: Transaction, report_id: int) -> Report | None:
        row = await tx.fetchone("SELECT * FROM reports WHERE id = ?", (report_id,))
        return None if row is None else _report(row)

    @staticmethod
    async def set_status_in(
        tx: Transaction, report_id: int, status: str, by_name: str | None, now: float
    ) -> None:
        await tx.execute(
            "UPDATE reports SET status = ?, status_by_name = ?, status_at = ?, updated_at = ?,"
            " acknowledged_at = CASE WHEN ? != 'new' THEN coalesce(acknowledged_at, ?)"
            " ELSE acknowledged_at END WHERE id = ?",
            (status, by_name, now, now, status, now, report_id),
        )

    @staticmethod
    async def touch_in(tx: Transaction, report_id: int, now: float) -> None:
        await tx.execute("UPDATE reports SET updated_at = ? WHERE id = ?", (now, report_id))

    @staticmethod
    async def count_since_in(tx: Transaction, resident_id: int, since: float) -> int:
        row = await tx.fetchone(
            "SELECT count(*) FROM reports WHERE resident_id = ? AND created_at > ?",
            (resident_id, since),
        )
        return int(row[0]) if row else 0

    @staticmethod
    async def mark_escalated_in(tx: Transaction, report_id: int, now: float) -> bool:
        """Claim the one re-announcement; False when it was already made (or acknowledged)."""
        changed = await tx.execute_rowcount(
            "UPDATE reports SET escalated_at = ? WHERE id = ? AND escalated_at IS NULL"
            " AND status = 'new'",
            (now, report_id),
        )
        return changed == 1

    # -- the relay map -----------------------------------------------------------------------

    async def link(
        self, report_id: int, chat_id: int, message_ids: Sequence[int], role: str
    ) -> None:
        async with self._db.transaction() as tx:
            await tx.executemany(
                "INSERT OR IGNORE INTO report_messages (chat_id, message_id, report_id, role)"
                " VALUES (?, ?, ?, ?)",
                ((chat_id, message_id, report_id, role) for message_id in message_ids),
            )

    async def record_topic(self, report_id: int, chat_id: int, thread_id: int) -> None:
        """A topic of the report was created (a duplicate after a timeout maps too)."""
        async with self._db.transaction() as tx:
            await tx.execute(
                "INSERT OR IGNORE INTO report_messages (chat_id, message_id, report_id, role)"
                " VALUES (?, ?, ?, 'topic')",
                (chat_id, thread_id, report_id),
            )
            await tx.execute(
                "UPDATE reports SET staff_thread_id = coalesce(staff_thread_id, ?) WHERE id = ?",
                (thread_id, report_id),
            )

    async def record_card(
        self, report_id: int, chat_id: int, message_id: int, thread_id: int | None
    ) -> None:
        async with self._db.transaction() as tx:
            await tx.execute(
                "INSERT OR IGNORE INTO report_messages (chat_id, message_id, report_id, role)"
                " VALUES (?, ?, ?, 'card')",
                (chat_id, message_id, report_id),
            )
            await tx.execute(
                "UPDATE reports SET card_message_id = coalesce(card_message_id, ?),"
                " staff_thread_id = coalesce(staff_thread_id, ?) WHERE id = ?",
                (message_id, thread_id, report_id),
            )

    async def report_for_message(
        self, chat_id: int, message_id: int, roles: Sequence[str]
    ) -> Report | None:
        marks = ",".join("?" * len(roles))
        row = await self._db.fetchone(
            "SELECT r.* FROM report_messages m JOIN reports r ON r.id = m.report_id"
            f" WHERE m.chat_id = ? AND m.message_id = ? AND m.role IN ({marks})"
            " ORDER BY r.id DESC LIMIT 1",
            (chat_id, message_id, *roles),
        )
        return None if row is None else _report(row)

    async def has_link(self, report_id: int, chat_id: int, message_id: int, role: str) -> bool:
        row = await self._db.fetchone(
            "SELECT 1 FROM report_messages WHERE report_id = ? AND chat_id = ?"
            " AND message_id = ? AND role = ?",
            (report_id, chat_id, message_id, role),
        )
        return row is not None

    async def backfill_from_outbox(self) -> int:
        """Recover card and topic ids a crash kept the after-send hooks from recording."""
        async with self._db.transaction() as tx:
            await tx.execute(
                "INSERT OR IGNORE INTO report_messages (chat_id, message_id, report_id, role)"
                " SELECT o.chat_id, json_extract(o.result, '$.message_thread_id'), r.id, 'topic'"
                " FROM reports r JOIN outbox o ON o.idempotency_key = 'report:' || r.id || ':topic'"
                " WHERE o.status = 'sent'"
                " AND json_extract(o.result, '$.message_thread_id') IS NOT NULL"
                # Only reports without their topic row: looking up every report's outbox
                # row took 0.3 s of each start at 50,000 reports.
                " AND NOT EXISTS (SELECT 1 FROM report_messages m"
                "   WHERE m.report_id = r.id AND m.role = 'topic')"
            )
            recovered = await tx.execute_rowcount(
                "UPDATE reports SET"
                " card_message_id = (SELECT o.message_id FROM outbox o"
                "   WHERE o.idempotency_key = 'report:' || reports.id || ':card'"
                "   AND o.status = 'sent'),"
                " staff_thread_id = coalesce(staff_thread_id, (SELECT json_extract(o.result,"
                "   '$.message_thread_id') FROM outbox o"
                "   WHERE o.idempotency_key = 'report:' || reports.id || ':card'"
                "   AND o.status = 'sent'))"
                " WHERE card_message_id IS NULL AND EXISTS (SELECT 1 FROM outbox o"
                "   WHERE o.idempotency_key = 'report:' || reports.id || ':card'"
                "   AND o.status = 'sent' AND o.message_id IS NOT NULL)"
            )
            await tx.execute(
                "INSERT OR IGNORE INTO report_messages (chat_id, message_id, report_id, role)"
                " SELECT staff_chat_id, card_message_id, id, 'card' FROM reports"
                " WHERE card_message_id IS NOT NULL AND staff_chat_id IS NOT NULL"
            )
        return recovered

    # -- reading -----------------------------------------------------------------------------

    async def get(self, report_id: int) -> Report | None:
        row = await self._db.fetchone("SELECT * FROM reports WHERE id = ?", (report_id,))
        return None if row is None else _report(row)

    async def get_by_reference(self, reference: str) -> Report | None:
        row = await self._db.fetchone("SELECT * FROM reports WHERE reference = ?", (reference,))
        return None if row is None else _report(row)

    @staticmethod
    async def set_confirm_message_in(tx: Transaction, report_id: int, message_id: int) -> None:
        await tx.execute(
            "UPDATE reports SET confirm_message_id = ? WHERE id = ?", (message_id, report_id)
        )

    async def confirmed_from(
        self, resident_id: int, message_id: int, since: float
    ) -> Report | None:
        """The resident's report confirmed from this summary message, filed after `since`."""
        row = await self._db.fetchone(
            "SELECT * FROM reports WHERE resident_id = ? AND confirm_message_id = ?"
            " AND created_at >= ?",
            (resident_id, message_id, since),
        )
        return None if row is None else _report(row)

    async def for_resident(self, resident_id: int, limit: int) -> list[Report]:
        rows = await self._db.fetchall(
            "SELECT * FROM reports WHERE resident_id = ? ORDER BY created_at DESC, id DESC LIMIT ?",
            (resident_id, limit),
            inline=True,
        )
        return [_report(row) for row in rows]

    async def count_for_resident(self, resident_id: int) -> int:
        value = await self._db.fetchval(
            "SELECT count(*) FROM reports WHERE resident_id = ?", (resident_id,), inline=True
        )
        return int(value or 0)

    async def events(self, report_id: int) -> list[ReportEvent]:
        rows = await self._db.fetchall(
            "SELECT * FROM report_events WHERE report_id = ? ORDER BY created_at, id",
            (report_id,),
        )
        return [_event(row) for row in rows]

    async def created_since(self, resident_id: int, since: float) -> list[float]:
        rows = await self._db.fetchall(
            "SELECT created_at FROM reports WHERE resident_id = ? AND created_at > ?"
            " ORDER BY created_at",
            (resident_id, since),
            inline=True,  # at most the hourly limit of rows, by index
        )
        return [float(row[0]) for row in rows]

    async def due_for_escalation(self, created_before: float) -> list[Report]:
        rows = await self._db.fetchall(
            "SELECT * FROM reports WHERE status = 'new' AND escalated_at IS NULL"
            " AND created_at <= ? ORDER BY created_at, id",
            (created_before,),
        )
        return [_report(row) for row in rows]

    async def open_reports(self, limit: int) -> list[Report]:
        rows = await self._db.fetchall(
            f"SELECT * FROM reports WHERE status IN {_OPEN_SQL} ORDER BY created_at, id LIMIT ?",
            (limit,),
        )
        return [_report(row) for row in rows]

    async def status_counts(self) -> StatusCounts:
        rows = await self._db.fetchall(
            f"SELECT status, count(*) FROM reports WHERE status IN {_OPEN_SQL} GROUP BY status"
        )
        oldest = await self._db.fetchone(
            f"SELECT reference, created_at FROM reports WHERE status IN {_OPEN_SQL}"
            " ORDER BY created_at, id LIMIT 1"
        )
        return StatusCounts(
            counts={row[0]: int(row[1]) for row in rows},
            oldest_open_at=None if oldest is None else float(oldest["created_at"]),
            oldest_open_reference=None if oldest is None else str(oldest["reference"]),
        )
