"""Bot API methods that copy, forward, edit and delete messages, and answer buttons."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.testing.errors import ApiError, bad_request
from bot.testing.keyboards import inline_part
from bot.testing.objects import JSON, FakeChat, FakeMessage
from bot.testing.outgoing import (
    CONTENT_KEYS,
    NOT_MODIFIED,
    format_for,
    markup_of,
    store_bot_message,
    target_of,
    text_fields,
)
from bot.testing.params import Params
from bot.testing.registry import api_method

if TYPE_CHECKING:
    from bot.testing.model import FakeTelegram


def _source(tg: FakeTelegram, p: Params, missing: str) -> FakeMessage:
    chat = tg.resolve_chat(p.chat_id("from_chat_id"))
    message = chat.message(p.require_int("message_id"))
    if message is None:
        raise bad_request(missing)
    return message


def _copied_content(source: FakeMessage) -> JSON:
    content = {k: v for k, v in source.to_json().items() if k in CONTENT_KEYS}
    if not content:
        raise bad_request("message can't be copied")
    return content


@api_method("copyMessage")
async def copy_message(tg: FakeTelegram, p: Params) -> JSON:
    source = _source(tg, p, "message to copy not found")
    content = _copied_content(source)
    raw_text = source.raw_text
    parse_mode = source.parse_mode
    if "caption" in p and "text" not in content:
        raw_text = p.get_str("caption") or ""
        formatted, parse_mode = format_for(tg, raw_text, p, caption=True)
        content.pop("caption", None)
        content.pop("caption_entities", None)
        content.update(text_fields(formatted, caption=True))
    target = target_of(tg, p)
    message = store_bot_message(
        tg,
        target,
        content,
        raw_text=raw_text,
        parse_mode=parse_mode,
        markup=markup_of(p),
        files=source.files,
    )
    return {"message_id": message.message_id}


@api_method("forwardMessage")
async def forward_message(tg: FakeTelegram, p: Params) -> JSON:
    source = _source(tg, p, "message to forward not found")
    if source.data.get("has_protected_content"):
        raise bad_request("message can't be forwarded")
    content = _copied_content(source)
    origin: JSON = {"type": "user", "date": source.date, "sender_user": source.data["from"]}
    source_chat = tg.chat(source.chat_id)
    if source_chat.type != "private" and "from" not in source.data:
        origin = {"type": "chat", "date": source.date, "sender_chat": source_chat.to_json()}
    content["forward_origin"] = origin
    target = target_of(tg, p)
    message = store_bot_message(tg, target, content, raw_text=source.raw_text, files=source.files)
    return message.to_json()


def _editable(tg: FakeTelegram, p: Params) -> FakeMessage:
    if "inline_message_id" in p:
        raise bad_request("MESSAGE_ID_INVALID")
    chat = tg.resolve_chat(p.chat_id())
    message = chat.message(p.require_int("message_id"))
    if message is None:
        raise bad_request("message to edit not found")
    if not message.from_bot:
        raise bad_request("message can't be edited")
    return message


def _apply_edit(
    tg: FakeTelegram,
    message: FakeMessage,
    fields: JSON,
    drop: tuple[str, ...],
    markup: JSON | None,
) -> JSON:
    """Replace ``drop`` keys by ``fields`` and the inline keyboard by ``markup``."""
    before = {k: message.data.get(k) for k in (*drop, "reply_markup")}
    after = {k: fields.get(k) for k in drop}
    after["reply_markup"] = inline_part(markup)
    if before == after:
        raise bad_request(NOT_MODIFIED)
    message.history.append(message.to_json())
    for key in drop:
        message.data.pop(key, None)
    message.data.update(fields)
    message.data.pop("reply_markup", None)
    if after["reply_markup"]:
        message.data["reply_markup"] = after["reply_markup"]
    message.sent_markup = markup
    message.data["edit_date"] = tg.now()
    tg.notify()
    return message.to_json()


@api_method("editMessageText")
async def edit_message_text(tg: FakeTelegram, p: Params) -> JSON:
    message = _editable(tg, p)
    if "text" not in message.data:
        raise bad_request("there is no text in the message to edit")
    text = p.get_str("text") or ""
    if not text.strip():
        raise bad_request("message text is empty")
    formatted, parse_mode = format_for(tg, text, p, caption=False)
    fields = text_fields(formatted, caption=False)
    result = _apply_edit(tg, message, fields, ("text", "entities"), markup_of(p))
    message.raw_text, message.parse_mode = text, parse_mode
    return result


@api_method("editMessageCaption")
async def edit_message_caption(tg: FakeTelegram, p: Params) -> JSON:
    message = _editable(tg, p)
    if "text" in message.data or not message.files:
        raise bad_request("there is no caption in the message to edit")
    raw = p.get_str("caption") or ""
    formatted, parse_mode = format_for(tg, raw, p, caption=True)
    fields = text_fields(formatted, caption=True)
    result = _apply_edit(tg, message, fields, ("caption", "caption_entities"), markup_of(p))
    message.raw_text, message.parse_mode = raw or None, parse_mode
    return result


@api_method("editMessageReplyMarkup")
async def edit_message_replymarkup_of(tg: FakeTelegram, p: Params) -> JSON:
    message = _editable(tg, p)
    return _apply_edit(tg, message, {}, (), markup_of(p))


def _delete(tg: FakeTelegram, chat: FakeChat, message_id: int) -> None:
    message = chat.message(message_id)
    if message is None:
        raise bad_request("message to delete not found")
    if message.data.get("forum_topic_created"):
        raise bad_request("message can't be deleted")
    if chat.type != "private" and not message.from_bot and not chat.bot_rights.is_admin:
        raise bad_request("message can't be deleted")
    message.deleted = True
    tg.notify()


@api_method("deleteMessage")
async def delete_message(tg: FakeTelegram, p: Params) -> bool:
    chat = tg.resolve_chat(p.chat_id())
    _delete(tg, chat, p.require_int("message_id"))
    return True


@api_method("deleteMessages")
async def delete_messages(tg: FakeTelegram, p: Params) -> bool:
    chat = tg.resolve_chat(p.chat_id())
    ids = p.get_json("message_ids")
    if not isinstance(ids, list) or not 1 <= len(ids) <= 100:
        raise bad_request("message_ids must contain 1-100 ids")
    for message_id in ids:
        try:
            _delete(tg, chat, int(message_id))
        except ApiError:
            continue  # deleteMessages skips what it cannot delete.
    return True


@api_method("answerCallbackQuery")
async def answer_callback_query(tg: FakeTelegram, p: Params) -> bool:
    query_id = p.get_str("callback_query_id") or ""
    record = tg.callback_queries.get(query_id)
    if record is None or record.answered:
        raise bad_request("query is too old and response timeout expired or query ID is invalid")
    text = p.get_str("text")
    if text is not None and len(text) > 200:
        raise bad_request("MESSAGE_TOO_LONG")
    record.answered = True
    record.text = text
    record.show_alert = p.get_bool("show_alert")
    record.url = p.get_str("url")
    tg.notify()
    return True
