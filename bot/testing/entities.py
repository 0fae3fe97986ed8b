"""Message entities: the shared vocabulary of Telegram's formatting parsers."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

Entity = dict[str, Any]

SPACES = frozenset(b" \t\r\n\x0b\x0c")
PRIORITY = {
    "blockquote": 0,
    "expandable_blockquote": 0,
    "pre": 11,
    "code": 20,
    "text_link": 49,
    "text_mention": 49,
    "bold": 90,
    "italic": 91,
    "underline": 92,
    "strikethrough": 93,
    "spoiler": 94,
    "custom_emoji": 99,
}


class EntityParseError(Exception):
    """A formatting error; the message is tdlib's own wording."""


@dataclass
class FormattedText:
    """Plain text as Telegram stores it, with the entities describing its formatting."""

    text: str
    entities: list[Entity] = field(default_factory=list)


def utf16_len(text: str) -> int:
    """Return the length of ``text`` in UTF-16 code units, the unit of entity offsets."""
    return len(text.encode("utf-16-le")) // 2


def u16(first_byte: int) -> int:
    """UTF-16 units of the character starting with ``first_byte`` (0 for continuation bytes)."""
    if first_byte & 0xC0 == 0x80:
        return 0
    return 2 if first_byte >= 0xF0 else 1


def sort_entities(entities: list[Entity]) -> list[Entity]:
    return sorted(entities, key=lambda e: (e["offset"], -e["length"], PRIORITY.get(e["type"], 50)))


def checked_link(url: str) -> str:
    """Normalise a link like tdlib's ``get_checked_link``; return "" for unusable links."""
    url = url.strip()
    if not url or any(ch.isspace() for ch in url):
        return ""
    lower = url.lower()
    if re.match(r"^(https?|tg|ton|ftp|mailto)://", lower) or lower.startswith("mailto:"):
        return url
    if re.match(r"^[a-z][a-z0-9+.-]*://", lower):
        return ""
    if re.match(r"^[\w-]+(\.[\w-]+)+([/?#].*)?$", url):
        return "http://" + url + ("" if re.search(r"[/?#]", url) else "/")
    return ""


def link_entity(offset: int, length: int, url: str) -> Entity | None:
    user = re.fullmatch(r"tg://user\?id=(\d+)", url)
    if user:
        return {"type": "text_mention", "offset": offset, "length": length,
                "user": {"id": int(user.group(1))}}  # fmt: skip
    checked = checked_link(url)
    if not checked:
        return None
    return {"type": "text_link", "offset": offset, "length": length, "url": checked}
