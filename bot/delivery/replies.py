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

from telegram import (
    Bot,
    ForceReply,
    InlineKeyboardMarkup,
    Message,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    TelegramObject,
)
from telegram.constants import ChatType, ParseMode

HTML = ParseMode.HTML.value
ReplyMarkup = InlineKeyboardMarkup | ReplyKeyboardMarkup | ReplyKeyboardRemove | ForceReply


_PLAIN = (str, int, float)  # bool is an int


_FIELDS: dict[type, tuple[str, ...]] = {}


def _fields(kind: type) -> tuple[str, ...]:
    """The Bot API fields of a PTB class: its public slots, along the class hierarchy."""
    fields = _FIELDS.get(kind)
    if fields is None:
        fields = _FIELDS[kind] = tuple(
            name
            for klass in kind.__mro__
            for name in getattr(klass, "__slots__", ())
            if not name.startswith("_") and name != "api_kwargs"
        )
    return fields


def _object_json(value: TelegramObject) -> dict[str, Any]:
    """`value.to_dict()` for an object of plain fields and rows of such objects."""
    if value.api_kwargs:
        return value.to_dict()
    out: dict[str, Any] = {}
    for name in _fields(type(value)):
        field = getattr(value, name)
        if field is None:
            continue
        if isinstance(field, _PLAIN):
            out[name] = field
        elif isinstance(field, tuple) and all(isinstance(row, tuple) for row in field):
            out[name] = [
                [_object_json(item) if isinstance(item, TelegramObject) else item for item in row]
                for row in field
            ]
        else:  # a nested object (a web app, a poll request, ...): PTB's own conversion
            return value.to_dict()
    return out


def markup_json(markup: ReplyMarkup) -> dict[str, Any]:
    """A keyboard as Telegram's JSON, the same dict as `markup.to_dict()`.

    PTB's `to_dict` is generic and walks each button's every attribute through several
    layers: about 45 µs for a nine-button keyboard, sent with almost every flow step.
    Keyboards are plain data (text, callback data, a few flags), read here directly in
    a few µs; a button with anything nested goes through `to_dict` as before.
    """
    return _object_json(markup)


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
        params["reply_markup"] = markup_json(keyboard)
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
        params["reply_markup"] = markup_json(keyboard)
    if not link_preview:
        params["link_preview_options"] = {"is_disabled": True}
    await _call(bot, "editMessageText", params)


async def remove_buttons(bot: Bot, chat_id: int, message_id: int) -> None:
    """Take the inline buttons off a message."""
    await _call(bot, "editMessageReplyMarkup", {"chat_id": chat_id, "message_id": message_id})
