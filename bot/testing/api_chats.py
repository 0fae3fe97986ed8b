"""Bot API methods about chats, members, forum topics, chat actions and menu buttons."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.testing import members
from bot.testing.errors import bad_request
from bot.testing.objects import JSON, FakeChat, FakeMessage, ForumTopic
from bot.testing.params import Params
from bot.testing.registry import api_method

if TYPE_CHECKING:
    from bot.testing.model import FakeTelegram

TOPIC_COLORS = (7322096, 16766590, 13338331, 9367192, 16749490, 16478047)
CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)
_ACCEPTED_GIFTS = {
    "unlimited_gifts": True,
    "limited_gifts": True,
    "unique_gifts": True,
    "premium_subscription": True,
    "gifts_from_channels": True,
}


def chat_full_info(tg: FakeTelegram, chat: FakeChat) -> JSON:
    """Return the ``ChatFullInfo`` object getChat answers with."""
    info = chat.to_json()
    info.update(
        accent_color_id=0,
        max_reaction_count=11,
        accepted_gift_types=dict(_ACCEPTED_GIFTS),
    )
    if chat.type == "private":
        info["has_private_forwards"] = False
    else:
        info["permissions"] = {
            "can_send_messages": True,
            "can_send_photos": True,
            "can_send_documents": True,
            "can_send_voice_notes": True,
            "can_send_polls": True,
            "can_send_other_messages": True,
            "can_add_web_page_previews": True,
            "can_invite_users": True,
            "can_pin_messages": False,
            "can_manage_topics": False,
            "can_change_info": False,
        }
    return info


@api_method("getChat")
async def get_chat(tg: FakeTelegram, p: Params) -> JSON:
    chat = tg.resolve_chat(p.chat_id())
    if chat.type == "private" and chat.user is not None and not chat.user.started:
        raise bad_request("chat not found")
    return chat_full_info(tg, chat)


@api_method("getChatMember")
async def get_chat_member(tg: FakeTelegram, p: Params) -> JSON:
    chat = tg.resolve_chat(p.chat_id())
    return tg.member_json(chat, p.require_int("user_id"))


@api_method("getChatAdministrators")
async def get_chat_administrators(tg: FakeTelegram, p: Params) -> list[JSON]:
    chat = tg.resolve_chat(p.chat_id())
    if chat.type == "private":
        raise bad_request("there are no administrators in the private chat")
    admins = [
        tg.member_json(chat, user_id)
        for user_id, status in chat.members.items()
        if status in ("creator", "administrator")
    ]
    if chat.bot_status == "administrator":
        admins.append(tg.member_json(chat, tg.bot_id))
    return admins


@api_method("getChatMemberCount")
async def get_chat_member_count(tg: FakeTelegram, p: Params) -> int:
    chat = tg.resolve_chat(p.chat_id())
    if chat.type == "private":
        return 2
    present = ("creator", "administrator", "member", "restricted")
    count = sum(1 for status in chat.members.values() if status in present)
    return count + (1 if chat.bot_status in present else 0)


@api_method("leaveChat")
async def leave_chat(tg: FakeTelegram, p: Params) -> bool:
    chat = tg.resolve_chat(p.chat_id())
    if chat.type == "private":
        raise bad_request("chat member status can't be changed in private chats")
    old = tg.member_json(chat, tg.bot_id)
    chat.bot_status = "left"
    update = members.member_update(tg, chat, tg.bot_user, old, tg.member_json(chat, tg.bot_id))
    await tg.emit({"my_chat_member": update})
    return True


@api_method("sendChatAction")
async def send_chat_action(tg: FakeTelegram, p: Params) -> bool:
    chat = tg.resolve_chat(p.chat_id())
    if p.get_str("action") not in CHAT_ACTIONS:
        raise bad_request("wrong parameter action in request")
    tg.check_can_send(chat)
    return True


@api_method("setChatMenuButton")
async def set_chat_menu_button(tg: FakeTelegram, p: Params) -> bool:
    button = p.get_json("menu_button", "menu button") or {"type": "default"}
    if not isinstance(button, dict) or button.get("type") not in ("commands", "web_app", "default"):
        raise bad_request("can't parse menu button JSON object")
    if "chat_id" in p:
        tg.resolve_chat(p.chat_id()).menu_button = button
    else:
        tg.default_menu_button = button if button["type"] != "default" else {"type": "commands"}
    return True


@api_method("getChatMenuButton")
async def get_chat_menu_button(tg: FakeTelegram, p: Params) -> JSON:
    if "chat_id" in p:
        button = tg.resolve_chat(p.chat_id()).menu_button
        if button is not None and button.get("type") != "default":
            return button
    return tg.default_menu_button


def _forum(tg: FakeTelegram, p: Params) -> FakeChat:
    chat = tg.resolve_chat(p.chat_id())
    if not chat.is_forum:
        raise bad_request("the chat is not a forum")
    return chat


def _topic(chat: FakeChat, p: Params) -> ForumTopic:
    topic = chat.forum_topics.get(p.require_int("message_thread_id"))
    if topic is None:
        raise bad_request("TOPIC_ID_INVALID")
    return topic


def _require_topic_rights(chat: FakeChat, action: str) -> None:
    if chat.bot_status != "administrator" or not chat.bot_rights.can_manage_topics:
        raise bad_request(f"not enough rights to {action} a topic")


def _service(tg: FakeTelegram, chat: FakeChat, topic: ForumTopic, field: str, value: JSON) -> None:
    data = tg.base_message(chat, message_id=None)
    data["message_thread_id"] = topic.thread_id
    data["is_topic_message"] = True
    data[field] = value
    chat.add(FakeMessage(data, from_bot=True))
    tg.notify()


@api_method("createForumTopic")
async def create_forum_topic(tg: FakeTelegram, p: Params) -> JSON:
    chat = _forum(tg, p)
    _require_topic_rights(chat, "create")
    name = p.get_str("name") or ""
    if not 1 <= len(name) <= 128:
        raise bad_request("TOPIC_TITLE_EMPTY" if not name else "TOPIC_TITLE_TOO_LONG")
    color = p.get_int("icon_color") or TOPIC_COLORS[0]
    if color not in TOPIC_COLORS:
        raise bad_request("TOPIC_ICON_COLOR_INVALID")
    thread_id = chat.next_message_id()
    topic = ForumTopic(thread_id, name, color, p.get_str("icon_custom_emoji_id"))
    data = tg.base_message(chat, message_id=thread_id)
    data.update(
        message_thread_id=thread_id,
        is_topic_message=True,
        forum_topic_created={"name": name, "icon_color": color},
    )
    chat.forum_topics[thread_id] = topic
    chat.add(FakeMessage(data, from_bot=True))
    tg.notify()
    return topic.to_json()


@api_method("editForumTopic")
async def edit_forum_topic(tg: FakeTelegram, p: Params) -> bool:
    chat = _forum(tg, p)
    topic = _topic(chat, p)
    _require_topic_rights(chat, "edit")
    name = p.get_str("name")
    emoji = p.get_str("icon_custom_emoji_id")
    if name is not None and not 1 <= len(name) <= 128:
        raise bad_request("TOPIC_TITLE_EMPTY" if not name else "TOPIC_TITLE_TOO_LONG")
    changed: JSON = {}
    if name is not None and name != topic.name:
        topic.name = changed["name"] = name
    if emoji is not None and emoji != (topic.icon_custom_emoji_id or ""):
        topic.icon_custom_emoji_id = emoji or None
        changed["icon_custom_emoji_id"] = emoji
    if not changed:
        raise bad_request("TOPIC_NOT_MODIFIED")
    _service(tg, chat, topic, "forum_topic_edited", changed)
    return True


async def _set_closed(tg: FakeTelegram, p: Params, closed: bool) -> bool:
    chat = _forum(tg, p)
    topic = _topic(chat, p)
    _require_topic_rights(chat, "close" if closed else "reopen")
    if topic.closed == closed:
        raise bad_request("TOPIC_NOT_MODIFIED")
    topic.closed = closed
    _service(tg, chat, topic, "forum_topic_closed" if closed else "forum_topic_reopened", {})
    return True


@api_method("closeForumTopic")
async def close_forum_topic(tg: FakeTelegram, p: Params) -> bool:
    return await _set_closed(tg, p, True)


@api_method("reopenForumTopic")
async def reopen_forum_topic(tg: FakeTelegram, p: Params) -> bool:
    return await _set_closed(tg, p, False)


@api_method("deleteForumTopic")
async def delete_forum_topic(tg: FakeTelegram, p: Params) -> bool:
    chat = _forum(tg, p)
    topic = _topic(chat, p)
    _require_topic_rights(chat, "delete")
    for message in chat.all_messages:
        if message.message_thread_id == topic.thread_id:
            message.deleted = True
    del chat.forum_topics[topic.thread_id]
    tg.notify()
    return True
