"""Persistence: the SQLite database, migrations and one repository per aggregate."""

from bot.storage.db import Database, Transaction
from bot.storage.dialogs import Dialog, DialogRepository
from bot.storage.migrations import migrate
from bot.storage.outbox import OutboxItem, OutboxRepository, OutboxRow, Outcome
from bot.storage.residents import Resident, ResidentRepository
from bot.storage.updates import UpdateLog

__all__ = [
    "Database",
    "Dialog",
    "DialogRepository",
    "OutboxItem",
    "OutboxRepository",
    "OutboxRow",
    "Outcome",
    "Resident",
    "ResidentRepository",
    "Transaction",
    "UpdateLog",
    "migrate",
]
