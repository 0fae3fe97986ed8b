"""The liaison staff's side: where reports go, what the bot may do there, who is staff."""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.clock import Clock
from bot.config import Category, City, Settings

MEMBERSHIP_TTL = 60.0  # seconds a getChatMember answer is trusted

# Problems the rights check can find (rendered for staff by `bot.views.staff`).
NOT_MEMBER = "not_member"
CANNOT_POST = "cannot_post"
NOT_ADMIN = "not_admin"
NO_TOPIC_RIGHT = "no_topic_right"
UNREACHABLE = "unreachable"


@dataclass(frozen=True, slots=True)
class StaffChatStatus:
    """What the bot found out about one staff chat (at start or with /staffcheck)."""

    chat_id: int
    reachable: bool = True
    is_forum: bool = False
    is_member: bool = True
    is_admin: bool = False
    can_post: bool = True
    can_manage_topics: bool = False
    error: str = ""

    @property
    def uses_topics(self) -> bool:
        """One topic per report: a forum where the bot may create topics."""
        return self.reachable and self.is_forum and self.is_admin and self.can_manage_topics

    @property
    def problems(self) -> tuple[str, ...]:
        if not self.reachable:
            return (UNREACHABLE,)
        if not self.is_member:
            return (NOT_MEMBER,)
        found: list[str] = []
        if not self.can_post:
            found.append(CANNOT_POST)
        if not self.is_admin:
            found.append(NOT_ADMIN)
        if self.is_forum and not (self.is_admin and self.can_manage_topics):
            found.append(NO_TOPIC_RIGHT)
        return tuple(found)


@dataclass(frozen=True, slots=True)
class Destination:
    """Where one report's card goes."""

    chat_id: int
    thread_id: int | None = None  # a topic configured for the category
    new_topic: bool = False  # create a topic of its own for the report


@dataclass(slots=True)
class StaffService:
    settings: Settings
    city: City
    clock: Clock
    chats: dict[int, StaffChatStatus] = field(default_factory=dict)
    _members: dict[tuple[int, int], tuple[bool, float]] = field(default_factory=dict)

    def chat_ids(self) -> list[int]:
        """Every chat reports go to: the staff chat and the categories' own chats."""
        ids: list[int] = []
        if self.settings.staff_chat_id is not None:
            ids.append(self.settings.staff_chat_id)
        for category in self.city.categories:
            if category.staff_chat_id is not None and category.staff_chat_id not in ids:
                ids.append(category.staff_chat_id)
        return ids

    def is_staff_chat(self, chat_id: int | None) -> bool:
        return chat_id is not None and chat_id in self.chat_ids()

    def record_check(self, status: StaffChatStatus) -> None:
        self.chats[status.chat_id] = status

    def destination(self, category: Category | None) -> Destination | None:
        """The category's own chat/topic if configured, else the staff chat."""
        chat_id = self.settings.staff_chat_id
        thread_id = None
        if category is not None and category.staff_chat_id is not None:
            chat_id = category.staff_chat_id
        if category is not None and category.staff_thread_id is not None:
            thread_id = category.staff_thread_id
        if chat_id is None:
            return None
        if thread_id is not None:
            return Destination(chat_id, thread_id=thread_id)
        status = self.chats.get(chat_id)
        return Destination(chat_id, new_topic=status is not None and status.uses_topics)

    # -- who may press the staff buttons ---------------------------------------------------

    def known_member(self, chat_id: int, user_id: int) -> bool | None:
        """A recent membership answer for this chat, or None when it must be asked."""
        if self.settings.admin_ids and user_id in self.settings.admin_ids:
            return True
        cached = self._members.get((chat_id, user_id))
        if cached is None or cached[1] < self.clock.time():
            return None
        return cached[0]

    def remember_member(self, chat_id: int, user_id: int, is_member: bool) -> None:
        if len(self._members) > 5000:
            now = self.clock.time()
            self._members = {k: v for k, v in self._members.items() if v[1] >= now}
        self._members[(chat_id, user_id)] = (is_member, self.clock.time() + MEMBERSHIP_TTL)
