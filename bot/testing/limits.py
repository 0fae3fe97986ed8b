"""Telegram's flood limits, as a meter that can judge a call log or enforce them live.

The exact rules (a send = one message; ``sendMediaGroup`` with N items counts N):

* **global**: more than 30 sends in any sliding 1-second window ``(t - 1 s, t]`` across all
  chats; every send that is the 31st or later inside such a window is one violation;
* **private_chat**: a token bucket per private chat holding at most 3 tokens, refilled at
  1 token per second, starting full. Each send takes a token; a send that finds less than
  one token is a violation (and takes none). So a burst of 3 is allowed, a 4th within the
  same second is a violation, and anything faster than 1/s sustained soon violates;
* **group**: more than 20 sends to one group, supergroup or channel in any sliding
  60-second window ``(t - 60 s, t]``; every send past the 20th is a violation.

Only sends Telegram carried out count: successful calls and calls whose answer was lost
("timeout" faults). Calls rejected with an error (including 429s produced by
``enforce_limits``) do not.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from bot.testing.records import Call, Violation

SEND_METHODS = frozenset(
    {
        "sendMessage",
        "sendPhoto",
        "sendDocument",
        "sendVoice",
        "sendAudio",
        "sendVideo",
        "sendAnimation",
        "sendVideoNote",
        "sendSticker",
        "sendLocation",
        "sendVenue",
        "sendContact",
        "sendPoll",
        "sendDice",
        "sendMediaGroup",
        "copyMessage",
        "forwardMessage",
    }
)
GLOBAL_PER_SECOND = 30
PRIVATE_BURST = 3
PRIVATE_PER_SECOND = 1.0
GROUP_PER_MINUTE = 20


@dataclass(frozen=True)
class Breach:
    """A limit a prospective send would break and how long to wait before it would not."""

    rule: str
    retry_after: int
    detail: str


class FloodMeter:
    """Tracks recent sends and tells whether another one breaks a limit."""

    def __init__(self) -> None:
        self._global: deque[float] = deque()
        self._buckets: dict[int, tuple[float, float]] = {}
        self._groups: dict[int, deque[float]] = {}

    def _tokens(self, chat_id: int, at: float) -> float:
        tokens, last = self._buckets.get(chat_id, (float(PRIVATE_BURST), at))
        return min(float(PRIVATE_BURST), tokens + max(0.0, at - last) * PRIVATE_PER_SECOND)

    @staticmethod
    def _trim(window: deque[float], at: float, span: float) -> None:
        while window and window[0] <= at - span:
            window.popleft()

    def check(self, *, chat_id: int, chat_type: str, at: float, count: int = 1) -> list[Breach]:
        """Return the limits that ``count`` more sends to ``chat_id`` at ``at`` would break."""
        breaches: list[Breach] = []
        self._trim(self._global, at, 1.0)
        if len(self._global) + count > GLOBAL_PER_SECOND:
            wait = self._global[0] + 1.0 - at if self._global else 1.0
            breaches.append(
                Breach(
                    "global",
                    max(1, math.ceil(wait)),
                    f"{len(self._global) + count} sends within 1 s (limit {GLOBAL_PER_SECOND})",
                )
            )
        if chat_type == "private":
            tokens = self._tokens(chat_id, at)
            if tokens < count:
                breaches.append(
                    Breach(
                        "private_chat",
                        max(1, math.ceil((count - tokens) / PRIVATE_PER_SECOND)),
                        f"burst allowance exhausted ({tokens:.2f} of {PRIVATE_BURST} left, "
                        f"refills {PRIVATE_PER_SECOND:g}/s)",
                    )
                )
        else:
            window = self._groups.setdefault(chat_id, deque())
            self._trim(window, at, 60.0)
            if len(window) + count > GROUP_PER_MINUTE:
                wait = window[0] + 60.0 - at if window else 60.0
                breaches.append(
                    Breach(
                        "group",
                        max(1, math.ceil(wait)),
                        f"{len(window) + count} sends within 60 s (limit {GROUP_PER_MINUTE})",
                    )
                )
        return breaches

    def record(self, *, chat_id: int, chat_type: str, at: float, count: int = 1) -> None:
        """Account for ``count`` sends that Telegram carried out."""
        self._global.extend([at] * count)
        if chat_type == "private":
            tokens = self._tokens(chat_id, at)
            if tokens >= count:
                tokens -= count
            self._buckets[chat_id] = (tokens, at)
        else:
            self._groups.setdefault(chat_id, deque()).extend([at] * count)


def sent_count(call: Call) -> int:
    """Return how many messages a logged call delivered (0 for failed calls)."""
    if call.method not in SEND_METHODS or call.chat_id is None:
        return 0
    if not (call.ok or call.fault == "timeout"):
        return 0
    if isinstance(call.result, list):
        return len(call.result)
    return 1


def flood_violations(calls: Iterable[Call], chat_types: Mapping[int, str]) -> list[Violation]:
    """Replay the sends of a call log through a fresh meter and list every violation."""
    meter = FloodMeter()
    violations: list[Violation] = []
    for call in calls:
        count = sent_count(call)
        if not count or call.chat_id is None:
            continue
        chat_type = chat_types.get(call.chat_id, "private" if call.chat_id > 0 else "supergroup")
        for breach in meter.check(
            chat_id=call.chat_id, chat_type=chat_type, at=call.at, count=count
        ):
            chat = None if breach.rule == "global" else call.chat_id
            violations.append(Violation(breach.rule, chat, call.at, call.method, breach.detail))
        meter.record(chat_id=call.chat_id, chat_type=chat_type, at=call.at, count=count)
    return violations
