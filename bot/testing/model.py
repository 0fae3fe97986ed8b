"""The in-memory Telegram: users, chats, files and settings of one bot, and its setup API."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from bot.testing import api_bot, api_chats, api_edits, api_messages, dispatch, inbound, members
from bot.testing.dispatch import Outcome
from bot.testing.errors import bad_request, forbidden
from bot.testing.faults import FaultInjector, HasId
from bot.testing.limits import FloodMeter, flood_violations
from bot.testing.objects import JSON, FakeChat, FakeMessage, json_copy
from bot.testing.records import (
    Call,
    CallbackQueryRecord,
    Stats,
    StoredFile,
    UploadedFile,
    Violation,
)
from bot.testing.updates import UpdateQueue, UpdateSink
from bot.testing.users import FakeUser

# The api_* modules register the Bot API methods when imported.
_REGISTERED = (api_bot, api_chats, api_edits, api_messages)


def _id_of(target: int | HasId) -> int:
    return target if isinstance(target, int) else target.id


class FakeTelegram:
    """A faithful in-memory model of the Telegram Bot API for one bot.

    ``clock`` stamps the call log (and drives flood limits); ``wall_clock`` gives message
    dates. ``enforce_limits`` answers over-limit sends with 429. ``strict_html`` also
    rejects a bare ``&`` in HTML (Telegram shows it literally, but it nearly always means
    text was not escaped). ``privacy_mode`` mirrors BotFather's group privacy: a bot that
    is not an administrator only receives commands, replies to it and service messages.
    """

    def __init__(
        self,
        token: str = "123456:TEST-TOKEN",
        *,
        bot_username: str = "resident_test_bot",
        bot_id: int | None = None,
        bot_name: str = "Resident Test Bot",
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
        enforce_limits: bool = False,
        strict_html: bool = True,
        privacy_mode: bool = True,
    ) -> None:
        prefix = token.split(":", 1)[0]
        self.token = token
        self.bot_id = bot_id if bot_id is not None else int(prefix) if prefix.isdigit() else 1
        self.bot_username = bot_username
        self.bot_name = bot_name
        self.clock = clock
        self.wall_clock = wall_clock
        self.enforce_limits = enforce_limits
        self.strict_html = strict_html
        self.privacy_mode = privacy_mode
        self.users: dict[int, FakeUser] = {}
        self.chats: dict[int, FakeChat] = {}
        self.calls: list[Call] = []
        self.faults = FaultInjector()
        self.stats = Stats()
        self.meter = FloodMeter()
        self.queue = UpdateQueue(describe=self._recent_calls)
        self.files: dict[str, StoredFile] = {}
        self.photo_sizes: dict[str, list[str]] = {}
        self.callback_queries: dict[str, CallbackQueryRecord] = {}
        self.bot_commands: dict[tuple[str, str], list[JSON]] = {}
        self.bot_texts: dict[tuple[str, str], str] = {}
        self.default_menu_button: JSON = {"type": "commands"}
        self.webhook: JSON | None = None
        self._next_user_id = 100_000_001
        self._next_group_id = 1
        self._next_file = 1
        self._next_query = 1

    # ------------------------------------------------------------------ setup
    @property
    def bot_user(self) -> JSON:
        """The bot as a ``User`` object."""
        return {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": self.bot_name,
            "username": self.bot_username,
        }

    def user(
        self,
        first_name: str,
        *,
        last_name: str | None = None,
        username: str | None = None,
        language: str | None = "en",
        user_id: int | None = None,
        started: bool = True,
    ) -> FakeUser:
        """Create a user; their private chat with the bot has the same id as them.

        ``started=False`` models someone who never opened the bot: sends to them fail with
        403 "bot can't initiate conversation with a user" until they write to it.
        """
        explicit = user_id is not None
        while user_id is None or (user_id in self.chats and not explicit):
            user_id = self._next_user_id
            self._next_user_id += 1
        if user_id in self.chats:
            raise ValueError(f"id {user_id} is already taken")
        user = FakeUser(
            self,
            user_id,
            first_name,
            last_name=last_name,
            username=username,
            language=language,
            started=started,
        )
        self.users[user_id] = user
        self.chats[user_id] = FakeChat(user_id, "private", user=user)
        return user

    def group(
        self,
        title: str,
        *,
        forum: bool = False,
        supergroup: bool = True,
        chat_id: int | None = None,
        username: str | None = None,
        members: Iterable[FakeUser] = (),
        admins: Iterable[FakeUser] = (),
    ) -> FakeChat:
        """Create a group (a supergroup by default) in which the bot is an administrator.

        The first admin (or else the first member) is the creator. No update is emitted;
        ``add_bot`` models the bot joining later.
        """
        if forum and not supergroup:
            raise ValueError("only supergroups can be forums")
        explicit = chat_id is not None
        while chat_id is None or (chat_id in self.chats and not explicit):
            number = self._next_group_id
            self._next_group_id += 1
            chat_id = -1_001_000_000_000 - number if supergroup else -4_000_000_000 - number
        if chat_id in self.chats:
            raise ValueError(f"chat id {chat_id} is already taken")
        chat = FakeChat(
            chat_id,
            "supergroup" if supergroup else "group",
            title=title,
            is_forum=forum,
            username=username,
        )
        self.chats[chat_id] = chat
        admins = list(admins)
        for index, admin in enumerate(admins):
            self.add_member(chat, admin, "creator" if index == 0 else "administrator")
        for index, member in enumerate(members):
            if member.id not in chat.members:
                self.add_member(chat, member, "creator" if not admins and index == 0 else "member")
        return chat

    def add_member(self, chat: FakeChat, user: FakeUser, status: str = "member") -> None:
        """Set a user's membership status in a group (no update is emitted)."""
        if status not in members.STATUSES:
            raise ValueError(f"unknown status {status!r}")
        if chat.type == "private":
            raise ValueError("private chats have no members to add")
        chat.members[user.id] = status

    def set_bot_rights(
        self,
        chat: FakeChat,
        *,
        can_post_messages: bool = True,
        can_manage_topics: bool = True,
        is_admin: bool = True,
    ) -> None:
        """Change what the bot may do in a group.

        Without ``can_post_messages`` the bot is a restricted member (sends fail with 400
        "not enough rights"); without ``is_admin`` it is a plain member, which cannot manage
        topics and is subject to privacy mode.
        """
        if chat.type == "private":
            raise ValueError("bot rights apply to groups only")
        chat.bot_rights.can_post_messages = can_post_messages
        chat.bot_rights.can_manage_topics = can_manage_topics and is_admin
        chat.bot_rights.is_admin = is_admin and can_post_messages
        if not can_post_messages:
            chat.bot_status = "restricted"
        else:
            chat.bot_status = "administrator" if is_admin else "member"

    async def add_bot(self, chat: FakeChat, *, by: FakeUser, as_admin: bool = True) -> None:
        """Model ``by`` adding the bot to a group: my_chat_member, then the service message."""
        old = self.member_json(chat, self.bot_id)
        self.set_bot_rights(chat, is_admin=as_admin)
        new = self.member_json(chat, self.bot_id)
        await self.emit(
            {"my_chat_member": members.member_update(self, chat, by.to_json(), old, new)}
        )
        data = self.base_message(chat, sender=by.to_json())
        data["new_chat_members"] = [self.bot_user]
        message = FakeMessage(data, from_bot=False)
        chat.add(message)
        await self.emit({"message": message.to_json()})

    async def remove_bot(self, chat: FakeChat, *, by: FakeUser, kicked: bool = False) -> None:
        """Model ``by`` removing (or banning) the bot from a group: my_chat_member."""
        old = self.member_json(chat, self.bot_id)
        chat.bot_status = "kicked" if kicked else "left"
        new = self.member_json(chat, self.bot_id)
        await self.emit(
            {"my_chat_member": members.member_update(self, chat, by.to_json(), old, new)}
        )

    def chat(self, chat_id: int | HasId) -> FakeChat:
        """Return a chat by id (``KeyError`` for unknown ids)."""
        return self.chats[_id_of(chat_id)]

    def message(self, chat_id: int | HasId, message_id: int) -> FakeMessage | None:
        """Return a visible message of a chat."""
        return self.chat(chat_id).message(message_id)

    async def press_callback(
        self, user: FakeUser, message: FakeMessage, data: str
    ) -> CallbackQueryRecord:
        """Make ``user`` send a callback_query with arbitrary ``data`` (stale/forged buttons)."""
        return await inbound.press_callback(user, message, data)

    # ------------------------------------------------------------- inspection
    def calls_to(
        self, method: str, *, chat_id: int | HasId | None = None, ok: bool | None = None
    ) -> list[Call]:
        """Logged calls of one method, optionally for one chat and/or by outcome."""
        wanted = None if chat_id is None else _id_of(chat_id)
        return [
            call
            for call in self.calls
            if call.method.lower() == method.lower()
            and (wanted is None or call.chat_id == wanted)
            and (ok is None or call.ok == ok)
        ]

    def flood_violations(self) -> list[Violation]:
        """Every logged send that broke a flood limit (rules: ``bot.testing.limits``)."""
        return flood_violations(self.calls, {cid: chat.type for cid, chat in self.chats.items()})

    def commands(self, language_code: str = "", scope: object = None) -> list[JSON]:
        """The commands setMyCommands stored for exactly this scope and language."""
        return json_copy(self.bot_commands.get((self.scope_key(scope), language_code), []))

    def bot_text(self, kind: str, language_code: str = "") -> str:
        """The stored bot "name", "description" or "short_description" for a language."""
        return self.bot_texts.get((kind, language_code), "")

    def _recent_calls(self) -> str:
        recent = [f"{c.method}->{'ok' if c.ok else c.error_code}" for c in self.calls[-5:]]
        return f"last calls: {recent}"

    # ----------------------------------------------------------------- updates
    @property
    def updates(self) -> list[JSON]:
        """Every update produced so far (redeliveries not repeated)."""
        return self.queue.history

    @property
    def last_update_id(self) -> int:
        """The update_id of the newest update produced so far."""
        if not self.queue.history:
            raise LookupError("no update was produced yet")
        return int(self.queue.history[-1]["update_id"])

    @property
    def pending_updates(self) -> list[JSON]:
        """Updates waiting for getUpdates (not yet confirmed by an offset)."""
        return self.queue.pending

    @property
    def allowed_updates(self) -> list[str] | None:
        """The allowed_updates last given to getUpdates or setWebhook."""
        return self.queue.allowed

    @allowed_updates.setter
    def allowed_updates(self, kinds: list[str] | None) -> None:
        self.queue.allowed = kinds

    def set_update_sink(self, sink: UpdateSink | None) -> None:
        """Deliver each new update by awaiting ``sink(update)``; None: queue for getUpdates.

        The sink gets every update (``allowed_updates`` only filters the getUpdates queue).
        """
        self.queue.set_sink(sink)

    def notify(self) -> None:
        """Wake everyone waiting for a change."""
        self.queue.notify()

    async def emit(self, update: JSON) -> JSON:
        """Number ``update`` and deliver it (sink or getUpdates queue)."""
        return await self.queue.emit(update)

    async def push_raw_update(self, update: JSON) -> JSON:
        """Deliver an arbitrary update dict (an update_id is added if missing).

        A callback_query in it is registered, so the bot can answer it like a real one.
        """
        query = update.get("callback_query")
        if isinstance(query, dict) and "id" in query:
            raw_message = query.get("message")
            message: JSON = raw_message if isinstance(raw_message, dict) else {}
            sender = query.get("from")
            self.callback_queries[str(query["id"])] = CallbackQueryRecord(
                id=str(query["id"]),
                user_id=int(sender.get("id", 0)) if isinstance(sender, dict) else 0,
                chat_id=(message.get("chat") or {}).get("id"),
                message_id=message.get("message_id"),
                data=query.get("data"),
            )
        return await self.queue.emit(update)

    async def redeliver(self, update_id: int) -> None:
        """Deliver an already-sent update again, with the same update_id."""
        await self.queue.redeliver(update_id)

    async def wait_for(
        self,
        predicate: Callable[[], bool],
        *,
        timeout: float = 10.0,  # noqa: ASYNC109 - a bounded wait is the point of this helper
        what: str = "a condition",
    ) -> None:
        """Wait (bounded) until ``predicate()`` holds, re-checking after every change."""
        await self.queue.wait_for(predicate, timeout=timeout, what=what)

    async def settle(
        self,
        idle: float = 0.2,
        timeout: float = 10.0,  # noqa: ASYNC109 - a bounded wait is the point of this helper
    ) -> None:
        """Wait until all queued updates were confirmed and no API call came for ``idle`` s."""
        await self.queue.settle(idle, timeout)

    # ---------------------------------------------------------------- requests
    async def handle(
        self,
        method: str,
        params: Mapping[str, Any],
        files: Mapping[str, UploadedFile] | None = None,
        *,
        token: str,
        read_timeout: float | None = None,
    ) -> Outcome:
        """Answer one Bot API request as Telegram would (used by both transports)."""
        return await dispatch.handle(
            self, method, params, files, token=token, read_timeout=read_timeout
        )

    # -------------------------------------------------- helpers for the api modules
    def scope_key(self, scope: object) -> str:
        """Normalise a BotCommandScope (dict, PTB object, type name or None) to a key."""
        if scope is None:
            data: JSON = {"type": "default"}
        elif isinstance(scope, str):
            data = {"type": scope}
        elif isinstance(scope, dict):
            data = dict(scope)
        else:
            to_dict = getattr(scope, "to_dict", None)
            if to_dict is None:
                raise TypeError(f"cannot use {scope!r} as a command scope")
            data = dict(to_dict())
        chat_id = data.get("chat_id")
        if isinstance(chat_id, str):
            numeric = chat_id.lstrip("-").isdigit()
            data["chat_id"] = int(chat_id) if numeric else self.resolve_chat(chat_id).id
        return json.dumps(data, sort_keys=True)

    def now(self) -> int:
        """The wall-clock time as Unix seconds, for message dates."""
        return int(self.wall_clock())

    def new_file_ids(self) -> tuple[str, str]:
        """Allocate a (file_id, file_unique_id) pair."""
        number = self._next_file
        self._next_file += 1
        return f"BQACAgIAAxkFAKE{number:08d}", f"AgAD{number:08d}"

    def new_query_id(self) -> str:
        """Allocate a callback query (or poll, or album) id."""
        number = self._next_query
        self._next_query += 1
        return str(4_000_000_000_000_000_000 + number)

    def resolve_chat(self, chat_id: int | str) -> FakeChat:
        """Find the chat a request names, failing like Telegram ("chat not found", 403)."""
        if isinstance(chat_id, str):
            name = chat_id.lstrip("@").lower()
            for chat in self.chats.values():
                if chat.type != "private" and (chat.username or "").lower() == name:
                    return chat
            raise bad_request("chat not found")
        found = self.chats.get(chat_id)
        if found is None:
            raise bad_request("chat not found")
        if found.type != "private" and found.bot_status == "left":
            raise forbidden(f"bot is not a member of the {found.type} chat")
        if found.type != "private" and found.bot_status == "kicked":
            raise forbidden(f"bot was kicked from the {found.type} chat")
        return found

    def check_can_send(self, chat: FakeChat, what: str = "text messages") -> None:
        """Raise the error Telegram gives when the bot may not post ``what`` in ``chat``."""
        if chat.type == "private":
            user = chat.user
            assert user is not None
            if user.blocked:
                raise forbidden("bot was blocked by the user")
            if user.deactivated:
                raise forbidden("user is deactivated")
            if not user.started:
                raise forbidden("bot can't initiate conversation with a user")
            return
        if chat.bot_status == "restricted" or not chat.bot_rights.can_post_messages:
            raise bad_request(f"not enough rights to send {what} to the chat")

    def member_json(self, chat: FakeChat, user_id: int) -> JSON:
        """Return the ``ChatMember`` object for a user (or the bot) in a chat."""
        return members.member_json(self, chat, user_id)

    def base_message(
        self, chat: FakeChat, *, sender: JSON | None = None, message_id: int | None = None
    ) -> JSON:
        """Start a message dict: id, sender (the bot by default), chat and date."""
        return {
            "message_id": message_id if message_id is not None else chat.next_message_id(),
            "from": sender if sender is not None else self.bot_user,
            "chat": chat.to_json(),
            "date": self.now(),
        }
