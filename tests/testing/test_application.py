"""A real PTB Application driven through the fake, in process."""

from __future__ import annotations

import pytest
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.ext import CallbackQueryHandler, CommandHandler, ContextTypes, MessageHandler, filters

from bot.testing import (
    CallbackQueryRecord,
    FakeTelegram,
    RunningApplication,
    application_builder,
    run_application,
)
from bot.testing.harness import AnyApplication

KEYBOARD = InlineKeyboardMarkup(
    [
        [InlineKeyboardButton("Report a concern", callback_data="report")],
        [InlineKeyboardButton("Website", url="https://example.org")],
    ]
)


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.effective_message is not None
    payload = " ".join(context.args or [])
    await update.effective_message.reply_html(
        f"<b>Welcome</b> &amp; hello{' ' + payload if payload else ''}", reply_markup=KEYBOARD
    )


async def pressed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    assert query is not None
    await query.answer("Noted")
    await query.edit_message_text(f"You chose {query.data}")


async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.effective_message is not None and update.effective_message.text
    await update.effective_message.reply_text(update.effective_message.text)


async def crash(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    raise RuntimeError("boom")


def build(tg: FakeTelegram) -> AnyApplication:
    app = application_builder(tg).build()
    app.add_handler(CommandHandler("start", start))
    app.add_handler(CommandHandler("crash", crash))
    app.add_handler(CallbackQueryHandler(pressed))
    app.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, echo))
    return app


async def test_start_is_answered_with_formatted_text(tg: FakeTelegram) -> None:
    async with run_application(build(tg), tg) as running:
        alice = tg.user("Alice", language="es")
        await alice.send("/start ref42")
        reply = alice.last_message
        assert reply.text == "Welcome & hello ref42"
        assert reply.entities == [{"type": "bold", "offset": 0, "length": 7}]
        assert reply.buttons == ["Report a concern", "Website"]
        assert reply.parse_mode == "HTML"
        assert isinstance(running, RunningApplication) and not running.errors
        # PTB rebuilds the same HTML from Telegram's entities: the offsets are right.
        parsed = Message.de_json(reply.to_json(), running.application.bot)
        assert parsed.text_html == "<b>Welcome</b> &amp; hello ref42"
        assert running.application.bot.username == tg.bot_username
    assert [call.method for call in tg.calls] == ["getMe", "sendMessage"]


async def test_tap_reaches_the_callback_handler(tg: FakeTelegram) -> None:
    async with run_application(build(tg), tg):
        alice = tg.user("Alice")
        await alice.send("/start")
        menu = alice.last_message
        record = await alice.tap("Report a concern")
        assert isinstance(record, CallbackQueryRecord)
        assert record.data == "report" and record.answered and record.text == "Noted"
        assert menu.text == "You chose report"
        assert menu.edit_count == 1
        # editMessageText without reply_markup removes the inline keyboard, as on Telegram.
        assert menu.buttons == [] and "reply_markup" not in menu.to_json()
        with pytest.raises(LookupError):
            await alice.tap("Report a concern", message=menu)


async def test_url_buttons_send_nothing_and_unknown_labels_list_the_choices(
    tg: FakeTelegram,
) -> None:
    async with run_application(build(tg), tg):
        alice = tg.user("Alice")
        await alice.send("/start")
        before = len(tg.updates)
        assert await alice.tap("Website") is None
        assert len(tg.updates) == before
        with pytest.raises(LookupError, match="Report a concern"):
            await alice.tap("Nope")


async def test_echo_and_message_helpers(tg: FakeTelegram) -> None:
    async with run_application(build(tg), tg):
        alice = tg.user("Alice")
        await alice.send("first")
        seen = len(alice.messages)
        await alice.send("second")
        assert [m.text for m in alice.received(after=seen)] == ["second"]
        assert (await alice.next_message()).text == "first"
        assert (await alice.next_message()).text == "second"
        assert [m.text for m in await alice.wait_for_messages(2)] == ["first", "second"]
        assert all(m.from_bot for m in alice.messages)
        assert [m.from_bot for m in alice.chat.messages] == [False, True, False, True]


async def test_handler_errors_are_raised_when_the_block_ends(tg: FakeTelegram) -> None:
    with pytest.raises(RuntimeError, match="boom"):
        async with run_application(build(tg), tg) as running:
            await tg.user("Alice").send("/crash")
            assert len(running.errors) == 1


async def test_handler_errors_can_be_inspected_instead(tg: FakeTelegram) -> None:
    async with run_application(build(tg), tg, raise_errors=False) as running:
        await tg.user("Alice").send("/crash")
    assert [str(error) for error in running.errors] == ["boom"]


async def test_a_duplicate_delivery_reaches_the_bot_twice(tg: FakeTelegram) -> None:
    async with run_application(build(tg), tg):
        alice = tg.user("Alice")
        await alice.send("hello")
        produced = len(tg.updates)
        await tg.redeliver(tg.last_update_id)
        assert [m.text for m in alice.messages] == ["hello", "hello"]
        assert len(tg.updates) == produced  # same update, not a new one
