"""Telegram's HTML parse mode, ported from tdlib's ``parse_html`` (MessageEntity.cpp).

Error messages and byte offsets are tdlib's; the Bot API prefixes them with
``Bad Request: can't parse entities: ``. Offsets of entities are UTF-16 code units.
"""

from __future__ import annotations

import re

from bot.testing.entities import (
    SPACES,
    Entity,
    EntityParseError,
    FormattedText,
    link_entity,
    sort_entities,
)

_TAG_OR_ENTITY = re.compile(rb"[<&]")
_HTML_TAGS = frozenset(
    {
        "a",
        "b",
        "strong",
        "i",
        "em",
        "s",
        "strike",
        "del",
        "u",
        "ins",
        "tg-spoiler",
        "tg-emoji",
        "span",
        "pre",
        "code",
        "blockquote",
    }
)


def _decode_html_entity(b: bytes, pos: int) -> tuple[int, int]:
    """Decode ``&...;`` at ``pos``; return (code point or 0, position after it)."""

    def at(i: int) -> int:
        return b[i] if i < len(b) else 0

    end = pos + 1
    res = 0
    if at(pos + 1) == ord("#"):
        end += 1
        if at(pos + 2) == ord("x"):
            end += 1
            while chr(at(end)) in "0123456789abcdefABCDEF" and at(end):
                res = res * 16 + int(chr(at(end)), 16)
                end += 1
        else:
            while ord("0") <= at(end) <= ord("9"):
                res = res * 10 + at(end) - ord("0")
                end += 1
        if res == 0 or res >= 0x10FFFF or end - pos >= 10:
            return 0, pos
    else:
        while chr(at(end)).isascii() and chr(at(end)).isalpha() and at(end):
            end += 1
        name = b[pos + 1 : end]
        named = {b"lt": "<", b"gt": ">", b"amp": "&", b"quot": '"'}
        if name not in named:
            return 0, pos
        res = ord(named[name])
    return res, end + 1 if at(end) == ord(";") else end


def parse_html(source: str, *, strict_ampersand: bool = False) -> FormattedText:
    """Parse Telegram HTML like tdlib does.

    With ``strict_ampersand`` a ``&`` that does not start an entity is an error; Telegram
    itself shows such a ``&`` literally, but text that needs it almost always lacks escaping.
    """
    b = source.encode("utf-8")
    size = len(b)

    def at(i: int) -> int:
        return b[i] if i < size else 0

    out = bytearray()
    entities: list[Entity] = []
    utf16 = 0
    # (tag name, argument, utf16 offset, byte position in ``out``)
    nested: list[tuple[str, str, int, int]] = []
    i = 0
    while i < size:
        c = b[i]
        if c == ord("&"):
            code, after = _decode_html_entity(b, i)
            if code:
                if 0xD800 <= code <= 0xDFFF:
                    raise EntityParseError(
                        "Text contains invalid Unicode characters after decoding HTML entities, "
                        "check for unmatched surrogate code units"
                    )
                out += chr(code).encode("utf-8")
                utf16 += 2 if code > 0xFFFF else 1
                i = after
                continue
            if strict_ampersand:
                raise EntityParseError(
                    f'Unescaped "&" at byte offset {i} (the fake is strict here; use &amp;)'
                )
        if c != ord("<"):
            if c == ord("&"):  # an "&" that starts no entity is shown as it is
                out.append(c)
                utf16 += 1
                i += 1
                continue
            # A run of plain text up to the next tag or entity, in one step: "<" and "&"
            # are ASCII, so the run is whole UTF-8 characters.
            special = _TAG_OR_ENTITY.search(b, i)
            end = size if special is None else special.start()
            run = b[i:end]
            out += run
            utf16 += len(run.decode("utf-8").encode("utf-16-le")) // 2
            i = end
            continue
        begin = i
        i += 1
        if at(i) != ord("/"):
            while at(i) not in SPACES and at(i) != ord(">") and i < size:
                i += 1
            if i >= size:
                raise EntityParseError(f"Unclosed start tag at byte offset {begin}")
            tag = b[begin + 1 : i].decode("utf-8", "replace").lower()
            if tag not in _HTML_TAGS:
                raise EntityParseError(f'Unsupported start tag "{tag}" at byte offset {begin}')
            argument = ""
            while at(i) != ord(">"):
                while i < size and at(i) in SPACES:
                    i += 1
                if i >= size:
                    raise EntityParseError(f"Unclosed start tag at byte offset {begin}")
                if at(i) == ord(">"):
                    break
                attr_begin = i
                while i < size and at(i) not in SPACES and at(i) not in b"=>":
                    i += 1
                attr = b[attr_begin:i].decode("utf-8", "replace")
                if not attr:
                    raise EntityParseError(
                        f'Empty attribute name in the tag "{tag}" at byte offset {begin}'
                    )
                while i < size and at(i) in SPACES:
                    i += 1
                if at(i) != ord("="):
                    if tag == "blockquote" and attr == "expandable":
                        argument = "expandable"
                        continue
                    raise EntityParseError(
                        "Expected equal sign in declaration of an attribute of the tag "
                        f'"{tag}" at byte offset {begin}'
                    )
                i += 1
                while i < size and at(i) in SPACES:
                    i += 1
                if i >= size:
                    raise EntityParseError(f'Unclosed start tag "{tag}" at byte offset {begin}')
                if at(i) not in (ord("'"), ord('"')):
                    token_begin = i
                    while chr(at(i)).isascii() and (chr(at(i)).isalnum() or chr(at(i)) in ".-"):
                        if not at(i):
                            break
                        i += 1
                    value = b[token_begin:i].decode("ascii").lower()
                    if at(i) not in SPACES and at(i) != ord(">"):
                        raise EntityParseError(
                            f"Unexpected end of name token at byte offset {token_begin}"
                        )
                else:
                    quote = at(i)
                    i += 1
                    raw = bytearray()
                    while i < size and at(i) != quote:
                        if at(i) == ord("&"):
                            code, after = _decode_html_entity(b, i)
                            if code:
                                raw += chr(code).encode("utf-8")
                                i = after
                                continue
                        raw.append(at(i))
                        i += 1
                    if at(i) == quote:
                        i += 1
                    value = raw.decode("utf-8", "replace")
                if i >= size:
                    raise EntityParseError(f"Unclosed start tag at byte offset {begin}")
                if tag == "a" and attr == "href":
                    argument = value
                elif tag == "code" and attr == "class" and value.startswith("language-"):
                    argument = value[9:]
                elif tag == "span" and attr == "class" and value.startswith("tg-"):
                    argument = value[3:]
                elif tag == "tg-emoji" and attr == "emoji-id":
                    argument = value
            if tag == "span" and argument != "spoiler":
                raise EntityParseError(
                    f'Tag "span" must have class "tg-spoiler" at byte offset {begin}'
                )
            nested.append((tag, argument, utf16, len(out)))
            i += 1
            continue
        # An end tag.
        if not nested:
            raise EntityParseError(f"Unexpected end tag at byte offset {begin}")
        while i < size and at(i) not in SPACES and at(i) != ord(">"):
            i += 1
        end_tag = b[begin + 2 : i].decode("utf-8", "replace").lower()
        while i < size and at(i) in SPACES:
            i += 1
        if at(i) != ord(">"):
            raise EntityParseError(f"Unclosed end tag at byte offset {begin}")
        tag, argument, start, out_pos = nested.pop()
        if end_tag and end_tag != tag:
            raise EntityParseError(
                f'Unmatched end tag at byte offset {begin}, expected "</{tag}>", '
                f'found "</{end_tag}>"'
            )
        i += 1
        if utf16 <= start:
            continue
        length = utf16 - start
        simple = {"i": "italic", "em": "italic", "b": "bold", "strong": "bold",
                  "s": "strikethrough", "strike": "strikethrough", "del": "strikethrough",
                  "u": "underline", "ins": "underline", "tg-spoiler": "spoiler",
                  "span": "spoiler"}  # fmt: skip
        if tag in simple:
            entities.append({"type": simple[tag], "offset": start, "length": length})
        elif tag == "tg-emoji":
            if not argument.isdigit() or int(argument) == 0:
                raise EntityParseError("Invalid custom emoji identifier specified")
            entities.append({"type": "custom_emoji", "offset": start, "length": length,
                             "custom_emoji_id": argument})  # fmt: skip
        elif tag == "a":
            url = argument or bytes(out[out_pos:]).decode("utf-8", "replace")
            link = link_entity(start, length, url)
            if link is not None:
                entities.append(link)
        elif tag == "pre":
            last = entities[-1] if entities else None
            if (
                last is not None
                and last["type"] == "code"
                and last["offset"] == start
                and last["length"] == length
                and last.get("language")
            ):
                last["type"] = "pre"
            else:
                entities.append({"type": "pre", "offset": start, "length": length})
        elif tag == "code":
            last = entities[-1] if entities else None
            if (
                last is not None
                and last["type"] == "pre"
                and last["offset"] == start
                and last["length"] == length
                and argument
            ):
                last["language"] = argument
            else:
                entity: Entity = {"type": "code", "offset": start, "length": length}
                if argument:
                    entity["language"] = argument
                entities.append(entity)
        elif tag == "blockquote":
            kind = "expandable_blockquote" if argument == "expandable" else "blockquote"
            entities.append({"type": kind, "offset": start, "length": length})
    if nested:
        raise EntityParseError(f'Can\'t find end tag corresponding to start tag "{nested[-1][0]}"')
    for entity in entities:
        if entity["type"] == "code":
            entity.pop("language", None)
    return FormattedText(bytes(out).decode("utf-8", "replace"), sort_entities(entities))
