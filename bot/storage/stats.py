"""Read-only queries behind statistics, hotspots and the Open311 export; the monthly
transparency digest's notes, runs and readers.

The queries select only what the figures need: no resident ids, names, usernames or
pseudonyms leave this module (the export rows cannot leak what they never read).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass, field

from bot.storage.db import Database, Transaction

CITYWIDE = "*"  # the subscription area of citywide events (see bot.storage.subscriptions)


# --------------------------------------------------------------------------- statistics


@dataclass(frozen=True, slots=True)
class ReportFact:
    """One report reduced to what statistics count and time."""

    category: str
    neighborhood: str | None
    status: str
    created_at: float
    acknowledged_at: float | None = None  # the first status change away from "new"
    status_at: float | None = None  # the latest status change

    @property
    def resolved_at(self) -> float | None:
        """When it was resolved, for a report that is resolved now."""
        return self.status_at if self.status == "resolved" else None


@dataclass(frozen=True, slots=True)
class SubscriberRow:
    area: str  # a neighborhood id, or '*' (citywide)
    language: str
    count: int


@dataclass(frozen=True, slots=True)
class SubscriberData:
    rows: tuple[SubscriberRow, ...]  # active followers per area and language
    by_language: Mapping[str, int]  # distinct active followers of any area, per language
    active_residents: int
    digest_readers: int  # residents who opted in to the monthly transparency digest


@dataclass(frozen=True, slots=True)
class EventFact:
    id: int
    titles: Mapping[str, str]
    starts_at: float
    cancelled: bool
    capacity: int | None
    going: int = 0
    maybe: int = 0
    no: int = 0
    waitlist: int = 0

    def title(self, language: str, default: str) -> str:
        return (
            self.titles.get(language)
            or self.titles.get(default)
            or next(iter(self.titles.values()), "")
        )


@dataclass(frozen=True, slots=True)
class SurveyFact:
    id: str
    titles: Mapping[str, str]
    status: str
    invited: int  # invitations sent in the period
    started: int  # responses started in the period (finished or not)
    complete: int  # of those, finished

    def title(self, language: str, default: str) -> str:
        return self.titles.get(language) or self.titles.get(default) or self.id


@dataclass(frozen=True, slots=True)
class ExportRow:
    """A report as the Open311 export may show it (no resident data is read)."""

    reference: str
    category: str
    status: str
    description: str
    anonymous: bool
    created_at: float
    updated_at: float
    neighborhood: str | None = None
    address: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    photo_count: int = 0


def _fact(row: sqlite3.Row) -> ReportFact:
    return ReportFact(
        category=row["category"],
        neighborhood=row["neighborhood"],
        status=row["status"],
        created_at=float(row["created_at"]),
        acknowledged_at=None if row["acknowledged_at"] is None else float(row["acknowledged_at"]),
        status_at=None if row["status_at"] is None else float(row["status_at"]),
    )


_FACT_COLUMNS = "category, neighborhood, status, created_at, acknowledged_at, status_at"


def _titles(raw: str | None) -> dict[str, str]:
    if not raw:
        return {}
    value = json.loads(raw)
    return {str(k): str(v) for k, v in value.items()} if isinstance(value, dict) else {}


class StatsRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def report_facts(self, created_from: float | None, created_to: float) -> list[ReportFact]:
        """Reports filed in [created_from, created_to) (from the beginning when None)."""
        rows = await self._db.fetchall(
            f"SELECT {_FACT_COLUMNS} FROM reports WHERE created_at >= ? AND created_at < ?"
            " ORDER BY created_at, id",
            (created_from if created_from is not None else float("-inf"), created_to),
        )
        return [_fact(row) for row in rows]

    async def month_facts(self, start: float, end: float) -> list[ReportFact]:
        """Reports filed in [start, end), and reports resolved in it (filed earlier)."""
        rows = await self._db.fetchall(
            f"SELECT {_FACT_COLUMNS} FROM reports"
            " WHERE (created_at >= ? AND created_at < ?)"
            " OR (status = 'resolved' AND status_at >= ? AND status_at < ?)"
            " ORDER BY created_at, id",
            (start, end, start, end),
        )
        return [_fact(row) for row in rows]

    async def open_created_at(self) -> list[float]:
        """When each report that is still open was filed."""
        rows = await self._db.fetchall(
            "SELECT created_at FROM reports WHERE status IN ('new', 'acknowledged', 'in_progress')"
            " ORDER BY created_at"
        )
        return [float(row[0]) for row in rows]

    async def subscribers(self) -> SubscriberData:
        # CROSS JOIN keeps SQLite reading the subscriptions first (an index scan, then one
        # lookup per row), not every active resident and their subscriptions: 0.43 s ->
        # 0.25 s with 400,000 subscriptions (bench/bench_scale.py).
        rows = await self._db.fetchall(
            "SELECT s.area, r.language, count(*) FROM subscriptions s"
            " CROSS JOIN residents r ON r.user_id = s.user_id WHERE r.active = 1"
            " GROUP BY s.area, r.language ORDER BY s.area, r.language"
        )
        languages = await self._db.fetchall(
            "SELECT r.language, count(*) FROM residents r WHERE r.active = 1"
            " AND EXISTS (SELECT 1 FROM subscriptions s WHERE s.user_id = r.user_id)"
            " GROUP BY r.language"
        )
        active = await self._db.fetchval("SELECT count(*) FROM residents WHERE active = 1")
        readers = await self._db.fetchval(  # from the few preferences, not every resident
            "SELECT count(*) FROM alert_prefs p CROSS JOIN residents r ON r.user_id = p.user_id"
            " WHERE r.active = 1 AND p.transparency = 1"
        )
        return SubscriberData(
            rows=tuple(SubscriberRow(str(a), str(lang), int(n)) for a, lang, n in rows),
            by_language={str(lang): int(n) for lang, n in languages},
            active_residents=int(active or 0),
            digest_readers=int(readers or 0),
        )

    async def events_between(self, start: float | None, end: float) -> list[EventFact]:
        """Events starting in [start, end), with their RSVP counts."""
        rows = await self._db.fetchall(
            "SELECT e.id, e.title, e.starts_at, e.status, e.capacity,"
            " coalesce(sum(v.answer = 'going' AND v.waitlisted = 0), 0) AS going,"
            " coalesce(sum(v.answer = 'maybe'), 0) AS maybe,"
            " coalesce(sum(v.answer = 'no'), 0) AS no,"
            " coalesce(sum(v.answer = 'going' AND v.waitlisted = 1), 0) AS waitlist"
            " FROM events e LEFT JOIN rsvps v ON v.event_id = e.id"
            " WHERE e.starts_at >= ? AND e.starts_at < ?"
            " GROUP BY e.id ORDER BY e.starts_at, e.id",
            (start if start is not None else float("-inf"), end),
        )
        return [
            EventFact(
                id=int(row["id"]),
                titles=_titles(row["title"]),
                starts_at=float(row["starts_at"]),
                cancelled=row["status"] == "cancelled",
                capacity=row["capacity"],
                going=int(row["going"]),
                maybe=int(row["maybe"]),
                no=int(row["no"]),
                waitlist=int(row["waitlist"]),
            )
            for row in rows
        ]

    async def surveys(
        self,
        *,
        start: float | None,
        end: float,
        first_day: str | None,
        last_day: str,
    ) -> list[SurveyFact]:
        """Each survey's invitations and responses in the period.

        Responses of anonymous surveys carry days, not moments, so responses are counted
        by their city-time start day in [first_day, last_day]; invitations by time.
        """
        rows = await self._db.fetchall(
            "SELECT s.id, json_extract(s.definition, '$.titles') AS titles, s.status,"
            " (SELECT count(*) FROM survey_invitations i WHERE i.survey_id = s.id"
            "   AND i.invited_at >= ? AND i.invited_at < ?) AS invited,"
            " (SELECT count(*) FROM survey_responses r WHERE r.survey_id = s.id"
            "   AND r.started_on >= ? AND r.started_on <= ?) AS started,"
            " (SELECT count(*) FROM survey_responses r WHERE r.survey_id = s.id"
            "   AND r.started_on >= ? AND r.started_on <= ? AND r.status = 'complete')"
            "   AS complete"
            " FROM surveys s ORDER BY s.published_at, s.id",
            (
                start if start is not None else float("-inf"),
                end,
                first_day or "",
                last_day,
                first_day or "",
                last_day,
            ),
        )
        return [
            SurveyFact(
                id=str(row["id"]),
                titles=_titles(row["titles"]),
                status=str(row["status"]),
                invited=int(row["invited"]),
                started=int(row["started"]),
                complete=int(row["complete"]),
            )
            for row in rows
        ]

    async def export_rows(self, since: float | None) -> list[ExportRow]:
        """Reports filed at or after `since` (all when None), oldest first."""
        rows = await self._db.fetchall(
            "SELECT reference, category, status, description, anonymous, created_at,"
            " updated_at, neighborhood, address, latitude, longitude,"
            " json_array_length(photos) AS photo_count"
            " FROM reports WHERE created_at >= ? ORDER BY created_at, id",
            (since if since is not None else float("-inf"),),
        )
        return [
            ExportRow(
                reference=row["reference"],
                category=row["category"],
                status=row["status"],
                description=row["description"],
                anonymous=bool(row["anonymous"]),
                created_at=float(row["created_at"]),
                updated_at=float(row["updated_at"]),
                neighborhood=row["neighborhood"],
                address=row["address"],
                latitude=row["latitude"],
                longitude=row["longitude"],
                photo_count=int(row["photo_count"] or 0),
            )
            for row in rows
        ]


# --------------------------------------------------------------------------- transparency


@dataclass(frozen=True, slots=True)
class DigestNote:
    month: str
    language: str
    body: str
    author_id: int
    updated_at: float


@dataclass(frozen=True, slots=True)
class Reader:
    """A resident who opted in to the monthly digest, and the neighborhoods they follow."""

    user_id: int
    chat_id: int
    language: str
    areas: frozenset[str] = field(default_factory=frozenset)

    @property
    def neighborhoods(self) -> tuple[str, ...]:
        return tuple(sorted(area for area in self.areas if area != CITYWIDE))


class TransparencyRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def notes(self, month: str) -> dict[str, DigestNote]:
        rows = await self._db.fetchall(
            "SELECT * FROM transparency_notes WHERE month = ? ORDER BY updated_at, language",
            (month,),
        )
        return {
            row["language"]: DigestNote(
                month=row["month"],
                language=row["language"],
                body=row["body"],
                author_id=int(row["author_id"]),
                updated_at=float(row["updated_at"]),
            )
            for row in rows
        }

    @staticmethod
    async def save_note_in(
        tx: Transaction, *, month: str, language: str, body: str, author_id: int, now: float
    ) -> None:
        await tx.execute(
            "INSERT INTO transparency_notes (month, language, body, author_id, updated_at)"
            " VALUES (?, ?, ?, ?, ?) ON CONFLICT (month, language) DO UPDATE SET"
            " body = excluded.body, author_id = excluded.author_id,"
            " updated_at = excluded.updated_at",
            (month, language, body, author_id, now),
        )

    async def delete_notes(self, month: str) -> int:
        async with self._db.transaction() as tx:
            return await tx.execute_rowcount(
                "DELETE FROM transparency_notes WHERE month = ?", (month,)
            )

    @staticmethod
    async def claim_dialog_in(tx: Transaction, chat_id: int, flow: str, version: int) -> bool:
        """Close the dialog if it is still at `version` (a second tap finds nothing)."""
        count = await tx.execute_rowcount(
            "DELETE FROM dialogs WHERE chat_id = ? AND flow = ? AND version = ?",
            (chat_id, flow, version),
        )
        return count == 1

    @staticmethod
    async def run_done_in(tx: Transaction, month: str) -> bool:
        row = await tx.fetchone("SELECT 1 FROM transparency_runs WHERE month = ?", (month,))
        return row is not None

    @staticmethod
    async def record_run_in(tx: Transaction, month: str, recipients: int, now: float) -> None:
        await tx.execute(
            "INSERT INTO transparency_runs (month, recipients, at) VALUES (?, ?, ?)",
            (month, recipients, now),
        )

    async def run(self, month: str) -> tuple[int, float] | None:
        row = await self._db.fetchone(
            "SELECT recipients, at FROM transparency_runs WHERE month = ?", (month,)
        )
        return None if row is None else (int(row[0]), float(row[1]))

    async def reader_count(self) -> int:
        value = await self._db.fetchval(
            "SELECT count(*) FROM residents r JOIN alert_prefs p ON p.user_id = r.user_id"
            " WHERE r.active = 1 AND p.transparency = 1"
        )
        return int(value or 0)

    @staticmethod
    async def readers_in(tx: Transaction) -> list[Reader]:
        """Active residents who opted in, with the areas they follow."""
        rows = await tx.fetchall(
            "SELECT r.user_id, r.chat_id, r.language FROM residents r"
            " JOIN alert_prefs p ON p.user_id = r.user_id"
            " WHERE r.active = 1 AND p.transparency = 1 ORDER BY r.user_id"
        )
        areas: dict[int, set[str]] = {int(row[0]): set() for row in rows}
        for user_id, area in await tx.fetchall(
            "SELECT s.user_id, s.area FROM subscriptions s"
            " JOIN alert_prefs p ON p.user_id = s.user_id WHERE p.transparency = 1"
        ):
            if user_id in areas:
                areas[user_id].add(str(area))
        return [
            Reader(
                user_id=int(row[0]),
                chat_id=int(row[1]),
                language=str(row[2]),
                areas=frozenset(areas[int(row[0])]),
            )
            for row in rows
        ]
