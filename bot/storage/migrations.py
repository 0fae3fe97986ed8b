"""Apply `migrations/NNNN_description.sql` in order, each in its own transaction."""

from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from bot.config import PROJECT_ROOT
from bot.storage.db import Database

MIGRATIONS_DIR = PROJECT_ROOT / "migrations"
_NAME_RE = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    name: str
    path: Path

    def statements(self) -> list[str]:
        """Split the script into complete statements (triggers included)."""
        statements: list[str] = []
        buffer = ""
        for line in self.path.read_text(encoding="utf-8").splitlines(keepends=True):
            buffer += line
            if sqlite3.complete_statement(buffer):
                if buffer.strip():
                    statements.append(buffer.strip())
                buffer = ""
        if buffer.strip() and not buffer.strip().startswith("--"):
            raise ValueError(f"{self.path.name}: incomplete statement at the end")
        return statements


def discover(directory: Path = MIGRATIONS_DIR) -> list[Migration]:
    migrations = []
    for path in sorted(directory.glob("*.sql")):
        match = _NAME_RE.match(path.name)
        if not match:
            raise ValueError(f"{path.name}: migration files are named NNNN_description.sql")
        migrations.append(Migration(int(match.group(1)), match.group(2), path))
    versions = [m.version for m in migrations]
    if len(set(versions)) != len(versions):
        raise ValueError("two migrations share a version number")
    return migrations


async def applied_versions(db: Database) -> set[int]:
    exists = await db.fetchval(
        "SELECT count(*) FROM sqlite_master WHERE type='table' AND name='schema_migrations'"
    )
    if not exists:
        return set()
    rows = await db.fetchall("SELECT version FROM schema_migrations")
    return {int(row[0]) for row in rows}


async def migrate(db: Database, directory: Path = MIGRATIONS_DIR) -> list[Migration]:
    """Apply every pending migration; return the ones applied (empty when up to date)."""
    async with db.transaction() as tx:
        await tx.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations ("
            " version INTEGER PRIMARY KEY, name TEXT NOT NULL,"
            " applied_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')))"
        )
    done = await applied_versions(db)
    applied = []
    for migration in discover(directory):
        if migration.version in done:
            continue
        async with db.transaction() as tx:
            for statement in migration.statements():
                await tx.execute(statement)
            await tx.execute(
                "INSERT INTO schema_migrations (version, name) VALUES (?, ?)",
                (migration.version, migration.name),
            )
        applied.append(migration)
    return applied
