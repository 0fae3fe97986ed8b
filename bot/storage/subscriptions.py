"""What each resident wants to hear about: areas, event types and switches."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from bot.storage.db import Database, Transaction

CITYWIDE = "*"
PREFS = ("reminders", "digest", "broadcasts", "show_all_events", "transparency")


@dataclass(frozen=True, slots=True)
class AlertSettings:
    user_id: int
    areas: frozenset[str] = frozenset()
    muted_types: frozenset[str] = frozenset()
    reminders: bool = True
    digest: bool = True
    broadcasts: bool = True
    show_all_events: bool = False
    transparency: bool = False  # the monthly transparency digest: opt-in (migration 0005)

    @property
    def subscribed(self) -> bool:
        return bool(self.areas)

    @property
    def silent(self) -> bool:
        """Nothing at all will be sent unprompted (what /stop leaves)."""
        return not (
            self.areas or self.reminders or self.digest or self.broadcasts or self.transparency
        )


@dataclass(frozen=True, slots=True)
class Recipient:
    """A resident to deliver to: the private chat and the language to write in."""

    user_id: int
    chat_id: int
    language: str


@dataclass(slots=True)
class DigestReader:
    """A resident who wants the weekly digest, with what they follow."""

    recipient: Recipient
    areas: set[str] = field(default_factory=set)
    muted_types: set[str] = field(default_factory=set)


def _marks(values: Sequence[object]) -> str:
    return ",".join("?" * len(values))


class SubscriptionRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def settings(self, user_id: int) -> AlertSettings:
        areas = await self._db.fetchall(
            "SELECT area FROM subscriptions WHERE user_id = ?", (user_id,), inline=True
        )
        muted = await self._db.fetchall(
            "SELECT event_type FROM muted_event_types WHERE user_id = ?", (user_id,), inline=True
        )
        prefs = await self._db.fetchone("SELECT * FROM alert_prefs WHERE user_id = ?", (user_id,))
        return AlertSettings(
            user_id=user_id,
            areas=frozenset(str(row[0]) for row in areas),
            muted_types=frozenset(str(row[0]) for row in muted),
            reminders=bool(prefs["reminders"]) if prefs else True,
            digest=bool(prefs["digest"]) if prefs else True,
            broadcasts=bool(prefs["broadcasts"]) if prefs else True,
            show_all_events=bool(prefs["show_all_events"]) if prefs else False,
            transparency=bool(prefs["transparency"]) if prefs else False,
        )

    async def set_area(self, user_id: int, area: str, on: bool, now: float) -> None:
        async with self._db.transaction(inline=True) as tx:
            await self.set_area_in(tx, user_id, area, on, now)

    @staticmethod
    async def set_area_in(tx: Transaction, user_id: int, area: str, on: bool, now: float) -> None:
        if on:
            await tx.execute(
                "INSERT OR IGNORE INTO subscriptions (user_id, area, created_at) VALUES (?, ?, ?)",
                (user_id, area, now),
            )
        else:
            await tx.execute(
                "DELETE FROM subscriptions WHERE user_id = ? AND area = ?", (user_id, area)
            )

    async def set_event_type(self, user_id: int, event_type: str, on: bool) -> None:
        async with self._db.transaction(inline=True) as tx:
            if on:
                await tx.execute(
                    "DELETE FROM muted_event_types WHERE user_id = ? AND event_type = ?",
                    (user_id, event_type),
                )
            else:
                await tx.execute(
                    "INSERT OR IGNORE INTO muted_event_types (user_id, event_type) VALUES (?, ?)",
                    (user_id, event_type),
                )

    async def set_pref(self, user_id: int, name: str, on: bool, now: float) -> None:
        if name not in PREFS:
            raise ValueError(f"unknown alert preference {name!r}")
        async with self._db.transaction(inline=True) as tx:
            await self.set_pref_in(tx, user_id, name, on, now)

    @staticmethod
    async def set_pref_in(tx: Transaction, user_id: int, name: str, on: bool, now: float) -> None:
        # `name` is checked against PREFS by the caller; it is a column name, not a value.
        await tx.execute(
            "INSERT INTO alert_prefs (user_id, updated_at) VALUES (?, ?)"
            " ON CONFLICT (user_id) DO NOTHING",
            (user_id, now),
        )
        await tx.execute(
            f"UPDATE alert_prefs SET {name} = ?, updated_at = ? WHERE user_id = ?",
            (1 if on else 0, now, user_id),
        )

    async def stop(self, user_id: int, now: float) -> None:
        """Unsubscribe from everything: areas, reminders, digests and broadcasts."""
        async with self._db.transaction(inline=True) as tx:
            await tx.execute("DELETE FROM subscriptions WHERE user_id = ?", (user_id,))
            for name in ("reminders", "digest", "broadcasts", "transparency"):
                await self.set_pref_in(tx, user_id, name, False, now)

    # -- audiences ----------------------------------------------------------------------

    @staticmethod
    async def event_audience_in(
        tx: Database | Transaction,
        *,
        areas: Sequence[str],
        event_type: str,
        reminders_only: bool = False,
    ) -> list[Recipient]:
        """Active residents who follow one of `areas` ('*': any area) and this event type.

        Works inside a transaction or on the reader (`tx` may be the `Database`).
        """
        if CITYWIDE in areas:
            following = "r.user_id IN (SELECT user_id FROM subscriptions)"
            params: list[object] = []
        else:
            following = (
                f"r.user_id IN (SELECT user_id FROM subscriptions WHERE area IN ({_marks(areas)}))"
            )
            params = list(areas)
        reminders = " AND coalesce(p.reminders, 1) = 1" if reminders_only else ""
        rows = await tx.fetchall(
            "SELECT r.user_id, r.chat_id, r.language FROM residents r"
            " LEFT JOIN alert_prefs p ON p.user_id = r.user_id"
            f" WHERE r.active = 1 AND {following}"
            " AND NOT EXISTS (SELECT 1 FROM muted_event_types m"
            "  WHERE m.user_id = r.user_id AND m.event_type = ?)"
            f"{reminders} ORDER BY r.user_id",
            (*params, event_type),
        )
        return [Recipient(row[0], row[1], row[2]) for row in rows]

    @staticmethod
    def _broadcast_filter(
        neighborhoods: Sequence[str], languages: Sequence[str]
    ) -> tuple[str, list[object]]:
        sql = " WHERE r.active = 1 AND coalesce(p.broadcasts, 1) = 1"
        params: list[object] = []
        if neighborhoods:
            sql += (
                " AND r.user_id IN (SELECT user_id FROM subscriptions"
                f" WHERE area IN ({_marks(neighborhoods)}))"
            )
            params += neighborhoods
        if languages:
            sql += f" AND r.language IN ({_marks(languages)})"
            params += languages
        return sql, params

    async def broadcast_audience_in(
        self,
        tx: Transaction,
        neighborhoods: Sequence[str],
        languages: Sequence[str],
        *,
        after_user_id: int = 0,
        limit: int = -1,
    ) -> list[Recipient]:
        """Active residents who accept broadcasts, narrowed to neighborhoods and languages.

        In user-id order; `after_user_id` and `limit` read it a page at a time.
        """
        where, params = self._broadcast_filter(neighborhoods, languages)
        rows = await tx.fetchall(
            "SELECT r.user_id, r.chat_id, r.language FROM residents r"
            f" LEFT JOIN alert_prefs p ON p.user_id = r.user_id{where} AND r.user_id > ?"
            " ORDER BY r.user_id LIMIT ?",
            (*params, after_user_id, limit),
        )
        return [Recipient(row[0], row[1], row[2]) for row in rows]

    async def broadcast_audience_count(
        self, neighborhoods: Sequence[str], languages: Sequence[str]
    ) -> int:
        """How many residents `broadcast_audience_in` reads.

        For the whole city or one neighborhood: the active residents (or followers) the
        tallies of migration 0008 count, less those among them who switched broadcasts
        off (few, and indexed). Followers of several neighborhoods are counted once, by
        reading who follows them.
        """
        in_languages = f" AND language IN ({_marks(languages)})" if languages else ""
        # The residents who switched broadcasts off, read from their own index first.
        opted_out = (
            "SELECT count(*) FROM alert_prefs p CROSS JOIN residents r ON r.user_id = p.user_id"
            " WHERE p.broadcasts != 1 AND r.active = 1"
            + (f" AND r.language IN ({_marks(languages)})" if languages else "")
        )
        if not neighborhoods:
            value = await self._db.fetchval(
                f"SELECT (SELECT coalesce(sum(active), 0) FROM resident_tallies"
                f" WHERE true{in_languages}) - ({opted_out})",
                [*languages, *languages],
            )
        elif len(neighborhoods) == 1:
            value = await self._db.fetchval(
                "SELECT (SELECT coalesce(sum(followers), 0) FROM follower_tallies"
                f" WHERE area = ?{in_languages}) - ({opted_out} AND EXISTS (SELECT 1"
                " FROM subscriptions s WHERE s.user_id = p.user_id AND s.area = ?))",
                [neighborhoods[0], *languages, *languages, neighborhoods[0]],
            )
        else:
            value = await self._db.fetchval(
                "SELECT count(*) FROM (SELECT DISTINCT user_id FROM subscriptions"
                f" WHERE area IN ({_marks(neighborhoods)})) s"
                " CROSS JOIN residents r ON r.user_id = s.user_id WHERE r.active = 1"
                + (f" AND r.language IN ({_marks(languages)})" if languages else "")
                + " AND NOT EXISTS (SELECT 1 FROM alert_prefs p"
                " WHERE p.user_id = s.user_id AND p.broadcasts != 1)",
                [*neighborhoods, *languages],
            )
        return int(value or 0)

    async def digest_readers_in(self, tx: Transaction) -> list[DigestReader]:
        """Active residents with the weekly digest on, with their areas and muted types."""
        rows = await tx.fetchall(
            "SELECT r.user_id, r.chat_id, r.language FROM residents r"
            " LEFT JOIN alert_prefs p ON p.user_id = r.user_id"
            " WHERE r.active = 1 AND coalesce(p.digest, 1) = 1 ORDER BY r.user_id"
        )
        readers = {row[0]: DigestReader(Recipient(row[0], row[1], row[2])) for row in rows}
        for user_id, area in await tx.fetchall("SELECT user_id, area FROM subscriptions"):
            if user_id in readers:
                readers[user_id].areas.add(area)
        for user_id, event_type in await tx.fetchall(
            "SELECT user_id, event_type FROM muted_event_types"
        ):
            if user_id in readers:
                readers[user_id].muted_types.add(event_type)
        return list(readers.values())

    @staticmethod
    async def rsvp_map_in(tx: Transaction, event_ids: Iterable[int]) -> dict[int, set[int]]:
        """user id -> events among `event_ids` they answered Going or Maybe."""
        ids = list(event_ids)
        found: dict[int, set[int]] = defaultdict(set)
        if not ids:
            return found
        rows = await tx.fetchall(
            "SELECT user_id, event_id FROM rsvps WHERE answer IN ('going', 'maybe')"
            f" AND event_id IN ({_marks(ids)})",
            ids,
        )
        for user_id, event_id in rows:
            found[user_id].add(event_id)
        return found

    async def follower_count(self, area: str) -> int:
        value = await self._db.fetchval(
            "SELECT count(*) FROM subscriptions WHERE area = ?", (area,)
        )
        return int(value or 0)
