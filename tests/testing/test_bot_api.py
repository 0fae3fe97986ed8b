"""Bot API methods through a plain PTB ``Bot``: results, validation and errors."""

from __future__ import annotations

import html

import pytest
from telegram import (
    Bot,
    BotCommand,
    BotCommandScopeChat,
    ChatFullInfo,
    ChatMemberAdministrator,
    ChatMemberRestricted,
    ForceReply,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputFile,
    InputMediaPhoto,
    KeyboardButton,
    Message,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    ReplyParameters,
)
from telegram.error import BadRequest, EndPointNotFound, Forbidden, InvalidToken

from bot.testing import CallbackQueryRecord, FakeTelegram, fake_bot


async def test_edit_with_identical_content_is_not_modified(tg: FakeTelegram, bot: Bot) -> None:
    alice = tg.user("Alice")
    sent = await bot.send_message(alice.id, "<b>Hi</b>", parse_mode="HTML")
    edited = await bot.edit_message_text(
        "<b>Hi</b> there", alice.id, sent.message_id, parse_mode="HTML"
    )
    assert isinstance(edited, Message)
    assert edited.text == "Hi there" and edited.edit_date is not None
    with pytest.raises(BadRequest, match=r"(?i)message is not modified"):
        await bot.edit_message_text("<b>Hi</b> there", alice.id, sent.message_id, parse_mode="HTML")
    # Same visible text but different formatting is a modification.
    await bot.edit_message_text("Hi there", alice.id, sent.message_id)
    assert alice.last_message.entities == [] and alice.last_message.edit_count == 2


async def test_edit_errors(tg: FakeTelegram, bot: Bot) -> None:
    alice = tg.user("Alice")
    with pytest.raises(BadRequest, match=r"(?i)message to edit not found"):
        await bot.edit_message_text("x", alice.id, 999)
    mine = await alice.send("my own words")
    with pytest.raises(BadRequest, match=r"(?i)message can't be edited"):
        await bot.edit_message_text("x", alice.id, mine.message_id)
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("A", callback_data="a")]])
    sent = await bot.send_message(alice.id, "pick", reply_markup=keyboard)
    with pytest.raises(BadRequest, match=r"(?i)not modified"):
        await bot.edit_message_reply_markup(alice.id, sent.message_id, reply_markup=keyboard)
    await bot.edit_message_reply_markup(alice.id, sent.message_id, reply_markup=None)
    assert alice.last_message.buttons == []


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("<b>unclosed", 'can\'t find end tag corresponding to start tag "b"'),
        ("1 < 2", 'unsupported start tag "" at byte offset 2'),
        ("<script>x</script>", 'unsupported start tag "script" at byte offset 0'),
        ("<b>x</i>", "unmatched end tag"),
        ("Tom & Jerry", 'unescaped "&" at byte offset 4'),
    ],
)
async def test_malformed_html_is_rejected(
    tg: FakeTelegram, bot: Bot, text: str, reason: str
) -> None:
    alice = tg.user("Alice")
    with pytest.raises(BadRequest) as caught:
        await bot.send_message(alice.id, text, parse_mode="HTML")
    assert caught.value.message.lower().startswith("can't parse entities: ")
    assert reason in caught.value.message.lower()
    assert alice.messages == []
    assert tg.calls[-1].description is not None
    assert tg.calls[-1].description.startswith("Bad Request: can't parse entities: ")


async def test_escaped_resident_text_is_shown_verbatim(tg: FakeTelegram, bot: Bot) -> None:
    alice = tg.user("Alice")
    resident_text = "Pothole <near> 5th & Main, \"deep\" & 'wide'"
    await bot.send_message(alice.id, f"<i>{html.escape(resident_text)}</i>", parse_mode="HTML")
    assert alice.last_message.text == resident_text
    assert alice.last_message.raw_text == f"<i>{html.escape(resident_text)}</i>"


async def test_lenient_html_mode_accepts_a_bare_ampersand(bot: Bot) -> None:
    lenient = FakeTelegram(strict_html=False)
    alice = lenient.user("Alice")
    async with fake_bot(lenient) as other:
        await other.send_message(alice.id, "Tom & Jerry", parse_mode="HTML")
    assert alice.last_message.text == "Tom & Jerry"


async def test_text_and_button_limits(tg: FakeTelegram, bot: Bot) -> None:
    alice = tg.user("Alice")
    with pytest.raises(BadRequest, match=r"(?i)message text is empty"):
        await bot.send_message(alice.id, "   ")
    with pytest.raises(BadRequest, match=r"(?i)message is too long"):
        await bot.send_message(alice.id, "x" * 4097)
    await bot.send_message(alice.id, "é" * 4096)
    with pytest.raises(BadRequest, match=r"(?i)caption is too long"):
        await bot.send_photo(alice.id, b"\xff\xd8data", caption="c" * 1025)
    too_long = InlineKeyboardMarkup([[InlineKeyboardButton("A", callback_data="x" * 65)]])
    with pytest.raises(BadRequest, match=r"(?i)BUTTON_DATA_INVALID"):
        await bot.send_message(alice.id, "pick", reply_markup=too_long)
    multibyte = InlineKeyboardMarkup([[InlineKeyboardButton("A", callback_data="é" * 33)]])
    with pytest.raises(BadRequest, match=r"(?i)BUTTON_DATA_INVALID"):
        await bot.send_message(alice.id, "pick", reply_markup=multibyte)
    with pytest.raises(BadRequest, match=r"(?i)chat not found"):
        await bot.send_message(424242, "anyone?")
    assert [m.text for m in alice.messages] == ["é" * 4096]


async def test_blocked_user_and_never_started_user(tg: FakeTelegram, bot: Bot) -> None:
    alice = tg.user("Alice")
    await alice.block()
    with pytest.raises(Forbidden, match=r"(?i)bot was blocked by the user"):
        await bot.send_message(alice.id, "still there?")
    member = await bot.get_chat_member(alice.id, tg.bot_id)
    assert member.status == "kicked"
    await alice.unblock()
    await bot.send_message(alice.id, "welcome back")
    shy = tg.user("Bob", started=False)
    with pytest.raises(Forbidden, match=r"(?i)can't initiate conversation"):
        await bot.send_message(shy.id, "hi")
    await shy.send("/start")
    await bot.send_message(shy.id, "hi")
    assert [m.text for m in shy.messages] == ["hi"]
    assert tg.stats.errors["403"] == 2


async def test_reply_parameters_threads_and_unknown_replies(tg: FakeTelegram, bot: Bot) -> None:
    alice = tg.user("Alice")
    question = await alice.send("where is the meeting?")
    answer = await bot.send_message(
        alice.id, "at the library", reply_parameters=ReplyParameters(question.message_id)
    )
    assert answer.reply_to_message is not None
    assert answer.reply_to_message.text == "where is the meeting?"
    assert alice.last_message.reply_to_message_id == question.message_id
    with pytest.raises(BadRequest, match=r"(?i)message to be replied not found"):
        await bot.send_message(alice.id, "x", reply_parameters=ReplyParameters(999))
    await bot.send_message(
        alice.id, "x", reply_parameters=ReplyParameters(999, allow_sending_without_reply=True)
    )


async def test_forum_topics(tg: FakeTelegram, bot: Bot) -> None:
    sam = tg.user("Sam")
    staff = tg.group("Staff", forum=True, admins=[sam])
    topic = await bot.create_forum_topic(staff.id, "Report #1")
    card = await bot.send_message(staff.id, "new report", message_thread_id=topic.message_thread_id)
    assert card.message_thread_id == topic.message_thread_id and card.is_topic_message
    assert staff.topics == {topic.message_thread_id: "Report #1"}
    reply = await sam.send_in(staff, "on it", thread_id=topic.message_thread_id)
    assert [m.text for m in staff.messages_in_topic(topic.message_thread_id)] == [
        "new report",
        "on it",
    ]
    assert reply.message_thread_id == topic.message_thread_id
    with pytest.raises(BadRequest, match=r"(?i)message thread not found"):
        await bot.send_message(staff.id, "lost", message_thread_id=4242)
    await bot.edit_forum_topic(staff.id, topic.message_thread_id, name="Report #1 (done)")
    assert staff.topics[topic.message_thread_id] == "Report #1 (done)"
    await bot.close_forum_topic(staff.id, topic.message_thread_id)
    with pytest.raises(BadRequest, match=r"(?i)TOPIC_NOT_MODIFIED"):
        await bot.close_forum_topic(staff.id, topic.message_thread_id)
    ack = InlineKeyboardMarkup([[InlineKeyboardButton("Acknowledge", callback_data="ack:1")]])
    await bot.send_message(
        staff.id, "card", message_thread_id=topic.message_thread_id, reply_markup=ack
    )
    assert staff.bot_messages[-1].callback_data("Acknowledge") == "ack:1"
    pressed = await sam.tap("Acknowledge", in_chat=staff)
    assert isinstance(pressed, CallbackQueryRecord) and pressed.chat_id == staff.id
    assert tg.pending_updates[-1]["callback_query"]["message"]["message_thread_id"] == (
        topic.message_thread_id
    )
    tg.set_bot_rights(staff, can_manage_topics=False)
    with pytest.raises(BadRequest, match=r"(?i)not enough rights to create a topic"):
        await bot.create_forum_topic(staff.id, "Report #2")
    with pytest.raises(BadRequest, match=r"(?i)TOPIC_CLOSED"):
        await bot.send_message(staff.id, "late", message_thread_id=topic.message_thread_id)
    plain = tg.group("Neighbours")
    with pytest.raises(BadRequest, match=r"(?i)the chat is not a forum"):
        await bot.create_forum_topic(plain.id, "x")


async def test_chat_member_reflects_bot_rights(tg: FakeTelegram, bot: Bot) -> None:
    sam = tg.user("Sam")
    staff = tg.group("Staff", admins=[sam], members=[tg.user("Rita")])
    admin = await bot.get_chat_member(staff.id, tg.bot_id)
    assert isinstance(admin, ChatMemberAdministrator) and admin.can_manage_topics
    administrators = await bot.get_chat_administrators(staff.id)
    assert {m.user.id for m in administrators} == {sam.id, tg.bot_id}
    assert (await bot.get_chat_member(staff.id, sam.id)).status == "creator"
    tg.set_bot_rights(staff, can_post_messages=False)
    restricted = await bot.get_chat_member(staff.id, tg.bot_id)
    assert isinstance(restricted, ChatMemberRestricted) and not restricted.can_send_messages
    with pytest.raises(BadRequest, match=r"(?i)not enough rights to send text messages"):
        await bot.send_message(staff.id, "hello")
    tg.set_bot_rights(staff, is_admin=False)
    assert (await bot.get_chat_member(staff.id, tg.bot_id)).status == "member"
    await bot.send_message(staff.id, "hello")
    await tg.remove_bot(staff, by=sam)
    with pytest.raises(Forbidden, match=r"(?i)bot is not a member of the supergroup chat"):
        await bot.send_message(staff.id, "hello?")
    await tg.add_bot(staff, by=sam)
    await bot.send_message(staff.id, "back again")
    with pytest.raises(BadRequest, match=r"(?i)user not found"):
        await bot.get_chat_member(staff.id, 5)


async def test_get_chat_returns_full_info(tg: FakeTelegram, bot: Bot) -> None:
    alice = tg.user("Alice", last_name="Liddell", username="alice")
    staff = tg.group("Staff", forum=True, username="city_staff")
    info = await bot.get_chat(alice.id)
    assert isinstance(info, ChatFullInfo)
    assert (info.type, info.first_name, info.username) == ("private", "Alice", "alice")
    group = await bot.get_chat("@city_staff")
    assert (group.id, group.title, group.is_forum) == (staff.id, "Staff", True)


async def test_commands_per_scope_and_language(tg: FakeTelegram, bot: Bot) -> None:
    admin = tg.user("Ada")
    await bot.set_my_commands([BotCommand("start", "Start"), BotCommand("help", "Help")])
    await bot.set_my_commands([BotCommand("ayuda", "Ayuda")], language_code="es")
    await bot.set_my_commands(
        [BotCommand("stats", "Statistics")], scope=BotCommandScopeChat(admin.id)
    )
    assert [c["command"] for c in tg.commands()] == ["start", "help"]
    assert tg.commands(language_code="es") == [{"command": "ayuda", "description": "Ayuda"}]
    assert tg.commands(scope=BotCommandScopeChat(admin.id)) == [
        {"command": "stats", "description": "Statistics"}
    ]
    assert [c.command for c in await bot.get_my_commands(language_code="es")] == ["ayuda"]
    assert await bot.get_my_commands(language_code="de") == ()
    await bot.delete_my_commands(language_code="es")
    assert tg.commands(language_code="es") == []
    with pytest.raises(BadRequest, match=r"(?i)BOT_COMMAND_INVALID"):
        await bot.set_my_commands([BotCommand("Bad Command", "x")])
    await bot.set_my_description("A bot for residents", language_code="es")
    assert tg.bot_text("description", "es") == "A bot for residents"
    assert await bot.set_my_short_description("Short") and await bot.set_my_name("City bot")
    assert await bot.set_chat_menu_button(admin.id)
    assert await bot.send_chat_action(admin.id, "typing")


async def test_files_upload_download_and_resend(tg: FakeTelegram, bot: Bot) -> None:
    alice = tg.user("Alice")
    content = b"%PDF-1.4 minutes of the meeting"
    sent = await bot.send_document(
        alice.id, InputFile(content, filename="minutes.pdf"), caption="Minutes"
    )
    assert alice.last_message.document == ("minutes.pdf", content)
    assert alice.last_message.text == "Minutes"
    assert sent.document is not None and sent.document.file_name == "minutes.pdf"
    file = await bot.get_file(sent.document.file_id)
    assert file.file_size == len(content)
    assert bytes(await file.download_as_bytearray()) == content
    again = await bot.send_document(alice.id, sent.document.file_id)
    assert (
        again.document is not None and again.document.file_unique_id == sent.document.file_unique_id
    )
    with pytest.raises(BadRequest, match=r"(?i)wrong file identifier"):
        await bot.send_document(alice.id, "no-such-file-id")
    with pytest.raises(BadRequest, match=r"(?i)invalid file_id"):
        await bot.get_file("no-such-file-id")
    photo = await alice.send_photo("broken bench")
    assert photo.photo is not None and photo.text == "broken bench"
    sizes = photo.data["photo"]
    resent = await bot.send_photo(alice.id, sizes[-1]["file_id"])
    assert [size.file_id for size in resent.photo] == [size["file_id"] for size in sizes]


async def test_media_groups_copy_and_forward(tg: FakeTelegram, bot: Bot) -> None:
    alice = tg.user("Alice")
    staff = tg.group("Staff", admins=[tg.user("Sam")])
    album = await bot.send_media_group(
        alice.id,
        [InputMediaPhoto(b"\xff\xd8one", caption="one"), InputMediaPhoto(b"\xff\xd8two")],
    )
    assert len(album) == 2 and album[0].media_group_id == album[1].media_group_id
    assert [m.photo[0].file_size for m in album] == [5, 5]
    report = await alice.send("streetlight out")
    copied = await bot.copy_message(staff.id, alice.id, report.message_id)
    assert staff.message(copied.message_id) is not None
    assert staff.bot_messages[-1].text == "streetlight out"
    forwarded = await bot.forward_message(staff.id, alice.id, report.message_id)
    assert forwarded.forward_origin is not None
    assert forwarded.forward_origin.type == "user"
    with pytest.raises(BadRequest, match=r"(?i)message to copy not found"):
        await bot.copy_message(staff.id, alice.id, 999)


async def test_reply_keyboards_and_locations(tg: FakeTelegram, bot: Bot) -> None:
    alice = tg.user("Alice")
    stale = InlineKeyboardMarkup([[InlineKeyboardButton("Cancel", callback_data="old")]])
    await bot.send_message(alice.id, "an older inline Cancel", reply_markup=stale)
    keyboard = ReplyKeyboardMarkup(
        [[KeyboardButton("Share location", request_location=True)], ["Cancel"]],
        one_time_keyboard=True,
    )
    await bot.send_message(alice.id, "Where is it?", reply_markup=keyboard)
    assert alice.last_message.button_rows == [["Share location"], ["Cancel"]]
    assert "reply_markup" not in alice.last_message.to_json()  # only inline markup is echoed
    with pytest.raises(ValueError, match="share_location"):
        await alice.tap("Share location")
    located = await alice.share_location(40.4168, -3.7038)
    assert located.location == (40.4168, -3.7038)
    cancel = await alice.tap("Cancel")  # the newer reply keyboard wins over the old button
    assert not isinstance(cancel, CallbackQueryRecord)
    assert alice.chat.messages[-1].text == "Cancel" and not alice.chat.messages[-1].from_bot
    await bot.send_message(alice.id, "Done", reply_markup=ReplyKeyboardRemove())
    pressed = await alice.tap("Cancel")  # only the old inline button is left
    assert isinstance(pressed, CallbackQueryRecord) and pressed.data == "old"
    await bot.send_message(alice.id, "Describe it", reply_markup=ForceReply(selective=True))
    assert alice.last_message.reply_markup == {"force_reply": True, "selective": True}


async def test_delete_and_callback_answers(tg: FakeTelegram, bot: Bot) -> None:
    alice = tg.user("Alice")
    sent = await bot.send_message(alice.id, "temporary")
    assert await bot.delete_message(alice.id, sent.message_id)
    assert alice.messages == []
    with pytest.raises(BadRequest, match=r"(?i)message to delete not found"):
        await bot.delete_message(alice.id, sent.message_id)
    menu = await bot.send_message(
        alice.id,
        "pick",
        reply_markup=InlineKeyboardMarkup([[InlineKeyboardButton("A", callback_data="a")]]),
    )
    assert menu.message_id == 2
    record = await alice.tap("A")
    assert isinstance(record, CallbackQueryRecord) and not record.answered
    assert await bot.answer_callback_query(record.id, "thanks", show_alert=True)
    assert record.answered and record.show_alert and record.text == "thanks"
    with pytest.raises(BadRequest, match=r"(?i)query is too old"):
        await bot.answer_callback_query(record.id)


async def test_unknown_methods_and_wrong_tokens(tg: FakeTelegram, bot: Bot) -> None:
    with pytest.raises(EndPointNotFound):
        await bot.do_api_request("frobnicate")
    unmodelled = await tg.handle("sendDice", {"chat_id": 1}, token=tg.token)
    assert unmodelled.status == 400 and unmodelled.body is not None
    assert "not implemented by the fake" in unmodelled.body["description"]
    with pytest.raises(InvalidToken):
        await fake_bot(tg, token="123456:WRONG").initialize()
    assert tg.calls[-1].error_code == 401
    with pytest.raises(InvalidToken):
        await fake_bot(tg, token="not-a-token").get_me()
    assert tg.calls[-1].error_code == 404
    assert (await bot.do_api_request("GETME"))["username"] == tg.bot_username


async def test_call_log_and_stats(tg: FakeTelegram, bot: Bot) -> None:
    alice, bob = tg.user("Alice"), tg.user("Bob")
    await bot.send_message(alice.id, "a")
    await bot.send_message(bob.id, "b")
    with pytest.raises(BadRequest):
        await bot.send_message(bob.id, "")
    assert [c.params["text"] for c in tg.calls_to("sendMessage", chat_id=alice)] == ["a"]
    assert len(tg.calls_to("sendMessage", chat_id=bob.id)) == 2
    assert len(tg.calls_to("sendMessage", ok=False)) == 1
    failed = tg.calls_to("sendMessage", ok=False)[0]
    assert (failed.error_code, failed.result) == (400, None)
    ok = tg.calls_to("sendMessage", chat_id=alice)[0]
    assert ok.result["text"] == "a" and ok.at == 1000.0
    assert tg.stats.calls["sendMessage"] == 3 and tg.stats.errors["400"] == 1
