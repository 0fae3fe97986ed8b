"""The resident side of the fake: a Telegram user who writes, taps and blocks."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.testing import inbound
from bot.testing.objects import JSON, FakeChat, FakeMessage
from bot.testing.records import CallbackQueryRecord

if TYPE_CHECKING:
    from bot.testing.model import FakeTelegram


class FakeUser:
    """A Telegram user; every action produces the update Telegram would send the bot.

    With an update sink set (``FakeTelegram.set_update_sink``) each action returns after the
    bot processed the update; otherwise the update is queued for getUpdates.
    """

    # A benchmark world holds 100,000 of them.
    __slots__ = (
        "_read",
        "blocked",
        "deactivated",
        "first_name",
        "id",
        "language",
        "last_name",
        "started",
        "tg",
        "username",
    )

    def __init__(
        self,
        tg: FakeTelegram,
        user_id: int,
        first_name: str,
        *,
        last_name: str | None = None,
        username: str | None = None,
        language: str | None = "en",
        started: bool = True,
    ) -> None:
        self.tg = tg
        self.id = user_id
        self.first_name = first_name
        self.last_name = last_name
        self.username = username
        self.language = language
        self.started = started
        self.blocked = False
        self.deactivated = False
        self._read = 0

    def __repr__(self) -> str:
        return f"<FakeUser {self.id} {self.first_name}>"

    def name_fields(self) -> JSON:
        """The name fields shared by ``User`` and private ``Chat`` objects."""
        fields: JSON = {"first_name": self.first_name}
        if self.last_name:
            fields["last_name"] = self.last_name
        if self.username:
            fields["username"] = self.username
        return fields

    def to_json(self) -> JSON:
        """Return the ``User`` object."""
        user: JSON = {"id": self.id, "is_bot": False, **self.name_fields()}
        if self.language:
            user["language_code"] = self.language
        return user

    # ------------------------------------------------------------ what she sees
    @property
    def chat(self) -> FakeChat:
        """Her private chat with the bot."""
        return self.tg.chats[self.id]

    @property
    def messages(self) -> list[FakeMessage]:
        """Bot messages in her private chat (current state, deleted ones hidden)."""
        return self.chat.bot_messages

    @property
    def last_message(self) -> FakeMessage:
        """The newest bot message in her private chat."""
        messages = self.messages
        if not messages:
            raise LookupError(f"{self.first_name} has received no messages")
        return messages[-1]

    def received(self, after: int = 0) -> list[FakeMessage]:
        """Bot messages from position ``after`` on (``after=len(user.messages)`` earlier)."""
        return self.messages[after:]

    async def wait_for_messages(
        self,
        n: int,
        timeout: float = 10.0,  # noqa: ASYNC109 - a bounded wait is the point
    ) -> list[FakeMessage]:
        """Wait until she has at least ``n`` bot messages in total; return them all."""
        await self.tg.wait_for(
            lambda: len(self.messages) >= n,
            timeout=timeout,
            what=f"{n} messages to {self.first_name}",
        )
        return self.messages

    async def next_message(
        self,
        timeout: float = 10.0,  # noqa: ASYNC109 - a bounded wait is the point
    ) -> FakeMessage:
        """Return the oldest bot message not yet returned by ``next_message`` (waiting)."""
        await self.tg.wait_for(
            lambda: len(self.messages) > self._read,
            timeout=timeout,
            what=f"a new message to {self.first_name}",
        )
        message = self.messages[self._read]
        self._read += 1
        return message

    # ------------------------------------------------------------------ actions
    async def send(self, text: str, *, reply_to: FakeMessage | int | None = None) -> FakeMessage:
        """Write ``text`` to the bot in her private chat."""
        return await inbound.post(self, self.chat, {"text": text}, reply_to=reply_to)

    async def send_in(
        self,
        chat: FakeChat,
        text: str,
        *,
        reply_to: FakeMessage | int | None = None,
        thread_id: int | None = None,
    ) -> FakeMessage:
        """Write ``text`` in a group (``thread_id``: a forum topic)."""
        return await inbound.post(
            self, chat, {"text": text}, reply_to=reply_to, thread_id=thread_id
        )

    async def tap(
        self, label: str, *, message: FakeMessage | None = None, in_chat: FakeChat | None = None
    ) -> CallbackQueryRecord | FakeMessage | None:
        """Press a button by its visible label.

        Inline callback buttons produce a callback_query (returned record shows the bot's
        answer); URL buttons do nothing (None); reply-keyboard buttons send their text.
        """
        return await inbound.tap(self, label, message=message, chat=in_chat or self.chat)

    async def share_location(
        self, latitude: float, longitude: float, *, in_chat: FakeChat | None = None
    ) -> FakeMessage:
        """Send a location (what a ``request_location`` button does)."""
        location = {"latitude": latitude, "longitude": longitude}
        return await inbound.post(self, in_chat or self.chat, {"location": location})

    async def send_photo(
        self,
        caption: str | None = None,
        *,
        reply_to: FakeMessage | int | None = None,
        in_chat: FakeChat | None = None,
        thread_id: int | None = None,
        data: bytes | None = None,
    ) -> FakeMessage:
        """Send a photo (a small fake JPEG unless ``data`` is given)."""
        content = inbound.photo_content(self.tg, data)
        if caption:
            content["caption"] = caption
        chat = in_chat or self.chat
        return await inbound.post(self, chat, content, reply_to=reply_to, thread_id=thread_id)

    async def send_document(
        self,
        filename: str,
        data: bytes,
        *,
        caption: str | None = None,
        mime_type: str = "application/octet-stream",
        in_chat: FakeChat | None = None,
    ) -> FakeMessage:
        """Send a file as a document."""
        content = inbound.media_content(
            self.tg, "document", data, filename=filename, mime_type=mime_type
        )
        if caption:
            content["caption"] = caption
        return await inbound.post(self, in_chat or self.chat, content)

    async def send_voice(
        self, duration: int = 3, *, in_chat: FakeChat | None = None
    ) -> FakeMessage:
        """Send a voice note."""
        content = inbound.media_content(
            self.tg, "voice", b"OggS" + bytes(60), mime_type="audio/ogg", duration=duration
        )
        return await inbound.post(self, in_chat or self.chat, content)

    async def send_video(self, *, in_chat: FakeChat | None = None) -> FakeMessage:
        """Send a short video."""
        content = inbound.media_content(
            self.tg, "video", bytes(12) + b"ftypmp42", mime_type="video/mp4", duration=5
        )
        return await inbound.post(self, in_chat or self.chat, content)

    async def send_sticker(
        self, emoji: str = "👍", *, in_chat: FakeChat | None = None
    ) -> FakeMessage:
        """Send a sticker."""
        content = inbound.media_content(self.tg, "sticker", b"RIFF" + bytes(40) + b"WEBP")
        content["sticker"]["emoji"] = emoji
        return await inbound.post(self, in_chat or self.chat, content)

    async def send_contact(
        self, phone_number: str = "+15550100", *, in_chat: FakeChat | None = None
    ) -> FakeMessage:
        """Share her own contact (what a ``request_contact`` button does)."""
        contact: JSON = {
            "phone_number": phone_number,
            "first_name": self.first_name,
            "user_id": self.id,
        }
        if self.last_name:
            contact["last_name"] = self.last_name
        return await inbound.post(self, in_chat or self.chat, {"contact": contact})

    async def send_poll(
        self,
        question: str = "Which day?",
        options: tuple[str, ...] = ("Monday", "Tuesday"),
        *,
        in_chat: FakeChat | None = None,
    ) -> FakeMessage:
        """Send a poll."""
        poll = inbound.poll_json(self.tg, question, list(options))
        return await inbound.post(self, in_chat or self.chat, {"poll": poll})

    async def edit(self, message: FakeMessage, new_text: str) -> FakeMessage:
        """Edit one of her text messages (an ``edited_message`` update)."""
        return await inbound.edit(self, message, new_text)

    async def block(self) -> None:
        """Block the bot: sends then fail with 403; the bot gets a my_chat_member update."""
        await inbound.set_blocked(self, True)

    async def unblock(self) -> None:
        """Unblock the bot (my_chat_member back to member)."""
        await inbound.set_blocked(self, False)
