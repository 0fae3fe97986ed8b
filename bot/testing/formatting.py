"""Telegram's text formatting: (text, parse_mode | entities) into stored text and entities.

The parsers follow tdlib closely (``tg_html``, ``tg_markdown``), including their error
messages, because the Bot API server just prefixes those with
``Bad Request: can't parse entities: ``. Entity offsets and lengths are UTF-16 code units.
"""

from __future__ import annotations

import re

from bot.testing.entities import (
    Entity,
    EntityParseError,
    FormattedText,
    sort_entities,
    utf16_len,
)
from bot.testing.errors import ApiError, bad_request
from bot.testing.tg_html import parse_html
from bot.testing.tg_markdown import parse_markdown, parse_markdown_v2

__all__ = [
    "Entity",
    "EntityParseError",
    "FormattedText",
    "detect_entities",
    "format_text",
    "parse_html",
    "parse_markdown",
    "parse_markdown_v2",
    "utf16_len",
]

_TRIM = " \t\r\n\x0b\x0c"


def _trim(formatted: FormattedText) -> FormattedText:
    """Strip surrounding whitespace like Telegram does, keeping entities aligned."""
    text = formatted.text
    stripped_left = text.lstrip(_TRIM)
    left = utf16_len(text) - utf16_len(stripped_left)
    result = stripped_left.rstrip(_TRIM)
    total = utf16_len(result)
    entities: list[Entity] = []
    for entity in formatted.entities:
        begin = max(entity["offset"] - left, 0)
        end = min(entity["offset"] + entity["length"] - left, total)
        if end > begin:
            entities.append({**entity, "offset": begin, "length": end - begin})
    return FormattedText(result, entities)


def _check_entities(text: str, entities: object) -> list[Entity]:
    if not isinstance(entities, list):
        raise bad_request("can't parse entities JSON object")
    total = utf16_len(text)
    checked: list[Entity] = []
    for entity in entities:
        if not isinstance(entity, dict) or not isinstance(entity.get("type"), str):
            raise bad_request("can't parse MessageEntity JSON object")
        offset, length = entity.get("offset"), entity.get("length")
        if not isinstance(offset, int) or not isinstance(length, int):
            raise bad_request("can't parse MessageEntity JSON object")
        if offset < 0 or length <= 0 or offset + length > total:
            continue  # Telegram silently drops entities outside the text.
        checked.append(dict(entity))
    return sort_entities(checked)


def format_text(
    text: str,
    parse_mode: str | None,
    entities: object = None,
    *,
    strict_ampersand: bool = False,
) -> FormattedText:
    """Turn (text, parse_mode | entities) into Telegram's stored text, raising ``ApiError``."""
    try:
        if entities is not None:
            formatted = FormattedText(text, _check_entities(text, entities))
        elif parse_mode is None or parse_mode == "":
            formatted = FormattedText(text)
        else:
            mode = parse_mode.lower()
            if mode == "html":
                formatted = parse_html(text, strict_ampersand=strict_ampersand)
            elif mode == "markdownv2":
                formatted = parse_markdown_v2(text)
            elif mode == "markdown":
                formatted = parse_markdown(text)
            else:
                raise bad_request("unsupported parse_mode")
    except EntityParseError as exc:
        raise ApiError(400, f"Bad Request: can't parse entities: {exc}") from None
    return _trim(formatted)


_AUTO_ENTITIES = (
    (
        "bot_command",
        re.compile(r"(?<![\w/<>])/[a-zA-Z0-9_]{1,64}(?:@[a-zA-Z0-9_]{3,32})?(?![\w/<>])"),
    ),
    ("url", re.compile(r"\bhttps?://[^\s<>\"]+")),
    ("mention", re.compile(r"(?<!\w)@[a-zA-Z0-9_]{2,32}(?!\w)")),
    ("hashtag", re.compile(r"(?<!\w)#\w*[^\W\d_]\w*")),
)


def detect_entities(text: str) -> list[Entity]:
    """Find the entities Telegram adds to plain user text (commands, links, mentions, tags)."""
    found: list[Entity] = []
    taken: list[tuple[int, int]] = []
    for kind, pattern in _AUTO_ENTITIES:
        for match in pattern.finditer(text):
            begin, end = match.span()
            if any(b < end and begin < e for b, e in taken):
                continue
            taken.append((begin, end))
            offset = utf16_len(text[:begin])
            found.append({"type": kind, "offset": offset, "length": utf16_len(match.group())})
    return sort_entities(found)
