"""Stored conversation state: which flow and step a private chat is in."""

from __future__ import annotations

import json
import sqlite3
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


# One statement: SQLite bumps the version and gives it back (RETURNING).
_SAVE = (
    "INSERT INTO dialogs (chat_id, user_id, flow, step, data, version, updated_at)"
    " VALUES (?, ?, ?, ?, ?, 1, ?) ON CONFLICT (chat_id) DO UPDATE SET"
    " user_id = excluded.user_id, flow = excluded.flow, step = excluded.step,"
    " data = excluded.data, version = dialogs.version + 1,"
    " updated_at = excluded.updated_at RETURNING version"
)


def _save_params(dialog: Dialog, now: float) -> tuple[object, ...]:
    data = json.dumps(dialog.data, ensure_ascii=False)
    return (dialog.chat_id, dialog.user_id, dialog.flow, dialog.step, data, now)


def _saved(dialog: Dialog, row: sqlite3.Row, now: float) -> None:
    dialog.version = int(row["version"])
    dialog.updated_at = now


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
        (row,) = await self._db.write(_SAVE, _save_params(dialog, now))
        _saved(dialog, row, now)
        return dialog

    @staticmethod
    async def save_in(tx: Transaction, dialog: Dialog, now: float) -> None:
        row = await tx.fetchone(_SAVE, _save_params(dialog, now))
        assert row is not None
        _saved(dialog, row, now)

    async def clear(self, chat_id: int) -> bool:
        async with self._db.transaction(inline=True) as tx:
            return await self.clear_in(tx, chat_id)

    @staticmethod
    async def clear_in(tx: Transaction, chat_id: int) -> bool:
        return await tx.execute_rowcount("DELETE FROM dialogs WHERE chat_id = ?", (chat_id,)) > 0
