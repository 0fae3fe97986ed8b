"""The statistics queries on a fixed dataset in a real (migrated) database."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from bot.clock import ManualClock
from bot.config import City
from bot.services.stats import DAY, Period, PeriodKind, StatsService, month_bounds
from bot.storage import Database
from bot.storage.stats import StatsRepository
from tests.stats_reference import events_between, open_created_at, report_facts

NOW = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)
T = NOW.timestamp()
HOUR = 3600.0


async def add_resident(
    db: Database, user_id: int, language: str = "en", *, active: bool = True
) -> None:
    async with db.transaction() as tx:
        await tx.execute(
            "INSERT INTO residents (user_id, chat_id, language, active, created_at, last_seen_at)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (user_id, user_id, language, 1 if active else 0, T - 100 * DAY, T),
        )


async def follow(db: Database, user_id: int, *areas: str) -> None:
    async with db.transaction() as tx:
        for area in areas:
            await tx.execute(
                "INSERT INTO subscriptions (user_id, area, created_at) VALUES (?, ?, ?)",
                (user_id, area, T),
            )


async def opt_in(db: Database, user_id: int, on: bool = True) -> None:
    async with db.transaction() as tx:
        await tx.execute(
            "INSERT INTO alert_prefs (user_id, transparency, updated_at) VALUES (?, ?, ?)",
            (user_id, 1 if on else 0, T),
        )


_counter = iter(range(1, 10_000))


async def add_report(
    db: Database,
    category: str,
    neighborhood: str | None,
    status: str,
    *,
    filed: float,
    ack_after_h: float | None = None,
    status_after_h: float | None = None,
    anonymous: bool = True,
    resident_id: int = 555001,
    name: str | None = None,
    photos: int = 0,
    latitude: float | None = None,
    longitude: float | None = None,
    address: str | None = None,
    description: str = "Something to look at, please.",
) -> str:
    number = next(_counter)
    reference = f"R-2026-{number:06d}"
    async with db.transaction() as tx:
        await tx.execute(
            "INSERT INTO reports (reference, resident_id, resident_chat_id, category,"
            " neighborhood, address, latitude, longitude, description, photos, language,"
            " anonymous, reporter_name, reporter_username, pseudonym, status, status_at,"
            " created_at, updated_at, acknowledged_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'en', ?, ?, ?, 'B00B', ?, ?, ?, ?, ?)",
            (
                reference,
                resident_id,
                resident_id,
                category,
                neighborhood,
                address,
                latitude,
                longitude,
                description,
                json.dumps([f"photo-{number}-{i}" for i in range(photos)]),
                1 if anonymous else 0,
                name,
                None if name is None else "user_name",
                status,
                None if status_after_h is None else filed + status_after_h * HOUR,
                filed,
                filed + (status_after_h or 0) * HOUR,
                None if ack_after_h is None else filed + ack_after_h * HOUR,
            ),
        )
    return reference


async def add_event(
    db: Database, event_id: int, starts: float, *, capacity: int | None, cancelled: bool = False
) -> None:
    async with db.transaction() as tx:
        await tx.execute(
            "INSERT INTO events (id, event_type, title, citywide, starts_at, ends_at, capacity,"
            " status, created_by, created_at, updated_at)"
            " VALUES (?, 'meeting', ?, 1, ?, ?, ?, ?, 1, ?, ?)",
            (
                event_id,
                json.dumps({"en": f"Meeting {event_id}", "es": f"Reunión {event_id}"}),
                starts,
                starts + 2 * HOUR,
                capacity,
                "cancelled" if cancelled else "published",
                T - 40 * DAY,
                T - 40 * DAY,
            ),
        )


async def rsvp(db: Database, event_id: int, user_id: int, answer: str, waitlisted: bool = False):  # type: ignore[no-untyped-def]
    async with db.transaction() as tx:
        await tx.execute(
            "INSERT INTO rsvps (event_id, user_id, answer, waitlisted, queued_at, updated_at)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (event_id, user_id, answer, 1 if waitlisted else 0, T, T),
        )


@pytest.fixture
async def dataset(db: Database) -> Database:
    """Residents, reports, events and a survey around December 1, 2026."""
    for user_id, language in ((1, "en"), (2, "es"), (3, "es"), (4, "en"), (5, "vi")):
        await add_resident(db, user_id, language)
    await add_resident(db, 6, "es", active=False)
    await follow(db, 1, "main-south", "downtown")
    await follow(db, 2, "main-south")
    await follow(db, 3, "main-south", "*")
    await follow(db, 6, "main-south")  # inactive: not counted
    await opt_in(db, 1)
    await opt_in(db, 2)
    await opt_in(db, 4, on=False)
    await opt_in(db, 6)  # inactive

    # Reports in the last 30 days ...
    await add_report(
        db, "noise", "main-south", "resolved", filed=T - 2 * DAY, ack_after_h=1, status_after_h=10
    )
    await add_report(
        db,
        "noise",
        "main-south",
        "acknowledged",
        filed=T - 3 * DAY,
        ack_after_h=3,
        status_after_h=3,
    )
    await add_report(db, "road", "downtown", "new", filed=T - 10 * DAY)
    # ... one in the 30 days before, one 100 days ago (still open), one a year ago
    await add_report(
        db, "noise", "main-south", "resolved", filed=T - 40 * DAY, ack_after_h=5, status_after_h=50
    )
    await add_report(
        db,
        "road",
        "downtown",
        "in_progress",
        filed=T - 100 * DAY,
        ack_after_h=24,
        status_after_h=48,
    )
    await add_report(
        db, "graffiti", None, "not_actionable", filed=T - 365 * DAY, ack_after_h=2, status_after_h=2
    )

    await add_event(db, 10, T - 5 * DAY, capacity=4)
    await add_event(db, 11, T - 6 * DAY, capacity=None, cancelled=True)
    await add_event(db, 12, T - 50 * DAY, capacity=None)
    await rsvp(db, 10, 1, "going")
    await rsvp(db, 10, 2, "going")
    await rsvp(db, 10, 3, "maybe")
    await rsvp(db, 10, 4, "no")
    await rsvp(db, 10, 5, "going", waitlisted=True)
    await rsvp(db, 11, 1, "going")
    await rsvp(db, 12, 1, "going")

    async with db.transaction() as tx:
        await tx.execute(
            "INSERT INTO surveys (id, definition, source, anonymous, status, published_at,"
            " updated_at) VALUES ('meet', ?, '', 1, 'open', ?, ?)",
            (json.dumps({"titles": {"en": "After the meeting"}}), T - 60 * DAY, T - 60 * DAY),
        )
        for number, (day, status) in enumerate(
            [("2026-11-28", "complete"), ("2026-11-29", "in_progress"), ("2026-10-01", "complete")]
        ):
            await tx.execute(
                "INSERT INTO survey_responses (id, survey_id, respondent, language, status,"
                " started_on) VALUES (?, 'meet', ?, 'en', ?, ?)",
                (f"r{number}", f"who{number}", status, day),
            )
        for user_id, when in ((1, T - 4 * DAY), (2, T - 4 * DAY), (3, T - 45 * DAY)):
            await tx.execute(
                "INSERT INTO survey_invitations (survey_id, user_id, event_id, invited_at)"
                " VALUES ('meet', ?, 10, ?)",
                (user_id, when),
            )
    return db


async def test_report_facts_of_a_period(dataset: Database) -> None:
    facts = await report_facts(dataset, T - 30 * DAY, T + 1)
    assert sorted(f.category for f in facts) == ["noise", "noise", "road"]
    everything = await report_facts(dataset, None, T + 1)
    assert len(everything) == 6
    resolved = next(f for f in facts if f.status == "resolved")
    assert resolved.acknowledged_at == resolved.created_at + HOUR
    assert resolved.resolved_at == resolved.created_at + 10 * HOUR


async def test_open_reports_and_subscribers(dataset: Database) -> None:
    repo = StatsRepository(dataset)
    opened = await open_created_at(dataset)
    assert opened == sorted([T - 3 * DAY, T - 10 * DAY, T - 100 * DAY])
    subs = await repo.subscribers()
    rows = {(r.area, r.language): r.count for r in subs.rows}
    assert rows == {
        ("main-south", "en"): 1,
        ("main-south", "es"): 2,
        ("downtown", "en"): 1,
        ("*", "es"): 1,
    }
    assert dict(subs.by_language) == {"en": 1, "es": 2}
    assert subs.active_residents == 5
    assert subs.digest_readers == 2


async def test_events_and_rsvps_of_a_period(dataset: Database) -> None:
    events = await events_between(dataset, T - 30 * DAY, T)
    assert [e.id for e in events] == [11, 10]
    meeting = events[1]
    assert (meeting.going, meeting.maybe, meeting.no, meeting.waitlist) == (2, 1, 1, 1)
    assert meeting.title("es", "en") == "Reunión 10" and events[0].cancelled


async def test_month_facts_include_reports_resolved_in_the_month(dataset: Database) -> None:
    repo = StatsRepository(dataset)
    start, end = month_bounds(2026, 10, NOW.tzinfo)  # type: ignore[arg-type]
    # filed October 22 (40 days before December 1) and resolved 50 hours later
    facts = await repo.month_facts(start, end)
    assert [f.category for f in facts] == ["noise"]


async def test_whole_statistics_against_hand_counts(dataset: Database, city: City) -> None:
    service = StatsService(repo=StatsRepository(dataset), city=city, clock=ManualClock(NOW))
    period = service.parse_period("30d")
    assert isinstance(period, Period) and period.kind is PeriodKind.DAYS
    stats = await service.statistics(period)
    reports = stats.reports
    assert reports.total == 3
    assert dict(reports.by_status)["resolved"] == 1 and dict(reports.by_status)["new"] == 1
    assert reports.by_category == (("noise", 2), ("road", 1))
    assert reports.by_neighborhood == (("main-south", 2), ("downtown", 1))
    # acknowledged after 1 and 3 hours; resolved after 10
    assert reports.acknowledge.median == 2 * HOUR
    assert reports.acknowledge.p90 == pytest.approx(2.8 * HOUR)
    assert reports.resolve.median == 10 * HOUR
    assert reports.waiting == 1
    assert stats.open_ages.total == 3 and stats.open_ages.oldest == 100 * DAY
    assert dict(stats.open_ages.buckets)[(7, 30)] == 1
    spots = {(h.neighborhood, h.category): h for h in stats.hotspots}
    noise = spots[("main-south", "noise")]
    assert (noise.last_30, noise.previous_30, noise.last_90, noise.previous_90) == (2, 1, 3, 0)
    road = spots[("downtown", "road")]
    assert (road.last_30, road.previous_30, road.last_90, road.previous_90) == (1, 0, 1, 1)
    assert ("", "graffiti") not in spots  # a year ago
    assert stats.hotspots[0] == noise
    assert stats.subscribers.by_area[0] == ("main-south", 3)
    assert stats.events.going == 2 and stats.events.cancelled == 1
    assert stats.events.fill_rate == pytest.approx(2 / 4)
    (survey,) = stats.surveys
    # November 1 - December 1: two responses started, one finished; two invited
    assert (survey.started, survey.complete, survey.invited) == (2, 1, 2)


async def test_export_rows_never_read_personal_data(dataset: Database) -> None:
    await add_report(
        dataset,
        "noise",
        "main-south",
        "new",
        filed=T - DAY,
        anonymous=False,
        resident_id=987654,
        name="Maria Example",
        photos=2,
        latitude=42.2626,
        longitude=-71.8023,
        address="12 Main St",
    )
    repo = StatsRepository(dataset)
    rows = await repo.export_rows(T - 1.5 * DAY)
    (row,) = rows
    assert row.photo_count == 2 and row.address == "12 Main St" and not row.anonymous
    shown = repr(row)
    for secret in ("987654", "Maria", "user_name", "B00B", "photo-"):
        assert secret not in shown
    assert len(await repo.export_rows(None)) == 7
