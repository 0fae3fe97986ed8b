"""Fixtures for the tests of the Telegram fake itself."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from telegram import Bot

from bot.testing import FakeRequest, FakeTelegram


class SteppingClock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> SteppingClock:
    return SteppingClock()


@pytest.fixture
def tg(clock: SteppingClock) -> FakeTelegram:
    return FakeTelegram(clock=clock)


@pytest.fixture
async def bot(tg: FakeTelegram) -> AsyncIterator[Bot]:
    """A plain PTB ``Bot`` talking to the fake in process."""
    async with Bot(tg.token, request=FakeRequest(tg)) as instance:
        yield instance


@pytest.fixture(autouse=True)
def _timedelta_periods(monkeypatch: pytest.MonkeyPatch) -> None:
    # PTB 22 warns when RetryAfter.retry_after is read as an int; opt in to timedeltas.
    monkeypatch.setenv("PTB_TIMEDELTA", "true")
