"""Flood-limit accounting over the call log, and live enforcement."""

from __future__ import annotations

from datetime import timedelta

import pytest
from telegram import Bot
from telegram.error import RetryAfter

from bot.testing import FakeTelegram, fake_bot
from tests.testing.conftest import SteppingClock


async def test_a_burst_of_40_sends_in_one_second_breaks_the_global_limit(
    tg: FakeTelegram, bot: Bot, clock: SteppingClock
) -> None:
    residents = [tg.user(f"Resident {n}") for n in range(40)]
    for resident in residents:
        await bot.send_message(resident.id, "meeting tonight")
        clock.advance(0.02)
    violations = tg.flood_violations()
    assert [v.rule for v in violations] == ["global"] * 10
    assert violations[0].method == "sendMessage" and violations[0].chat_id is None


async def test_30_sends_per_second_are_fine(
    tg: FakeTelegram, bot: Bot, clock: SteppingClock
) -> None:
    residents = [tg.user(f"Resident {n}") for n in range(60)]
    for resident in residents:
        await bot.send_message(resident.id, "meeting tonight")
        clock.advance(0.034)  # just over 1/30 s
    assert tg.flood_violations() == []


async def test_private_chat_allows_a_burst_of_three(
    tg: FakeTelegram, bot: Bot, clock: SteppingClock
) -> None:
    alice = tg.user("Alice")
    for _ in range(3):
        await bot.send_message(alice.id, "part")
    assert tg.flood_violations() == []
    clock.advance(0.5)
    await bot.send_message(alice.id, "fourth within the second")
    assert [(v.rule, v.chat_id) for v in tg.flood_violations()] == [("private_chat", alice.id)]
    clock.advance(1.0)
    await bot.send_message(alice.id, "after a pause")
    assert len(tg.flood_violations()) == 1


async def test_sustained_two_per_second_to_one_chat_violates(
    tg: FakeTelegram, bot: Bot, clock: SteppingClock
) -> None:
    alice = tg.user("Alice")
    for _ in range(10):
        await bot.send_message(alice.id, "tick")
        clock.advance(0.5)
    assert {v.rule for v in tg.flood_violations()} == {"private_chat"}


async def test_group_limit_is_20_per_minute(
    tg: FakeTelegram, bot: Bot, clock: SteppingClock
) -> None:
    staff = tg.group("Staff")
    for _ in range(20):
        await bot.send_message(staff.id, "card")
        clock.advance(2.0)
    assert tg.flood_violations() == []
    await bot.send_message(staff.id, "card 21")
    assert [v.rule for v in tg.flood_violations()] == ["group"]
    clock.advance(60.0)
    await bot.send_message(staff.id, "a minute later")
    assert len(tg.flood_violations()) == 1


async def test_failed_sends_do_not_count(tg: FakeTelegram, bot: Bot) -> None:
    alice = tg.user("Alice")
    tg.faults.add(method="sendMessage", kind="500", times=5)
    for _ in range(5):
        with pytest.raises(Exception, match="Internal Server Error"):
            await bot.send_message(alice.id, "x")
    assert tg.flood_violations() == []


async def test_enforced_limits_answer_429(clock: SteppingClock) -> None:
    tg = FakeTelegram(clock=clock, enforce_limits=True)
    alice = tg.user("Alice")
    async with fake_bot(tg) as bot:
        for _ in range(3):
            await bot.send_message(alice.id, "ok")
        with pytest.raises(RetryAfter) as caught:
            await bot.send_message(alice.id, "too fast")
        assert caught.value.retry_after == timedelta(seconds=1)
        clock.advance(1.0)
        await bot.send_message(alice.id, "after waiting")
    assert [m.text for m in alice.messages] == ["ok", "ok", "ok", "after waiting"]
    assert tg.stats.rate_limited == 1 and tg.calls_to("sendMessage")[3].limited
    assert tg.flood_violations() == []
