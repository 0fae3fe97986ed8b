"""What every outgoing bot message needs: target chat, thread, reply, text, markup."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from bot.testing.errors import bad_request
from bot.testing.formatting import FormattedText, detect_entities, format_text
from bot.testing.inbound import place_in_thread
from bot.testing.keyboards import inline_part, validate_markup
from bot.testing.objects import JSON, FakeChat, FakeMessage
from bot.testing.params import Params
from bot.testing.records import StoredFile

if TYPE_CHECKING:
    from bot.testing.model import FakeTelegram

TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024
NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly "
    "the same as a current content and reply markup of the message"
)
CONTENT_KEYS = (
    "text",
    "entities",
    "link_preview_options",
    "photo",
    "document",
    "voice",
    "audio",
    "video",
    "animation",
    "sticker",
    "video_note",
    "caption",
    "caption_entities",
    "location",
    "venue",
    "contact",
    "poll",
    "dice",
)
MEDIA_WHAT = {
    "photo": "photos",
    "document": "documents",
    "voice": "voice notes",
    "audio": "audio files",
    "video": "videos",
    "animation": "animations",
    "sticker": "stickers",
    "video_note": "video notes",
}
_NO_AUTO_INSIDE = frozenset({"code", "pre", "text_link", "text_mention", "custom_emoji"})


@dataclass
class Target:
    """Where an outgoing message goes."""

    chat: FakeChat
    thread_id: int | None
    reply: FakeMessage | None


def check_thread(tg: FakeTelegram, chat: FakeChat, thread_id: int) -> None:
    """Fail like Telegram for an unknown (or, for non-managers, closed) thread."""
    if chat.is_forum:
        topic = chat.forum_topics.get(thread_id)
        if topic is None:
            raise bad_request("message thread not found")
        manager = chat.bot_status == "administrator" and chat.bot_rights.can_manage_topics
        if topic.closed and not manager:
            raise bad_request("TOPIC_CLOSED")
    elif chat.message(thread_id) is None:
        raise bad_request("message thread not found")


def reply_of(p: Params, chat: FakeChat) -> FakeMessage | None:
    """Resolve reply_parameters / reply_to_message_id to the replied message."""
    parameters = p.get_json("reply_parameters", "reply parameters")
    allow = p.get_bool("allow_sending_without_reply")
    message_id: Any = None
    if isinstance(parameters, dict):
        message_id = parameters.get("message_id")
        allow = bool(parameters.get("allow_sending_without_reply", allow))
    elif parameters is not None:
        raise bad_request("can't parse reply parameters JSON object")
    else:
        message_id = p.get_int("reply_to_message_id")
    if message_id is None:
        return None
    target = chat.message(int(message_id))
    if target is None and not allow:
        raise bad_request("message to be replied not found")
    return target


def target_of(tg: FakeTelegram, p: Params, what: str = "text messages") -> Target:
    """Resolve where a send goes, checking access, rights, thread and reply."""
    chat = tg.resolve_chat(p.chat_id())
    tg.check_can_send(chat, what)
    thread_id = p.get_int("message_thread_id")
    if thread_id is not None:
        check_thread(tg, chat, thread_id)
    return Target(chat, thread_id, reply_of(p, chat))


def finish_entities(tg: FakeTelegram, text: str, entities: list[JSON]) -> list[JSON]:
    """Fill in mentioned users and add the entities Telegram detects by itself."""
    finished: list[JSON] = []
    for entity in entities:
        if entity["type"] == "text_mention":
            user = tg.users.get(int(entity.get("user", {}).get("id", 0)))
            if user is None:
                continue
            entity = {**entity, "user": user.to_json()}
        finished.append(entity)
    blocked = [
        (e["offset"], e["offset"] + e["length"]) for e in finished if e["type"] in _NO_AUTO_INSIDE
    ]
    for auto in detect_entities(text):
        begin, end = auto["offset"], auto["offset"] + auto["length"]
        if not any(b < end and begin < e for b, e in blocked):
            finished.append(auto)
    return sorted(finished, key=lambda e: (e["offset"], -e["length"]))


def format_for(
    tg: FakeTelegram, text: str, p: Params, *, caption: bool
) -> tuple[FormattedText, str | None]:
    """Parse a text or caption with the request's parse_mode/entities and check limits."""
    parse_mode = p.get_str("parse_mode")
    entities = p.get_json("caption_entities" if caption else "entities")
    formatted = format_text(text, parse_mode, entities, strict_ampersand=tg.strict_html)
    if caption:
        if len(formatted.text) > CAPTION_LIMIT:
            raise bad_request("message caption is too long")
    else:
        if not formatted.text:
            raise bad_request("message text is empty")
        if len(formatted.text) > TEXT_LIMIT:
            raise bad_request("message is too long")
    formatted.entities = finish_entities(tg, formatted.text, formatted.entities)
    return formatted, parse_mode


def text_fields(formatted: FormattedText, *, caption: bool) -> JSON:
    """Return the message fields for a text (or caption) and its entities."""
    if caption and not formatted.text:
        return {}
    fields: JSON = {"caption" if caption else "text": formatted.text}
    if formatted.entities:
        fields["caption_entities" if caption else "entities"] = formatted.entities
    return fields


def markup_of(p: Params) -> JSON | None:
    """Return the validated reply_markup of the request."""
    return validate_markup(p.get_json("reply_markup", "reply keyboard markup"))


def store_bot_message(
    tg: FakeTelegram,
    target: Target,
    content: JSON,
    *,
    raw_text: str | None = None,
    parse_mode: str | None = None,
    markup: JSON | None = None,
    files: list[StoredFile] | None = None,
    protect: bool = False,
) -> FakeMessage:
    """Create and store a bot message; keeps the chat's reply keyboard up to date."""
    chat = target.chat
    data = tg.base_message(chat)
    place_in_thread(chat, data, target.thread_id, target.reply)
    if protect:
        data["has_protected_content"] = True
    data.update(content)
    inline = inline_part(markup)
    if inline:
        data["reply_markup"] = inline
    message = FakeMessage(
        data, from_bot=True, raw_text=raw_text, parse_mode=parse_mode, markup=markup, files=files
    )
    chat.add(message)
    if markup and "keyboard" in markup:
        chat.reply_keyboard = markup
        chat.reply_keyboard_message_id = message.message_id
    elif markup and markup.get("remove_keyboard"):
        chat.reply_keyboard = None
        chat.reply_keyboard_message_id = 0
    tg.notify()
    return message
