"""Shared fixtures: settings for the example city, a migrated database, a clock."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from bot.clock import ManualClock
from bot.config import EXAMPLE_CITY, City, Settings, load_city, load_settings
from bot.i18n import Catalogs
from bot.storage import Database, migrate

if TYPE_CHECKING:
    from tests.harness import Harness

# Opt in to PTB's future `retry_after` type, as the bot's entry point does.
os.environ.setdefault("PTB_TIMEDELTA", "1")

TEST_TOKEN = "123456:TEST-TOKEN-abcdefghijklmnopqrstuvwxyz"
STAFF_CHAT_ID = -1001000000001
ADMIN_ID = 900001


@pytest.fixture(scope="session")
def city() -> City:
    return load_city(EXAMPLE_CITY)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return load_settings(
        {
            "BOT_TOKEN": TEST_TOKEN,
            "STAFF_CHAT_ID": str(STAFF_CHAT_ID),
            "ADMIN_IDS": str(ADMIN_ID),
            "DATABASE_PATH": str(tmp_path / "bot.sqlite3"),
            "HASH_SECRET": "test-hash-secret-0123456789",
        }
    )


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = await Database.open(tmp_path / "test.sqlite3")
    await migrate(database)
    yield database
    await database.close()


@pytest.fixture(scope="session")
def catalogs(city: City) -> Catalogs:
    return Catalogs(city.languages, city.timezone)


@pytest.fixture
async def harness(settings: Settings, clock: ManualClock) -> AsyncIterator[Harness]:
    """The started application on the Telegram fake (see tests/harness.py)."""
    from tests.harness import Harness

    instance = Harness(settings, clock)
    await instance.start()
    try:
        yield instance
    finally:
        await instance.stop()
