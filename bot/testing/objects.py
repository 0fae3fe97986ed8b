"""Chats and messages of the fake, with the read-only views tests assert on."""

from __future__ import annotations

import copy
import pickle
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from bot.testing.records import StoredFile

if TYPE_CHECKING:
    from bot.testing.users import FakeUser

JSON = dict[str, Any]
T = TypeVar("T")


def json_copy(value: T) -> T:
    """A deep copy of Bot API data (dicts, lists and plain values).

    The fake copies every update it emits and every message it returns, as Telegram's
    answers are fresh JSON each time. Pickling does that about five times faster than
    `copy.deepcopy`, which keeps the fake's own cost small next to the bot's in the
    benchmarks; anything pickle refuses is copied the slow way.
    """
    try:
        copied: T = pickle.loads(pickle.dumps(value, pickle.HIGHEST_PROTOCOL))
    except (pickle.PicklingError, TypeError, AttributeError):
        return copy.deepcopy(value)
    return copied


def _button_label(button: object) -> str:
    if isinstance(button, dict):
        return str(button.get("text", ""))
    return str(button)


@dataclass
class BotRights:
    """What the bot may do in a group (``FakeTelegram.set_bot_rights``)."""

    can_post_messages: bool = True
    can_manage_topics: bool = True
    is_admin: bool = True


@dataclass
class ForumTopic:
    """A forum topic; its thread id is the id of the service message that created it."""

    thread_id: int
    name: str
    icon_color: int
    icon_custom_emoji_id: str | None = None
    closed: bool = False

    def to_json(self) -> JSON:
        """Return the ``ForumTopic`` object of the Bot API."""
        topic: JSON = {
            "message_thread_id": self.thread_id,
            "name": self.name,
            "icon_color": self.icon_color,
        }
        if self.icon_custom_emoji_id:
            topic["icon_custom_emoji_id"] = self.icon_custom_emoji_id
        return topic


class FakeMessage:
    """A message in a fake chat: its Telegram JSON (current state) plus test helpers."""

    def __init__(
        self,
        data: JSON,
        *,
        from_bot: bool,
        raw_text: str | None = None,
        parse_mode: str | None = None,
        markup: JSON | None = None,
        files: list[StoredFile] | None = None,
    ) -> None:
        self.data = data
        self.from_bot = from_bot
        self.raw_text = raw_text
        self.parse_mode = parse_mode
        self.sent_markup = markup
        self.files = list(files or [])
        self.history: list[JSON] = []
        self.deleted = False

    def __repr__(self) -> str:
        who = "bot" if self.from_bot else f"user {self.data.get('from', {}).get('id')}"
        return f"<FakeMessage {self.chat_id}/{self.message_id} from {who}: {self.text!r}>"

    def to_json(self) -> JSON:
        """Return a deep copy of the message as the Bot API shows it."""
        return json_copy(self.data)

    @property
    def message_id(self) -> int:
        """The per-chat message id."""
        return int(self.data["message_id"])

    @property
    def chat_id(self) -> int:
        """The id of the chat the message is in."""
        return int(self.data["chat"]["id"])

    @property
    def sender_id(self) -> int | None:
        """The id of the sender (the bot's id for bot messages)."""
        sender = self.data.get("from")
        return int(sender["id"]) if sender else None

    @property
    def text(self) -> str:
        """The visible plain text: the text (or caption), formatting removed."""
        return str(self.data.get("text", self.data.get("caption", "")))

    @property
    def entities(self) -> list[JSON]:
        """The entities of the text (or caption)."""
        key = "entities" if "entities" in self.data else "caption_entities"
        return [dict(entity) for entity in self.data.get(key) or []]

    @property
    def reply_markup(self) -> JSON | None:
        """The markup the sender attached (inline keyboard, reply keyboard, removal, ...)."""
        return json_copy(self.sent_markup)

    @property
    def button_rows(self) -> list[list[str]]:
        """Visible button labels, row by row (inline or reply keyboard)."""
        markup = self.sent_markup or {}
        rows = markup.get("inline_keyboard") or markup.get("keyboard") or []
        return [[_button_label(button) for button in row] for row in rows]

    @property
    def buttons(self) -> list[str]:
        """Visible button labels, flattened."""
        return [label for row in self.button_rows for label in row]

    def inline_button(self, label: str) -> JSON | None:
        """Return the inline button dict with this label, if the message has one."""
        for row in (self.sent_markup or {}).get("inline_keyboard") or []:
            for button in row:
                if isinstance(button, dict) and button.get("text") == label:
                    return dict(button)
        return None

    def callback_data(self, label: str) -> str:
        """Return the callback_data of the inline button with this label."""
        button = self.inline_button(label)
        if button is None or "callback_data" not in button:
            raise LookupError(f"no callback button {label!r}; buttons: {self.buttons}")
        return str(button["callback_data"])

    def _file(self, kind: str) -> StoredFile | None:
        matches = [stored for stored in self.files if stored.kind == kind]
        return max(matches, key=lambda f: (f.width or 0) * (f.height or 0)) if matches else None

    def _attachment(self, kind: str, default_name: str) -> tuple[str, bytes] | None:
        stored = self._file(kind)
        return None if stored is None else (stored.filename or default_name, stored.data)

    @property
    def photo(self) -> tuple[str, bytes] | None:
        """(filename, bytes) of the photo (largest size), if any."""
        return self._attachment("photo", "photo.jpg")

    @property
    def document(self) -> tuple[str, bytes] | None:
        """(filename, bytes) of the document, if any."""
        return self._attachment("document", "document")

    @property
    def voice(self) -> tuple[str, bytes] | None:
        """(filename, bytes) of the voice note, if any."""
        return self._attachment("voice", "voice.ogg")

    @property
    def location(self) -> tuple[float, float] | None:
        """(latitude, longitude), if the message is a location or venue."""
        location = self.data.get("location")
        if not location:
            return None
        return float(location["latitude"]), float(location["longitude"])

    @property
    def message_thread_id(self) -> int | None:
        """The forum topic (or reply thread) the message belongs to."""
        value = self.data.get("message_thread_id")
        return int(value) if value is not None else None

    @property
    def reply_to_message_id(self) -> int | None:
        """The id of the replied message (in forum topics Telegram puts the topic's root here
        when the message is not an explicit reply)."""
        reply = self.data.get("reply_to_message")
        return int(reply["message_id"]) if reply else None

    @property
    def edit_count(self) -> int:
        """How many times the message was edited."""
        return len(self.history)

    @property
    def date(self) -> int:
        """Unix time of sending."""
        return int(self.data["date"])


class FakeChat:
    """A private chat, group or supergroup (optionally a forum) with its messages.

    A test world may hold 100,000 private chats, most of which never get a member, a
    forum topic or a message kept: the containers are made on first use.
    """

    __slots__ = (
        "_bot_rights",
        "_forum_topics",
        "_members",
        "_messages",
        "_next_message_id",
        "bot_status",
        "id",
        "is_forum",
        "menu_button",
        "reply_keyboard",
        "reply_keyboard_message_id",
        "title",
        "type",
        "user",
        "username",
    )

    def __init__(
        self,
        chat_id: int,
        chat_type: str,
        *,
        title: str | None = None,
        is_forum: bool = False,
        username: str | None = None,
        user: FakeUser | None = None,
    ) -> None:
        self.id = chat_id
        self.type = chat_type
        self.title = title
        self.is_forum = is_forum
        self.username = username
        self.user = user
        self.bot_status = "member" if chat_type == "private" else "administrator"
        self.reply_keyboard: JSON | None = None
        self.reply_keyboard_message_id = 0
        self.menu_button: JSON | None = None
        self._members: dict[int, str] | None = None
        self._bot_rights: BotRights | None = None
        self._forum_topics: dict[int, ForumTopic] | None = None
        self._messages: list[FakeMessage] | None = None
        self._next_message_id = 1

    @property
    def members(self) -> dict[int, str]:
        """Group members: user id -> status ("creator", "member", "left", ...)."""
        if self._members is None:
            self._members = {}
        return self._members

    @property
    def bot_rights(self) -> BotRights:
        """What the bot may do here (``FakeTelegram.set_bot_rights``)."""
        if self._bot_rights is None:
            self._bot_rights = BotRights()
        return self._bot_rights

    @property
    def forum_topics(self) -> dict[int, ForumTopic]:
        """Forum topics by thread id."""
        if self._forum_topics is None:
            self._forum_topics = {}
        return self._forum_topics

    def __repr__(self) -> str:
        return f"<FakeChat {self.id} {self.type} {self.title or ''}>".replace(" >", ">")

    def next_message_id(self) -> int:
        """Allocate the next message id of this chat."""
        message_id = self._next_message_id
        self._next_message_id += 1
        return message_id

    def add(self, message: FakeMessage) -> None:
        """Store a new message."""
        if self._messages is None:
            self._messages = [message]
        else:
            self._messages.append(message)

    def forget_messages(self) -> None:
        """Drop every stored message (message ids go on from where they were).

        For long benchmark runs, whose sends would otherwise all stay in memory.
        """
        self._messages = None

    @property
    def all_messages(self) -> list[FakeMessage]:
        """Every message ever stored, deleted ones included."""
        return list(self._messages or ())

    @property
    def messages(self) -> list[FakeMessage]:
        """All visible messages, from the bot and from users, oldest first."""
        return [message for message in self._messages or () if not message.deleted]

    @property
    def bot_messages(self) -> list[FakeMessage]:
        """Visible messages sent by the bot."""
        return [message for message in self.messages if message.from_bot]

    @property
    def topics(self) -> dict[int, str]:
        """Forum topics: thread id -> name."""
        return {thread_id: topic.name for thread_id, topic in self.forum_topics.items()}

    def messages_in_topic(self, thread_id: int) -> list[FakeMessage]:
        """Visible messages posted in one forum topic (its creation message excluded)."""
        return [
            message
            for message in self.messages
            if message.message_thread_id == thread_id and message.message_id != thread_id
        ]

    def message(self, message_id: int) -> FakeMessage | None:
        """Return a visible message by id."""
        for message in self._messages or ():
            if message.message_id == message_id and not message.deleted:
                return message
        return None

    def to_json(self) -> JSON:
        """Return the short ``Chat`` object embedded in messages."""
        chat: JSON = {"id": self.id, "type": self.type}
        if self.type == "private" and self.user is not None:
            chat.update(self.user.name_fields())
        else:
            chat["title"] = self.title or ""
            if self.username:
                chat["username"] = self.username
            if self.is_forum:
                chat["is_forum"] = True
        return chat
