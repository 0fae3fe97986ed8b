"""The fake at benchmark size: 100,000 users must not cost the bot's memory budget."""

from __future__ import annotations

import tracemalloc

from telegram import Bot

from bot.testing import FakeTelegram


def test_a_user_with_her_private_chat_costs_a_few_hundred_bytes() -> None:
    tg = FakeTelegram()
    count = 5_000
    tracemalloc.start()
    try:
        before, _ = tracemalloc.get_traced_memory()
        users = [tg.user("Resident", language="es") for _ in range(count)]
        after, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    per_user = (after - before) / count
    # The user, her private chat, their id and their entries in the fake's registries.
    assert per_user < 500, f"{per_user:.0f} bytes per user"
    assert tg.chat(users[-1]).messages == [] and tg.chat(users[-1]).members == {}


async def test_forgotten_messages_are_gone_and_ids_go_on(tg: FakeTelegram, bot: Bot) -> None:
    alice = tg.user("Alice")
    first = await bot.send_message(alice.id, "one")
    await bot.send_message(alice.id, "two")
    alice.chat.forget_messages()
    assert alice.messages == [] and alice.chat.all_messages == []
    assert alice.chat.message(first.message_id) is None
    third = await bot.send_message(alice.id, "three")
    assert third.message_id == first.message_id + 2
    assert [m.text for m in alice.messages] == ["three"]
