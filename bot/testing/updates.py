"""Update delivery: an in-process sink or Telegram's getUpdates queue, plus waiting helpers."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from bot.testing.errors import ApiError
from bot.testing.objects import JSON, json_copy

UpdateSink = Callable[[JSON], Awaitable[object]]
# Telegram's default when allowed_updates was never given: everything but these.
_NOT_DEFAULT_UPDATES = frozenset({"chat_member", "message_reaction", "message_reaction_count"})
FIRST_UPDATE_ID = 100_000_001


@dataclass
class _Pending:
    update: JSON
    delivered: bool = False


async def _wait_changed(event: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(event.wait(), max(0.0, seconds))


class UpdateQueue:
    """Numbers updates, delivers them, and lets tests wait for the bot to catch up.

    Every change (a new update, an API call, a stored message) calls ``notify``, which
    wakes the waiters: long polls, ``wait_for`` and ``settle`` never sleep blindly.
    """

    def __init__(self, describe: Callable[[], str] = lambda: "") -> None:
        self.history: list[JSON] = []
        self.allowed: list[str] | None = None
        self.requests_in_flight = 0
        self._describe = describe
        self._pending: list[_Pending] = []
        self._next_id = FIRST_UPDATE_ID
        self._sink: UpdateSink | None = None
        self._sinks_in_flight = 0
        self._changed = asyncio.Event()
        self._last_activity = time.monotonic()
        self._poller: object | None = None
        self._terminated: set[object] = set()

    # ---------------------------------------------------------------- delivery
    def set_sink(self, sink: UpdateSink | None) -> None:
        """Deliver through ``sink`` (awaited) instead of the getUpdates queue."""
        self._sink = sink

    def notify(self) -> None:
        """Wake every waiter."""
        self._changed.set()
        self._changed = asyncio.Event()

    def touch(self) -> None:
        """Record bot-side activity (for ``settle``) and wake every waiter."""
        self._last_activity = time.monotonic()
        self.notify()

    def _is_allowed(self, update: JSON) -> bool:
        kinds = [key for key in update if key != "update_id"]
        if not self.allowed:
            return not any(kind in _NOT_DEFAULT_UPDATES for kind in kinds)
        return any(kind in self.allowed for kind in kinds)

    async def emit(self, update: JSON) -> JSON:
        """Number ``update`` (unless it has an id) and deliver it."""
        update = json_copy(update)
        if "update_id" not in update:
            update["update_id"] = self._next_id
            self._next_id += 1
        else:
            self._next_id = max(self._next_id, int(update["update_id"]) + 1)
        self.history.append(update)
        await self.deliver(update)
        return json_copy(update)

    async def deliver(self, update: JSON) -> None:
        """Hand an (already numbered) update to the sink or queue it for getUpdates."""
        sink = self._sink
        if sink is not None:
            self._sinks_in_flight += 1
            self.touch()
            try:
                await sink(json_copy(update))
            finally:
                self._sinks_in_flight -= 1
                self.touch()
            return
        if self._is_allowed(update):
            self._pending.append(_Pending(json_copy(update)))
            self.touch()

    async def redeliver(self, update_id: int) -> None:
        """Deliver a past update again with the same update_id."""
        for update in self.history:
            if update["update_id"] == update_id:
                await self.deliver(json_copy(update))
                return
        raise KeyError(f"no update with id {update_id}")

    # -------------------------------------------------------------- getUpdates
    @property
    def polling(self) -> bool:
        """Whether a getUpdates long poll is waiting right now."""
        return self._poller is not None

    @property
    def pending(self) -> list[JSON]:
        """Copies of the updates not yet confirmed by an offset."""
        return [json_copy(item.update) for item in self._pending]

    def drop_pending(self) -> None:
        """Forget every queued update."""
        self._pending.clear()
        self.notify()

    def confirm(self, offset: int | None) -> None:
        """Apply getUpdates' ``offset``: forget delivered updates below it (-N keeps N)."""
        if offset is None:
            return
        if offset < 0:
            self._pending = self._pending[offset:]
            return
        self._pending = [
            item
            for item in self._pending
            if not (item.delivered and item.update["update_id"] < offset)
        ]

    def _take(self, offset: int | None, limit: int) -> list[JSON]:
        ready = [
            item
            for item in self._pending
            if offset is None
            or offset < 0
            or item.update["update_id"] >= offset
            or not item.delivered  # redelivered below the offset
        ][:limit]
        for item in ready:
            item.delivered = True
        return [json_copy(item.update) for item in ready]

    async def long_poll(
        self,
        offset: int | None,
        limit: int,
        timeout: float,  # noqa: ASYNC109 - getUpdates' own parameter
    ) -> list[JSON]:
        """Wait up to ``timeout`` s for updates; a newer poll terminates this one (409)."""
        token = object()
        if self._poller is not None:
            self._terminated.add(self._poller)
        self._poller = token
        self.notify()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        try:
            while True:
                event = self._changed
                if token in self._terminated:
                    raise ApiError(
                        409,
                        "Conflict: terminated by other getUpdates request; make sure that only "
                        "one bot instance is running",
                    )
                updates = self._take(offset, limit)
                if updates:
                    self.touch()
                    return updates
                remaining = deadline - loop.time()
                if remaining <= 0:
                    return []
                await _wait_changed(event, remaining)
        finally:
            self._terminated.discard(token)
            if self._poller is token:
                self._poller = None

    # ----------------------------------------------------------------- waiting
    async def wait_for(
        self,
        predicate: Callable[[], bool],
        *,
        timeout: float = 10.0,  # noqa: ASYNC109 - a bounded wait is the point of this helper
        what: str = "a condition",
    ) -> None:
        """Wait until ``predicate()`` holds, re-checking after every change."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            event = self._changed
            if predicate():
                return
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise TimeoutError(
                    f"timed out after {timeout} s waiting for {what}; {self._describe()}"
                )
            await _wait_changed(event, remaining)

    def _quiet(self) -> bool:
        return not self._pending and self.requests_in_flight == 0 and self._sinks_in_flight == 0

    async def settle(
        self,
        idle: float = 0.2,
        timeout: float = 10.0,  # noqa: ASYNC109 - a bounded wait is the point of this helper
    ) -> None:
        """Wait until the queue is confirmed, nothing is in flight, and ``idle`` s passed."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            await self.wait_for(
                self._quiet, timeout=max(0.0, deadline - loop.time()), what="the bot to settle"
            )
            idle_for = time.monotonic() - self._last_activity
            if idle_for >= idle:
                return
            if loop.time() >= deadline:
                raise TimeoutError(f"the bot did not stay idle for {idle} s within {timeout} s")
            await _wait_changed(self._changed, min(idle - idle_for, deadline - loop.time()))
