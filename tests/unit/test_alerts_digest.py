"""When the weekly digest is due, in the city's time, whatever the server's clock says."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

import pytest

from bot.clock import ManualClock
from bot.config import City
from bot.i18n import Catalogs
from bot.services.alerts import AlertService
from bot.storage import Database
from bot.storage.events import EventRepository
from bot.storage.subscriptions import SubscriptionRepository
from bot.views.events import EventMessages

TZ = ZoneInfo("America/New_York")


def service(
    db: Database, city: City, catalogs: Catalogs, clock: ManualClock | None = None
) -> AlertService:
    return AlertService(
        db=db,
        events=EventRepository(db),
        subscriptions=SubscriptionRepository(db),
        city=city,
        catalogs=catalogs,
        clock=clock or ManualClock(),
        renderer=EventMessages(city),
    )


@pytest.mark.parametrize(
    ("now", "slot"),
    [
        (datetime(2026, 12, 6, 17, 0, tzinfo=TZ), datetime(2026, 12, 6, 17, 0, tzinfo=TZ)),
        (datetime(2026, 12, 6, 16, 59, tzinfo=TZ), datetime(2026, 11, 29, 17, 0, tzinfo=TZ)),
        (datetime(2026, 12, 9, 3, 0, tzinfo=TZ), datetime(2026, 12, 6, 17, 0, tzinfo=TZ)),
        # 22:30 UTC on Sunday is already Sunday 17:30 in Worcester (EST, UTC-5).
        (datetime(2026, 12, 6, 22, 30, tzinfo=UTC), datetime(2026, 12, 6, 17, 0, tzinfo=TZ)),
        # In summer (EDT, UTC-4) the same local time is 21:00 UTC.
        (datetime(2027, 7, 4, 21, 0, tzinfo=UTC), datetime(2027, 7, 4, 17, 0, tzinfo=TZ)),
    ],
)
async def test_digest_slot(
    db: Database, city: City, catalogs: Catalogs, now: datetime, slot: datetime
) -> None:
    assert service(db, city, catalogs).digest_slot(now) == slot


async def test_digest_day_and_time_come_from_the_config(
    db: Database, city: City, catalogs: Catalogs
) -> None:
    monday_morning = replace(city, digest_weekday=0, digest_time=time(8, 30))
    alerts = service(db, monday_morning, catalogs)
    assert alerts.digest_slot(datetime(2026, 12, 8, 12, 0, tzinfo=TZ)) == datetime(
        2026, 12, 7, 8, 30, tzinfo=TZ
    )


async def test_no_digest_is_planned_when_nothing_is_upcoming(
    db: Database, city: City, catalogs: Catalogs
) -> None:
    clock = ManualClock(datetime(2026, 12, 6, 17, 1, tzinfo=TZ))
    alerts = service(db, city, catalogs, clock)
    assert await alerts.plan_digest() == 0
    assert await db.fetchval("SELECT recipients FROM digest_runs WHERE slot = '2026-12-06'") == 0
