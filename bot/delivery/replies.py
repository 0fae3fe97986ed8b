"""Immediate answers whose Telegram reply is not turned into PTB objects.

A handler's answer (the next step of a flow, a confirmation, buttons taken off a pressed
message) needs at most the new message's id back. PTB's `send_message` and the edit
methods build a whole `Message` from Telegram's reply, keyboard included: about 0.1 ms
for a step message with its buttons, more than everything else our code does for that
step. These helpers make the same Bot API calls through the same bot, so the request,
the rate limiter, the error classes (`BadRequest`, `Forbidden`, `RetryAfter`, ...) and
the logging are PTB's own; only the answer stays JSON.

They use `Bot._post`, the one method every PTB API method ends in (stable since PTB 20;
the project pins PTB 22). `Bot.do_api_request`, the public way to the same place, warns
on every call when the method has a PTB name. `tests/unit/test_replies.py` checks the
exact requests against the Telegram fake, so a PTB upgrade that changed `_post` fails
there first.
"""

from __future__ import annotations

from typing import Any

from telegram import Bot, InlineKeyboardMarkup, Message
from telegram.constants import ChatType, ParseMode

from bot.views.markup import ReplyMarkup, markup_json, markup_param

HTML = ParseMode.HTML.value
__all__ = [
    "ReplyMarkup",
    "answer_press",
    "edit_html",
    "markup_json",
    "remove_buttons",
    "reply_html",
    "send_html",
]


async def _call(bot: Bot, method: str, params: dict[str, Any]) -> Any:
    return await bot._post(method, params)


async def send_html(
    bot: Bot,
    chat_id: int,
    text: str,
    keyboard: ReplyMarkup | None = None,
    *,
    thread_id: int | None = None,
    reply_to: int | None = None,
) -> int:
    """Send an HTML message; return its message id."""
    params: dict[str, Any] = {"chat_id": chat_id, "text": text, "parse_mode": HTML}
    if keyboard is not None:
        params["reply_markup"] = markup_param(keyboard)
    if thread_id is not None:
        params["message_thread_id"] = thread_id
    if reply_to is not None:
        params["reply_parameters"] = {"message_id": reply_to}
    result = await _call(bot, "sendMessage", params)
    return int(result["message_id"])


async def reply_html(bot: Bot, message: Message, text: str, keyboard: ReplyMarkup | None) -> int:
    """Answer `message` in its chat as `Message.reply_text` does.

    In a group the answer quotes the message and stays in its forum topic; in a private
    chat it is a plain message.
    """
    if message.chat.type == ChatType.PRIVATE:
        return await send_html(bot, message.chat_id, text, keyboard)
    thread = message.message_thread_id if message.is_topic_message else None
    return await send_html(
        bot, message.chat_id, text, keyboard, thread_id=thread, reply_to=message.message_id
    )


async def edit_html(
    bot: Bot,
    chat_id: int,
    message_id: int,
    text: str,
    keyboard: InlineKeyboardMarkup | None = None,
    *,
    link_preview: bool = True,
) -> None:
    """Replace a message's text (and its buttons: none unless `keyboard` is given)."""
    params: dict[str, Any] = {
        "chat_id": chat_id,
        "message_id": message_id,
        "text": text,
        "parse_mode": HTML,
    }
    if keyboard is not None:
        params["reply_markup"] = markup_param(keyboard)
    if not link_preview:
        params["link_preview_options"] = {"is_disabled": True}
    await _call(bot, "editMessageText", params)


async def remove_buttons(bot: Bot, chat_id: int, message_id: int) -> None:
    """Take the inline buttons off a message."""
    await _call(bot, "editMessageReplyMarkup", {"chat_id": chat_id, "message_id": message_id})


async def answer_press(bot: Bot, query_id: str, text: str | None = None) -> None:
    """Answer a button press (`CallbackQuery.answer`), with a short notice if `text`."""
    params: dict[str, Any] = {"callback_query_id": query_id}
    if text is not None:
        params["text"] = text
    await _call(bot, "answerCallbackQuery", params)
