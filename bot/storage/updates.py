"""Handled update ids, so an update delivered twice has one effect."""

from __future__ import annotations

from bot.storage.db import Database


class UpdateLog:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def claim(self, update_id: int, now: float) -> bool:
        """Record the update; False when it was handled before."""
        # One statement, its own transaction; RETURNING gives a row only when inserted.
        inserted = await self._db.write(
            "INSERT OR IGNORE INTO processed_updates (update_id, processed_at) VALUES (?, ?)"
            " RETURNING update_id",
            (update_id, now),
        )
        return bool(inserted)

    async def prune(self, older_than: float) -> int:
        async with self._db.transaction() as tx:
            return await tx.execute_rowcount(
                "DELETE FROM processed_updates WHERE processed_at < ?", (older_than,)
            )
