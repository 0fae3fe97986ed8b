"""The migration stairway: every migration applies to a fresh database, and again is a no-op."""

from __future__ import annotations

from pathlib import Path

from bot.storage import Database, migrate
from bot.storage.migrations import applied_versions, discover


async def test_stairway_applies_every_migration_then_nothing(tmp_path: Path) -> None:
    db = await Database.open(tmp_path / "fresh.sqlite3")
    try:
        applied = await migrate(db)
        assert [m.version for m in applied] == [m.version for m in discover()]
        assert await applied_versions(db) == {m.version for m in discover()}
        assert await migrate(db) == []
        assert await db.integrity_check(quick=False) == "ok"
        assert await db.fetchval("PRAGMA foreign_keys") == 1
        assert (await db.fetchval("PRAGMA journal_mode")).lower() == "wal"
    finally:
        await db.close()


async def test_each_migration_step_applies_on_top_of_the_previous(tmp_path: Path) -> None:
    migrations = discover()
    for count in range(1, len(migrations) + 1):
        folder = tmp_path / f"step{count}"
        folder.mkdir()
        for migration in migrations[:count]:
            (folder / migration.path.name).write_text(
                migration.path.read_text(encoding="utf-8"), encoding="utf-8"
            )
        db = await Database.open(tmp_path / f"db{count}.sqlite3")
        try:
            assert len(await migrate(db, folder)) == count
        finally:
            await db.close()


async def test_failed_migration_leaves_nothing_half_done(tmp_path: Path) -> None:
    folder = tmp_path / "migrations"
    folder.mkdir()
    (folder / "0001_ok.sql").write_text("CREATE TABLE a (x INTEGER);", encoding="utf-8")
    (folder / "0002_broken.sql").write_text(
        "CREATE TABLE b (y INTEGER);\nINSERT INTO nowhere VALUES (1);", encoding="utf-8"
    )
    db = await Database.open(tmp_path / "db.sqlite3")
    try:
        try:
            await migrate(db, folder)
        except Exception as error:  # the broken statement stops the run
            assert "nowhere" in str(error)
        else:
            raise AssertionError("a broken migration must fail")
        assert await applied_versions(db) == {1}
        assert await db.fetchval("SELECT count(*) FROM sqlite_master WHERE name = 'b'") == 0
    finally:
        await db.close()
