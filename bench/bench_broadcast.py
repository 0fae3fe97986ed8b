"""Broadcast benchmark on the in-process Telegram fake.

    python -m bench.bench_broadcast            # 100,000 residents, then >= 20 s throttled
    python -m bench.bench_broadcast --smoke    # tiny sizes, a few seconds
    python -m bench.bench_broadcast --no-write # do not update docs/benchmarks.md

Unthrottled (rate limit lifted): the real planning (`BroadcastService.create`: audience
query, one rendering per language, one `executemany`) plus dispatch (`OutboxSender`:
claim, send through PTB to the fake, record), measured as deliveries per second and
peak memory, next to a naive loop of `bot.send_message` calls over the same residents
in the same run. The fake's per-call cost is measured on its own too (a loop of raw
`FakeTelegram.handle` calls), so our own overhead can be told apart from the fake's.

Throttled: the production limiter (30/s overall, 1/s per chat with a burst of 3) and the
sender's run loop for at least 20 s of wall time; the achieved rate and the number of
flood-limit violations the fake counts in its call log.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import resource
import sys
import tempfile
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from telegram import InlineKeyboardMarkup
from telegram.ext import ExtBot

from bot.clock import SystemClock
from bot.config import EXAMPLE_CITY, load_city
from bot.delivery import OutboxSender, TelegramRateLimiter
from bot.i18n import Catalogs
from bot.services.broadcasts import BroadcastService
from bot.storage import Database, Dialog, DialogRepository, OutboxRepository, migrate
from bot.storage.broadcasts import Audience, BroadcastRepository, NewBroadcast
from bot.storage.outbox import OutboxRow, Outcome
from bot.storage.subscriptions import SubscriptionRepository
from bot.testing import FakeRequest, FakeTelegram, FloodMeter
from bot.views.broadcasts import BroadcastMessages

TOKEN = "123456:BENCH-TOKEN-abcdefghijklmnopqrstuvwxyz"
ADMIN = 900_001
TEXT = "📣 Neighborhood cleanup this Saturday at 9:00, meet at the library. Coffee after!"
DOCS = Path(__file__).resolve().parent.parent / "docs" / "benchmarks.md"
SECTION = "bench_broadcast"
TARGET_RATE = 2_000.0
TARGET_RSS_MB = 250.0
TARGET_THROTTLED = 28.5


def rss_mb() -> float:
    """Peak resident set size of this process so far, in MB (Linux reports KiB)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 1024 if sys.platform != "darwin" else peak / 1024 / 1024


@dataclass
class World:
    """A migrated database and a fake Telegram with `count` residents who started the bot."""

    db: Database
    tg: FakeTelegram
    chat_ids: list[int]
    directory: tempfile.TemporaryDirectory[str]

    async def close(self) -> None:
        await self.db.close()
        self.directory.cleanup()


async def make_world(count: int, *, monotonic_fake: bool = True) -> World:
    directory = tempfile.TemporaryDirectory(prefix="bench-broadcast-")
    db = await Database.open(Path(directory.name) / "bench.sqlite3")
    await migrate(db)
    tg = FakeTelegram(token=TOKEN, clock=time.monotonic if monotonic_fake else time.time)
    admin = tg.user("Ada", user_id=ADMIN)
    users = [tg.user(f"R{i}", language="es" if i % 3 == 0 else "en") for i in range(count)]
    now = time.time()
    async with db.transaction() as tx:
        await tx.executemany(
            "INSERT INTO residents (user_id, chat_id, language, created_at, last_seen_at)"
            " VALUES (?, ?, ?, ?, ?)",
            ((u.id, u.id, u.language or "en", now, now) for u in (admin, *users)),
        )
    return World(db, tg, [u.id for u in users], directory)


class TimedOutbox(OutboxRepository):
    """The outbox, with the wall time of its claims and records added up."""

    def __init__(self, db: Database) -> None:
        super().__init__(db)
        self.claim_seconds = 0.0
        self.record_seconds = 0.0

    async def claim_due(
        self, now: float, limit: int, *, skip_chats: Iterable[int] = ()
    ) -> list[OutboxRow]:
        started = time.perf_counter()
        try:
            return await super().claim_due(now, limit, skip_chats=skip_chats)
        finally:
            self.claim_seconds += time.perf_counter() - started

    async def record(self, outcomes: Sequence[Outcome], now: float) -> None:
        started = time.perf_counter()
        try:
            await super().record(outcomes, now)
        finally:
            self.record_seconds += time.perf_counter() - started


def make_bot(tg: FakeTelegram, limiter: TelegramRateLimiter | None) -> ExtBot[None]:
    return ExtBot(
        TOKEN,
        request=FakeRequest(tg),
        get_updates_request=FakeRequest(tg),
        rate_limiter=limiter,
    )


def make_service(db: Database) -> BroadcastService:
    city = load_city(EXAMPLE_CITY)
    return BroadcastService(
        db=db,
        broadcasts=BroadcastRepository(db),
        subscriptions=SubscriptionRepository(db),
        city=city,
        catalogs=Catalogs(city.languages, city.timezone),
        clock=SystemClock(),
        renderer=BroadcastMessages(city),
    )


async def confirm_broadcast(db: Database, service: BroadcastService) -> int:
    """What the admin's Confirm tap does: plan every delivery in one transaction."""
    dialog = await DialogRepository(db).save(
        Dialog(ADMIN, ADMIN, "broadcast", "confirm"), time.time()
    )
    new = NewBroadcast(
        created_by=ADMIN,
        admin_chat_id=ADMIN,
        admin_language="en",
        texts={"en": TEXT, "es": "📣 ¡Limpieza del barrio este sábado a las 9:00!"},
        photo_file_id=None,
        audience=Audience(),
        send_at=time.time(),
        progress_message_id=None,
    )
    created = await service.create(new, dialog_chat_id=ADMIN, dialog_version=dialog.version)
    return created.planned


def trim_fake(tg: FakeTelegram) -> None:
    """Drop the fake's per-call records (its call log, stored messages and flood meter: a
    test aid, not part of delivery) so that they do not count as our memory."""
    for chat_id in {call.chat_id for call in tg.calls}:
        if chat_id is not None and chat_id in tg.chats:
            tg.chats[chat_id].forget_messages()
    tg.calls.clear()
    tg.meter = FloodMeter()


async def fake_only(tg: FakeTelegram, chat_ids: list[int]) -> float:
    """The fake's own cost: raw `handle` calls, no PTB, no database. Returns calls/s."""
    started = time.perf_counter()
    for chat_id in chat_ids:
        await tg.handle("sendMessage", {"chat_id": chat_id, "text": TEXT}, token=TOKEN)
    return len(chat_ids) / (time.perf_counter() - started)


async def naive_loop(tg: FakeTelegram, chat_ids: list[int]) -> float:
    """The baseline: one `send_message` call after another, with the very same message
    (HTML and the Unsubscribe button). Returns deliveries/s."""
    bot = make_bot(tg, None)
    city = load_city(EXAMPLE_CITY)
    rendered = BroadcastMessages(city).broadcast(
        Catalogs(city.languages, city.timezone).get("en"), TEXT, None
    )
    markup = InlineKeyboardMarkup.de_json(dict(rendered.markup or {}), bot)
    async with bot:
        started = time.perf_counter()
        for index, chat_id in enumerate(chat_ids):
            await bot.send_message(
                chat_id,
                rendered.text,
                parse_mode="HTML",
                reply_markup=markup,
            )
            if index % 5_000 == 4_999:
                trim_fake(tg)
        return len(chat_ids) / (time.perf_counter() - started)


async def unthrottled(count: int, *, batch_size: int, concurrency: int) -> dict[str, Any]:
    world = await make_world(count)
    gc.collect()
    rss_before = rss_mb()
    try:
        service = make_service(world.db)
        outbox = TimedOutbox(world.db)
        limiter = TelegramRateLimiter(
            overall_per_second=None, private_burst=None, group_per_minute=None
        )
        bot = make_bot(world.tg, limiter)
        sender = OutboxSender(
            bot, outbox, SystemClock(), batch_size=batch_size, concurrency=concurrency
        )
        async with bot:
            started = time.perf_counter()
            planned = await confirm_broadcast(world.db, service)
            planned_at = time.perf_counter()
            delivered = 0
            while True:
                # The fake keeps every call and message (~6 KB a send); trimming them every
                # few batches keeps its memory out of the figure, not ours.
                sent = await sender.drain(max_batches=1)
                delivered += sent
                trim_fake(world.tg)
                if not sent:
                    break
            finished = time.perf_counter()
        rss_ours = rss_mb()
        counts = await outbox.counts()
        naive = await naive_loop(world.tg, world.chat_ids)
        fake = await fake_only(world.tg, world.chat_ids[: min(len(world.chat_ids), 20_000)])
    finally:
        await world.close()
    total = finished - started
    return {
        "residents": count,
        "planned": planned,
        "delivered": delivered,
        "outbox": counts,
        "batch_size": batch_size,
        "concurrency": concurrency,
        "plan_seconds": planned_at - started,
        "claim_seconds": outbox.claim_seconds,
        "record_seconds": outbox.record_seconds,
        "dispatch_seconds": finished - planned_at,
        "rate": delivered / total,
        "dispatch_rate": delivered / (finished - planned_at),
        "naive_rate": naive,
        "fake_rate": fake,
        "rss_before_mb": rss_before,
        "peak_rss_mb": rss_ours,
    }


async def throttled(seconds: float) -> dict[str, Any]:
    count = int(seconds * 30) + 30  # `seconds` of full windows at 30/s, and one more
    world = await make_world(count)
    try:
        service = make_service(world.db)
        outbox = OutboxRepository(world.db)
        limiter = TelegramRateLimiter()  # production limits: 30/s, 1/s per chat (burst 3)
        bot = make_bot(world.tg, limiter)
        sender = OutboxSender(bot, outbox, SystemClock())
        async with bot:
            stop = asyncio.Event()
            planned = await confirm_broadcast(world.db, service)
            started = time.monotonic()
            task = asyncio.create_task(sender.run(stop))
            while True:
                await asyncio.sleep(0.25)
                counts = await outbox.counts()
                if counts.get("pending", 0) + counts.get("sending", 0) == 0:
                    break
            stop.set()
            sender.wake()
            await task
        sends = [c for c in world.tg.calls if c.method == "sendMessage" and c.ok]
        violations = world.tg.flood_violations()
    finally:
        await world.close()
    # The steady rate: sends in the whole seconds after the first one. (Sends go out in
    # bursts of 30 at the start of each window, so N / span would count the last burst
    # as if it took no time.)
    first = sends[0].at if sends else 0.0
    whole = int(sends[-1].at - first) if sends else 0
    in_window = sum(1 for c in sends if c.at < first + whole)
    return {
        "planned": planned,
        "delivered": len(sends),
        "seconds": sends[-1].at - started if sends else 0.0,
        "startup_seconds": first - started if sends else 0.0,
        "window_seconds": whole,
        "rate": in_window / whole if whole else 0.0,
        "violations": len(violations),
        "violation_rules": sorted({v.rule for v in violations}),
        "limiter": limiter.stats.as_dict(),
    }


def run(*, smoke: bool = False) -> dict[str, Any]:
    """Run both parts; `smoke` uses tiny sizes so that a test can keep this from rotting."""
    count = 300 if smoke else 100_000
    seconds = 1.5 if smoke else 21.0

    async def main() -> dict[str, Any]:
        results: dict[str, Any] = {"smoke": smoke}
        results["unthrottled"] = await unthrottled(count, batch_size=500, concurrency=100)
        results["unthrottled_default_batch"] = await unthrottled(
            min(count, 20_000), batch_size=30, concurrency=30
        )
        results["throttled"] = await throttled(seconds)
        return results

    return asyncio.run(main())


def format_report(results: dict[str, Any]) -> str:
    fast, small, slow = (
        results["unthrottled"],
        results["unthrottled_default_batch"],
        results["throttled"],
    )

    def verdict(ok: bool) -> str:
        return "ok" if ok else "MISSED"

    def per(seconds: float) -> float:
        return 1e6 * seconds / max(int(fast["delivered"]), 1)

    lines = [
        f"Unthrottled, {fast['residents']:,} residents (rate limit lifted), batch"
        f" {fast['batch_size']}, {fast['concurrency']} concurrent sends:",
        f"  planning            {fast['plan_seconds']:8.2f} s  ({fast['planned']:,} deliveries,"
        f" one transaction)",
        f"  dispatch            {fast['dispatch_seconds']:8.2f} s",
        f"  ours, end to end    {fast['rate']:8,.0f} deliveries/s   target >= {TARGET_RATE:,.0f}"
        f"  {verdict(fast['rate'] >= TARGET_RATE)}",
        f"  naive send loop     {fast['naive_rate']:8,.0f} deliveries/s   (baseline, same run)",
        f"  the fake alone      {fast['fake_rate']:8,.0f} calls/s        (raw handle(), no PTB)",
        f"  per delivery        {1e6 / fast['rate']:8.0f} µs ours = {1e6 / fast['naive_rate']:.0f} µs"
        f" PTB + fake (the naive loop) + {1e6 / fast['rate'] - 1e6 / fast['naive_rate']:.0f} µs"
        " outbox (planning, claim, record, JSON)",
        f"  of which, timed     {per(fast['plan_seconds']):8.1f} µs planning,"
        f" {per(fast['claim_seconds']):.1f} µs claiming, {per(fast['record_seconds']):.1f} µs"
        " recording (wall time per delivery)",
        f"  peak RSS            {fast['peak_rss_mb']:8.0f} MB           target <= {TARGET_RSS_MB:.0f}"
        f"  {verdict(fast['peak_rss_mb'] <= TARGET_RSS_MB)}"
        f"   (fake + {fast['residents']:,} users: {fast['rss_before_mb']:.0f} MB before planning)",
        f"  outbox after        {json.dumps(fast['outbox'], sort_keys=True)}",
        f"Unthrottled, {small['residents']:,} residents, production batch {small['batch_size']}:",
        f"  ours, end to end    {small['rate']:8,.0f} deliveries/s   (naive loop {small['naive_rate']:,.0f}/s)",
        f"Throttled (30/s overall, 1/s per chat), {slow['delivered']:,} deliveries in"
        f" {slow['seconds']:.1f} s:",
        f"  achieved rate       {slow['rate']:8.2f} /s           target >= {TARGET_THROTTLED}"
        f"  {verdict(slow['rate'] >= TARGET_THROTTLED)}   (sends in the first"
        f" {slow['window_seconds']} whole seconds)",
        f"  flood violations    {slow['violations']:8d}              target 0"
        f"  {verdict(slow['violations'] == 0)} {' '.join(slow['violation_rules'])}".rstrip(),
        f"  limiter             {json.dumps(slow['limiter'], sort_keys=True)}",
    ]
    lines.append(
        "notes: unthrottled, the fake's call log, stored messages and flood meter are dropped"
        " after every batch (they are the fake's, ~6 KB a send); throttled, they are kept and"
        " the violations are counted from the whole call log."
    )
    if results.get("smoke"):
        lines.insert(0, "(smoke run: tiny sizes, targets do not apply)")
    return "\n".join(lines)


def write_section(report: str, path: Path = DOCS) -> None:
    """Replace this benchmark's section of docs/benchmarks.md, keeping the others."""
    block = f"## {SECTION}\n\n```\n{report}\n```\n"
    text = path.read_text(encoding="utf-8") if path.exists() else "# Benchmarks\n\n"
    start = text.find(f"## {SECTION}\n")
    if start < 0:
        text = text.rstrip("\n") + "\n\n" + block
    else:
        end = text.find("\n## ", start + 1)
        text = text[:start] + block + (text[end + 1 :] if end >= 0 else "")
    path.parent.mkdir(exist_ok=True)
    path.write_text(text, encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.bench_broadcast", description=__doc__)
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, a few seconds")
    parser.add_argument("--no-write", action="store_true", help="do not update docs/benchmarks.md")
    args = parser.parse_args(argv)
    report = format_report(run(smoke=args.smoke))
    print(report)
    if not args.smoke and not args.no_write:
        write_section(report)
        print(f"written to {DOCS}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
