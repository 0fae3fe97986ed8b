"""What users do, turned into stored messages and Telegram-shaped updates."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.testing import media, members
from bot.testing.formatting import detect_entities
from bot.testing.objects import JSON, FakeChat, FakeMessage
from bot.testing.records import CallbackQueryRecord

if TYPE_CHECKING:
    from bot.testing.model import FakeTelegram
    from bot.testing.users import FakeUser

_MEMBER_STATUSES = frozenset({"creator", "administrator", "member", "restricted"})


def photo_content(tg: FakeTelegram, data: bytes | None) -> JSON:
    """Store a user's photo and return the message fields for it."""
    files = media.store(tg, "photo", data or media.FAKE_JPEG, mime_type="image/jpeg")
    return {"photo": media.media_json("photo", files), "_files": files}


def media_content(
    tg: FakeTelegram,
    kind: str,
    data: bytes,
    *,
    filename: str | None = None,
    mime_type: str | None = None,
    duration: int | None = None,
) -> JSON:
    """Store a user's file of ``kind`` and return the message fields for it."""
    files = media.store(tg, kind, data, filename=filename, mime_type=mime_type, duration=duration)
    return {kind: media.media_json(kind, files), "_files": files}


def poll_json(
    tg: FakeTelegram,
    question: str,
    options: list[str],
    *,
    is_anonymous: bool = True,
    kind: str = "regular",
    allows_multiple_answers: bool = False,
) -> JSON:
    """Return a fresh ``Poll`` object."""
    poll_id = tg.new_query_id()
    return {
        "id": poll_id,
        "question": question,
        "options": [
            {"text": text, "voter_count": 0, "persistent_id": f"{poll_id}-{index}"}
            for index, text in enumerate(options)
        ],
        "total_voter_count": 0,
        "is_closed": False,
        "is_anonymous": is_anonymous,
        "type": kind,
        "allows_multiple_answers": allows_multiple_answers,
        "allows_revoting": False,
        "members_only": False,
    }


def _reply_target(chat: FakeChat, reply_to: FakeMessage | int | None) -> FakeMessage | None:
    if reply_to is None:
        return None
    message_id = reply_to if isinstance(reply_to, int) else reply_to.message_id
    target = chat.message(message_id)
    if target is None:
        raise LookupError(f"no message {message_id} in chat {chat.id} to reply to")
    return target


def reply_json(target: FakeMessage) -> JSON:
    """The ``reply_to_message`` object: the replied message without its own reply."""
    data = target.to_json()
    data.pop("reply_to_message", None)
    return data


def place_in_thread(
    chat: FakeChat, data: JSON, thread_id: int | None, reply: FakeMessage | None
) -> None:
    """Put a new message into a forum topic the way Telegram does."""
    if thread_id is None and reply is not None and chat.is_forum:
        thread_id = reply.message_thread_id
    if reply is not None:
        data["reply_to_message"] = reply_json(reply)
    if thread_id is None:
        return
    data["message_thread_id"] = thread_id
    if chat.is_forum:
        data["is_topic_message"] = True
        root = chat.message(thread_id)
        if reply is None and root is not None:
            data["reply_to_message"] = reply_json(root)


def _check_can_post(user: FakeUser, chat: FakeChat, thread_id: int | None) -> None:
    if chat.type == "private":
        if chat.id != user.id:
            raise ValueError(f"{user.first_name} cannot write in another user's private chat")
        return
    status = chat.members.get(user.id, "left")
    if status not in _MEMBER_STATUSES:
        raise ValueError(f"{user.first_name} is not a member of {chat.title!r} ({status})")
    if thread_id is not None and chat.is_forum:
        topic = chat.forum_topics.get(thread_id)
        if topic is None:
            raise ValueError(f"{chat.title!r} has no topic {thread_id}")
        if topic.closed and status not in ("creator", "administrator"):
            raise ValueError(f"topic {topic.name!r} is closed")


def _bot_sees(user: FakeUser, chat: FakeChat, message: FakeMessage) -> bool:
    """Whether Telegram delivers a group message to the bot (membership, privacy mode)."""
    if chat.type == "private":
        return True
    tg = user.tg
    if chat.bot_status in ("left", "kicked"):
        return False
    if not tg.privacy_mode or chat.bot_status == "administrator":
        return True
    if message.text.startswith("/"):
        return True
    reply = message.data.get("reply_to_message")
    if reply and reply.get("from", {}).get("id") == tg.bot_id:
        return bool(message.data.get("message_thread_id") != reply.get("message_id"))
    return False


async def _wake_up(user: FakeUser, chat: FakeChat) -> None:
    """Writing to the bot starts it and lifts a block, as in the Telegram apps."""
    if chat.type != "private":
        return
    user.started = True
    if user.blocked:
        await set_blocked(user, False)


async def post(
    user: FakeUser,
    chat: FakeChat,
    content: JSON,
    *,
    reply_to: FakeMessage | int | None = None,
    thread_id: int | None = None,
) -> FakeMessage:
    """Store a user's message in ``chat`` and deliver the ``message`` update."""
    tg = user.tg
    _check_can_post(user, chat, thread_id)
    await _wake_up(user, chat)
    reply = _reply_target(chat, reply_to)
    files = content.pop("_files", [])
    data = tg.base_message(chat, sender=user.to_json())
    place_in_thread(chat, data, thread_id, reply)
    data.update(content)
    for field in ("text", "caption"):
        if field in data:
            entities = detect_entities(data[field])
            if entities:
                data["entities" if field == "text" else "caption_entities"] = entities
    message = FakeMessage(data, from_bot=False, raw_text=data.get("text"), files=files)
    chat.add(message)
    if _bot_sees(user, chat, message):
        await tg.emit({"message": message.to_json()})
    else:
        tg.notify()
    return message


async def edit(user: FakeUser, message: FakeMessage, new_text: str) -> FakeMessage:
    """Edit a user's own text message and deliver ``edited_message``."""
    tg = user.tg
    if message.sender_id != user.id:
        raise ValueError(f"{user.first_name} can only edit her own messages")
    if "text" not in message.data:
        raise ValueError("only text messages can be edited this way")
    chat = tg.chat(message.chat_id)
    message.history.append(message.to_json())
    message.data["text"] = new_text
    message.raw_text = new_text
    message.data.pop("entities", None)
    entities = detect_entities(new_text)
    if entities:
        message.data["entities"] = entities
    message.data["edit_date"] = tg.now()
    if _bot_sees(user, chat, message):
        await tg.emit({"edited_message": message.to_json()})
    return message


def _labels(chat: FakeChat) -> list[str]:
    labels: list[str] = []
    for message in reversed(chat.bot_messages[-10:]):
        labels.extend(label for label in message.buttons if label not in labels)
    keyboard = chat.reply_keyboard or {}
    for row in keyboard.get("keyboard", []):
        for button in row:
            label = button.get("text", "") if isinstance(button, dict) else str(button)
            if label not in labels:
                labels.append(label)
    return labels


def _reply_button(chat: FakeChat, label: str) -> JSON | None:
    for row in (chat.reply_keyboard or {}).get("keyboard", []):
        for button in row:
            normalised = button if isinstance(button, dict) else {"text": str(button)}
            if normalised.get("text") == label:
                return dict(normalised)
    return None


async def tap(
    user: FakeUser, label: str, *, message: FakeMessage | None, chat: FakeChat
) -> CallbackQueryRecord | FakeMessage | None:
    """Press the inline or reply-keyboard button labelled ``label``."""
    if message is not None:
        chat = user.tg.chat(message.chat_id)
    candidates = [message] if message is not None else list(reversed(chat.bot_messages))
    inline = next(((c, b) for c in candidates if (b := c.inline_button(label)) is not None), None)
    keyboard_id = chat.reply_keyboard_message_id
    reply_button = _reply_button(chat, label)
    if message is not None and message.message_id != keyboard_id:
        reply_button = None
    if inline is not None and (reply_button is None or inline[0].message_id > keyboard_id):
        return await _press_inline(user, chat, inline[0], inline[1])
    if reply_button is not None:
        if reply_button.get("request_location"):
            raise ValueError(
                f"{label!r} asks for a location: call share_location(latitude, longitude)"
            )
        if reply_button.get("request_contact"):
            return await user.send_contact(in_chat=chat)
        return await post(user, chat, {"text": label})
    where = f"message {message.message_id}" if message is not None else f"chat {chat.id}"
    available = message.buttons if message is not None else _labels(chat)
    raise LookupError(f"no button {label!r} in {where}; available: {available}")


async def _press_inline(
    user: FakeUser, chat: FakeChat, message: FakeMessage, button: JSON
) -> CallbackQueryRecord | None:
    if "callback_data" not in button:
        return None  # URL, web app, switch-inline buttons send the bot nothing.
    return await press_callback(user, message, str(button["callback_data"]))


async def press_callback(user: FakeUser, message: FakeMessage, data: str) -> CallbackQueryRecord:
    """Send a callback_query for ``message`` with any ``data`` (stale or forged buttons)."""
    tg = user.tg
    chat = tg.chat(message.chat_id)
    _check_can_post_or_view(user, chat)
    await _wake_up(user, chat)
    record = CallbackQueryRecord(
        id=tg.new_query_id(),
        user_id=user.id,
        chat_id=chat.id,
        message_id=message.message_id,
        data=data,
    )
    tg.callback_queries[record.id] = record
    query = {
        "id": record.id,
        "from": user.to_json(),
        "message": message.to_json(),
        "chat_instance": str(abs(chat.id * 7919 + tg.bot_id) % 10**18),
        "data": record.data,
    }
    await tg.emit({"callback_query": query})
    return record


def _check_can_post_or_view(user: FakeUser, chat: FakeChat) -> None:
    if chat.type == "private":
        if chat.id != user.id:
            raise ValueError(f"{user.first_name} cannot see another user's private chat")
        return
    if chat.members.get(user.id, "left") not in _MEMBER_STATUSES:
        raise ValueError(f"{user.first_name} is not a member of {chat.title!r}")


async def set_blocked(user: FakeUser, blocked: bool) -> None:
    """Block or unblock the bot and deliver the ``my_chat_member`` update."""
    if user.blocked == blocked:
        return
    tg = user.tg
    chat = user.chat
    old = tg.member_json(chat, tg.bot_id)
    user.blocked = blocked
    if not blocked:
        user.started = True
    new = tg.member_json(chat, tg.bot_id)
    update = members.member_update(tg, chat, user.to_json(), old, new)
    await tg.emit({"my_chat_member": update})
