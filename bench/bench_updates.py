"""Update handling: the real bot against a bare python-telegram-bot bot, on the same fake.

    python -m bench.bench_updates            # 200 residents, 200 staff presses
    python -m bench.bench_updates --smoke    # a handful, a few seconds
    python -m bench.bench_updates --json     # the figures as JSON

What runs. The real `Application` from `bot.app.build_application` (every handler, the
`PerChatUpdateProcessor`, the rate limiter with its limits lifted, a fresh SQLite
database, a `ManualClock`) on the in-process Telegram fake. Simulated residents each
walk the whole report flow: /start, the menu's "Report a concern", a category, a
neighborhood, the description, Continue, anonymity, Confirm: 8 updates each, all
residents at once, each waiting for the bot to finish one update before sending the next
(as a person waits for the answer). The outbox is then drained (staff cards), and staff
members press "Acknowledge" on every card: all of them in the one staff chat, which the
processor serialises by design.

The path measured. Updates are put on `application.update_queue` while
`application.start()` runs, exactly where PTB's polling or webhook puts them, so the
update fetcher and the processor's concurrency (across chats, serial within a chat) are
the real ones. `Update.de_json` is done inside the measured time, as polling does it.
Latency runs from that hand-over to (a) the first answering API call the fake records for
the update (anything but get* calls) and (b) the end of the update's processing. Both
use `time.monotonic`, the fake's clock.

The baselines, in the same run: a bare PTB `Application` with one `TypeHandler` that
answers every update with one `send_message(chat_id, "ok")`, the same processor class,
the same lifted rate limiter, the same fake, and the same number of residents (and staff
members) replaying the steps our bot was walked through, in the same order. It runs
twice, on two kinds of input:

- "bare", same updates (the one the targets are computed against): every update has the
  payload ours got, differing only in ids and dates. Texts (typed, or a reply-keyboard
  button's label) are the same messages. An inline button press is a callback query
  with the same callback data on a message holding the same text, entities and inline
  keyboard as the message pressed in our bot (the step message, or the staff card in its
  forum topic), because Telegram puts the pressed message into the callback query; each
  staff member presses the cards the same member pressed in ours, in the same order.
  Before each press the bench stores that message in the bare bot's chat, as the fake
  stores a bot message, outside the measured time: it is not an update, not an API
  call, and its CPU and wall time are taken out of the phase.
- "bare (plain)", reference figures only: the press is on the bare bot's own last "ok"
  message (a staff press on a plain "card" message at first), a short message with no
  entities and no keyboard, which PTB parses for less than what ours receives.

The rounds alternate: a round of ours, then the "bare" baseline replaying that very round
(with ours' periodic jobs paused), and so on for 3 rounds of flows and 3 of staff presses,
so that a shared machine slowing down or speeding up during the run touches both bots
alike; the fastest round of each is shown. "bare (plain)" replays the recorded rounds
afterwards. The start-up integrity check (a job 5 s after start) runs before anything is
measured.

The targets use the first: both bots get the same input and only the processing differs,
so the ratios measure what our code adds for the same traffic. Only the API results
still differ (the bare bot answers "ok", ours sends steps with keyboards), which is part
of what ours does.

Each phase starts with a full garbage collection, and what is alive then (the fake's
world of messages, the updates kept from earlier phases) is frozen (`gc.freeze`) during
the phase: the collector still runs on what the phase allocates, but a full pass over
the bench's own heap does not land in one bot's phase and not in another's.

CPU per update is the process CPU time (all threads, so aiosqlite's included) over a
phase divided by its updates; "bot" is that minus the time spent inside the fake
(answering API calls and producing the users' updates), measured with `thread_time`
around it. The fake stands in for the network: a real deployment also pays for HTTP
(httpx) on each API call, in both bots alike.

Targets (issue 8): bot CPU per update and p50 latency of the flow steps at most 2x the
bare bot's; at least 500 updates/s overall.
"""

from __future__ import annotations

import argparse
import asyncio
import contextvars
import copy
import gc
import json
import sys
import tempfile
import time
from collections.abc import AsyncGenerator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any, NamedTuple

from telegram import Bot, Message, Update
from telegram.ext import Application, ContextTypes, TypeHandler

from bench._common import ADMIN_ID, STAFF_CHAT_ID, bench_settings, fmt, percentile, ratio, table
from bot.app import build_application, start_services, stop_services
from bot.clock import ManualClock
from bot.context import SERVICES_KEY, BotApplication, Services
from bot.delivery import TelegramRateLimiter
from bot.processor import PerChatUpdateProcessor
from bot.testing import FakeChat, FakeMessage, FakeRequest, FakeTelegram, FakeUser

RESIDENTS, STAFF = 200, 5
SMOKE_RESIDENTS, SMOKE_STAFF = 6, 2
WARMUP_RESIDENTS = 10
ROUNDS = 3  # each phase is measured this many times; the fastest round is shown
TARGET_RATIO, TARGET_RATE = 2.0, 500.0
FLOW_STEPS = (
    "start",
    "menu",
    "category",
    "neighborhood",
    "text",
    "continue",
    "anonymity",
    "confirm",
)
STAFF_STEP = "staff press"
DESCRIPTIONS = (
    "The streetlight at the corner of Main and Hollis has been dark for a week.",
    "Hay basura acumulada detrás del mercado desde hace dos semanas.",
    "Loud music every night until 3am from the corner house on our street.",
    "Un coche abandonado lleva un mes en la calle, sin placas.",
)

# The update a piece of code runs for (set by the processor probe, read by the transport).
_UPDATE: contextvars.ContextVar[int | None] = contextvars.ContextVar("bench_update", default=None)
# The updates one simulated person's action produced (set per person task).
_SENT: contextvars.ContextVar[list[int] | None] = contextvars.ContextVar("bench_sent", default=None)

JSON = dict[str, Any]


class Step(NamedTuple):
    """One update of a script, for the baseline to replay."""

    name: str
    kind: str  # "text" | "callback"
    value: str  # the text sent, or the callback data
    # A press: the pressed message as the callback query carried it (a reference to the
    # update the probe kept, never altered: PTB parses a copy).
    shown: JSON | None = None


def _limiter() -> TelegramRateLimiter:
    return TelegramRateLimiter(overall_per_second=None, private_burst=None, group_per_minute=None)


@dataclass
class Probe:
    """Hand-over, first answer and end times per update, and the fake's CPU time."""

    handed: dict[int, float] = field(default_factory=dict)
    first: dict[int, float] = field(default_factory=dict)
    done: dict[int, float] = field(default_factory=dict)
    step: dict[int, str] = field(default_factory=dict)
    waiters: dict[int, asyncio.Future[None]] = field(default_factory=dict)
    fake_cpu: float = 0.0
    calls: int = 0
    # The bench storing the messages the bare bot's presses are on: taken out of the phase.
    staged_cpu: float = 0.0
    staged_wall: float = 0.0
    # What Telegram sent (the update) and answered (each API result) for each update:
    # kept by reference only (no copy in the measured time), parsed again afterwards.
    raw_updates: dict[int, dict[str, Any]] = field(default_factory=dict)
    raw_results: dict[int, list[tuple[str, bytes]]] = field(default_factory=dict)
    # API methods whose answer this bot leaves as JSON (PTB builds no object from it).
    unparsed: frozenset[str] = frozenset()

    def finish(self, update_id: int) -> None:
        self.done[update_id] = time.monotonic()
        waiter = self.waiters.pop(update_id, None)
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    async def wait(self, update_id: int) -> None:
        if update_id in self.done:
            return
        waiter = self.waiters[update_id] = asyncio.get_running_loop().create_future()
        await waiter

    def reset(self) -> None:
        self.handed.clear()
        self.first.clear()
        self.done.clear()
        self.step.clear()
        self.fake_cpu = 0.0
        self.calls = 0
        self.staged_cpu = 0.0
        self.staged_wall = 0.0
        self.raw_updates.clear()
        self.raw_results.clear()


class ProbedRequest(FakeRequest):
    """The fake's transport, noting when an update's first answering call was recorded.

    Telegram's side of each call (`serve`: routing it, answering it, encoding the answer)
    and this probe's own notes are counted as the fake's CPU, like the answering itself;
    what PTB does to send the call and read its answer stays the bot's.
    """

    def __init__(self, tg: FakeTelegram, probe: Probe) -> None:
        super().__init__(tg)
        self.probe = probe

    async def serve(
        self,
        url: str,
        params: dict[str, Any],
        files: dict[str, Any],
        *,
        read_timeout: float | None,
    ) -> tuple[int, bytes]:
        probe, start = self.probe, time.thread_time()
        before = probe.fake_cpu  # `timed_handle` adds the answering's share inside
        try:
            answer = await super().serve(url, params, files, read_timeout=read_timeout)
            update_id = _UPDATE.get()
            if update_id is not None:
                name = url.rstrip("/").rsplit("/", 1)[-1]
                if update_id not in probe.first and not name.lower().startswith("get"):
                    probe.first[update_id] = time.monotonic()
                probe.raw_results.setdefault(update_id, []).append((name, answer[1]))
            return answer
        finally:
            probe.fake_cpu = before + (time.thread_time() - start)


def instrument(
    tg: FakeTelegram, application: Application[Any, Any, Any, Any, Any, Any], probe: Probe
) -> None:
    """Time the fake's work and mark each update's end; updates go on the update queue."""
    handle = tg.handle

    async def timed_handle(*args: Any, **kwargs: Any) -> Any:
        start = time.thread_time()
        try:
            return await handle(*args, **kwargs)
        finally:
            probe.fake_cpu += time.thread_time() - start
            probe.calls += 1

    tg.handle = timed_handle  # type: ignore[method-assign]

    processor = application.update_processor
    process = processor.do_process_update

    async def timed_process(update: object, coroutine: Awaitable[Any]) -> None:
        update_id = update.update_id if isinstance(update, Update) else None
        token = _UPDATE.set(update_id)
        try:
            await process(update, coroutine)
        finally:
            _UPDATE.reset(token)
            if update_id is not None:
                probe.finish(update_id)

    processor.do_process_update = timed_process  # type: ignore[method-assign]

    async def sink(data: dict[str, Any]) -> None:
        # Runs inside a user's action (timed as the fake's): its own time is the bot's.
        start, handed = time.thread_time(), time.monotonic()
        update = Update.de_json(data, application.bot)
        probe.handed[update.update_id] = handed
        probe.raw_updates[update.update_id] = data
        sent = _SENT.get()
        if sent is not None:
            sent.append(update.update_id)
        application.update_queue.put_nowait(update)
        probe.fake_cpu -= time.thread_time() - start

    tg.set_update_sink(sink)


async def act(probe: Probe, step: str, action: Callable[[], Awaitable[Any]]) -> tuple[Any, int]:
    """Do one user action (its CPU counted as the fake's) and wait until the bot is done.

    Returns what the action returned and the id of the update it produced.
    """
    sent: list[int] = []
    token = _SENT.set(sent)
    start = time.thread_time()
    try:
        result = await action()
    finally:
        probe.fake_cpu += time.thread_time() - start
        _SENT.reset(token)
    if len(sent) != 1:
        raise AssertionError(f"{step}: expected one update, the action produced {len(sent)}")
    probe.step[sent[0]] = step
    await probe.wait(sent[0])
    return result, sent[0]


def received(probe: Probe, step: str, update_id: int) -> Step:
    """The step as the bot received it, from the update the probe kept (not copied)."""
    update = probe.raw_updates[update_id]
    query = update.get("callback_query")
    if query is not None:
        return Step(step, "callback", str(query["data"]), query["message"])
    return Step(step, "text", str(update["message"]["text"]))


# --- the real bot -------------------------------------------------------------------------
class RealBot:
    def __init__(self, directory: Path) -> None:
        self.settings = bench_settings(directory / "bot.sqlite3")
        self.tg = FakeTelegram(token=self.settings.bot_token.reveal())
        self.staff_chat: FakeChat = self.tg.group(
            "Liaison staff", forum=True, chat_id=STAFF_CHAT_ID
        )
        self.tg.user("Ada", last_name="Admin", user_id=ADMIN_ID)  # her command menu is set
        self.clock = ManualClock()
        # The flow's and the staff's answers go through `bot.delivery.replies`, which
        # leaves Telegram's answer to a send or an edit as JSON.
        self.probe = Probe(
            unparsed=frozenset({"sendMessage", "editMessageText", "editMessageReplyMarkup"})
        )
        self.app: BotApplication | None = None

    async def start(self) -> None:
        app = build_application(
            self.settings,
            request=ProbedRequest(self.tg, self.probe),
            get_updates_request=FakeRequest(self.tg),
            clock=self.clock,
            limiter=TelegramRateLimiter(
                overall_per_second=None,
                private_burst=None,
                group_per_minute=None,
                pause_on_retry_after=False,
            ),
            run_sender=False,
        )
        await app.initialize()
        await start_services(app)
        await app.start()
        # The start-up integrity check (a job 5 s after start that reads the whole file)
        # runs now, before anything is measured, as in a deployment's first seconds: its
        # CPU belongs to no update, and would otherwise land in whichever round is running.
        assert app.job_queue is not None
        for job in app.job_queue.get_jobs_by_name("database-quick-check"):
            job.schedule_removal()
            await job.run(app)
        instrument(self.tg, app, self.probe)
        self.app = app

    async def stop(self) -> None:
        if self.app is None:
            return
        app, self.app = self.app, None
        self.tg.set_update_sink(None)
        await app.stop()
        await stop_services(app)
        await app.shutdown()

    @property
    def ptb(self) -> Bot:
        assert self.app is not None
        return self.app.bot

    @property
    def services(self) -> Services:
        assert self.app is not None
        services: Services = self.app.bot_data[SERVICES_KEY]
        return services

    def label(self, user: FakeUser, msgid: str) -> str:
        return self.services.catalogs.get(user.language or "en")._(msgid)

    async def report_flow(self, user: FakeUser, number: int) -> list[Step]:
        """Walk the whole report flow; return the steps for the baseline to replay."""
        city, probe = self.services.city, self.probe
        language = user.language or "en"
        steps: list[Step] = []

        async def text(step: str, value: str) -> None:
            await act(probe, step, lambda: user.send(value))
            steps.append(Step(step, "text", value))

        async def tap(step: str, label: str) -> None:
            # An inline button sends a callback query; a reply-keyboard one, its text.
            _, update_id = await act(probe, step, lambda: user.tap(label))
            steps.append(received(probe, step, update_id))

        category = city.categories[number % len(city.categories)]
        neighborhood = city.neighborhoods[number % len(city.neighborhoods)]
        default = city.default_language
        await text("start", "/start")
        await tap("menu", self.label(user, "📝 Report a concern"))
        await tap("category", category.name(language, default))
        await tap("neighborhood", neighborhood.name(language, default))
        await text("text", DESCRIPTIONS[number % len(DESCRIPTIONS)])
        await tap("continue", self.label(user, "➡️ Continue"))
        anonymity = "🕶 Stay anonymous" if number % 2 else "👤 Share my Telegram name"
        await tap("anonymity", self.label(user, anonymity))
        await tap("confirm", self.label(user, "✅ Confirm and send"))
        return steps

    async def deliver_outbox(self) -> int:
        """Send everything due, moving the clock past the per-chat spacing (as the harness)."""
        services, total = self.services, 0
        for _ in range(10_000):
            sent = await services.sender.drain()
            total += sent
            due = await services.outbox.next_due_at()
            if due is None or due > self.clock.time() + 1.5:
                if not sent:
                    break
                continue
            self.clock.advance(timedelta(seconds=1.1))
        return total

    async def cards(self) -> list[FakeMessage]:
        rows = await self.services.db.fetchall(
            "SELECT card_message_id FROM reports WHERE card_message_id IS NOT NULL ORDER BY id"
        )
        cards = [self.staff_chat.message(int(row[0])) for row in rows]
        return [card for card in cards if card is not None]

    async def staff_press(self, user: FakeUser, card: FakeMessage) -> Step:
        label = "👀 Acknowledge"
        _, update_id = await act(self.probe, STAFF_STEP, lambda: user.tap(label, message=card))
        return received(self.probe, STAFF_STEP, update_id)


# --- the bare bot -------------------------------------------------------------------------
class BareBot:
    """python-telegram-bot with one handler that answers every update with one message."""

    def __init__(self) -> None:
        self.tg = FakeTelegram(token=bench_settings(Path("unused.sqlite3")).bot_token.reveal())
        self.staff_chat: FakeChat = self.tg.group(
            "Liaison staff", forum=True, chat_id=STAFF_CHAT_ID
        )
        self.probe = Probe()
        self.app: Application[Any, Any, Any, Any, Any, Any] | None = None

    async def start(self) -> None:
        app = (
            Application.builder()
            .token(self.tg.token)
            .request(ProbedRequest(self.tg, self.probe))
            .get_updates_request(FakeRequest(self.tg))
            .rate_limiter(_limiter())
            .concurrent_updates(PerChatUpdateProcessor())
            .build()
        )

        async def answer(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
            chat = update.effective_chat
            if chat is not None:
                await context.bot.send_message(chat.id, "ok")

        app.add_handler(TypeHandler(Update, answer))
        await app.initialize()
        await app.start()
        instrument(self.tg, app, self.probe)
        self.app = app
        # The staff presses need a message with a button in the staff chat.
        await app.bot.send_message(STAFF_CHAT_ID, "card")

    async def stop(self) -> None:
        if self.app is None:
            return
        app, self.app = self.app, None
        self.tg.set_update_sink(None)
        await app.stop()
        await app.shutdown()

    @property
    def ptb(self) -> Bot:
        assert self.app is not None
        bot: Bot = self.app.bot
        return bot

    def stage(self, steps: Sequence[Step], chat: FakeChat) -> list[JSON | None]:
        """The messages the presses of `steps` will be on, made before the measured time.

        For each press, the message our bot's press was on (text, entities, inline
        keyboard, forum topic fields) moved into `chat` of this fake; its message id and
        date are given when `replay` stores it, just before the press.
        """
        staged: list[JSON | None] = []
        for step in steps:
            if step.kind != "callback" or step.shown is None:
                staged.append(None)
                continue
            data = copy.deepcopy(step.shown)
            data["chat"] = chat.to_json()
            reply = data.get("reply_to_message")
            if isinstance(reply, dict) and "chat" in reply:
                reply["chat"] = chat.to_json()
            staged.append(data)
        return staged

    def store(self, chat: FakeChat, data: JSON | None) -> FakeMessage:
        """Put a staged message into `chat`, as the fake stores a bot's message.

        Not an API call and not an update: its CPU and wall time are noted, to be taken
        out of the phase.
        """
        if data is None:
            raise AssertionError("a press without the message it was on")
        cpu, wall = time.thread_time(), time.monotonic()
        data["message_id"] = chat.next_message_id()
        data["date"] = self.tg.now()
        message = FakeMessage(data, from_bot=True, markup=data.get("reply_markup"))
        chat.add(message)
        self.probe.staged_cpu += time.thread_time() - cpu
        self.probe.staged_wall += time.monotonic() - wall
        return message

    async def replay(
        self,
        user: FakeUser,
        steps: Sequence[Step],
        chat: FakeChat | None = None,
        staged: Sequence[JSON | None] | None = None,
    ) -> None:
        """Send the updates of `steps`; presses on the `staged` messages, else on the last one.

        With `staged` (from `stage`), each press carries the message our bot's press
        carried: the same updates. Without it, the press is on the chat's last bot message
        (the bare bot's own "ok"): the plain updates.
        """
        where = chat or user.chat
        for index, step in enumerate(steps):
            if step.kind == "text":
                await act(self.probe, step.name, lambda value=step.value: user.send(value))  # type: ignore[misc]
                continue
            shown = None if staged is None else self.store(where, staged[index])

            async def press(value: str = step.value, shown: FakeMessage | None = shown) -> Any:
                message = shown if shown is not None else where.bot_messages[-1]
                return await self.tg.press_callback(user, message, value)

            await act(self.probe, step.name, press)


# --- measuring ----------------------------------------------------------------------------
@dataclass
class Phase:
    updates: int
    seconds: float
    cpu: float
    fake_cpu: float
    latency_first: dict[str, list[float]]
    latency_done: dict[str, list[float]]
    calls: int
    # PTB parsing again, afterwards: the updates (`Update.de_json`), the API results.
    parse_updates_seconds: float
    parse_results_seconds: float
    staged_cpu: float  # already taken out of `cpu` (and its wall time out of `seconds`)

    def figures(self) -> dict[str, Any]:
        per_step: dict[str, Any] = {}
        for step in self.latency_done:
            first, done = self.latency_first.get(step, []), self.latency_done[step]
            per_step[step] = {
                "updates": len(done),
                "first_p50_ms": percentile(first, 50),
                "first_p99_ms": percentile(first, 99),
                "done_p50_ms": percentile(done, 50),
                "done_p99_ms": percentile(done, 99),
            }
        everything_first = [v for values in self.latency_first.values() for v in values]
        everything_done = [v for values in self.latency_done.values() for v in values]
        return {
            "updates": self.updates,
            "seconds": self.seconds,
            "updates_per_s": self.updates / self.seconds if self.seconds else 0.0,
            "api_calls": self.calls,
            "cpu_ms_per_update": 1000 * self.cpu / self.updates,
            "bot_cpu_ms_per_update": 1000 * (self.cpu - self.fake_cpu) / self.updates,
            "fake_cpu_ms_per_update": 1000 * self.fake_cpu / self.updates,
            "ptb_parse_ms_per_update": 1000
            * (self.parse_updates_seconds + self.parse_results_seconds)
            / self.updates,
            "ptb_update_parse_ms_per_update": 1000 * self.parse_updates_seconds / self.updates,
            "ptb_result_parse_ms_per_update": 1000 * self.parse_results_seconds / self.updates,
            "staged_cpu_ms_per_update": 1000 * self.staged_cpu / self.updates,
            "first_p50_ms": percentile(everything_first, 50),
            "first_p99_ms": percentile(everything_first, 99),
            "done_p50_ms": percentile(everything_done, 50),
            "done_p99_ms": percentile(everything_done, 99),
            "steps": per_step,
        }


def parse_seconds(probe: Probe, bot: Bot) -> tuple[float, float]:
    """CPU time PTB takes to turn this phase's updates, and its API results, into objects.

    The same work the run did, timed on its own: `Update.de_json` of each update as
    polling hands it over; then, for each API call, the JSON decoding and the `Message`
    object a send or an edit returns. It grows with what the messages carry (a step's
    keyboard comes back in the result and again inside the next button press), and it
    is PTB's, whatever the handlers do.
    """
    start = time.process_time()
    for data in probe.raw_updates.values():
        Update.de_json(data, bot)
    updates = time.process_time() - start
    start = time.process_time()
    for update_id in probe.raw_updates:
        for method, raw in probe.raw_results.get(update_id, ()):
            if method in probe.unparsed:
                continue
            result = json.loads(raw).get("result")
            if isinstance(result, dict) and "message_id" in result:
                Message.de_json(result, bot)
    return updates, time.process_time() - start


async def measure(probe: Probe, work: Callable[[], Awaitable[Any]], bot: Bot) -> tuple[Phase, Any]:
    gc.collect()
    gc.freeze()  # what is alive now (the fake's world, earlier phases) is not the phase's
    probe.reset()
    cpu, wall = time.process_time(), time.monotonic()
    try:
        result = await work()
    finally:
        wall, cpu = time.monotonic() - wall, time.process_time() - cpu
        gc.unfreeze()
    wall, cpu = wall - probe.staged_wall, cpu - probe.staged_cpu
    first: dict[str, list[float]] = {}
    done: dict[str, list[float]] = {}
    for update_id, handed in probe.handed.items():
        step = probe.step.get(update_id, "?")
        done.setdefault(step, []).append(1000 * (probe.done[update_id] - handed))
        if update_id in probe.first:
            first.setdefault(step, []).append(1000 * (probe.first[update_id] - handed))
    parse_updates, parse_results = parse_seconds(probe, bot)
    phase = Phase(
        len(probe.handed),
        wall,
        cpu,
        probe.fake_cpu,
        first,
        done,
        probe.calls,
        parse_updates,
        parse_results,
        probe.staged_cpu,
    )
    return phase, result


def _residents(tg: FakeTelegram, count: int, prefix: str) -> list[FakeUser]:
    return [
        tg.user(f"{prefix}{i}", last_name="Bench", language="es" if i % 2 else "en")
        for i in range(count)
    ]


def _best(phases: Sequence[Phase]) -> dict[str, Any]:
    """The round least disturbed by anything else on the machine: the fastest one."""
    best = max(phases, key=lambda phase: phase.updates / phase.seconds)
    figures = best.figures()
    figures["rounds_updates_per_s"] = [phase.updates / phase.seconds for phase in phases]
    return figures


# One round of a phase, as the real bot announces it to the baseline: ("flows", the
# residents' scripts) or ("staff", each member's presses); ("done", figures) at the end.
Round = tuple[str, Any]


async def _ours(
    directory: Path, residents: int, staff: int, warmup: int, rounds: int
) -> AsyncGenerator[Round, None]:
    """The real bot's rounds; after each one, what the baseline should replay in its own.

    Between its rounds the bot's periodic jobs are paused, so that none of them runs
    while the baseline is being measured.
    """
    bot = RealBot(directory)
    await bot.start()
    assert bot.app is not None and bot.app.job_queue is not None
    scheduler = bot.app.job_queue.scheduler
    try:
        warm = _residents(bot.tg, warmup, "Warm")
        await asyncio.gather(*(bot.report_flow(user, i) for i, user in enumerate(warm)))
        flows: list[Phase] = []
        for round_ in range(rounds):
            people = _residents(bot.tg, residents, f"Resident{round_}-")
            phase, done = await measure(
                bot.probe,
                lambda people=people: asyncio.gather(  # type: ignore[misc]
                    *(bot.report_flow(u, i) for i, u in enumerate(people))
                ),
                bot.ptb,
            )
            flows.append(phase)
            scheduler.pause()
            yield "flows", list(done)
            scheduler.resume()
        filed = await bot.services.db.fetchval("SELECT count(*) FROM reports")
        if filed != residents * rounds + warmup:
            raise AssertionError(f"{filed} reports filed, expected {residents * rounds + warmup}")
        drain_start, drain_cpu = time.monotonic(), time.process_time()
        rows = await bot.deliver_outbox()
        drain = {
            "rows": rows,
            "seconds": time.monotonic() - drain_start,
            "cpu_s": time.process_time() - drain_cpu,
        }
        cards = (await bot.cards())[warmup:]
        if len(cards) != residents * rounds:
            raise AssertionError(f"{len(cards)} staff cards, expected {residents * rounds}")
        members = [bot.tg.user(f"Staff{i}", language="en") for i in range(staff)]
        for member in members:
            bot.tg.add_member(bot.staff_chat, member)

        async def press(batch: Sequence[FakeMessage]) -> list[list[Step]]:
            async def member_presses(index: int, member: FakeUser) -> list[Step]:
                return [await bot.staff_press(member, card) for card in batch[index::staff]]

            return list(
                await asyncio.gather(*(member_presses(i, m) for i, m in enumerate(members)))
            )

        presses: list[Phase] = []
        for round_ in range(rounds):
            batch = cards[round_ * residents : (round_ + 1) * residents]
            phase, staff_steps = await measure(
                bot.probe,
                lambda batch=batch: press(batch),  # type: ignore[misc]
                bot.ptb,
            )
            presses.append(phase)
            scheduler.pause()
            yield "staff", staff_steps
            scheduler.resume()
        acknowledged = await bot.services.db.fetchval(
            "SELECT count(*) FROM reports WHERE status = 'acknowledged'"
        )
        if acknowledged != residents * rounds:
            raise AssertionError(
                f"{acknowledged} reports acknowledged, expected {residents * rounds}"
            )
        failed = [f"{c.method}: {c.description}" for c in bot.tg.calls if not c.ok]
        yield (
            "done",
            {
                "flows": _best(flows),
                "staff": _best(presses),
                "drain": drain,
                "failed_calls": failed,
            },
        )
    finally:
        await bot.stop()


async def _bare(warmup: int, *, same: bool) -> AsyncGenerator[dict[str, Any] | None, Round]:
    """The bare bot, replaying each round it is sent: the same updates as ours, or plain.

    Sent ("flows", scripts) or ("staff", each member's presses), it measures one round
    and yields None; sent ("done", None), it yields its figures.
    """
    bot = BareBot()
    await bot.start()

    def staged(steps: Sequence[Step], chat: FakeChat) -> list[JSON | None] | None:
        return bot.stage(steps, chat) if same else None

    try:
        flows: list[Phase] = []
        presses: list[Phase] = []
        members: list[FakeUser] = []
        kind, payload = yield None
        while kind != "done":
            if kind == "flows":
                scripts = payload
                if not flows:  # warm up on the first scripts
                    warm = _residents(bot.tg, warmup, "Warm")
                    warm_scripts = [scripts[i % len(scripts)] for i in range(len(warm))]
                    warm_staged = [
                        staged(s, u.chat) for u, s in zip(warm, warm_scripts, strict=True)
                    ]
                    await asyncio.gather(
                        *(
                            bot.replay(u, s, staged=m)
                            for u, s, m in zip(warm, warm_scripts, warm_staged, strict=True)
                        )
                    )
                people = _residents(bot.tg, len(scripts), f"Resident{len(flows)}-")
                shown = [staged(s, u.chat) for u, s in zip(people, scripts, strict=True)]
                phase, _ = await measure(
                    bot.probe,
                    lambda people=people, shown=shown, scripts=scripts: asyncio.gather(  # type: ignore[misc]
                        *(
                            bot.replay(u, s, staged=m)
                            for u, s, m in zip(people, scripts, shown, strict=True)
                        )
                    ),
                    bot.ptb,
                )
                flows.append(phase)
            else:
                staff_scripts = payload
                if not members:
                    members = [
                        bot.tg.user(f"Staff{i}", language="en") for i in range(len(staff_scripts))
                    ]
                    for member in members:
                        bot.tg.add_member(bot.staff_chat, member)
                # Each member presses what the same member pressed in ours, in the same order.
                cards = [staged(part, bot.staff_chat) for part in staff_scripts]
                phase, _ = await measure(
                    bot.probe,
                    lambda cards=cards, staff_scripts=staff_scripts, members=members: (  # type: ignore[misc]
                        asyncio.gather(
                            *(
                                bot.replay(member, part, chat=bot.staff_chat, staged=shown)
                                for member, part, shown in zip(
                                    members, staff_scripts, cards, strict=True
                                )
                            )
                        )
                    ),
                    bot.ptb,
                )
                presses.append(phase)
            kind, payload = yield None
        yield {"flows": _best(flows), "staff": _best(presses)}
    finally:
        await bot.stop()


async def _replay(
    bare: AsyncGenerator[dict[str, Any] | None, Round], rounds: Sequence[Round]
) -> dict[str, Any]:
    """Drive a baseline through recorded rounds; its figures."""
    await bare.asend(None)  # type: ignore[arg-type]
    for item in rounds:
        await bare.asend(item)
    return await _figures(bare)


async def _figures(bare: AsyncGenerator[dict[str, Any] | None, Round]) -> dict[str, Any]:
    """End a baseline's rounds: its figures, its bot stopped."""
    figures = await bare.asend(("done", None))
    await bare.aclose()
    assert figures is not None
    return figures


async def _run(smoke: bool) -> dict[str, Any]:
    """Ours and the bare bot (same updates) round by round, alternately.

    A round of ours, then the baseline replaying that very round, and so on: a machine
    that slows down or speeds up during the run (shared, noisy) touches both alike.
    The plain baseline (reference only) replays the recorded rounds afterwards.
    """
    residents = SMOKE_RESIDENTS if smoke else RESIDENTS
    staff = SMOKE_STAFF if smoke else STAFF
    warmup = 2 if smoke else WARMUP_RESIDENTS
    rounds = 1 if smoke else ROUNDS
    recorded: list[Round] = []
    bare_gen = _bare(warmup, same=True)
    await bare_gen.asend(None)  # type: ignore[arg-type]
    with tempfile.TemporaryDirectory(prefix="bench-updates-") as directory:
        ours_gen = _ours(Path(directory), residents, staff, warmup, rounds)
        try:
            async for kind, payload in ours_gen:
                if kind == "done":
                    ours = payload
                    break
                recorded.append((kind, payload))
                await bare_gen.asend((kind, payload))
        finally:
            await ours_gen.aclose()
    bare = await _figures(bare_gen)
    bare_plain = await _replay(_bare(warmup, same=False), recorded)
    overall_updates = ours["flows"]["updates"] + ours["staff"]["updates"]
    overall_seconds = ours["flows"]["seconds"] + ours["staff"]["seconds"]
    overall_rate = overall_updates / overall_seconds if overall_seconds else 0.0
    ratios = _ratios(ours, bare)
    return {
        "smoke": smoke,
        "residents": residents,
        "staff_members": staff,
        "rounds": rounds,
        "ours": ours,
        "bare": bare,  # the same updates as ours: the targets' baseline
        "bare_plain": bare_plain,  # presses on its own "ok" message: reference only
        "overall_updates_per_s": overall_rate,
        "ratios": ratios,
        "ratios_plain": _ratios(ours, bare_plain),
        "targets": {
            f"flow bot CPU/update <= {TARGET_RATIO:g}x bare": ratios["flow_bot_cpu"]
            <= TARGET_RATIO,
            f"flow p50 latency <= {TARGET_RATIO:g}x bare": ratios["flow_p50"] <= TARGET_RATIO,
            f">= {TARGET_RATE:g} updates/s overall": overall_rate >= TARGET_RATE,
        },
    }


def _ratios(ours: dict[str, Any], bare: dict[str, Any]) -> dict[str, float]:
    def of(phase: str, key: str) -> float:
        return ratio(ours[phase][key], bare[phase][key])

    return {
        "flow_bot_cpu": of("flows", "bot_cpu_ms_per_update"),
        "flow_p50": of("flows", "done_p50_ms"),
        "flow_p99": of("flows", "done_p99_ms"),
        "staff_bot_cpu": of("staff", "bot_cpu_ms_per_update"),
        "staff_p50": of("staff", "done_p50_ms"),
    }


def run(smoke: bool = False) -> dict[str, Any]:
    """Measure the real bot and the bare baseline; `smoke` uses a handful of residents."""
    return asyncio.run(_run(smoke))


# --- printing -----------------------------------------------------------------------------
def _rates(figures: dict[str, Any]) -> str:
    return " ".join(fmt(rate, 0) for rate in figures["rounds_updates_per_s"])


BASELINES = (("bare", "bare"), ("bare_plain", "bare (plain)"))


def _phase_name(phase: str) -> str:
    return "report flow" if phase == "flows" else "staff presses"


def _ratio_line(label: str, r: dict[str, float]) -> str:
    return (
        f"{label}: flow bot CPU/update {fmt(r['flow_bot_cpu'], 2)},"
        f" flow p50 {fmt(r['flow_p50'], 2)}, flow p99 {fmt(r['flow_p99'], 2)},"
        f" staff bot CPU/update {fmt(r['staff_bot_cpu'], 2)}, staff p50 {fmt(r['staff_p50'], 2)}"
    )


def format_report(results: dict[str, Any]) -> str:
    ours, bare, plain = results["ours"], results["bare"], results["bare_plain"]
    bots = (("ours", ours), *((label, results[key]) for key, label in BASELINES))
    out = [
        f"{results['residents']} residents x {len(FLOW_STEPS)} updates (the whole report flow,"
        f" all at once), then {results['staff_members']} staff members pressing Acknowledge on"
        " every card (one chat: serial)" + (" (smoke sizes)" if results["smoke"] else ""),
        f"each phase run {results['rounds']} times, the fastest round shown (rounds:"
        + ",".join(
            f" {name} {_rates(figures['flows'])} / {_rates(figures['staff'])}"
            for name, figures in bots
        )
        + " updates/s)",
        "real Application vs bare PTB (one send_message per update), same fake, same processor;"
        " latency in ms from hand-over to the first answer / to the end of processing",
        "bare: the same updates as ours, ids aside (a press carries the message ours had:"
        " text, entities, keyboard), the targets' baseline; bare (plain), reference only:"
        ' presses on the bare bot\'s own "ok" message, which carries no keyboard',
        "",
    ]
    rows = []
    for phase in ("flows", "staff"):
        for name, figures in bots:
            figures = figures[phase]
            rows.append(
                [
                    f"{_phase_name(phase)} {name}",
                    figures["updates"],
                    figures["updates_per_s"],
                    figures["first_p50_ms"],
                    figures["first_p99_ms"],
                    figures["done_p50_ms"],
                    figures["done_p99_ms"],
                    figures["cpu_ms_per_update"],
                    figures["bot_cpu_ms_per_update"],
                    figures["api_calls"] / figures["updates"],
                ]
            )
    out += table(
        [
            "phase",
            "updates",
            "upd/s",
            "1st p50",
            "1st p99",
            "end p50",
            "end p99",
            "CPU ms/upd",
            "bot CPU",
            "calls/upd",
        ],
        rows,
    )
    out += [
        "",
        "per flow step, end-of-processing latency p50 / p99 ms, ours vs bare (and bare plain)",
    ]
    step_rows = []
    for step in (*FLOW_STEPS, STAFF_STEP):
        phase = "staff" if step == STAFF_STEP else "flows"
        mine, theirs = ours[phase]["steps"].get(step), bare[phase]["steps"].get(step)
        reference = plain[phase]["steps"].get(step)
        if mine is None or theirs is None or reference is None:
            continue
        step_rows.append(
            [
                step,
                mine["done_p50_ms"],
                mine["done_p99_ms"],
                theirs["done_p50_ms"],
                theirs["done_p99_ms"],
                ratio(mine["done_p50_ms"], theirs["done_p50_ms"]),
                reference["done_p50_ms"],
                ratio(mine["done_p50_ms"], reference["done_p50_ms"]),
            ]
        )
    out += table(
        [
            "step",
            "ours p50",
            "ours p99",
            "bare p50",
            "bare p99",
            "ratio p50",
            "plain p50",
            "ratio plain",
        ],
        step_rows,
    )
    out += [
        "",
        "PTB parsing what Telegram sent and answered, timed again after each phase, ms/update:"
        " updates (Update.de_json), results (the Message PTB builds from what a send or an"
        " edit returns; ours sends its answers through bot.delivery.replies, which keeps"
        " that answer as JSON), and the bot CPU left for everything else",
    ]
    parse_rows = []
    for phase in ("flows", "staff"):
        for name, figures in bots:
            figures = figures[phase]
            parse_rows.append(
                [
                    f"{_phase_name(phase)} {name}",
                    *(
                        fmt(value, 3)
                        for value in (
                            figures["ptb_update_parse_ms_per_update"],
                            figures["ptb_result_parse_ms_per_update"],
                            figures["ptb_parse_ms_per_update"],
                            figures["bot_cpu_ms_per_update"] - figures["ptb_parse_ms_per_update"],
                        )
                    ),
                ]
            )
    out += table(["phase", "updates", "results", "parsing", "rest of bot CPU"], parse_rows)
    drain = ours["drain"]
    rate = drain["rows"] / drain["seconds"] if drain["seconds"] else 0.0
    out += [
        "",
        "calls/upd: the bare bot answers every update with one message; ours answers a button"
        " press, takes the buttons off the pressed message and sends the next step",
        "bare, same updates: storing the message each press is on took"
        f" {fmt(bare['flows']['staged_cpu_ms_per_update'], 4)} (flow) /"
        f" {fmt(bare['staff']['staged_cpu_ms_per_update'], 4)} (staff) ms CPU/update,"
        " taken out of its CPU and time",
        _ratio_line("ratios ours/bare (same updates: the targets)", results["ratios"]),
        _ratio_line("ratios ours/bare (plain), reference", results["ratios_plain"]),
        f"overall: {fmt(results['overall_updates_per_s'], 0)} updates/s (Telegram's cap on"
        " our answers is about 30 messages/s)",
        f"outbox drain after the flows (limiter lifted): {drain['rows']} rows in"
        f" {fmt(drain['seconds'], 2)} s = {fmt(rate, 0)} rows/s,"
        f" {fmt(1000 * drain['cpu_s'] / max(drain['rows'], 1), 2)} ms CPU/row;"
        f" failed API calls: {len(ours['failed_calls'])} {ours['failed_calls'][:3]}",
        "targets (against bare, same updates): "
        + ", ".join(f"{k}: {fmt(v)}" for k, v in results["targets"].items()),
    ]
    return "\n".join(out)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.bench_updates", description=(__doc__ or "").split("\n")[0]
    )
    parser.add_argument("--smoke", action="store_true", help="a handful of residents, quick")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument(
        "--uvloop", action="store_true", help="run on uvloop (not a dependency: pip install it)"
    )
    args = parser.parse_args(argv)
    if args.uvloop:
        import uvloop  # type: ignore[import-not-found]

        asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    results = run(smoke=args.smoke)
    print(json.dumps(results, indent=2) if args.json else format_report(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
