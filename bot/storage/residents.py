"""Residents: one row per Telegram user who talked to the bot."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from bot.storage.db import Database, Transaction

SEEN_EVERY = 300.0  # last_seen_at is kept to within five minutes


@dataclass(frozen=True, slots=True)
class Resident:
    user_id: int
    chat_id: int
    language: str
    language_source: str
    detect_offered: bool
    active: bool
    created_at: float
    last_seen_at: float

    @property
    def chose_language(self) -> bool:
        return self.language_source == "chosen"


def _resident(row: sqlite3.Row) -> Resident:
    return Resident(
        user_id=row["user_id"],
        chat_id=row["chat_id"],
        language=row["language"],
        language_source=row["language_source"],
        detect_offered=bool(row["detect_offered"]),
        active=bool(row["active"]),
        created_at=row["created_at"],
        last_seen_at=row["last_seen_at"],
    )


class ResidentRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def get(self, user_id: int) -> Resident | None:
        row = await self._db.fetchone("SELECT * FROM residents WHERE user_id = ?", (user_id,))
        return None if row is None else _resident(row)

    async def touch(
        self, *, user_id: int, chat_id: int, language: str, language_source: str, now: float
    ) -> Resident:
        """Create the resident on first contact, else mark them seen (and active again).

        An active resident seen less than `SEEN_EVERY` seconds ago is only read: this runs
        for every update, and a write each time would be the busiest write of all.
        """
        row = await self._db.fetchone("SELECT * FROM residents WHERE user_id = ?", (user_id,))
        if row is not None and row["active"] and 0 <= now - row["last_seen_at"] < SEEN_EVERY:
            return _resident(row)
        async with self._db.transaction(inline=True) as tx:
            await tx.execute(
                "INSERT INTO residents (user_id, chat_id, language, language_source,"
                " created_at, last_seen_at) VALUES (?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (user_id) DO UPDATE SET last_seen_at = excluded.last_seen_at,"
                " active = 1",
                (user_id, chat_id, language, language_source, now, now),
            )
            row = await tx.fetchone("SELECT * FROM residents WHERE user_id = ?", (user_id,))
        assert row is not None
        return _resident(row)

    async def set_language(self, user_id: int, language: str, source: str) -> None:
        async with self._db.transaction(inline=True) as tx:
            await tx.execute(
                "UPDATE residents SET language = ?, language_source = ? WHERE user_id = ?",
                (language, source, user_id),
            )

    async def mark_detect_offered(self, user_id: int) -> None:
        async with self._db.transaction(inline=True) as tx:
            await tx.execute(
                "UPDATE residents SET detect_offered = 1 WHERE user_id = ?", (user_id,)
            )

    async def set_active(self, user_id: int, active: bool) -> None:
        async with self._db.transaction(inline=True) as tx:
            await self.set_active_in(tx, user_id, active)

    @staticmethod
    async def set_active_in(tx: Transaction, user_id: int, active: bool) -> None:
        await tx.execute(
            "UPDATE residents SET active = ? WHERE user_id = ?", (1 if active else 0, user_id)
        )

    async def count(self, *, active_only: bool = True) -> int:
        # Active residents are counted by triggers (migration 0008), per language.
        if active_only:
            sql = "SELECT coalesce(sum(active), 0) FROM resident_tallies"
        else:
            sql = "SELECT count(*) FROM residents"
        return int(await self._db.fetchval(sql))
