"""Injected faults surface through PTB the way real Telegram and network failures do."""

from __future__ import annotations

from datetime import timedelta

import pytest
from telegram import Bot
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TimedOut

from bot.testing import FakeTelegram, fake_bot


async def test_429_becomes_retry_after_once(tg: FakeTelegram, bot: Bot) -> None:
    alice = tg.user("Alice")
    tg.faults.add(method="sendMessage", chat_id=alice, kind="429", retry_after=7)
    with pytest.raises(RetryAfter) as caught:
        await bot.send_message(alice.id, "hello")
    assert caught.value.retry_after == timedelta(seconds=7)
    await bot.send_message(alice.id, "hello")  # times=1: the next call goes through
    assert [m.text for m in alice.messages] == ["hello"]
    failed = tg.calls_to("sendMessage")[0]
    assert (failed.ok, failed.error_code, failed.fault) == (False, 429, "429")
    assert failed.description == "Too Many Requests: retry after 7"
    assert tg.stats.errors["429"] == 1 and tg.stats.faults["429"] == 1


async def test_faults_match_method_and_chat(tg: FakeTelegram, bot: Bot) -> None:
    alice, bob = tg.user("Alice"), tg.user("Bob")
    tg.faults.add(method="sendmessage", chat_id=bob.id, kind="403", times=None)
    await bot.send_message(alice.id, "fine")
    for _ in range(2):
        with pytest.raises(Forbidden, match=r"(?i)blocked by the user"):
            await bot.send_message(bob.id, "nope")
    await bot.send_chat_action(bob.id, "typing")  # another method is not affected
    tg.faults.clear()
    await bot.send_message(bob.id, "now fine")
    assert [m.text for m in bob.messages] == ["now fine"]


@pytest.mark.parametrize(
    ("kind", "error"), [("500", NetworkError), ("502", NetworkError), ("400", BadRequest)]
)
async def test_http_error_kinds(
    tg: FakeTelegram, bot: Bot, kind: str, error: type[Exception]
) -> None:
    alice = tg.user("Alice")
    tg.faults.add(method="sendMessage", kind=kind, description=None)
    with pytest.raises(error):
        await bot.send_message(alice.id, "hello")
    assert alice.messages == []
    assert tg.calls[-1].error_code == int(kind)


async def test_timeout_means_processed_but_answer_lost(tg: FakeTelegram, bot: Bot) -> None:
    alice = tg.user("Alice")
    tg.faults.add(method="sendMessage", kind="timeout")
    with pytest.raises(TimedOut):
        await bot.send_message(alice.id, "did it arrive?")
    assert [m.text for m in alice.messages] == ["did it arrive?"]
    assert tg.calls[-1].fault == "timeout" and tg.calls[-1].ok


async def test_drop_means_never_reached_telegram(tg: FakeTelegram, bot: Bot) -> None:
    alice = tg.user("Alice")
    tg.faults.add(method="sendMessage", kind="drop")
    with pytest.raises(NetworkError) as caught:
        await bot.send_message(alice.id, "lost in transit")
    assert not isinstance(caught.value, TimedOut)
    assert alice.messages == []
    assert tg.calls[-1].fault == "drop" and not tg.calls[-1].ok
    assert tg.stats.errors["drop"] == 1


async def test_delay_shorter_and_longer_than_the_read_timeout(tg: FakeTelegram) -> None:
    alice = tg.user("Alice")
    async with fake_bot(tg, read_timeout=0.05) as slow:
        tg.faults.add(method="sendMessage", kind="delay", delay=0.01)
        await slow.send_message(alice.id, "a bit late")
        tg.faults.add(method="sendMessage", kind="delay", delay=5.0)
        with pytest.raises(TimedOut):
            await slow.send_message(alice.id, "too late to hear back")
    assert [m.text for m in alice.messages] == ["a bit late", "too late to hear back"]


async def test_random_faults_are_reproducible_with_a_seed(tg: FakeTelegram) -> None:
    def pattern(seed: int) -> list[bool]:
        tg.faults.clear()
        tg.faults.seed(seed)
        tg.faults.add(method="sendMessage", kind="500", times=None, probability=0.5)
        return [tg.faults.match("sendMessage", None) is not None for _ in range(40)]

    first = pattern(7)
    assert first == pattern(7)
    assert 5 < sum(first) < 35
    assert first != pattern(8)


async def test_wildcard_faults_spare_polling(tg: FakeTelegram) -> None:
    tg.faults.add(kind="500", times=None)
    assert tg.faults.match("getUpdates", None) is None
    assert tg.faults.match("getMe", None) is not None
    with pytest.raises(ValueError, match="unknown fault kind"):
        tg.faults.add(kind="418")
