"""The rate limiter's sliding windows, on a simulated clock."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from bot.delivery import limiter as limiter_module
from bot.delivery.limiter import TelegramRateLimiter

_real_sleep = asyncio.sleep


class SimulatedTime:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += seconds
        await _real_sleep(0)


@pytest.fixture
def sim(monkeypatch: pytest.MonkeyPatch) -> SimulatedTime:
    time = SimulatedTime()
    monkeypatch.setattr(limiter_module.asyncio, "sleep", time.sleep)
    return time


async def _send(
    limiter: TelegramRateLimiter, sim: SimulatedTime, chat_id: int, stamps: list[float]
) -> None:
    async def callback(*_: Any, **__: Any) -> dict[str, Any]:
        stamps.append(sim.now)
        return {}

    await limiter.process_request(callback, (), {}, "sendMessage", {"chat_id": chat_id}, None)


def max_in_window(stamps: list[float], window: float) -> int:
    return max(sum(1 for t in stamps if start <= t < start + window) for start in stamps)


async def test_overall_rate_never_exceeds_30_in_any_second(sim: SimulatedTime) -> None:
    limiter = TelegramRateLimiter(clock=sim)
    stamps: list[float] = []
    for chat in range(1, 301):
        await _send(limiter, sim, chat, stamps)
    assert max_in_window(stamps, 1.0) <= 30
    assert stamps[-1] - stamps[0] >= 9.0  # 300 sends at 30/s
    assert limiter.stats.delayed > 0


async def test_group_gets_at_most_20_per_minute(sim: SimulatedTime) -> None:
    limiter = TelegramRateLimiter(clock=sim)
    stamps: list[float] = []
    for _ in range(45):
        await _send(limiter, sim, -100123, stamps)
    assert max_in_window(stamps, 60.0) <= 20
    assert stamps[-1] - stamps[0] >= 120.0


async def test_private_chat_bursts_are_capped(sim: SimulatedTime) -> None:
    limiter = TelegramRateLimiter(clock=sim)
    stamps: list[float] = []
    for _ in range(10):
        await _send(limiter, sim, 42, stamps)
    assert max_in_window(stamps, 1.0) <= 3


async def test_lifted_limits_do_not_delay(sim: SimulatedTime) -> None:
    limiter = TelegramRateLimiter(
        overall_per_second=None, private_burst=None, group_per_minute=None, clock=sim
    )
    stamps: list[float] = []
    for _ in range(100):
        await _send(limiter, sim, 42, stamps)
    assert stamps[-1] == stamps[0]
    assert limiter.stats.delayed == 0
