"""``ChatMember`` objects: who is what in a chat, the bot included."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.testing.errors import bad_request
from bot.testing.objects import JSON, FakeChat

if TYPE_CHECKING:
    from bot.testing.model import FakeTelegram

STATUSES = frozenset({"creator", "administrator", "member", "restricted", "left", "kicked"})
_ADMIN_RIGHTS = {
    "can_be_edited": False,
    "is_anonymous": False,
    "can_manage_chat": True,
    "can_delete_messages": True,
    "can_manage_video_chats": True,
    "can_restrict_members": True,
    "can_promote_members": False,
    "can_change_info": True,
    "can_invite_users": True,
    "can_post_stories": False,
    "can_edit_stories": False,
    "can_delete_stories": False,
    "can_pin_messages": True,
    "can_manage_topics": True,
}
_RESTRICTIONS = {
    "is_member": True,
    "can_send_messages": False,
    "can_send_audios": False,
    "can_send_documents": False,
    "can_send_photos": False,
    "can_send_videos": False,
    "can_send_video_notes": False,
    "can_send_voice_notes": False,
    "can_send_polls": False,
    "can_send_other_messages": False,
    "can_add_web_page_previews": False,
    "can_change_info": False,
    "can_invite_users": False,
    "can_pin_messages": False,
    "can_manage_topics": False,
    "can_edit_tag": False,
    "can_react_to_messages": False,
    "until_date": 0,
}


def status_json(status: str, user: JSON) -> JSON:
    """Return the ChatMember object for ``status`` with every field PTB requires."""
    member: JSON = {"status": status, "user": user}
    if status == "creator":
        member["is_anonymous"] = False
    elif status == "administrator":
        member.update(_ADMIN_RIGHTS)
    elif status == "restricted":
        member.update(_RESTRICTIONS)
    elif status == "kicked":
        member["until_date"] = 0
    return member


def bot_member_json(tg: FakeTelegram, chat: FakeChat) -> JSON:
    """The bot's own membership: kicked in a private chat means blocked by the user."""
    if chat.type == "private":
        user = chat.user
        status = "kicked" if user is not None and user.blocked else "member"
        return status_json(status, tg.bot_user)
    member = status_json(chat.bot_status, tg.bot_user)
    if chat.bot_status == "administrator":
        member["can_manage_topics"] = chat.bot_rights.can_manage_topics
        member["can_post_messages"] = chat.bot_rights.can_post_messages
    elif chat.bot_status == "restricted":
        member["can_send_messages"] = chat.bot_rights.can_post_messages
    return member


def member_json(tg: FakeTelegram, chat: FakeChat, user_id: int) -> JSON:
    """Return the ChatMember object for a user (or the bot) in ``chat``."""
    if user_id == tg.bot_id:
        return bot_member_json(tg, chat)
    user = tg.users.get(user_id)
    if user is None:
        raise bad_request("user not found")
    if chat.type == "private":
        status = "member" if user_id == chat.id else "left"
    else:
        status = chat.members.get(user_id, "left")
    return status_json(status, user.to_json())


def member_update(tg: FakeTelegram, chat: FakeChat, by: JSON, old: JSON, new: JSON) -> JSON:
    """Return a ``ChatMemberUpdated`` object (the body of my_chat_member)."""
    return {
        "chat": chat.to_json(),
        "from": by,
        "date": tg.now(),
        "old_chat_member": old,
        "new_chat_member": new,
    }
