"""Updates: their shape, getUpdates semantics, webhooks, privacy mode, block/unblock."""

from __future__ import annotations

import asyncio
import time

import pytest
from telegram import Bot, ChatMemberUpdated, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import BadRequest, Conflict

from bot.testing import FakeTelegram


async def test_every_user_action_is_a_ptb_parsable_update(tg: FakeTelegram, bot: Bot) -> None:
    alice = tg.user("Alice", language="es")
    staff = tg.group("Staff", forum=True, admins=[alice])
    menu = await bot.send_message(
        alice.id,
        "menu",
        reply_markup=InlineKeyboardMarkup([[InlineKeyboardButton("Go", callback_data="go")]]),
    )
    topic = await bot.create_forum_topic(staff.id, "Reports")
    said = await alice.send("/start@resident_test_bot hello")
    await alice.edit(said, "/start edited")
    await alice.tap("Go")
    await alice.send_in(staff, "in topic", thread_id=topic.message_thread_id)
    await alice.share_location(1.5, 2.5)
    await alice.send_photo("pic")
    await alice.send_voice()
    await alice.send_video()
    await alice.send_sticker()
    await alice.send_document("notes.txt", b"notes")
    await alice.send_contact()
    await alice.send_poll()
    await alice.block()
    await alice.unblock()
    parsed = [Update.de_json(update, bot) for update in tg.pending_updates]
    kinds = [next(k for k in raw if k != "update_id") for raw in tg.pending_updates]
    assert kinds[:4] == ["message", "edited_message", "callback_query", "message"]
    assert kinds[-2:] == ["my_chat_member", "my_chat_member"]
    ids = [update.update_id for update in parsed]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    first = parsed[0].message
    assert first is not None and first.from_user is not None
    assert first.from_user.language_code == "es"
    assert first.entities[0].type == "bot_command" and first.entities[0].length == 24
    query = parsed[2].callback_query
    assert query is not None and query.data == "go" and query.message is not None
    assert query.message.message_id == menu.message_id
    in_topic = parsed[3].message
    assert in_topic is not None and in_topic.is_topic_message
    assert in_topic.message_thread_id == topic.message_thread_id
    assert parsed[4].message is not None and parsed[4].message.location is not None
    assert parsed[5].message is not None and parsed[5].message.caption == "pic"
    blocked = parsed[-2].my_chat_member
    assert isinstance(blocked, ChatMemberUpdated)
    assert (blocked.old_chat_member.status, blocked.new_chat_member.status) == ("member", "kicked")
    assert parsed[-1].my_chat_member is not None
    assert parsed[-1].my_chat_member.new_chat_member.status == "member"


async def test_offset_confirms_earlier_updates(tg: FakeTelegram, bot: Bot) -> None:
    alice = tg.user("Alice")
    for text in ("one", "two", "three"):
        await alice.send(text)
    first = await bot.get_updates(limit=2)
    assert [u.message.text for u in first if u.message] == ["one", "two"]
    again = await bot.get_updates()
    assert len(again) == 3  # nothing was confirmed yet
    rest = await bot.get_updates(offset=first[-1].update_id + 1)
    assert [u.message.text for u in rest if u.message] == ["three"]
    assert len(tg.pending_updates) == 1
    assert await bot.get_updates(offset=rest[-1].update_id + 1) == ()
    assert tg.pending_updates == []


async def test_long_polling_returns_as_soon_as_an_update_arrives(
    tg: FakeTelegram, bot: Bot
) -> None:
    alice = tg.user("Alice")
    poll = asyncio.create_task(bot.get_updates(timeout=5))
    await tg.wait_for(lambda: tg.queue.polling, timeout=2)
    started = time.monotonic()
    await alice.send("ping")
    updates = await asyncio.wait_for(poll, 2)
    assert [u.message.text for u in updates if u.message] == ["ping"]
    assert time.monotonic() - started < 1.0


async def test_an_empty_long_poll_waits_for_its_timeout(tg: FakeTelegram, bot: Bot) -> None:
    started = time.monotonic()
    assert await bot.get_updates(timeout=1) == ()
    assert time.monotonic() - started >= 0.9


async def test_a_second_poller_terminates_the_first(tg: FakeTelegram, bot: Bot) -> None:
    first = asyncio.create_task(bot.get_updates(timeout=5))
    await tg.wait_for(lambda: tg.queue.polling, timeout=2)
    second = asyncio.create_task(bot.get_updates(timeout=0))
    with pytest.raises(Conflict, match=r"(?i)terminated by other getUpdates request"):
        await asyncio.wait_for(first, 2)
    assert await second == ()


async def test_allowed_updates_filter_the_queue(tg: FakeTelegram, bot: Bot) -> None:
    alice = tg.user("Alice")
    await bot.get_updates(allowed_updates=["callback_query"])
    await alice.send("ignored")
    assert tg.pending_updates == []
    await bot.get_updates(allowed_updates=[])
    await alice.send("delivered")
    assert len(tg.pending_updates) == 1


async def test_redelivery_and_raw_updates(tg: FakeTelegram, bot: Bot) -> None:
    alice = tg.user("Alice")
    await alice.send("once")
    updates = await bot.get_updates()
    await bot.get_updates(offset=updates[-1].update_id + 1)
    await tg.redeliver(updates[-1].update_id)
    again = await bot.get_updates(offset=updates[-1].update_id + 1)
    assert [u.update_id for u in again] == [updates[-1].update_id]
    raw = await tg.push_raw_update({"message": {"garbage": True}})
    assert raw["update_id"] == updates[-1].update_id + 1
    with pytest.raises(KeyError):
        await tg.redeliver(1)


async def test_webhook_blocks_get_updates(tg: FakeTelegram, bot: Bot) -> None:
    with pytest.raises(BadRequest, match=r"(?i)https url must be provided"):
        await bot.set_webhook("http://example.org/hook")
    assert await bot.set_webhook("https://example.org/hook")
    await tg.user("Alice").send("hi")
    info = await bot.get_webhook_info()
    assert (info.url, info.pending_update_count) == ("https://example.org/hook", 1)
    with pytest.raises(Conflict, match=r"(?i)webhook is active"):
        await bot.get_updates()
    assert await bot.delete_webhook(drop_pending_updates=True)
    assert await bot.get_updates() == ()
    assert await bot.log_out() and await bot.close()


async def test_privacy_mode_hides_group_chatter_from_a_member_bot(
    tg: FakeTelegram, bot: Bot
) -> None:
    alice = tg.user("Alice")
    group = tg.group("Neighbours", members=[alice])
    tg.set_bot_rights(group, is_admin=False)
    await alice.send_in(group, "just chatting")
    await alice.send_in(group, "/help")
    posted = await bot.send_message(group.id, "I am here")
    await alice.send_in(group, "answering the bot", reply_to=posted.message_id)
    texts = [u["message"]["text"] for u in tg.pending_updates]
    assert texts == ["/help", "answering the bot"]
    assert group.messages[0].text == "just chatting"
    tg.set_bot_rights(group, is_admin=True)
    await alice.send_in(group, "admins see everything")
    assert tg.pending_updates[-1]["message"]["text"] == "admins see everything"


async def test_bot_added_and_removed_from_a_group(tg: FakeTelegram, bot: Bot) -> None:
    sam = tg.user("Sam")
    group = tg.group("Neighbours", admins=[sam])
    await tg.remove_bot(group, by=sam)
    await sam.send_in(group, "the bot cannot see this")
    await tg.add_bot(group, by=sam, as_admin=False)
    kinds = [next(k for k in u if k != "update_id") for u in tg.pending_updates]
    assert kinds == ["my_chat_member", "my_chat_member", "message"]
    added = Update.de_json(tg.pending_updates[1], bot).my_chat_member
    assert added is not None
    assert (added.old_chat_member.status, added.new_chat_member.status) == ("left", "member")
    assert (await bot.get_chat_member(group.id, tg.bot_id)).status == "member"
    assert await bot.leave_chat(group.id)
    assert group.bot_status == "left"


async def test_user_side_errors_are_clear(tg: FakeTelegram) -> None:
    alice, bob = tg.user("Alice"), tg.user("Bob")
    group = tg.group("Neighbours", members=[alice])
    with pytest.raises(ValueError, match="not a member"):
        await bob.send_in(group, "let me in")
    with pytest.raises(ValueError, match="another user's private chat"):
        await bob.send_in(alice.chat, "hi")
    with pytest.raises(LookupError, match="no message 99"):
        await alice.send("reply", reply_to=99)
    with pytest.raises(LookupError, match="received no messages"):
        _ = alice.last_message
    with pytest.raises(TimeoutError, match="a new message to Alice"):
        await alice.next_message(timeout=0.05)
