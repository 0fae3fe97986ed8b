"""Stored conversation state: which flow and step a private chat is in."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from bot.storage.db import Database, Transaction


@dataclass(slots=True)
class Dialog:
    chat_id: int
    user_id: int
    flow: str
    step: str
    data: dict[str, Any] = field(default_factory=dict)
    version: int = 1
    updated_at: float = 0.0


class DialogRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def get(self, chat_id: int) -> Dialog | None:
        row = await self._db.fetchone("SELECT * FROM dialogs WHERE chat_id = ?", (chat_id,))
        if row is None:
            return None
        return Dialog(
            chat_id=row["chat_id"],
            user_id=row["user_id"],
            flow=row["flow"],
            step=row["step"],
            data=json.loads(row["data"]),
            version=row["version"],
            updated_at=row["updated_at"],
        )

    async def save(self, dialog: Dialog, now: float) -> Dialog:
        """Store the dialog's new step; its version increases by one."""
        async with self._db.transaction() as tx:
            await self.save_in(tx, dialog, now)
        return dialog

    @staticmethod
    async def save_in(tx: Transaction, dialog: Dialog, now: float) -> None:
        row = await tx.fetchone("SELECT version FROM dialogs WHERE chat_id = ?", (dialog.chat_id,))
        dialog.version = (row["version"] + 1) if row else 1
        dialog.updated_at = now
        await tx.execute(
            "INSERT INTO dialogs (chat_id, user_id, flow, step, data, version, updated_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (chat_id) DO UPDATE SET"
            " user_id = excluded.user_id, flow = excluded.flow, step = excluded.step,"
            " data = excluded.data, version = excluded.version, updated_at = excluded.updated_at",
            (
                dialog.chat_id,
                dialog.user_id,
                dialog.flow,
                dialog.step,
                json.dumps(dialog.data, ensure_ascii=False),
                dialog.version,
                now,
            ),
        )

    async def clear(self, chat_id: int) -> bool:
        async with self._db.transaction() as tx:
            return await self.clear_in(tx, chat_id)

    @staticmethod
    async def clear_in(tx: Transaction, chat_id: int) -> bool:
        return await tx.execute_rowcount("DELETE FROM dialogs WHERE chat_id = ?", (chat_id,)) > 0
