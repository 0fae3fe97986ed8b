"""Fault injection: make chosen Bot API calls fail the way Telegram or the network does.

Kinds and what the bot sees:

* ``"429"`` / ``"500"`` / ``"502"`` / ``"403"`` / ``"400"``: a Telegram-shaped error answer
  (PTB raises ``RetryAfter`` / ``NetworkError`` / ``NetworkError`` / ``Forbidden`` /
  ``BadRequest``); nothing is stored.
* ``"drop"``: the request never reached Telegram; nothing is stored and the transport
  raises ``telegram.error.NetworkError`` (over HTTP the connection is closed unanswered).
* ``"timeout"``: the request WAS processed (a message is stored) but the answer is lost;
  the transport raises ``telegram.error.TimedOut`` (over HTTP the answer is held back for
  ``delay`` seconds, default 30, so that the client's read timeout fires).
* ``"delay"``: the request is processed after ``delay`` seconds; if that is longer than the
  client's read timeout the in-process transport processes it and raises ``TimedOut``.

A fault without ``method`` matches every method except ``getUpdates`` (so that a blanket
fault does not also break polling; name ``getUpdates`` explicitly to fault it).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Protocol

from bot.testing.errors import ApiError, too_many_requests

FAULT_KINDS = frozenset({"429", "500", "502", "403", "400", "timeout", "drop", "delay"})
_DEFAULT_DESCRIPTIONS = {
    "500": "Internal Server Error",
    "502": "Bad Gateway",
    "403": "Forbidden: bot was blocked by the user",
    "400": "Bad Request: injected fault",
}


class HasId(Protocol):
    """Anything with a Telegram id (``FakeUser``, ``FakeChat``)."""

    @property
    def id(self) -> int: ...


@dataclass
class Fault:
    """One registered fault and how often it fired."""

    kind: str
    method: str | None = None
    chat_id: int | None = None
    retry_after: int = 1
    times: int | None = 1
    probability: float | None = None
    delay: float = 0.0
    description: str | None = None
    hits: int = 0

    def error(self) -> ApiError | None:
        """Return the error answer for HTTP-status kinds, None for network kinds."""
        if self.kind == "429":
            error = too_many_requests(self.retry_after)
            if self.description:
                error.description = self.description
            return error
        if self.kind in _DEFAULT_DESCRIPTIONS:
            return ApiError(int(self.kind), self.description or _DEFAULT_DESCRIPTIONS[self.kind])
        return None


class FaultInjector:
    """The registry of faults of one ``FakeTelegram``; random draws are seeded."""

    def __init__(self) -> None:
        self._faults: list[Fault] = []
        self._random = random.Random(0)

    def add(
        self,
        method: str | None = None,
        chat_id: int | HasId | None = None,
        kind: str = "429",
        *,
        retry_after: int = 1,
        times: int | None = 1,
        probability: float | None = None,
        delay: float = 0.0,
        description: str | None = None,
    ) -> Fault:
        """Register a fault; ``times=None`` keeps it forever, ``probability`` makes it random."""
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; use one of {sorted(FAULT_KINDS)}")
        if probability is not None and not 0.0 <= probability <= 1.0:
            raise ValueError("probability must be between 0 and 1")
        chat = chat_id if chat_id is None or isinstance(chat_id, int) else chat_id.id
        fault = Fault(kind, method, chat, retry_after, times, probability, delay, description)
        self._faults.append(fault)
        return fault

    def clear(self) -> None:
        """Remove every registered fault."""
        self._faults.clear()

    def seed(self, seed: int) -> None:
        """Reseed the generator used for ``probability`` faults."""
        self._random.seed(seed)

    @property
    def active(self) -> list[Fault]:
        """The faults that can still fire."""
        return list(self._faults)

    def match(self, method: str, chat_id: int | None) -> Fault | None:
        """Return (and use up) the first fault that fires for this call, if any."""
        for fault in list(self._faults):
            if fault.method is None and method == "getUpdates":
                continue
            if fault.method is not None and fault.method.lower() != method.lower():
                continue
            if fault.chat_id is not None and fault.chat_id != chat_id:
                continue
            if fault.probability is not None and self._random.random() >= fault.probability:
                continue
            fault.hits += 1
            if fault.times is not None and fault.hits >= fault.times:
                self._faults.remove(fault)
            return fault
        return None
