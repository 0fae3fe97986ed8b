"""Plain records the fake keeps for tests to inspect: calls, violations, files, answers."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Call:
    """One Bot API request as the fake saw it (injected faults included).

    ``at`` is read from the fake's ``clock``; ``fault`` names the injected fault kind, if any
    ("429", "500", "502", "403", "400", "timeout", "drop", "delay"); ``limited`` is true when
    ``enforce_limits`` turned the call into a 429.
    """

    method: str
    params: dict[str, Any]
    at: float
    chat_id: int | None
    ok: bool
    error_code: int | None
    result: Any
    description: str | None = None
    fault: str | None = None
    limited: bool = False
    files: dict[str, UploadedFile] = field(default_factory=dict)


@dataclass(frozen=True)
class UploadedFile:
    """A multipart file part of a request."""

    filename: str
    data: bytes
    mime_type: str


@dataclass(frozen=True)
class Violation:
    """A send that broke one of Telegram's flood limits (see ``bot.testing.limits``)."""

    rule: str  # "global", "private_chat" or "group"
    chat_id: int | None
    at: float
    method: str
    detail: str


@dataclass
class StoredFile:
    """A file Telegram knows: its ids, bytes and the metadata echoed in messages."""

    file_id: str
    file_unique_id: str
    kind: str  # photo, document, voice, video, sticker, audio, animation
    data: bytes
    file_path: str
    filename: str | None = None
    mime_type: str | None = None
    width: int | None = None
    height: int | None = None
    duration: int | None = None
    source_url: str | None = None

    @property
    def size(self) -> int:
        """Size in bytes, as ``file_size`` reports it."""
        return len(self.data)


@dataclass
class CallbackQueryRecord:
    """A button press and how (whether) the bot answered it."""

    id: str
    user_id: int
    chat_id: int | None
    message_id: int | None
    data: str | None
    answered: bool = False
    text: str | None = None
    show_alert: bool = False
    url: str | None = None


@dataclass
class Stats:
    """Counters: calls per method, errors per kind ("400", "429", "timeout", ...)."""

    calls: Counter[str] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    faults: Counter[str] = field(default_factory=Counter)
    rate_limited: int = 0
