"""The one sender that drains the outbox within Telegram's limits.

A row is marked `sending` before the call and `sent` with Telegram's message id after
it. Error policy:

* 429 `RetryAfter`: back to `pending` after `retry_after` (the limiter pauses all sends);
* network error before the request left (connection refused, reset, 5xx): `pending`
  again with exponential backoff, `failed` after `MAX_ATTEMPTS`;
* `Forbidden` (blocked, kicked): the resident is marked inactive, the row `failed`;
* `BadRequest`: `failed` with Telegram's reason ("message is not modified" counts as sent);
* timeout after the request may have arrived: `unknown`, except rows marked
  `resend_if_unknown` (staff cards), which are sent again.

It runs as one long-lived task that sleeps until the next row is due or until `wake()`
is called after an enqueue; a periodic JobQueue tick would add up to a tick of latency
to every staff card and make a 100,000-row broadcast pay per-tick overhead.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from telegram import (
    Bot,
    InputMediaPhoto,
    LinkPreviewOptions,
    Message,
    ReplyParameters,
)
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError, TimedOut
from telegram.ext import ExtBot

from bot.clock import Clock
from bot.delivery.limiter import TelegramRateLimiter, retry_seconds
from bot.storage.outbox import OutboxRepository, OutboxRow, Outcome

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 12
SentHook = Callable[[OutboxRow, dict[str, Any]], Awaitable[None]]
BlockedHook = Callable[[int], Awaitable[None]]


@dataclass(slots=True)
class SenderStats:
    sent: int = 0
    retried: int = 0
    retry_after: int = 0
    failed: int = 0
    unknown: int = 0
    blocked: int = 0
    resent_after_timeout: int = 0
    errors: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "sent": self.sent,
            "retried": self.retried,
            "retry_after": self.retry_after,
            "failed": self.failed,
            "unknown": self.unknown,
            "blocked": self.blocked,
            "resent_after_timeout": self.resent_after_timeout,
        }


_SNAKE: dict[str, str] = {}


def _snake(method: str) -> str:
    name = _SNAKE.get(method)
    if name is None:
        name = _SNAKE[method] = "".join(f"_{c.lower()}" if c.isupper() else c for c in method)
    return name


def _call_kwargs(row: OutboxRow, bot: Bot) -> dict[str, Any]:
    """Turn the stored JSON parameters into PTB arguments.

    A stored `reply_markup` is Telegram's own JSON and goes out as it is (PTB sends a
    dict unchanged): rebuilding keyboard objects from it, for PTB to turn back into the
    same JSON, was a third of the outbox's own cost per delivery.
    """
    kwargs = dict(row.params)
    if isinstance(kwargs.get("reply_parameters"), dict):
        kwargs["reply_parameters"] = ReplyParameters.de_json(kwargs["reply_parameters"], bot)
    if isinstance(kwargs.get("link_preview_options"), dict):
        kwargs["link_preview_options"] = LinkPreviewOptions.de_json(
            kwargs["link_preview_options"], bot
        )
    if row.method == "sendMediaGroup":
        kwargs["media"] = [
            InputMediaPhoto(
                media=item["media"], caption=item.get("caption"), parse_mode=item.get("parse_mode")
            )
            for item in kwargs["media"]
        ]
    return kwargs


def _extract(result: Any) -> dict[str, Any]:
    """The small part of Telegram's answer that later rows and hooks need."""
    if isinstance(result, Message):
        extract: dict[str, Any] = {"message_id": result.message_id}
        if result.message_thread_id is not None:
            extract["message_thread_id"] = result.message_thread_id
        return extract
    if isinstance(result, tuple | list) and result and isinstance(result[0], Message):
        return {"message_id": result[0].message_id, "message_ids": [m.message_id for m in result]}
    thread = getattr(result, "message_thread_id", None)
    if thread is not None:  # createForumTopic
        return {"message_thread_id": thread}
    return {}


class OutboxSender:
    def __init__(
        self,
        bot: Bot,
        outbox: OutboxRepository,
        clock: Clock,
        *,
        batch_size: int = 30,
        concurrency: int = 30,
        on_blocked: BlockedHook | None = None,
    ) -> None:
        self._bot = bot
        self._outbox = outbox
        self._clock = clock
        self._batch_size = batch_size
        self._semaphore = asyncio.Semaphore(concurrency)
        self._on_blocked = on_blocked
        self._hooks: dict[str, SentHook] = {}
        self._wake = asyncio.Event()
        self._last_sent: dict[int, float] = {}
        self.stats = SenderStats()

    def on_sent(self, kind: str, hook: SentHook) -> None:
        """Call `hook(row, result)` after every successful send of rows of `kind`."""
        self._hooks[kind] = hook

    def wake(self) -> None:
        self._wake.set()

    async def recover(self) -> tuple[int, int]:
        """At start: settle rows a crash left in `sending`."""
        resent, unknown = await self._outbox.recover_interrupted(self._clock.time())
        if resent or unknown:
            log.warning("outbox after restart: %d rows to resend, %d ambiguous", resent, unknown)
        return resent, unknown

    async def drain(self, *, max_batches: int | None = None) -> int:
        """Send everything due now (rows for one chat at most once a second); return the count."""
        total = 0
        batches = 0
        while max_batches is None or batches < max_batches:
            sent = await self.send_batch()
            batches += 1
            if not sent:
                break
            total += sent
        return total

    def _busy_chats(self, now: float) -> list[int]:
        busy = [chat for chat, at in self._last_sent.items() if now - at < 1.0]
        if len(self._last_sent) > 10_000:
            self._last_sent = {chat: self._last_sent[chat] for chat in busy}
        return busy

    def _room(self) -> int | None:
        """Sends the rate limiter allows right now (None: no limit)."""
        limiter = self._bot.rate_limiter if isinstance(self._bot, ExtBot) else None
        return limiter.room() if isinstance(limiter, TelegramRateLimiter) else None

    async def send_batch(self) -> int:
        now = self._clock.time()
        # Claim only what the rate limiter lets leave now: a row marked `sending` while it
        # waits in the limiter would turn `unknown` in a crash although it never left
        # (a kill mid-broadcast cost up to a whole batch of residents their message).
        limit = self._batch_size
        room = self._room()
        if room is not None:
            if room == 0:
                return 0
            limit = min(limit, room)
        rows = await self._outbox.claim_due(now, limit, skip_chats=self._busy_chats(now))
        if not rows:
            return 0
        # One row per chat per batch keeps per-chat order and spacing.
        seen: set[int] = set()
        first: list[OutboxRow] = []
        later: list[OutboxRow] = []
        for row in rows:
            (later if row.chat_id in seen else first).append(row)
            seen.add(row.chat_id)
        if later:
            await self._outbox.release([row.id for row in later], self._clock.time())
        outcomes = list(await asyncio.gather(*(self._send(row) for row in first)))
        await self._outbox.record(outcomes, self._clock.time())
        for row, outcome in zip(first, outcomes, strict=False):
            hook = self._hooks.get(row.kind)
            if outcome.status == "sent" and hook is not None:
                try:
                    await hook(row, outcome.result or {})
                except Exception:
                    log.exception("after-send hook for %s failed", row.key)
        return len(first)

    async def _send(self, row: OutboxRow) -> Outcome:
        async with self._semaphore:
            return await self._attempt(row)

    async def _attempt(self, row: OutboxRow) -> Outcome:
        method = getattr(self._bot, _snake(row.method))
        try:
            result = await method(**_call_kwargs(row, self._bot))
        except RetryAfter as error:
            self.stats.retry_after += 1
            return Outcome(
                row.id,
                "pending",
                error=str(error),
                retry_at=self._clock.time() + retry_seconds(error),
            )
        except TimedOut as error:
            if row.resend_if_unknown and row.attempts < MAX_ATTEMPTS:
                self.stats.resent_after_timeout += 1
                return Outcome(
                    row.id, "pending", error=f"timed out: {error}", retry_at=self._backoff(row)
                )
            self.stats.unknown += 1
            return Outcome(row.id, "unknown", error=f"timed out: {error}")
        except Forbidden as error:
            self.stats.blocked += 1
            if self._on_blocked is not None and row.chat_id > 0:
                await self._on_blocked(row.chat_id)
            return Outcome(row.id, "failed", error=f"forbidden: {error.message}")
        except BadRequest as error:
            if "message is not modified" in error.message:
                self._mark_sent(row.chat_id)
                return Outcome(row.id, "sent", result={})
            self.stats.failed += 1
            log.warning("outbox row %s refused by Telegram: %s", row.key, error.message)
            return Outcome(row.id, "failed", error=f"bad request: {error.message}")
        except NetworkError as error:
            if row.attempts >= MAX_ATTEMPTS:
                self.stats.failed += 1
                return Outcome(row.id, "failed", error=f"network: {error.message}")
            self.stats.retried += 1
            return Outcome(
                row.id, "pending", error=f"network: {error.message}", retry_at=self._backoff(row)
            )
        except TelegramError as error:
            self.stats.failed += 1
            return Outcome(row.id, "failed", error=f"telegram: {error.message}")
        self._mark_sent(row.chat_id)
        self.stats.sent += 1
        extract = _extract(result)
        return Outcome(row.id, "sent", message_id=extract.get("message_id"), result=extract)

    def _mark_sent(self, chat_id: int) -> None:
        self._last_sent[chat_id] = self._clock.time()

    def _backoff(self, row: OutboxRow) -> float:
        return self._clock.time() + min(2.0 ** max(row.attempts - 1, 0), 300.0)

    async def run(self, stop: asyncio.Event) -> None:
        """Drain until `stop` is set, sleeping until the next due row or a wake-up."""
        while not stop.is_set():
            try:
                sent = await self.drain(max_batches=50)
            except Exception:
                log.exception("outbox drain failed; retrying in 1 s")
                sent = 0
                await asyncio.sleep(1.0)
            if sent:
                continue
            next_due = await self._outbox.next_due_at()
            timeout = (
                5.0 if next_due is None else min(max(next_due - self._clock.time(), 0.05), 5.0)
            )
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=timeout)
