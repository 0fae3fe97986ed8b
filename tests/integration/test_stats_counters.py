"""The tallies kept by triggers (migration 0008) against counts from the rows themselves,
and /stats and broadcast audiences computed from them against the same figures computed
from every row (the pure functions of bot.services.stats, the plain audience query)."""

from __future__ import annotations

import json
import math
import random
import sqlite3
from datetime import UTC, datetime
from typing import Any

import pytest

from bot.clock import ManualClock
from bot.config import City
from bot.services.stats import (
    TOP_EVENTS,
    EventStats,
    Period,
    StatsService,
)
from bot.storage import Database
from bot.storage.events import EventRepository
from bot.storage.migrations import discover
from bot.storage.reports import STATUSES, ReportRepository
from bot.storage.residents import ResidentRepository
from bot.storage.stats import StatsRepository
from bot.storage.subscriptions import SubscriptionRepository
from tests.harness import Harness
from tests.stats_reference import (
    event_stats,
    events_between,
    hotspots,
    open_ages,
    open_created_at,
    report_facts,
    report_stats,
)

DAY = 86400.0

# What each tally counts, read from the rows themselves.
TRUTH = {
    "residents": (
        "SELECT language, count(*), sum(EXISTS (SELECT 1 FROM subscriptions s"
        " WHERE s.user_id = r.user_id)) FROM residents r WHERE active = 1 GROUP BY language",
        "SELECT language, active, following FROM resident_tallies"
        " WHERE active != 0 OR following != 0",
    ),
    "followers": (
        "SELECT s.area, r.language, count(*) FROM subscriptions s"
        " JOIN residents r ON r.user_id = s.user_id WHERE r.active = 1 GROUP BY 1, 2",
        "SELECT area, language, followers FROM follower_tallies WHERE followers != 0",
    ),
    "reports": (
        "SELECT category, coalesce(neighborhood, ''), status, count(*), count(acknowledged_at),"
        " count(status_at) FROM reports GROUP BY 1, 2, 3",
        "SELECT category, neighborhood, status, reports, acknowledged, status_dated"
        " FROM report_tallies WHERE reports != 0 OR acknowledged != 0 OR status_dated != 0",
    ),
    "rsvps": (
        "SELECT event_id, sum(answer = 'going' AND waitlisted = 0), sum(answer = 'maybe'),"
        " sum(answer = 'no'), sum(answer = 'going' AND waitlisted = 1) FROM rsvps"
        " GROUP BY event_id",
        "SELECT event_id, going, maybe, declined, waitlist FROM rsvp_tallies"
        " WHERE going != 0 OR maybe != 0 OR declined != 0 OR waitlist != 0",
    ),
}


async def assert_tallies_right(db: Database) -> None:
    for name, (truth, tally) in TRUTH.items():
        expected = sorted(tuple(row) for row in await db.fetchall(truth))
        assert sorted(tuple(row) for row in await db.fetchall(tally)) == expected, name


async def audience_from_every_row(
    db: Database, neighborhoods: tuple[str, ...], languages: tuple[str, ...]
) -> int:
    """The audience of a broadcast counted the plain way, resident by resident."""
    sql = (
        "SELECT count(*) FROM residents r LEFT JOIN alert_prefs p ON p.user_id = r.user_id"
        " WHERE r.active = 1 AND coalesce(p.broadcasts, 1) = 1"
    )
    if neighborhoods:
        marks = ",".join("?" * len(neighborhoods))
        sql += f" AND r.user_id IN (SELECT user_id FROM subscriptions WHERE area IN ({marks}))"
    if languages:
        sql += f" AND r.language IN ({','.join('?' * len(languages))})"
    return int(await db.fetchval(sql, (*neighborhoods, *languages)))


AUDIENCES = [
    ((), ()),
    ((), ("es",)),
    (("downtown",), ()),
    (("main-south",), ("en", "es")),
    (("*",), ()),
    (("downtown", "main-south"), ()),
    (("downtown", "*", "piedmont"), ("en",)),
]


async def assert_counts_right(db: Database) -> None:
    await assert_tallies_right(db)
    subscriptions = SubscriptionRepository(db)
    for neighborhoods, languages in AUDIENCES:
        counted = await subscriptions.broadcast_audience_count(neighborhoods, languages)
        expected = await audience_from_every_row(db, neighborhoods, languages)
        assert counted == expected, (neighborhoods, languages)
    everyone = int(await db.fetchval("SELECT count(*) FROM residents WHERE active = 1"))
    assert await ResidentRepository(db).count() == everyone
    data = await StatsRepository(db).subscribers()
    assert data.active_residents == everyone
    assert {(r.area, r.language): r.count for r in data.rows} == {
        (str(row[0]), str(row[1])): int(row[2]) for row in await db.fetchall(TRUTH["followers"][0])
    }
    assert dict(data.by_language) == {
        str(row[0]): int(row[2]) for row in await db.fetchall(TRUTH["residents"][0]) if row[2]
    }


# --------------------------------------------------------------------------- through the bot


async def test_counts_stay_right_through_what_residents_do(harness: Harness) -> None:
    db = harness.services.db
    alice = harness.resident("Alice", language="en")
    rosa = harness.resident("Rosa", language="es")
    bob = harness.resident("Bob", language="en")
    for resident in (alice, rosa, bob):
        await resident.send("/start")
    await assert_counts_right(db)

    # Subscribe: from the alerts screen and by deep link.
    await alice.send("/alerts")
    await alice.tap("⬜ Downtown")
    await alice.tap("⬜ 🏙 Citywide")
    await rosa.send("/start nb_main-south")
    await rosa.send("/start nb_downtown")
    await bob.send("/start nb_downtown")
    assert await db.fetchval("SELECT sum(followers) FROM follower_tallies") == 5
    await assert_counts_right(db)

    # Unsubscribe from one area; switch announcements off.
    await alice.tap("✅ Downtown")
    await bob.send("/alerts")
    await bob.tap("✅ 📣 Announcements")
    await assert_counts_right(db)

    # Language change: Alice's follows move from English to Spanish.
    await alice.send("/language")
    await alice.tap("Español")
    assert await db.fetchval(
        "SELECT followers FROM follower_tallies WHERE area = '*' AND language = 'es'"
    )
    await assert_counts_right(db)

    # Blocked bot, then back.
    await bob.block()
    resident = await harness.services.residents.get(bob.id)
    assert resident is not None and not resident.active
    await assert_counts_right(db)
    await bob.unblock()
    await assert_counts_right(db)

    # /stop: every area at once.
    await rosa.send("/stop")
    await rosa.tap("🔕 Sí, detener todo")
    await assert_counts_right(db)

    # /deletemydata: the resident row goes, and their subscriptions with it.
    await alice.send("/deletemydata")
    await alice.tap("🗑 Sí, borrar mis datos")  # she chose Spanish
    assert await harness.services.residents.get(alice.id) is None
    await assert_counts_right(db)
    assert await db.fetchval("SELECT sum(following) FROM resident_tallies") == 1  # Bob


# --------------------------------------------------------------------------- every kind of write


async def add_resident(db: Database, user_id: int, language: str, active: bool) -> None:
    async with db.transaction() as tx:
        await tx.execute(
            "INSERT INTO residents (user_id, chat_id, language, active, created_at, last_seen_at)"
            " VALUES (?, ?, ?, ?, 0, 0)",
            (user_id, user_id, language, int(active)),
        )


async def test_tallies_follow_random_writes_of_every_kind(db: Database, city: City) -> None:
    """Inserts, upserts, updates (of the counted columns and of keys), deletes and the
    cascades of deleting a resident or an event, in a random order."""
    rng = random.Random(8)
    residents = ResidentRepository(db)
    subscriptions = SubscriptionRepository(db)
    areas = [*(n.id for n in city.neighborhoods[:4]), "*"]
    users = list(range(1, 13))
    for user_id in users:
        await add_resident(db, user_id, rng.choice(["en", "es", "vi"]), rng.random() < 0.8)
    events = (
        "INSERT OR IGNORE INTO events (id, event_type, title, starts_at, ends_at, capacity,"
        " created_by, created_at, updated_at) VALUES (?, 'meeting', '{}', 10, 20, 2, 1, 0, 0)"
    )
    async with db.transaction() as tx:
        for event_id in (1, 2, 3):
            await tx.execute(events, (event_id,))
    categories = ["noise", "road"]
    next_report = 1

    async def write(sql: str, params: tuple[Any, ...]) -> None:
        async with db.transaction() as tx:
            await tx.execute(sql, params)

    refused = 0
    for step in range(300):
        user_id = rng.choice(users)
        action = rng.randrange(14)
        try:
            if action == 0:
                await subscriptions.set_area(user_id, rng.choice(areas), rng.random() < 0.7, 0.0)
            elif action == 1:
                await residents.set_language(user_id, rng.choice(["en", "es", "vi"]), "chosen")
            elif action == 2:
                await residents.set_active(user_id, rng.random() < 0.5)
            elif action == 3:  # first contact again, or coming back after blocking the bot
                await residents.touch(
                    user_id=user_id,
                    chat_id=user_id,
                    language="en",
                    language_source="telegram",
                    now=1e9,
                )
            elif action == 4:
                await subscriptions.stop(user_id, 0.0)
            elif action == 5:  # /deletemydata; the id may come back later as a new resident
                await write("DELETE FROM residents WHERE user_id = ?", (user_id,))
            elif action == 6:
                await write(
                    "UPDATE subscriptions SET area = ? WHERE user_id = ? AND area = ?",
                    (rng.choice(areas), user_id, rng.choice(areas)),
                )
            elif action == 7:
                await write(
                    "UPDATE OR IGNORE subscriptions SET user_id = ? WHERE user_id = ? AND area = ?",
                    (rng.choice(users), user_id, rng.choice(areas)),
                )
            elif action == 8:
                async with db.transaction() as tx:
                    await EventRepository.set_rsvp_in(
                        tx,
                        event_id=rng.choice((1, 2, 3)),
                        user_id=user_id,
                        answer=rng.choice(["going", "maybe", "no"]),
                        waitlisted=rng.random() < 0.3,
                        queued_at=float(step),
                        now=float(step),
                    )
            elif action == 9:
                await write(
                    "DELETE FROM rsvps WHERE user_id = ? AND event_id = ?",
                    (user_id, rng.choice((1, 2, 3))),
                )
            elif action == 10:
                hood = rng.choice([None, "", areas[0], areas[1]])
                await write(
                    "INSERT INTO reports (id, reference, resident_id, resident_chat_id, category,"
                    " neighborhood, description, language, anonymous, pseudonym, status,"
                    " created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, 'x', 'en', 1, 'A1', 'new',"
                    " ?, ?)",
                    (
                        next_report,
                        f"R-{next_report}",
                        user_id,
                        user_id,
                        rng.choice(categories),
                        hood,
                        float(step),
                        float(step),
                    ),
                )
                next_report += 1
            elif action == 11 and next_report > 1:
                async with db.transaction() as tx:
                    await ReportRepository.set_status_in(
                        tx, rng.randrange(1, next_report), rng.choice(STATUSES), "Sam", float(step)
                    )
            elif action == 12 and next_report > 1:
                await write(
                    "UPDATE reports SET category = ?, neighborhood = ? WHERE id = ?",
                    (
                        rng.choice(categories),
                        rng.choice([None, areas[2]]),
                        rng.randrange(1, next_report),
                    ),
                )
            elif action == 13 and next_report > 1:
                await write("DELETE FROM reports WHERE id = ?", (rng.randrange(1, next_report),))
        except sqlite3.IntegrityError:  # a resident or event deleted meanwhile
            refused += 1
        if rng.random() < 0.02:  # an event deleted (its RSVPs go), then one by that id again
            event_id = rng.choice((1, 2, 3))
            await write("DELETE FROM events WHERE id = ?", (event_id,))
            await write(events, (event_id,))
        await assert_tallies_right(db)
    await assert_counts_right(db)
    assert await db.fetchval("SELECT count(*) FROM subscriptions") > 0
    assert 0 < refused < 100


async def test_moving_a_subscription_counts_who_follows_anything(db: Database) -> None:
    """Subscriptions are never updated by the bot; an update by hand still counts right."""
    for user_id, language in ((1, "en"), (2, "es"), (3, "es")):
        await add_resident(db, user_id, language, True)
    subscriptions = SubscriptionRepository(db)
    await subscriptions.set_area(1, "downtown", True, 0.0)
    await subscriptions.set_area(2, "downtown", True, 0.0)
    await subscriptions.set_area(2, "piedmont", True, 0.0)

    async def move(sql: str) -> None:
        async with db.transaction() as tx:
            await tx.execute(sql)
        await assert_tallies_right(db)

    await move("UPDATE subscriptions SET area = 'main-south' WHERE user_id = 1")  # one area
    await move("UPDATE subscriptions SET area = '*' WHERE user_id = 2 AND area = 'piedmont'")
    await move("UPDATE subscriptions SET user_id = 3 WHERE user_id = 1")  # to another resident
    await move("UPDATE subscriptions SET user_id = 3 WHERE user_id = 2 AND area = 'downtown'")
    assert await db.fetchval("SELECT following FROM resident_tallies WHERE language = 'es'") == 2
    assert await db.fetchval("SELECT following FROM resident_tallies WHERE language = 'en'") == 0


async def test_answers_changing_move_between_the_rsvp_counts(db: Database) -> None:
    await add_resident(db, 1, "en", True)
    async with db.transaction() as tx:
        await tx.execute(
            "INSERT INTO events (id, event_type, title, starts_at, ends_at, capacity,"
            " created_by, created_at, updated_at) VALUES (1, 'meeting', '{}', 10, 20, 1, 1, 0, 0)"
        )
    for answer, waitlisted in (
        ("going", True),
        ("going", False),
        ("maybe", False),
        ("no", False),
        ("going", True),
        ("maybe", True),
    ):
        async with db.transaction() as tx:
            await EventRepository.set_rsvp_in(
                tx,
                event_id=1,
                user_id=1,
                answer=answer,
                waitlisted=waitlisted,
                queued_at=0.0,
                now=0.0,
            )
        await assert_tallies_right(db)
    async with db.transaction() as tx:
        await tx.execute("DELETE FROM residents WHERE user_id = 1")  # RSVPs follow
    await assert_tallies_right(db)
    assert await db.fetchval("SELECT going + maybe + declined + waitlist FROM rsvp_tallies") == 0


async def test_the_migration_fills_the_tallies_of_an_existing_database(
    db: Database, reports_of_a_year: float
) -> None:
    """Emptied and filled again by migration 0008's own statements, the tallies equal the
    ones the triggers kept."""
    for user_id, language in ((1001, "en"), (1002, "es")):
        await add_resident(db, user_id, language, True)
        await SubscriptionRepository(db).set_area(user_id, "downtown", True, 0.0)
    kept = {
        name: sorted(tuple(row) for row in await db.fetchall(tally))
        for name, (_, tally) in TRUTH.items()
    }
    (migration,) = [m for m in discover() if m.version == 8]
    backfill = [s for s in migration.statements() if s.startswith("INSERT INTO")]
    assert len(backfill) == 4
    async with db.transaction() as tx:
        for table in ("resident_tallies", "follower_tallies", "report_tallies", "rsvp_tallies"):
            await tx.execute(f"DELETE FROM {table}")
        for statement in backfill:
            await tx.execute(statement)
    for name, (_, tally) in TRUTH.items():
        assert sorted(tuple(row) for row in await db.fetchall(tally)) == kept[name], name
    await assert_tallies_right(db)


# --------------------------------------------------------------------------- /stats


FAR = 400 * DAY


@pytest.fixture
async def reports_of_a_year(db: Database, city: City) -> float:
    """Reports over 400 days with varied times to acknowledge and resolve, a few without a
    neighborhood (NULL or ''), one filed after "now"; events with RSVPs; returns now."""
    rng = random.Random(2026)
    now = 1_790_000_000.0
    hoods = [*(n.id for n in city.neighborhoods[:3]), None, ""]
    categories = [c.id for c in city.categories][:3]
    rows = []
    for number in range(1, 401):
        filed = now - rng.uniform(0, FAR) if number > 1 else now + 3600
        status = rng.choice(STATUSES)
        acknowledged = None if status == "new" else filed + rng.expovariate(1 / 7200)
        status_at = None if status == "new" else (acknowledged or filed) + rng.uniform(0, 5 * DAY)
        if number % 37 == 0 and acknowledged is not None:
            acknowledged = filed - 60  # a clock skew: counted as 0 seconds
        kind = (rng.choice(categories), rng.choice(hoods), status)
        rows.append((number, f"R-{number}", *kind, acknowledged, status_at, filed, filed))
    async with db.transaction() as tx:
        await tx.executemany(
            "INSERT INTO reports (id, reference, resident_id, resident_chat_id, category,"
            " neighborhood, description, language, anonymous, pseudonym, status, acknowledged_at,"
            " status_at, created_at, updated_at)"
            " VALUES (?, ?, 7, 7, ?, ?, 'x', 'en', 1, 'A1', ?, ?, ?, ?, ?)",
            rows,
        )
        for event_id in range(1, 31):
            starts = now - rng.uniform(-30 * DAY, FAR)
            await tx.execute(
                "INSERT INTO events (id, event_type, title, starts_at, ends_at, capacity, status,"
                " created_by, created_at, updated_at) VALUES (?, 'meeting', ?, ?, ?, ?, ?, 1,"
                " 0, 0)",
                (
                    event_id,
                    json.dumps({"en": f"Meeting {event_id}"}),
                    starts,
                    starts + 3600,
                    rng.choice([None, 5, 20]),
                    "cancelled" if event_id % 9 == 0 else "published",
                ),
            )
        for user_id in range(1, 41):
            await tx.execute(
                "INSERT INTO residents (user_id, chat_id, language, created_at, last_seen_at)"
                " VALUES (?, ?, 'en', 0, 0)",
                (user_id, user_id),
            )
            for event_id in rng.sample(range(1, 31), 6):
                await EventRepository.set_rsvp_in(
                    tx,
                    event_id=event_id,
                    user_id=user_id,
                    answer=rng.choice(["going", "going", "maybe", "no"]),
                    waitlisted=rng.random() < 0.2,
                    queued_at=0.0,
                    now=0.0,
                )
    return now


@pytest.mark.parametrize("text", ["", "7d", "90d", "365d", "all", "2026-09", "2026"])
async def test_statistics_equal_the_figures_computed_from_every_report(
    db: Database, city: City, reports_of_a_year: float, text: str
) -> None:
    now = reports_of_a_year
    repo = StatsRepository(db)
    clock = ManualClock(datetime.fromtimestamp(now, UTC))
    service = StatsService(repo=repo, city=city, clock=clock)
    period = service.parse_period(text)
    assert isinstance(period, Period)
    stats = await service.statistics(period)

    facts = await report_facts(db, period.start, period.end)
    assert stats.reports == report_stats(
        facts,
        categories=[c.id for c in city.categories],
        neighborhoods=[n.id for n in city.neighborhoods],
    )
    assert stats.reports.acknowledge.count >= 3  # the comparison is not between nothings
    everything = await report_facts(db, None, math.inf)
    assert stats.hotspots == tuple(hotspots(everything, now))
    assert stats.open_ages == open_ages(await open_created_at(db), now)
    events = await events_between(db, period.start, period.end)
    assert stats.events == event_stats(events, top=TOP_EVENTS)


async def test_times_read_at_their_ranks_equal_sorted_values(
    db: Database, city: City, reports_of_a_year: float
) -> None:
    """Every rank of both measures, from both ends of the index and from the short-period
    path, against the sorted list."""
    now = reports_of_a_year
    repo = StatsRepository(db)
    for start in (None, now - 20 * DAY, now - 300 * DAY):
        facts = await report_facts(db, start, now)
        acknowledge = sorted(
            max(f.acknowledged_at - f.created_at, 0.0)
            for f in facts
            if f.acknowledged_at is not None
        )
        resolve = sorted(
            max(at - f.created_at, 0.0) for f in facts if (at := f.resolved_at) is not None
        )
        found = await repo.report_times(
            start,
            now,
            {
                "acknowledge": (len(acknowledge), range(len(acknowledge))),
                "resolve": (len(resolve), [0, len(resolve) - 1, len(resolve) // 2]),
            },
        )
        assert [found["acknowledge"][rank] for rank in range(len(acknowledge))] == acknowledge
        assert found["resolve"] == {
            rank: resolve[rank] for rank in (0, len(resolve) - 1, len(resolve) // 2)
        }


async def test_event_stats_from_the_tallies_ignore_cancelled_events(db: Database) -> None:
    async with db.transaction() as tx:
        await tx.execute(
            "INSERT INTO residents (user_id, chat_id, language, created_at, last_seen_at)"
            " VALUES (1, 1, 'en', 0, 0), (2, 2, 'en', 0, 0)"
        )
        for event_id, status in ((1, "published"), (2, "cancelled")):
            await tx.execute(
                "INSERT INTO events (id, event_type, title, starts_at, ends_at, capacity,"
                " status, created_by, created_at, updated_at)"
                " VALUES (?, 'meeting', '{\"en\": \"M\"}', 10, 20, 4, ?, 1, 0, 0)",
                (event_id, status),
            )
            for user_id in (1, 2):
                await EventRepository.set_rsvp_in(
                    tx,
                    event_id=event_id,
                    user_id=user_id,
                    answer="going",
                    waitlisted=False,
                    queued_at=0.0,
                    now=0.0,
                )
    totals, top = await StatsRepository(db).event_totals(None, 100.0, top=TOP_EVENTS)
    stats = EventStats.of(totals, top)
    assert (stats.held, stats.cancelled, stats.going, stats.fill_rate) == (1, 1, 2, 0.5)
    assert [event.id for event in stats.top] == [1]
    assert stats.top[0].title("en", "en") == "M"


async def test_counts_and_times_are_read_again_when_a_write_lands_between(
    db: Database, city: City, reports_of_a_year: float
) -> None:
    class Racing(StatsRepository):
        """Another connection commits once, between the first reads."""

        versions = iter([1, 2, 2, 2])
        reads = 0

        async def data_version(self) -> int:
            return next(self.versions)

        async def report_counts(self, created_from: float | None, created_to: float) -> Any:
            self.reads += 1
            return await super().report_counts(created_from, created_to)

    repo = Racing(db)
    clock = ManualClock(datetime.fromtimestamp(reports_of_a_year, UTC))
    service = StatsService(repo=repo, city=city, clock=clock)
    period = service.parse_period("all")
    assert isinstance(period, Period)
    reports = await service.period_reports(period)
    assert repo.reads == 2
    assert reports == report_stats(
        await report_facts(db, None, period.end),
        categories=[c.id for c in city.categories],
        neighborhoods=[n.id for n in city.neighborhoods],
    )
