"""The table of Bot API methods the fake implements, filled by the ``api_*`` modules."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

import telegram

if TYPE_CHECKING:
    from bot.testing.model import FakeTelegram
    from bot.testing.params import Params

Handler = Callable[["FakeTelegram", "Params"], Awaitable[Any]]

METHODS: dict[str, Handler] = {}


def api_method(name: str) -> Callable[[Handler], Handler]:
    """Register ``handler`` as the implementation of Bot API method ``name``."""

    def register(handler: Handler) -> Handler:
        METHODS[name] = handler
        return handler

    return register


def canonical_name(method: str) -> str | None:
    """Return the registered spelling of ``method`` (Bot API names are case-insensitive)."""
    lowered = method.lower()
    for name in METHODS:
        if name.lower() == lowered:
            return name
    return None


def is_real_api_method(method: str) -> bool:
    """Tell whether ``method`` exists in the Bot API (judged by PTB's camelCase aliases)."""
    lowered = method.lower()
    return any(
        name.lower() == lowered
        for name in dir(telegram.Bot)
        if name[:1].islower() and name != name.lower() and "_" not in name
    )
