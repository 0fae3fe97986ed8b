"""Scale: start, queries and broadcast planning on a state-sized database, and their growth.

    python -m bench.bench_scale            # 1/10 of the size, then the full size
    python -m bench.bench_scale --smoke    # 1/1000 of the size, a few seconds
    python -m bench.bench_scale --json     # the figures as JSON

The full size is a whole state's program: 200,000 residents, 50,000 reports, 2,000
events and 400,000 subscriptions, with what a year of use leaves around them (report
history and relay links, the outbox rows of every staff card and status notice and of
one past citywide broadcast, RSVPs, reminder runs, a published survey with responses, a
week of processed update ids, open dialogs). Each size is seeded in one subprocess
(straight SQL with `executemany`, after the bot's own migrations) and measured in a
second, fresh one, so that peak RSS (VmHWM) is the bot's alone and sizes do not pollute
each other. No ANALYZE is run: the bot never runs it either.

Measured with the bot's own code (the started `Application` on the Telegram fake, its
services and repositories, a `ManualClock` at the seeding's "now"):

- start: `build_application`, `initialize`, `start_services` (migrations checked, quick
  integrity check, services built, crash recovery of the outbox and of report links,
  jobs scheduled, command menus set) and `Application.start`, in a fresh process; then
  a second start in the same process, and the size-dependent steps of start on their own;
- queries, median of repeated calls: the alerts tick with no reminder due, /myreports
  (the service queries and the rendered view, for a resident with 40 reports and for a
  typical one, and end to end as an update through the application), /events, /stats
  (its statistics for the last 30 days and for all time, and each part it reads), the
  daily summary's open reports, broadcast audience sizes, survey response counts;
- planning a citywide broadcast: `BroadcastService.create` (audience query, rendering,
  one `executemany` into the outbox), then the sender's claim query and the progress
  tick's counts with those deliveries pending.

Targets (issue 8): start <= 2 s, each query <= 20 ms, planning 200,000 deliveries <= 5 s,
peak RSS <= 300 MB. The baseline each figure is printed next to is the same figure at
1/10 of the size in the same run, which shows how the cost grows.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import random
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench._common import (
    ADMIN_ID,
    STAFF_CHAT_ID,
    TOKEN,
    bench_settings,
    fmt,
    peak_rss_mb,
    rss_mb,
    table,
    time_async,
)

ROOT = Path(__file__).resolve().parent.parent
FULL = {"residents": 200_000, "reports": 50_000, "events": 2_000, "subscriptions": 400_000}
FRACTIONS = (0.1, 1.0)
SMOKE_FRACTIONS = (0.001,)
HEAVY_REPORTS = 40  # the resident with the most reports, for /myreports
REPEATS, SMOKE_REPEATS = 25, 3
TARGETS = {"start_s": 2.0, "query_ms": 20.0, "plan_200k_s": 5.0, "rss_mb": 300.0}
DAY = 86_400.0
YEAR = 365 * DAY
FIRST_USER = 1_000_000
SURVEY_FILE = ROOT / "surveys" / "community-meeting.toml"


def sizes_for(fraction: float) -> dict[str, int]:
    return {name: max(2, round(count * fraction)) for name, count in FULL.items()}


# --- seeding ------------------------------------------------------------------------------
def _now() -> float:
    from bot.clock import ManualClock

    return ManualClock().time()


async def _prepare(path: Path) -> None:
    """The bot's migrations, and the example survey published through the bot's service."""
    from bot.clock import ManualClock
    from bot.services.survey_definitions import load_survey_file
    from bot.services.surveys import SurveyService
    from bot.storage import Database, migrate

    settings = bench_settings(path)
    city = settings.city
    db = await Database.open(path)
    try:
        await migrate(db)
        checked = load_survey_file(
            SURVEY_FILE,
            languages=city.languages,
            default_language=city.default_language,
            timezone=city.timezone,
        )
        if checked.ok:
            service = SurveyService.on_database(
                db, city=city, clock=ManualClock(), secret=settings.hash_secret
            )
            await service.publish(checked.definition, checked.source)
    finally:
        await db.close()


def seed(path: Path, fraction: float) -> dict[str, Any]:
    """Fill a migrated database at `path` with a program of the given fraction of FULL."""
    from bot.config import EXAMPLE_CITY, load_city
    from bot.services.events import reminder_offsets
    from bot.services.reports import KIND_CARD, KIND_TO_RESIDENT, KIND_TOPIC
    from bot.storage.events import EVENT_TYPES
    from bot.storage.subscriptions import CITYWIDE

    started = time.perf_counter()
    asyncio.run(_prepare(path))
    city = load_city(EXAMPLE_CITY)
    sizes = sizes_for(fraction)
    rng = random.Random(8)
    now = _now()
    areas = [n.id for n in city.neighborhoods] + [CITYWIDE]
    categories = [c.id for c in city.categories]
    counts: dict[str, int] = {}
    connection = sqlite3.connect(path, isolation_level=None)
    connection.execute("PRAGMA synchronous=OFF")
    connection.execute("PRAGMA foreign_keys=ON")

    def insert(table_name: str, columns: str, rows: list[tuple[Any, ...]]) -> None:
        marks = ", ".join("?" * len(columns.split(",")))
        connection.executemany(
            f"INSERT INTO {table_name} ({columns}) VALUES ({marks})",
            rows,
        )
        counts[table_name] = counts.get(table_name, 0) + len(rows)

    connection.execute("BEGIN")
    # Residents, their subscriptions and preferences.
    residents = [FIRST_USER + i for i in range(sizes["residents"])]
    language = {uid: ("es" if rng.random() < 0.3 else "en") for uid in residents}
    active = {uid: rng.random() >= 0.03 for uid in residents}
    rows = []
    for uid in residents:
        created = now - rng.uniform(0, 2 * YEAR)
        seen = rng.uniform(created, now - 3600)
        rows.append((uid, uid, language[uid], "telegram", 0, int(active[uid]), created, seen))
    insert(
        "residents",
        "user_id, chat_id, language, language_source, detect_offered, active, created_at,"
        " last_seen_at",
        rows,
    )
    per_resident, extra = divmod(sizes["subscriptions"], len(residents))
    rows = []
    for index, uid in enumerate(residents):
        for area in rng.sample(areas, min(len(areas), per_resident + (index < extra))):
            rows.append((uid, area, now - rng.uniform(0, YEAR)))
    insert("subscriptions", "user_id, area, created_at", rows)
    no_broadcasts: set[int] = set()
    rows = []
    for uid in rng.sample(residents, len(residents) // 10):
        broadcasts = int(rng.random() >= 0.2)
        if not broadcasts:
            no_broadcasts.add(uid)
        rows.append((uid, int(rng.random() >= 0.3), int(rng.random() >= 0.3), broadcasts, 0, now))
    insert(
        "alert_prefs",
        "user_id, reminders, digest, broadcasts, show_all_events, updated_at",
        rows,
    )
    rows = [(uid, rng.choice(EVENT_TYPES)) for uid in rng.sample(residents, len(residents) // 20)]
    insert("muted_event_types", "user_id, event_type", rows)

    # Reports, oldest first, with their history, relay links and outbox rows.
    heavy = residents[0]
    heavy_count = min(HEAVY_REPORTS, sizes["reports"] // 2)
    reporters = [heavy] * heavy_count + [
        rng.choice(residents[1:]) for _ in range(sizes["reports"] - heavy_count)
    ]
    rng.shuffle(reporters)
    created_times = sorted(now - rng.uniform(0, YEAR) for _ in reporters)
    report_rows, event_rows, message_rows, outbox_rows = [], [], [], []
    per_year: dict[int, int] = {}
    open_statuses = ("new", "acknowledged", "in_progress", "resolved")
    for report_id, (uid, created) in enumerate(zip(reporters, created_times, strict=True), 1):
        year = time.gmtime(created).tm_year
        per_year[year] = per_year.get(year, 0) + 1
        reference = f"R-{year}-{per_year[year]:06d}"
        if now - created < 14 * DAY:
            status = rng.choice(open_statuses)
        else:
            status = rng.choices(("resolved", "not_actionable", "in_progress"), (90, 8, 2))[0]
        thread, card = 10_000 + 3 * report_id, 10_001 + 3 * report_id
        category = rng.choice(categories)
        anonymous = rng.random() < 0.6
        report_rows.append(
            (
                report_id,
                reference,
                uid,
                uid,
                category,
                rng.choice(areas[:-1]),
                "Loud music every night until 3am from the corner house on our street.",
                "en" if language[uid] == "en" else "es",
                language[uid],
                int(anonymous),
                None if anonymous else f"Resident {uid}",
                f"{report_id % 65536:04X}",
                status,
                STAFF_CHAT_ID,
                thread,
                1,
                card,
                None if status == "new" else "Sam Staff",
                None if status == "new" else created + 3600,
                created,
                created + 3600,
                None if status == "new" else created + 3600,
            )
        )
        event_rows.append((report_id, "created", "new", None, None, None, created))
        message_rows += [
            (STAFF_CHAT_ID, thread, report_id, "topic"),
            (STAFF_CHAT_ID, card, report_id, "card"),
        ]
        topic_result = json.dumps({"message_thread_id": thread})
        card_result = json.dumps({"message_id": card, "message_thread_id": thread})
        outbox_rows += [
            (
                f"report:{report_id}:topic",
                KIND_TOPIC,
                STAFF_CHAT_ID,
                "createForumTopic",
                json.dumps({"chat_id": STAFF_CHAT_ID, "name": f"🆕 {reference} · {category}"}),
                1,
                "sent",
                1,
                created,
                None,
                thread,
                topic_result,
                created,
                created,
            ),
            (
                f"report:{report_id}:card",
                KIND_CARD,
                STAFF_CHAT_ID,
                "sendMessage",
                json.dumps(
                    {
                        "chat_id": STAFF_CHAT_ID,
                        "text": f"<b>{reference}</b> · {category}\n" + "x" * 400,
                        "parse_mode": "HTML",
                        "message_thread_id": thread,
                    }
                ),
                1,
                "sent",
                1,
                created,
                None,
                card,
                card_result,
                created,
                created,
            ),
        ]
        if status != "new":
            at = created + 3600
            event_rows.append((report_id, "status", status, 900_002, "Sam Staff", None, at))
            message_rows.append((uid, 5_000_000 + report_id, report_id, "to_resident"))
            outbox_rows.append(
                (
                    f"report:{report_id}:status:2",
                    KIND_TO_RESIDENT,
                    uid,
                    "sendMessage",
                    json.dumps({"chat_id": uid, "text": f"{reference}: {status}"}),
                    3,
                    "sent",
                    1,
                    at,
                    None,
                    5_000_000 + report_id,
                    json.dumps({"message_id": 5_000_000 + report_id}),
                    at,
                    at,
                )
            )
    insert(
        "reports",
        "id, reference, resident_id, resident_chat_id, category, neighborhood, description,"
        " text_language, language, anonymous, reporter_name, pseudonym, status, staff_chat_id,"
        " staff_thread_id, uses_topic, card_message_id, status_by_name, status_at, created_at,"
        " updated_at, acknowledged_at",
        report_rows,
    )
    insert(
        "report_events",
        "report_id, kind, status, actor_id, actor_name, body, created_at",
        event_rows,
    )
    insert("report_messages", "chat_id, message_id, report_id, role", message_rows)
    insert("report_counters", "year, last", list(per_year.items()))

    # Events: mostly past, some ahead; reminders already planned where they were due.
    offsets = reminder_offsets(city)
    event_rows, area_rows, rsvp_rows, open_rows, run_rows = [], [], [], [], []
    for event_id in range(1, sizes["events"] + 1):
        if event_id <= max(1, sizes["events"] // 200):
            starts = now + rng.uniform(1800, DAY)  # inside the reminder horizon
        elif rng.random() < 0.05:
            starts = now + rng.uniform(DAY, 60 * DAY)
        else:
            starts = now - rng.uniform(DAY, 2 * YEAR)
        citywide = rng.random() < 0.1
        kind = rng.choice(EVENT_TYPES)
        title = json.dumps({"en": f"Community meeting {event_id}", "es": f"Reunión {event_id}"})
        event_rows.append(
            (
                event_id,
                kind,
                title,
                json.dumps({"en": "Meet your liaison officers.", "es": "Conozca a su enlace."}),
                int(citywide),
                starts,
                starts + 7200,
                "Main Library, 3 Salem Sq",
                "cancelled" if rng.random() < 0.03 else "published",
                ADMIN_ID,
                starts - 14 * DAY,
                starts - 14 * DAY,
            )
        )
        if not citywide:
            for area in rng.sample(areas[:-1], rng.choice((1, 1, 2))):
                area_rows.append((event_id, area))
        for uid in rng.sample(residents, min(20, len(residents))):
            answer = rng.choices(("going", "maybe", "no"), (60, 25, 15))[0]
            rsvp_rows.append((event_id, uid, answer, 0, starts - 7 * DAY, starts - 7 * DAY))
        for uid in rng.sample(residents, min(5, len(residents))):
            open_rows.append((event_id, uid, starts - 10 * DAY))
        for offset in offsets:
            if starts - offset * 60 <= now:
                run_rows.append((event_id, 1, offset, "planned", 40, starts - offset * 60))
    insert(
        "events",
        "id, event_type, title, description, citywide, starts_at, ends_at, place, status,"
        " created_by, created_at, updated_at",
        event_rows,
    )
    insert("event_neighborhoods", "event_id, neighborhood", area_rows)
    insert("rsvps", "event_id, user_id, answer, waitlisted, queued_at, updated_at", rsvp_rows)
    insert("event_opens", "event_id, user_id, opened_at", open_rows)
    insert(
        "reminder_runs",
        "event_id, revision, offset_minutes, outcome, recipients, at",
        run_rows,
    )
    insert(
        "digest_runs",
        "slot, recipients, at",
        [
            (
                time.strftime("%Y-%m-%d", time.gmtime(now - week * 7 * DAY)),
                1000,
                now - week * 7 * DAY,
            )
            for week in range(1, 105)
        ],
    )

    # One past citywide broadcast, delivered.
    sent_at = now - 30 * DAY
    insert(
        "broadcasts",
        "id, created_by, admin_chat_id, admin_language, texts, audience, status, send_at,"
        " planned, progress_seq, reported, created_at, started_at, finished_at",
        [
            (
                1,
                ADMIN_ID,
                ADMIN_ID,
                "en",
                json.dumps({"en": "Cleanup on Saturday!", "es": "¡Limpieza el sábado!"}),
                json.dumps({"neighborhoods": [], "languages": []}),
                "done",
                sent_at,
                len(residents),
                5,
                1,
                sent_at,
                sent_at,
                sent_at + 2 * 3600,
            )
        ],
    )
    for index, uid in enumerate(residents):
        if not active[uid] or uid in no_broadcasts:
            continue
        failed = rng.random() < 0.02
        outbox_rows.append(
            (
                f"broadcast:1:{uid}",
                "broadcast",
                uid,
                "sendMessage",
                json.dumps(
                    {"chat_id": uid, "text": "📣 Cleanup on Saturday!", "parse_mode": "HTML"},
                    ensure_ascii=False,
                ),
                8,
                "failed" if failed else "sent",
                1,
                sent_at,
                "broadcast:1",
                None if failed else 7_000_000 + index,
                None if failed else json.dumps({"message_id": 7_000_000 + index}),
                sent_at,
                sent_at,
            )
        )
    insert(
        "outbox",
        "idempotency_key, kind, chat_id, method, params, priority, status, attempts,"
        " not_before, batch, message_id, result, created_at, updated_at",
        outbox_rows,
    )

    # Survey responses and invitations, processed updates, open dialogs.
    survey_id = connection.execute("SELECT id FROM surveys LIMIT 1").fetchone()
    if survey_id is not None:
        past = [row[0] for row in event_rows if row[5] < now][:200] or [1]
        responses, invitations = [], []
        for uid in rng.sample(residents, len(residents) // 20):
            day = time.strftime("%Y-%m-%d", time.gmtime(now - rng.uniform(0, YEAR)))
            complete = rng.random() < 0.9
            responses.append(
                (
                    f"{rng.getrandbits(64):016x}",
                    survey_id[0],
                    f"{rng.getrandbits(128):032x}",
                    language[uid],
                    rng.choice(past),
                    "complete" if complete else "in_progress",
                    day,
                    day if complete else None,
                )
            )
            invitations.append((survey_id[0], uid, rng.choice(past), now - rng.uniform(0, YEAR)))
        insert(
            "survey_responses",
            "id, survey_id, respondent, language, event_id, status, started_on, completed_on",
            responses,
        )
        insert("survey_invitations", "survey_id, user_id, event_id, invited_at", invitations)
    insert(
        "processed_updates",
        "update_id, processed_at",
        [(i, now - rng.uniform(0, 7 * DAY)) for i in range(len(residents) // 2)],
    )
    insert(
        "dialogs",
        "chat_id, user_id, flow, step, data, version, updated_at",
        [
            (uid, uid, "report", "what", json.dumps({"category": "noise"}), 3, now - 600)
            for uid in rng.sample(residents[1:], max(1, len(residents) // 400))
        ],
    )
    connection.execute("COMMIT")
    connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    connection.close()
    return {
        "sizes": sizes,
        "rows": counts,
        "seconds": time.perf_counter() - started,
        "db_mb": path.stat().st_size / 1e6,
    }


# --- measuring (in a fresh process) -------------------------------------------------------
async def measure(path: Path, fraction: float, repeats: int) -> dict[str, Any]:
    logging.basicConfig(level=logging.ERROR)
    import_started = time.perf_counter()
    from bot.app import build_application, start_services, stop_services

    import_s = time.perf_counter() - import_started
    from telegram import Update

    from bot.clock import ManualClock
    from bot.context import SERVICES_KEY, Services
    from bot.delivery import TelegramRateLimiter
    from bot.services.stats import TOP_EVENTS, Period, age_buckets, hotspot_bounds
    from bot.storage import Dialog, ResidentRepository
    from bot.storage.broadcasts import Audience, NewBroadcast
    from bot.storage.events import EventRepository
    from bot.storage.surveys import SurveyRepository
    from bot.storage.updates import UpdateLog
    from bot.testing import FakeRequest, FakeTelegram
    from bot.views import reports as report_views

    sizes = sizes_for(fraction)
    settings = bench_settings(path)
    clock = ManualClock()
    now = clock.time()
    tg = FakeTelegram(token=TOKEN)
    tg.group("Liaison staff", forum=True, chat_id=STAFF_CHAT_ID)
    tg.user("Ada", last_name="Admin", user_id=ADMIN_ID)
    rss_before = rss_mb()

    async def start() -> Any:
        app = build_application(
            settings,
            request=FakeRequest(tg),
            get_updates_request=FakeRequest(tg),
            clock=clock,
            limiter=TelegramRateLimiter(
                overall_per_second=None, private_burst=None, group_per_minute=None
            ),
            run_sender=False,
        )
        await app.initialize()
        await start_services(app)
        await app.start()
        # Periodic jobs (the quick_check 5 s after start, the alert ticks) would otherwise
        # run in the middle of the figures below; each is measured on its own instead.
        if app.job_queue is not None:
            app.job_queue.scheduler.pause()
        return app

    async def stop(app: Any) -> None:
        tg.set_update_sink(None)
        await app.stop()
        await stop_services(app)
        await app.shutdown()

    began = time.perf_counter()
    app = await start()
    first_start = time.perf_counter() - began
    await stop(app)
    began = time.perf_counter()
    app = await start()
    second_start = time.perf_counter() - began
    rss_started = rss_mb()
    figures: dict[str, Any] = {
        "sizes": sizes,
        "import_s": import_s,
        "start_s": first_start,
        "restart_s": second_start,
    }
    try:
        services: Services = app.bot_data[SERVICES_KEY]
        db = services.db

        async def deliver(data: dict[str, Any]) -> None:
            await app.process_update(Update.de_json(data, app.bot))

        tg.set_update_sink(deliver)
        timings: dict[str, dict[str, Any]] = {}

        async def timed(name: str, call: Any, times: int = repeats, group: str = "query") -> None:
            timings[name] = {**await time_async(call, repeats=times), "group": group}

        # The size-dependent parts of start, and background jobs, on their own.
        await timed("start: report links recovery", services.reports.recover_links, 3, "start")
        await timed("start: outbox recovery", services.sender.recover, 3, "start")
        await timed(
            "job: quick_check (5 s after start)",
            lambda: db.integrity_check(quick=True),
            3,
            "job",
        )
        await timed(
            "job: prune processed updates (6-hourly)",
            lambda: UpdateLog(db).prune(now - 7 * 86400),
            3,
            "job",
        )

        # Ticks and resident commands.
        events = EventRepository(db)
        await timed("alerts tick: due reminders", services.alerts.plan_reminders)
        await timed("  reminder candidates query", lambda: events.reminder_candidates(now, DAY))
        await timed("alerts tick: weekly digest", services.alerts.plan_digest)
        await timed("alerts tick: scheduled broadcasts", services.broadcasts.start_due)
        heavy = FIRST_USER
        typical = int(
            await db.fetchval(
                "SELECT resident_id FROM reports WHERE resident_id != ?"
                " GROUP BY resident_id ORDER BY count(*), resident_id LIMIT 1",
                (heavy,),
            )
        )
        tr = services.catalogs.get("en")

        def my_reports(resident_id: int) -> Any:
            async def call() -> Any:
                mine = await services.reports.for_resident(resident_id)
                total = await services.reports.count_for_resident(resident_id)
                return report_views.my_reports(tr, services.city, mine, total)

            return call

        await timed(f"/myreports ({HEAVY_REPORTS} reports)", my_reports(heavy))
        await timed("/myreports (1 report)", my_reports(typical))
        resident = tg.user("Heavy", user_id=heavy, language="en")
        await timed(
            f"/myreports as an update, end to end ({HEAVY_REPORTS})",
            lambda: resident.send("/myreports"),
        )
        await timed("/events as an update, end to end", lambda: resident.send("/events"))
        await timed(
            "/events: upcoming + RSVP counts",
            lambda: _upcoming_with_counts(services),
        )

        # What staff and admins read: /stats, the daily summary, broadcast audiences.
        stats = services.stats
        periods = {"last 30 days": stats.parse_period(""), "all time": stats.parse_period("all")}
        for label, period in periods.items():
            await timed(f"/stats {label}: statistics()", lambda p=period: stats.statistics(p))
        # What statistics() reads, one part at a time.
        for label, period in periods.items():
            await timed(
                f"  /stats {label}: reports (counts, times)",
                lambda p=period: stats.period_reports(p),
            )
        everything = periods["all time"]
        assert isinstance(everything, Period)
        await timed("  /stats: hotspots", lambda: stats.repo.hotspot_counts(hotspot_bounds(now)))
        await timed(
            "  /stats: open reports by age", lambda: stats.repo.open_ages(now, age_buckets())
        )
        await timed("  /stats: subscribers", stats.repo.subscribers)
        await timed(
            "  /stats all time: events",
            lambda: stats.repo.event_totals(None, everything.end, top=TOP_EVENTS),
        )
        await timed(
            "  /stats all time: surveys",
            lambda: stats.repo.surveys(
                start=None,
                end=everything.end,
                first_day=None,
                last_day=everything.last_local_day(services.city.timezone).isoformat(),
            ),
        )
        await timed("daily summary: open reports by status", services.reports.open_counts)
        await timed("active residents", ResidentRepository(db).count)
        await timed(
            "admin: citywide broadcast audience",
            lambda: services.broadcasts.audience_size(Audience()),
        )
        await timed(
            "admin: one-neighborhood audience",
            lambda: services.broadcasts.audience_size(Audience(neighborhoods=("downtown",))),
        )
        await timed("survey response counts", SurveyRepository(db).counts)

        # Planning a citywide broadcast, then the sender's and the progress tick's queries.
        dialog = await services.dialogs.save(
            Dialog(ADMIN_ID, ADMIN_ID, "broadcast", "confirm"), now
        )
        new = NewBroadcast(
            created_by=ADMIN_ID,
            admin_chat_id=ADMIN_ID,
            admin_language="en",
            texts={"en": "📣 Cleanup on Saturday at 9:00!", "es": "📣 ¡Limpieza el sábado!"},
            photo_file_id=None,
            audience=Audience(),
            send_at=now,
            progress_message_id=None,
        )
        rss_planning = rss_mb()
        began, cpu = time.perf_counter(), time.process_time()
        created = await services.broadcasts.create(
            new, dialog_chat_id=ADMIN_ID, dialog_version=dialog.version
        )
        figures["plan_s"] = time.perf_counter() - began
        figures["plan_cpu_s"] = time.process_time() - cpu
        figures["planned"] = created.planned
        figures["plan_rss_growth_mb"] = rss_mb() - rss_planning
        await timed("sender: next due row", services.outbox.next_due_at)
        await timed(
            "sender: claim a batch of 30",
            lambda: services.outbox.claim_due(now, 30, skip_chats=[]),
        )
        await timed("broadcast progress tick", services.broadcasts.refresh_progress, 5)
        figures["queries"] = timings
    finally:
        await stop(app)
    figures["rss_before_mb"] = rss_before
    figures["rss_started_mb"] = rss_started
    figures["peak_rss_mb"] = peak_rss_mb()
    return figures


async def _upcoming_with_counts(services: Any) -> Any:
    events = await services.events.upcoming()
    return await services.events.counts([event.id for event in events])


# --- orchestration ------------------------------------------------------------------------
def _child(*args: str) -> dict[str, Any]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-m", "bench.bench_scale", "--child", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"bench_scale {' '.join(args)} failed:\n{done.stderr[-4000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def run(smoke: bool = False) -> dict[str, Any]:
    """Seed and measure each size in subprocesses; `smoke` uses 1/1000 of the size."""
    fractions = SMOKE_FRACTIONS if smoke else FRACTIONS
    repeats = SMOKE_REPEATS if smoke else REPEATS
    results: list[dict[str, Any]] = []
    for fraction in fractions:
        with tempfile.TemporaryDirectory(prefix="bench-scale-") as directory:
            path = str(Path(directory) / "bot.sqlite3")
            seeded = _child("seed", "--fraction", str(fraction), "--db", path)
            measured = _child(
                "measure", "--fraction", str(fraction), "--db", path, "--repeats", str(repeats)
            )
        results.append({"fraction": fraction, "seed": seeded, **measured})
    largest = results[-1]
    slowest = max(v["median_ms"] for v in largest["queries"].values() if v["group"] == "query")
    plan_200k = largest["plan_s"] * 200_000 / max(largest["planned"], 1)
    return {
        "smoke": smoke,
        "sizes": results,
        "targets": {
            f"start <= {TARGETS['start_s']:g} s": largest["start_s"] <= TARGETS["start_s"],
            f"each query <= {TARGETS['query_ms']:g} ms": slowest <= TARGETS["query_ms"],
            f"planning 200,000 <= {TARGETS['plan_200k_s']:g} s": plan_200k
            <= TARGETS["plan_200k_s"],
            f"peak RSS <= {TARGETS['rss_mb']:g} MB": largest["peak_rss_mb"] <= TARGETS["rss_mb"],
        },
    }


# --- printing -----------------------------------------------------------------------------
def _growth(small: float, large: float, factor: float) -> str:
    if small <= 0:
        return "-"
    grown = large / small
    return f"x{grown:.1f}" + (" (!)" if grown > 1.5 * factor else "")


def format_report(results: dict[str, Any]) -> str:
    sizes = results["sizes"]
    names = ["1/{:g}".format(1 / s["fraction"]) if s["fraction"] < 1 else "full" for s in sizes]
    factor = sizes[-1]["fraction"] / sizes[0]["fraction"] if len(sizes) > 1 else 1.0
    out = []
    for name, size in zip(names, sizes, strict=True):
        seed = size["seed"]
        counted = ", ".join(f"{table_name} {count:,}" for table_name, count in seed["rows"].items())
        out.append(
            f"{name}: {seed['db_mb']:.0f} MB database seeded in {seed['seconds']:.1f} s ({counted})"
        )
    out.append("")
    head = ["figure", *names] + (["growth"] if len(sizes) > 1 else [])

    def row(label: str, values: list[float], digits: int = 1) -> list[str]:
        cells = [label, *(fmt(v, digits) for v in values)]
        if len(values) > 1:
            cells.append(_growth(values[0], values[-1], factor))
        return cells

    rows = [
        row("import bot.app (s)", [s["import_s"] for s in sizes], 2),
        row("start, fresh process (s)", [s["start_s"] for s in sizes], 2),
        row("start again (s)", [s["restart_s"] for s in sizes], 2),
    ]
    for query in sizes[-1]["queries"]:
        rows.append(row(f"{query} (ms)", [s["queries"][query]["median_ms"] for s in sizes], 2))
    rows += [
        row("broadcast: deliveries planned", [float(s["planned"]) for s in sizes], 0),
        row("broadcast: planning (s)", [s["plan_s"] for s in sizes], 2),
        row("broadcast: planning CPU (s)", [s["plan_cpu_s"] for s in sizes], 2),
        row("broadcast: RSS growth (MB)", [s["plan_rss_growth_mb"] for s in sizes]),
        row("RSS after start (MB)", [s["rss_started_mb"] for s in sizes]),
        row("peak RSS (MB)", [s["peak_rss_mb"] for s in sizes]),
    ]
    out += table(head, rows)
    largest = sizes[-1]
    plan_200k = largest["plan_s"] * 200_000 / max(largest["planned"], 1)
    out += [
        "",
        "ms: median of repeated calls, with the periodic jobs paused; growth = largest /"
        " smallest size"
        f" (x{factor:g} more data); (!) marks growth well above linear;"
        " the 20 ms target is for the queries, not for start's parts or background jobs",
        f"planning scaled to 200,000 deliveries: {plan_200k:.2f} s",
        "growth: what counts or reads every matching row grows with the data by nature"
        " (progress counts, planning: one row per recipient, a little more than x10 as each"
        " insert walks an outbox index already 10 times larger; quick_check: the whole"
        " file);"
        " lookups by key stay flat (/myreports, the sender's claim, start's outbox"
        " recovery); start grows with the reports (report-link recovery reads each report"
        " once); the due-reminder tick with the events inside the next 24 h, which grow"
        " with the events here. Active residents, the audiences of the whole city or of"
        " one neighborhood and /stats read tallies kept by triggers (followers, active"
        " residents, reports, RSVPs) and grow only with what they must still read: the"
        " residents who switched broadcasts off, the reports and events of the period, the"
        " last 180 days' reports for hotspots, and the steps through an index of times to"
        " the ranks of the percentiles",
        "targets (largest size): "
        + (
            ", ".join(f"{k}: {fmt(v)}" for k, v in results["targets"].items())
            if largest["fraction"] >= 1
            else "not judged below the full size"
        ),
    ]
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.bench_scale", description=(__doc__ or "").split("\n")[0]
    )
    parser.add_argument("--smoke", action="store_true", help="1/1000 of the size, quick")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--child", choices=("seed", "measure"), help=argparse.SUPPRESS)
    parser.add_argument("--fraction", type=float, default=1.0, help=argparse.SUPPRESS)
    parser.add_argument("--db", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--repeats", type=int, default=REPEATS, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child == "seed":
        print(json.dumps(seed(args.db, args.fraction)))
        return 0
    if args.child == "measure":
        print(json.dumps(asyncio.run(measure(args.db, args.fraction, args.repeats))))
        return 0
    results = run(smoke=args.smoke)
    print(json.dumps(results, indent=2) if args.json else format_report(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
