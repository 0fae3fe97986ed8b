"""A rate limiter that keeps the bot inside Telegram's flood limits and says what it did.

PTB's `AIORateLimiter` uses leaky buckets, which allow a burst of up to the whole
per-second budget on top of the steady rate; counted over any one-second window that
can reach twice the limit. This limiter keeps sliding windows instead, so that no
window ever holds more than the limit:

* overall: at most `overall_per_second` sends in any 1 s window (Telegram: about 30);
* a private chat: at most `private_burst` sends in any 1 s window (Telegram: about 1/s
  sustained, short bursts tolerated);
* a group: at most `group_per_minute` sends in any 60 s window (Telegram: 20).

A 429 answer pauses every send for `retry_after` seconds. Calls that are not sends
(getUpdates, answerCallbackQuery, getChatMember ...) pass straight through.
"""

from __future__ import annotations

import asyncio
import time
import warnings
from collections import deque
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from telegram.error import RetryAfter
from telegram.ext import BaseRateLimiter
from telegram.warnings import PTBDeprecationWarning

SEND_METHODS = frozenset(
    {
        "sendMessage",
        "sendPhoto",
        "sendDocument",
        "sendVoice",
        "sendAudio",
        "sendVideo",
        "sendAnimation",
        "sendLocation",
        "sendVenue",
        "sendContact",
        "sendMediaGroup",
        "sendSticker",
        "sendPoll",
        "copyMessage",
        "forwardMessage",
    }
)


def retry_seconds(error: RetryAfter) -> float:
    """`retry_after` in seconds, whether PTB gives an int or a timedelta."""
    with warnings.catch_warnings():
        # PTB 22 warns that the attribute will become a timedelta; both are handled here.
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        value = error.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


@dataclass(slots=True)
class LimiterStats:
    sends: int = 0
    delayed: int = 0
    delay_seconds: float = 0.0
    retry_after_pauses: int = 0
    retry_after_seconds: float = 0.0

    def as_dict(self) -> dict[str, float]:
        return {
            "sends": self.sends,
            "delayed": self.delayed,
            "delay_seconds": round(self.delay_seconds, 3),
            "retry_after_pauses": self.retry_after_pauses,
            "retry_after_seconds": round(self.retry_after_seconds, 3),
        }


class _Window:
    """Sends finished within the last `seconds`, plus those still in flight.

    A send is stamped when its call returns, not when it is allowed: Telegram counts
    arrivals, and concurrent requests arrive spread over the time they take (a window
    stamped at permission time let the fake count 31 in a second now and then).
    """

    __slots__ = ("in_flight", "limit", "seconds", "stamps")

    def __init__(self, limit: int, seconds: float) -> None:
        self.limit = limit
        self.seconds = seconds
        self.stamps: deque[float] = deque()
        self.in_flight = 0

    def room(self, now: float) -> int:
        """How many more sends the window allows right now."""
        while self.stamps and self.stamps[0] <= now - self.seconds:
            self.stamps.popleft()
        return max(self.limit - len(self.stamps) - self.in_flight, 0)

    def wait(self, now: float) -> float:
        while self.stamps and self.stamps[0] <= now - self.seconds:
            self.stamps.popleft()
        if len(self.stamps) + self.in_flight < self.limit:
            return 0.0
        if not self.stamps:
            return 0.01  # all `limit` are in flight: look again shortly
        return max(self.stamps[0] + self.seconds - now, 0.001)


class TelegramRateLimiter(BaseRateLimiter[dict[str, Any]]):
    def __init__(
        self,
        *,
        overall_per_second: int | None = 30,
        private_burst: int | None = 3,
        group_per_minute: int | None = 20,
        clock: Callable[[], float] = time.monotonic,
        pause_on_retry_after: bool = True,
    ) -> None:
        self._overall = _Window(overall_per_second, 1.0) if overall_per_second else None
        self._private_burst = private_burst
        self._group_per_minute = group_per_minute
        self._chats: dict[int | str, _Window] = {}
        self._paused_until = 0.0
        self._clock = clock
        self._pause_on_retry_after = pause_on_retry_after
        self.stats = LimiterStats()

    def room(self) -> int | None:
        """Sends the overall limit allows right now (None: no limit; 0 while paused)."""
        now = self._clock()
        if self._paused_until > now:
            return 0
        return None if self._overall is None else self._overall.room(now)

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None

    def _chat_window(self, chat_id: int | str) -> _Window | None:
        window = self._chats.get(chat_id)
        if window is None:
            is_group = isinstance(chat_id, str) or chat_id < 0
            limit = self._group_per_minute if is_group else self._private_burst
            if not limit:
                return None
            window = _Window(limit, 60.0 if is_group else 1.0)
            if len(self._chats) > 50_000:
                self._chats.clear()
            self._chats[chat_id] = window
        return window

    async def _acquire(self, chat_id: int | str | None) -> list[_Window]:
        delayed = False
        started = self._clock()
        chat = self._chat_window(chat_id) if chat_id is not None else None
        while True:
            now = self._clock()
            wait = max(
                self._paused_until - now,
                self._overall.wait(now) if self._overall else 0.0,
                chat.wait(now) if chat else 0.0,
            )
            if wait <= 0:
                break
            delayed = True
            await asyncio.sleep(wait)
        now = self._clock()
        windows = [window for window in (self._overall, chat) if window is not None]
        for window in windows:
            window.in_flight += 1
        self.stats.sends += 1
        if delayed:
            self.stats.delayed += 1
            self.stats.delay_seconds += now - started
        return windows

    def _release(self, windows: list[_Window]) -> None:
        now = self._clock()
        for window in windows:
            window.in_flight -= 1
            window.stamps.append(now)

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, bool | dict[str, Any] | list[dict[str, Any]]]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: dict[str, Any] | None,
    ) -> bool | dict[str, Any] | list[dict[str, Any]]:
        if endpoint not in SEND_METHODS:
            return await callback(*args, **kwargs)
        chat_id = data.get("chat_id")
        windows = await self._acquire(chat_id if isinstance(chat_id, int | str) else None)
        try:
            return await callback(*args, **kwargs)
        except RetryAfter as error:
            seconds = retry_seconds(error)
            if self._pause_on_retry_after:
                self._paused_until = max(self._paused_until, self._clock() + seconds)
            self.stats.retry_after_pauses += 1
            self.stats.retry_after_seconds += seconds
            raise
        finally:
            self._release(windows)
