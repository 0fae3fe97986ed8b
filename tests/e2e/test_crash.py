"""Crash: the real bot process, killed with SIGKILL at random moments, loses nothing.

The process runs against the Telegram fake served over HTTP, with its real rate limiter.
Residents are seeded in the database (through the repositories) before it starts. The
test process then, against the same database file, plans a broadcast to all of them and
a meeting reminder to the followers of a neighborhood, through the same services the
bot's ticks use (the bot's sender picks the rows up within seconds), while residents file
reports through the bot over HTTP. The process is killed three times (seeded random
moments) and restarted. At the end, counted from the fake's record and the database:

* every report in the database (and every one a resident was told about) has its card in
  the staff chat;
* every resident got the broadcast and the reminder exactly once, except that a send the
  kill interrupted may be missing (its row is `unknown`, "ambiguous"); none twice;
* the reminder was planned once, however often the planning ran.

`make test` uses 200 residents and 10 reports; `make soak` 2,000 and 40 (the staff chat's
20 messages a minute are the ceiling for reports: a topic and a card each).
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import re
import signal
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest

from bot.clock import SystemClock
from bot.config import EXAMPLE_CITY, load_city
from bot.i18n import Catalogs
from bot.services.alerts import AlertService
from bot.services.broadcasts import BroadcastService
from bot.storage import Database, ResidentRepository, migrate
from bot.storage.broadcasts import Audience, BroadcastRepository, NewBroadcast
from bot.storage.events import EventRepository, NewEvent
from bot.storage.subscriptions import SubscriptionRepository
from bot.testing import FakeChat, FakeTelegram, FakeTelegramServer, FakeUser
from bot.views.broadcasts import BroadcastMessages
from bot.views.events import EventMessages
from tests.conftest import ADMIN_ID, TEST_TOKEN
from tests.integration.test_faults import next_report_step, record_figures
from tests.integration.test_report_delivery import cards

pytestmark = pytest.mark.e2e

SOAK = bool(os.environ.get("SOAK"))
RESIDENTS = 2000 if SOAK else 200
REPORTERS = 40 if SOAK else 10
FOLLOWER_EVERY = 4  # every 4th resident follows Downtown and gets the reminder
KILLS = 3
SEED = 20261201
BROADCAST_TEXT = "Crash-test broadcast: cleanup on Saturday"
EVENT_TITLE = "Crash-test safety meeting"
KILL_AFTER = (4.0, 20.0) if SOAK else (1.5, 4.0)  # seconds after a start, seeded
STEP_WAIT = 8.0  # seconds a resident waits for an answer before trying again


class Bot:
    """The bot process, started and killed at will, logging to one file."""

    def __init__(
        self,
        tg: FakeTelegram,
        server: FakeTelegramServer,
        tmp: Path,
        staff: int,
        **env: str,
    ) -> None:
        self.tg = tg
        self.log = tmp / "bot.log"
        self.env = {
            **os.environ,
            "BOT_TOKEN": TEST_TOKEN,
            "TELEGRAM_API_URL": server.base_url.removesuffix("/bot"),
            "STAFF_CHAT_ID": str(staff),
            "ADMIN_IDS": str(ADMIN_ID),
            "DATABASE_PATH": str(tmp / "bot.sqlite3"),
            "HASH_SECRET": "crash-test-hash-secret",
            "LOG_LEVEL": "INFO",
            **env,
        }
        self.process: asyncio.subprocess.Process | None = None
        self.starts = 0

    async def start(self) -> None:
        # deleteWebhook is the last call before polling starts (a getUpdates call is only
        # logged when its long poll ends, up to ten seconds later).
        ready = len(self.tg.calls_to("deleteWebhook"))
        with self.log.open("ab") as log:
            self.process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bot", "run", env=self.env, stdout=log, stderr=log
            )
        self.starts += 1
        await self.tg.wait_for(
            lambda: len(self.tg.calls_to("deleteWebhook")) > ready,
            timeout=60,
            what="the bot to start polling",
        )

    async def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        await self.process.wait()

    async def stop(self) -> int:
        assert self.process is not None
        if self.process.returncode is None:
            self.process.send_signal(signal.SIGTERM)
            await asyncio.wait_for(self.process.wait(), timeout=60)
        return self.process.returncode or 0


async def eventually(
    check: Callable[[], Awaitable[bool]],
    *,
    timeout: float,  # noqa: ASYNC109 - a bounded wait is the point
    what: str,
) -> None:
    """Poll an async condition (the database) until it holds; fail after `timeout`."""
    deadline = time.monotonic() + timeout
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.5)


STEP_BUTTONS = ("Noise", "Main South", "➡️ Continue", "🕶 Stay anonymous", "✅ Confirm and send")


def screen(user: FakeUser) -> tuple[int, str, tuple[str, ...]]:
    messages = user.messages
    if not messages:
        return (0, "", ())
    last = messages[-1]
    return (len(messages), last.text, tuple(last.buttons))


def settled(user: FakeUser) -> bool:
    """The bot finished answering: a step to take, or the report received, is on screen."""
    last = user.messages[-1] if user.messages else None
    if last is None:
        return False
    return (
        any(label in last.buttons for label in STEP_BUTTONS)
        or "Step 3 of 4" in last.text
        or "received" in last.text
    )


async def file_report(tg: FakeTelegram, db: Database, user: FakeUser, text: str) -> int:
    """A persistent resident over HTTP: take the next step shown; if the bot went quiet
    (it was killed), do it again; stop once the report is stored. Return the attempts."""
    for attempt in range(200):
        if await db.fetchval("SELECT count(*) FROM reports WHERE resident_id = ?", (user.id,)):
            return attempt
        before = screen(user)
        await next_report_step(user, text)
        try:
            await tg.wait_for(
                lambda seen=before: screen(user) != seen and settled(user),
                timeout=STEP_WAIT,
                what="an answer",
            )
        except (TimeoutError, AssertionError):
            continue  # killed meanwhile, or a stale press: look again and retry
    raise AssertionError(f"{user.first_name} never filed a report")


@pytest.fixture
async def served() -> AsyncIterator[tuple[FakeTelegram, FakeTelegramServer]]:
    tg = FakeTelegram(token=TEST_TOKEN)
    server = FakeTelegramServer(tg)
    await server.start()
    try:
        yield tg, server
    finally:
        await server.stop()


async def test_kill_nine_three_times_loses_and_duplicates_nothing(
    served: tuple[FakeTelegram, FakeTelegramServer], tmp_path: Path
) -> None:
    tg, server = served
    rng = random.Random(SEED)
    staff: FakeChat = tg.group("Liaison staff", forum=True)
    city = load_city(EXAMPLE_CITY)
    db = await Database.open(tmp_path / "bot.sqlite3")
    bot = Bot(tg, server, tmp_path, staff.id)
    try:
        await migrate(db)
        clock = SystemClock()
        residents = [tg.user(f"Resident {i}") for i in range(RESIDENTS)]
        repository, subscriptions = ResidentRepository(db), SubscriptionRepository(db)
        for index, user in enumerate(residents):
            await repository.touch(
                user_id=user.id,
                chat_id=user.id,
                language="en",
                language_source="telegram",
                now=clock.time(),
            )
            if index % FOLLOWER_EVERY == 0:
                await subscriptions.set_area(user.id, "downtown", True, clock.time())
        followers = residents[::FOLLOWER_EVERY]
        catalogs = Catalogs(city.languages, city.timezone)
        broadcasts = BroadcastService(
            db=db,
            broadcasts=BroadcastRepository(db),
            subscriptions=subscriptions,
            city=city,
            catalogs=catalogs,
            clock=clock,
            renderer=BroadcastMessages(city),
        )
        alerts = AlertService(
            db=db,
            events=EventRepository(db),
            subscriptions=subscriptions,
            city=city,
            catalogs=catalogs,
            clock=clock,
            renderer=EventMessages(city),
        )
        async with db.transaction() as tx:
            starts = clock.time() + 24 * 3600 - 120  # its 24-hour reminder is due
            event_id = await EventRepository.insert_in(
                tx,
                NewEvent(
                    event_type="meeting",
                    titles={"en": EVENT_TITLE},
                    descriptions={},
                    neighborhoods=("downtown",),
                    citywide=False,
                    starts_at=starts,
                    ends_at=starts + 7200,
                    place="Main Library",
                    latitude=None,
                    longitude=None,
                    capacity=None,
                    created_by=ADMIN_ID,
                ),
                clock.time(),
            )
            broadcast_id = await BroadcastRepository.insert_in(
                tx,
                NewBroadcast(
                    created_by=ADMIN_ID,
                    admin_chat_id=ADMIN_ID,
                    admin_language="en",
                    texts={"en": BROADCAST_TEXT},
                    photo_file_id=None,
                    audience=Audience((), ()),
                    send_at=clock.time(),
                    progress_message_id=None,
                ),
                "scheduled",
                clock.time(),
            )

        tg.user("Ada", user_id=ADMIN_ID)  # the admin, who gets the final broadcast report
        started = time.monotonic()
        await bot.start()
        reporters = [tg.user(f"Reporter {i}") for i in range(REPORTERS)]
        filing = [
            asyncio.create_task(file_report(tg, db, user, f"Loud music at night, house {i}."))
            for i, user in enumerate(reporters)
        ]
        assert await broadcasts.start_due() == [broadcast_id]
        planned_reminders = await alerts.plan_reminders()
        assert planned_reminders == len(followers)
        ambiguous_at_kill: list[int] = []
        broadcast_at_kill: list[int] = []  # deliveries made when each kill came
        for kill in range(KILLS):
            await asyncio.sleep(rng.uniform(*KILL_AFTER))  # a random moment, seeded
            await bot.kill()
            sending = await db.fetchval("SELECT count(*) FROM outbox WHERE status = 'sending'")
            ambiguous_at_kill.append(int(sending or 0))
            delivered = await db.fetchval(
                "SELECT count(*) FROM outbox WHERE batch = ? AND status = 'sent'",
                (f"broadcast:{broadcast_id}",),
            )
            broadcast_at_kill.append(int(delivered or 0))
            if kill == 0:
                assert await alerts.plan_reminders() == 0  # planned once, whatever happens
            await bot.start()
        attempts = await asyncio.wait_for(asyncio.gather(*filing), timeout=600)

        async def quiet() -> bool:
            left = await db.fetchval(
                "SELECT count(*) FROM outbox WHERE status IN ('pending', 'sending')"
            )
            return left == 0

        await eventually(quiet, timeout=900 if SOAK else 300, what="the outbox to drain")
        code = await bot.stop()
        seconds = time.monotonic() - started
    finally:
        if bot.process is not None and bot.process.returncode is None:
            bot.process.kill()
            await bot.process.wait()
        log = bot.log.read_text(encoding="utf-8") if bot.log.exists() else ""

    try:
        references = {r[0] for r in await db.fetchall("SELECT reference FROM reports")}
        rows = await db.fetchall(
            "SELECT chat_id, status, batch FROM outbox WHERE batch IN (?, ?)",
            (f"broadcast:{broadcast_id}", f"event:{event_id}:remind"),
        )
        statuses = Counter(r[0] for r in await db.fetchall("SELECT status FROM outbox"))
        failures = [
            f"{r[0]} {r[1]}: {r[2]}"
            for r in await db.fetchall(
                "SELECT idempotency_key, method, error FROM outbox WHERE status = 'failed'"
            )
        ]
    finally:
        await db.close()
    status_of = {(r[2], r[0]): r[1] for r in rows}
    confirmed = {
        reference
        for user in reporters
        for message in user.messages
        if "received" in message.text
        for reference in re.findall(r"R-\d{4}-\d{6}", message.text)
    }
    found = cards(staff.bot_messages)

    def deliveries(users: list[FakeUser], marker: str, batch: str) -> tuple[int, int, int]:
        """(exactly once, missing but ambiguous, more than once)."""
        once = missing = twice = 0
        for user in users:
            got = sum(marker in m.text for m in user.messages)
            status = status_of.get((batch, user.id))
            if got == 1:
                once += 1
            elif got == 0:
                assert status == "unknown", f"{user.first_name}: {marker!r} lost ({status})"
                missing += 1
            else:
                twice += 1
        return once, missing, twice

    broadcast_once, broadcast_missing, broadcast_twice = deliveries(
        residents, BROADCAST_TEXT, f"broadcast:{broadcast_id}"
    )
    remind_once, remind_missing, remind_twice = deliveries(
        followers, EVENT_TITLE, f"event:{event_id}:remind"
    )
    recovered = [
        json.loads(line)["message"]
        for line in log.splitlines()
        if line.startswith("{") and "outbox after restart" in line
    ]
    record_figures(
        "crash",
        {
            "kills": KILLS,
            "starts": bot.starts,
            "reports_submitted": REPORTERS,
            "reports_filed": len(references),
            "reports_confirmed_to_resident": len(confirmed),
            "report_cards_delivered": len(set(found) & references),
            "duplicate_cards": sum(found.values()) - len(found),
            "resident_attempts": sum(attempts),
            "broadcast_expected": RESIDENTS,
            "broadcast_once": broadcast_once,
            "broadcast_ambiguous_missing": broadcast_missing,
            "broadcast_duplicates": broadcast_twice,
            "reminders_expected": len(followers),
            "reminders_once": remind_once,
            "reminders_ambiguous_missing": remind_missing,
            "reminder_duplicates": remind_twice,
            "rows_sending_at_kill": ambiguous_at_kill,
            "broadcast_sent_at_kill": broadcast_at_kill,
            "seconds": round(seconds, 1),
            "recovery_log": recovered,
            "outbox": dict(statuses),
            "failures": failures,
        },
    )
    assert code == 0, log[-3000:]
    assert len(references) == REPORTERS  # one report each, none lost, none doubled
    assert confirmed <= references
    assert set(found) == references, sorted(references - set(found))
    assert broadcast_twice == 0 and remind_twice == 0
    assert broadcast_once + broadcast_missing == RESIDENTS
    assert remind_once + remind_missing == len(followers)
    assert set(statuses) <= {"sent", "unknown"}, statuses
    assert TEST_TOKEN not in log and TEST_TOKEN.partition(":")[2] not in log
