"""Events, their RSVPs, deep-link opens and reminder runs."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from bot.storage.db import Database, Transaction

EVENT_TYPES = ("meeting", "workshop", "youth", "community")
ANSWERS = ("going", "maybe", "no")


@dataclass(frozen=True, slots=True)
class Event:
    id: int
    event_type: str
    titles: Mapping[str, str]
    descriptions: Mapping[str, str]
    neighborhoods: tuple[str, ...]
    citywide: bool
    starts_at: float
    ends_at: float
    place: str
    latitude: float | None
    longitude: float | None
    capacity: int | None
    status: str
    revision: int
    created_by: int
    created_at: float
    updated_at: float

    def title(self, language: str, default: str) -> str:
        return self.titles.get(language) or self.titles.get(default) or _first(self.titles)

    def description(self, language: str, default: str) -> str:
        return (
            self.descriptions.get(language)
            or self.descriptions.get(default)
            or _first(self.descriptions)
        )

    @property
    def has_pin(self) -> bool:
        return self.latitude is not None and self.longitude is not None

    @property
    def cancelled(self) -> bool:
        return self.status == "cancelled"

    @property
    def areas(self) -> tuple[str, ...]:
        """Subscription areas it is for: its neighborhoods, or '*' when citywide."""
        return ("*",) if self.citywide else self.neighborhoods


def _first(values: Mapping[str, str]) -> str:
    return next(iter(values.values()), "")


@dataclass(frozen=True, slots=True)
class NewEvent:
    """A validated event ready to be stored."""

    event_type: str
    titles: Mapping[str, str]
    descriptions: Mapping[str, str]
    neighborhoods: tuple[str, ...]
    citywide: bool
    starts_at: float
    ends_at: float
    place: str
    latitude: float | None
    longitude: float | None
    capacity: int | None
    created_by: int


@dataclass(frozen=True, slots=True)
class RsvpCounts:
    going: int = 0
    maybe: int = 0
    no: int = 0
    waitlist: int = 0


@dataclass(frozen=True, slots=True)
class Rsvp:
    event_id: int
    user_id: int
    answer: str
    waitlisted: bool
    queued_at: float


@dataclass(frozen=True, slots=True)
class Attendee:
    """Someone who answered an event, with where to reach them."""

    user_id: int
    chat_id: int
    language: str
    answer: str
    waitlisted: bool
    reminders: bool = True
    active: bool = True


_EVENT_COLUMNS = (
    "e.*, (SELECT group_concat(neighborhood, ',') FROM event_neighborhoods n"
    " WHERE n.event_id = e.id) AS hoods"
)


def _event(row: sqlite3.Row) -> Event:
    hoods = row["hoods"] or ""
    return Event(
        id=row["id"],
        event_type=row["event_type"],
        titles=json.loads(row["title"]),
        descriptions=json.loads(row["description"]),
        neighborhoods=tuple(sorted(h for h in hoods.split(",") if h)),
        citywide=bool(row["citywide"]),
        starts_at=row["starts_at"],
        ends_at=row["ends_at"],
        place=row["place"],
        latitude=row["latitude"],
        longitude=row["longitude"],
        capacity=row["capacity"],
        status=row["status"],
        revision=row["revision"],
        created_by=row["created_by"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


def _rsvp(row: sqlite3.Row) -> Rsvp:
    return Rsvp(
        event_id=row["event_id"],
        user_id=row["user_id"],
        answer=row["answer"],
        waitlisted=bool(row["waitlisted"]),
        queued_at=row["queued_at"],
    )


class EventRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    # -- events -----------------------------------------------------------------------

    @staticmethod
    async def insert_in(tx: Transaction, event: NewEvent, now: float) -> int:
        event_id = await tx.execute(
            "INSERT INTO events (event_type, title, description, citywide, starts_at, ends_at,"
            " place, latitude, longitude, capacity, created_by, created_at, updated_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                event.event_type,
                json.dumps(dict(event.titles), ensure_ascii=False),
                json.dumps(dict(event.descriptions), ensure_ascii=False),
                1 if event.citywide else 0,
                event.starts_at,
                event.ends_at,
                event.place,
                event.latitude,
                event.longitude,
                event.capacity,
                event.created_by,
                now,
                now,
            ),
        )
        await tx.executemany(
            "INSERT INTO event_neighborhoods (event_id, neighborhood) VALUES (?, ?)",
            [(event_id, hood) for hood in event.neighborhoods],
        )
        return event_id

    async def get(self, event_id: int) -> Event | None:
        row = await self._db.fetchone(
            f"SELECT {_EVENT_COLUMNS} FROM events e WHERE id = ?", (event_id,)
        )
        return None if row is None else _event(row)

    @staticmethod
    async def get_in(tx: Transaction, event_id: int) -> Event | None:
        row = await tx.fetchone(f"SELECT {_EVENT_COLUMNS} FROM events e WHERE id = ?", (event_id,))
        return None if row is None else _event(row)

    async def upcoming(self, now: float, *, limit: int = 50) -> list[Event]:
        """Published events that have not ended, soonest first."""
        rows = await self._db.fetchall(
            f"SELECT {_EVENT_COLUMNS} FROM events e WHERE status = 'published' AND ends_at > ?"
            " ORDER BY starts_at, id LIMIT ?",
            (now, limit),
        )
        return [_event(row) for row in rows]

    async def starting_between(self, start: float, end: float) -> list[Event]:
        rows = await self._db.fetchall(
            f"SELECT {_EVENT_COLUMNS} FROM events e WHERE status = 'published'"
            " AND starts_at >= ? AND starts_at < ? ORDER BY starts_at, id",
            (start, end),
        )
        return [_event(row) for row in rows]

    @staticmethod
    async def update_time_in(
        tx: Transaction, event_id: int, starts_at: float, ends_at: float, now: float
    ) -> None:
        await tx.execute(
            "UPDATE events SET starts_at = ?, ends_at = ?, revision = revision + 1,"
            " updated_at = ? WHERE id = ?",
            (starts_at, ends_at, now, event_id),
        )

    @staticmethod
    async def update_place_in(
        tx: Transaction,
        event_id: int,
        place: str,
        latitude: float | None,
        longitude: float | None,
        now: float,
    ) -> None:
        await tx.execute(
            "UPDATE events SET place = ?, latitude = ?, longitude = ?, revision = revision + 1,"
            " updated_at = ? WHERE id = ?",
            (place, latitude, longitude, now, event_id),
        )

    @staticmethod
    async def cancel_in(tx: Transaction, event_id: int, now: float) -> bool:
        count = await tx.execute_rowcount(
            "UPDATE events SET status = 'cancelled', revision = revision + 1, updated_at = ?"
            " WHERE id = ? AND status = 'published'",
            (now, event_id),
        )
        return count == 1

    # -- RSVPs ------------------------------------------------------------------------

    async def rsvp(self, event_id: int, user_id: int) -> Rsvp | None:
        row = await self._db.fetchone(
            "SELECT * FROM rsvps WHERE event_id = ? AND user_id = ?", (event_id, user_id)
        )
        return None if row is None else _rsvp(row)

    @staticmethod
    async def rsvp_in(tx: Transaction, event_id: int, user_id: int) -> Rsvp | None:
        row = await tx.fetchone(
            "SELECT * FROM rsvps WHERE event_id = ? AND user_id = ?", (event_id, user_id)
        )
        return None if row is None else _rsvp(row)

    async def rsvps_of(self, user_id: int, event_ids: Sequence[int]) -> dict[int, Rsvp]:
        if not event_ids:
            return {}
        marks = ",".join("?" * len(event_ids))
        rows = await self._db.fetchall(
            f"SELECT * FROM rsvps WHERE user_id = ? AND event_id IN ({marks})",
            (user_id, *event_ids),
            inline=True,
        )
        return {row["event_id"]: _rsvp(row) for row in rows}

    async def answered_events(self, user_id: int, answers: Iterable[str]) -> set[int]:
        wanted = list(answers)
        marks = ",".join("?" * len(wanted))
        rows = await self._db.fetchall(
            f"SELECT event_id FROM rsvps WHERE user_id = ? AND answer IN ({marks})",
            (user_id, *wanted),
            inline=True,
        )
        return {int(row[0]) for row in rows}

    @staticmethod
    async def set_rsvp_in(
        tx: Transaction,
        *,
        event_id: int,
        user_id: int,
        answer: str,
        waitlisted: bool,
        queued_at: float,
        now: float,
    ) -> None:
        await tx.execute(
            "INSERT INTO rsvps (event_id, user_id, answer, waitlisted, queued_at, updated_at)"
            " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (event_id, user_id) DO UPDATE SET"
            " answer = excluded.answer, waitlisted = excluded.waitlisted,"
            " queued_at = excluded.queued_at, updated_at = excluded.updated_at",
            (event_id, user_id, answer, 1 if waitlisted else 0, queued_at, now),
        )

    @staticmethod
    async def confirmed_going_in(tx: Transaction, event_id: int) -> int:
        row = await tx.fetchone(
            "SELECT count(*) FROM rsvps WHERE event_id = ? AND answer = 'going' AND waitlisted = 0",
            (event_id,),
        )
        return int(row[0]) if row else 0

    @staticmethod
    async def first_waitlisted_in(tx: Transaction, event_id: int) -> Rsvp | None:
        row = await tx.fetchone(
            "SELECT * FROM rsvps WHERE event_id = ? AND waitlisted = 1"
            " ORDER BY queued_at, user_id LIMIT 1",
            (event_id,),
        )
        return None if row is None else _rsvp(row)

    @staticmethod
    async def waitlist_position_in(tx: Transaction, event_id: int, queued_at: float) -> int:
        row = await tx.fetchone(
            "SELECT count(*) FROM rsvps WHERE event_id = ? AND waitlisted = 1 AND queued_at <= ?",
            (event_id, queued_at),
        )
        return int(row[0]) if row else 0

    async def waitlist_position(self, event_id: int, queued_at: float) -> int:
        value = await self._db.fetchval(
            "SELECT count(*) FROM rsvps WHERE event_id = ? AND waitlisted = 1 AND queued_at <= ?",
            (event_id, queued_at),
        )
        return int(value or 0)

    async def counts(self, event_ids: Sequence[int]) -> dict[int, RsvpCounts]:
        if not event_ids:
            return {}
        marks = ",".join("?" * len(event_ids))
        rows = await self._db.fetchall(
            "SELECT event_id,"
            " sum(answer = 'going' AND waitlisted = 0), sum(answer = 'maybe'),"
            " sum(answer = 'no'), sum(waitlisted = 1)"
            f" FROM rsvps WHERE event_id IN ({marks}) GROUP BY event_id",
            tuple(event_ids),
        )
        found = {
            int(row[0]): RsvpCounts(int(row[1]), int(row[2]), int(row[3]), int(row[4]))
            for row in rows
        }
        return {event_id: found.get(event_id, RsvpCounts()) for event_id in event_ids}

    @staticmethod
    async def attendees_in(
        tx: Database | Transaction, event_id: int, answers: Iterable[str]
    ) -> list[Attendee]:
        """Residents (active or not) with one of `answers`, and how to reach them.

        Works inside a transaction or on the reader (`tx` may be the `Database`).
        """
        wanted = list(answers)
        marks = ",".join("?" * len(wanted))
        rows = await tx.fetchall(
            "SELECT v.user_id, r.chat_id, r.language, v.answer, v.waitlisted, r.active,"
            " coalesce(p.reminders, 1) AS reminders FROM rsvps v"
            " JOIN residents r ON r.user_id = v.user_id"
            " LEFT JOIN alert_prefs p ON p.user_id = v.user_id"
            f" WHERE v.event_id = ? AND v.answer IN ({marks}) ORDER BY v.queued_at, v.user_id",
            (event_id, *wanted),
        )
        return [
            Attendee(
                user_id=row["user_id"],
                chat_id=row["chat_id"],
                language=row["language"],
                answer=row["answer"],
                waitlisted=bool(row["waitlisted"]),
                reminders=bool(row["reminders"]),
                active=bool(row["active"]),
            )
            for row in rows
        ]

    # -- deep-link opens and the survey hand-off ---------------------------------------

    async def record_open(self, event_id: int, user_id: int, now: float) -> None:
        async with self._db.transaction() as tx:
            await tx.execute(
                "INSERT OR IGNORE INTO event_opens (event_id, user_id, opened_at) VALUES (?, ?, ?)",
                (event_id, user_id, now),
            )

    async def survey_audience(self, event_id: int) -> list[int]:
        """User ids who answered Going/Maybe (waitlist included) or opened the event's link."""
        rows = await self._db.fetchall(
            "SELECT user_id FROM rsvps WHERE event_id = ? AND answer IN ('going', 'maybe')"
            " UNION SELECT user_id FROM event_opens WHERE event_id = ? ORDER BY 1",
            (event_id, event_id),
        )
        return [int(row[0]) for row in rows]

    # -- reminder runs ----------------------------------------------------------------

    async def reminder_candidates(self, now: float, horizon: float) -> list[Event]:
        """Published events starting after `now` but within `horizon` seconds."""
        rows = await self._db.fetchall(
            f"SELECT {_EVENT_COLUMNS} FROM events e WHERE status = 'published'"
            " AND starts_at > ? AND starts_at <= ? ORDER BY starts_at, id",
            (now, now + horizon),
        )
        return [_event(row) for row in rows]

    @staticmethod
    async def reminder_offsets_done_in(tx: Transaction, event_id: int, revision: int) -> set[int]:
        rows = await tx.fetchall(
            "SELECT offset_minutes FROM reminder_runs WHERE event_id = ? AND revision = ?",
            (event_id, revision),
        )
        return {int(row[0]) for row in rows}

    @staticmethod
    async def record_reminder_in(
        tx: Transaction,
        *,
        event_id: int,
        revision: int,
        offset_minutes: int,
        outcome: str,
        recipients: int,
        now: float,
    ) -> None:
        await tx.execute(
            "INSERT OR IGNORE INTO reminder_runs (event_id, revision, offset_minutes, outcome,"
            " recipients, at) VALUES (?, ?, ?, ?, ?, ?)",
            (event_id, revision, offset_minutes, outcome, recipients, now),
        )

    async def reminder_runs(self, event_id: int) -> list[tuple[int, int, str, int]]:
        """(revision, offset_minutes, outcome, recipients) rows, for tests and admins."""
        rows = await self._db.fetchall(
            "SELECT revision, offset_minutes, outcome, recipients FROM reminder_runs"
            " WHERE event_id = ? ORDER BY revision, offset_minutes DESC",
            (event_id,),
        )
        return [(int(r[0]), int(r[1]), str(r[2]), int(r[3])) for r in rows]

    # -- weekly digest runs -----------------------------------------------------------

    @staticmethod
    async def digest_done_in(tx: Transaction, slot: str) -> bool:
        return await tx.fetchone("SELECT 1 FROM digest_runs WHERE slot = ?", (slot,)) is not None

    @staticmethod
    async def record_digest_in(tx: Transaction, slot: str, recipients: int, now: float) -> None:
        await tx.execute(
            "INSERT OR IGNORE INTO digest_runs (slot, recipients, at) VALUES (?, ?, ?)",
            (slot, recipients, now),
        )


async def cancel_outbox_batches_in(tx: Transaction, batches: Sequence[str], now: float) -> int:
    """Cancel the pending outbox rows of `batches` inside the caller's transaction."""
    if not batches:
        return 0
    return await tx.execute_rowcount(
        "UPDATE outbox SET status = 'cancelled', error = 'superseded', updated_at = ?"
        f" WHERE status = 'pending' AND batch IN ({','.join('?' * len(batches))})",
        (now, *batches),
    )


async def claim_dialog_in(tx: Transaction, chat_id: int, flow: str, version: int) -> bool:
    """Close a dialog if it is still at `version`; False if it moved on or is gone.

    Done in the transaction of what the dialog confirms, a second tap on a confirm button
    finds nothing to claim and changes nothing.
    """
    count = await tx.execute_rowcount(
        "DELETE FROM dialogs WHERE chat_id = ? AND flow = ? AND version = ?",
        (chat_id, flow, version),
    )
    return count == 1
