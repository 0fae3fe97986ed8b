"""Telegram's MarkdownV2 and legacy Markdown parse modes, ported from tdlib."""

from __future__ import annotations

import re

from bot.testing.entities import (
    SPACES,
    Entity,
    EntityParseError,
    FormattedText,
    link_entity,
    sort_entities,
    u16,
)

_MD2_NAMES = {
    "bold": "Bold",
    "italic": "Italic",
    "underline": "Underline",
    "strikethrough": "Strikethrough",
    "spoiler": "Spoiler",
    "text_link": "TextUrl",
    "code": "Code",
    "pre": "Pre",
    "pre_code": "PreCode",
    "custom_emoji": "CustomEmoji",
    "blockquote": "BlockQuote",
}


def parse_markdown_v2(source: str) -> FormattedText:
    """Parse MarkdownV2 like tdlib does (reserved characters must be escaped)."""
    b = source.encode("utf-8")
    size = len(b)

    def at(i: int) -> int:
        return b[i] if i < size else 0

    out = bytearray()
    entities: list[Entity] = []
    utf16 = 0
    # (kind, argument, utf16 offset, byte offset in source, byte position in ``out``)
    nested: list[tuple[str, str, int, int, int]] = []
    have_quote = False
    i = 0
    while i < size:
        c = b[i]
        if c == ord("\\") and 0 < at(i + 1) <= 126:
            i += 1
            utf16 += 1
            out.append(b[i])
            i += 1
            continue
        reserved = b"_*[]()~`>#+-=|{}.!\n"
        if nested and nested[-1][0] in ("code", "pre", "pre_code"):
            reserved = b"`"
        if c not in reserved:
            utf16 += u16(c)
            out.append(c)
            i += 1
            continue
        is_end = False
        if nested:
            kind = nested[-1][0]
            if have_quote and c == ord("\n") and (i + 1 == size or at(i + 1) != ord(">")):
                is_end = True
            else:
                is_end = {
                    "bold": c == ord("*"),
                    "italic": c == ord("_") and at(i + 1) != ord("_"),
                    "code": c == ord("`"),
                    "pre": c == ord("`") and at(i + 1) == ord("`") and at(i + 2) == ord("`"),
                    "pre_code": c == ord("`") and at(i + 1) == ord("`") and at(i + 2) == ord("`"),
                    "text_link": c == ord("]"),
                    "underline": c == ord("_") and at(i + 1) == ord("_"),
                    "strikethrough": c == ord("~"),
                    "spoiler": c == ord("|") and at(i + 1) == ord("|"),
                    "custom_emoji": c == ord("]"),
                    "blockquote": False,
                }[kind]
        if not is_end:
            byte_offset = i
            argument = ""
            kind = ""
            ch = chr(c)
            if ch == "_":
                if at(i + 1) == ord("_"):
                    kind = "underline"
                    i += 1
                else:
                    kind = "italic"
            elif ch == "*":
                kind = "bold"
            elif ch == "~":
                kind = "strikethrough"
            elif ch == "|" and at(i + 1) == ord("|"):
                i += 1
                kind = "spoiler"
            elif ch == "[":
                kind = "text_link"
            elif ch == "`":
                if at(i + 1) == ord("`") and at(i + 2) == ord("`"):
                    i += 3
                    kind = "pre"
                    lang_end = i
                    while i < size and at(lang_end) not in SPACES and at(lang_end) != ord("`"):
                        if not at(lang_end):
                            break
                        lang_end += 1
                    if i != lang_end and lang_end < size and at(lang_end) != ord("`"):
                        kind = "pre_code"
                        argument = b[i:lang_end].decode("utf-8", "replace")
                        i = lang_end
                    if at(i) in (ord("\n"), ord("\r")):
                        if at(i + 1) in (ord("\n"), ord("\r")) and at(i) != at(i + 1):
                            i += 2
                        else:
                            i += 1
                    i -= 1
                else:
                    kind = "code"
            elif ch == "!" and at(i + 1) == ord("["):
                i += 1
                kind = "custom_emoji"
            elif ch == "\n":
                utf16 += 1
                out.append(c)
                if i + 1 < size and at(i + 1) == ord(">"):
                    i += 1
                    if not have_quote:
                        kind = "blockquote"
                        have_quote = True
                if not kind:
                    i += 1
                    continue
            elif ch == ">" and i == 0:
                kind = "blockquote"
                have_quote = True
            else:
                raise EntityParseError(
                    f"Character '{ch}' is reserved and must be escaped with the preceding '\\'"
                )
            nested.append((kind, argument, utf16, byte_offset, len(out)))
            i += 1
            continue
        kind, argument, start, byte_offset, out_pos = nested[-1]
        if c == ord("\n") and kind != "blockquote":
            raise EntityParseError(
                f"Can't find end of {_MD2_NAMES[kind]} entity at byte offset {byte_offset}"
            )
        skip = utf16 == start
        url = ""
        if kind in ("underline", "spoiler"):
            i += 1
        elif kind in ("pre", "pre_code"):
            i += 2
        elif kind in ("text_link", "custom_emoji"):
            if at(i + 1) != ord("("):
                if kind == "custom_emoji":
                    raise EntityParseError("Custom emoji entity must contain a tg://emoji URL")
                url = bytes(out[out_pos:]).decode("utf-8", "replace")
            else:
                i += 2
                url_begin = i
                raw = bytearray()
                while i < size and at(i) != ord(")"):
                    if at(i) == ord("\\") and 0 < at(i + 1) <= 126:
                        raw.append(at(i + 1))
                        i += 2
                        continue
                    raw.append(at(i))
                    i += 1
                if at(i) != ord(")"):
                    what = "a custom emoji URL" if kind == "custom_emoji" else "a URL"
                    raise EntityParseError(f"Can't find end of {what} at byte offset {url_begin}")
                url = raw.decode("utf-8", "replace")
        elif kind == "blockquote":
            have_quote = False
            out.append(c)
            utf16 += 1
        nested.pop()
        i += 1
        if skip:
            continue
        length = utf16 - start
        if kind == "text_link":
            link = link_entity(start, length, url)
            if link is not None:
                entities.append(link)
        elif kind == "custom_emoji":
            emoji = re.fullmatch(r"tg://emoji\?id=(\d+)", url)
            if not emoji:
                raise EntityParseError("Invalid custom emoji URL specified")
            entities.append({"type": "custom_emoji", "offset": start, "length": length,
                             "custom_emoji_id": emoji.group(1)})  # fmt: skip
        elif kind == "pre_code":
            entities.append({"type": "pre", "offset": start, "length": length,
                             "language": argument})  # fmt: skip
        else:
            entities.append({"type": kind, "offset": start, "length": length})
    if have_quote and nested and nested[-1][0] == "blockquote":
        _, _, start, _, _ = nested.pop()
        if utf16 != start:
            entities.append({"type": "blockquote", "offset": start, "length": utf16 - start})
    if nested:
        kind, _, _, byte_offset, _ = nested[-1]
        raise EntityParseError(
            f"Can't find end of {_MD2_NAMES[kind]} entity at byte offset {byte_offset}"
        )
    return FormattedText(bytes(out).decode("utf-8", "replace"), sort_entities(entities))


def parse_markdown(source: str) -> FormattedText:
    """Parse legacy Markdown like tdlib does."""
    b = source.encode("utf-8")
    size = len(b)

    def at(i: int) -> int:
        return b[i] if i < size else 0

    out = bytearray()
    entities: list[Entity] = []
    utf16 = 0
    i = 0
    while i < size:
        c = b[i]
        if c == ord("\\") and at(i + 1) in b"_*`[" and at(i + 1):
            out.append(b[i + 1])
            utf16 += 1
            i += 2
            continue
        if c not in b"_*`[":
            utf16 += u16(c)
            out.append(c)
            i += 1
            continue
        begin = i
        end_char = ord("]") if c == ord("[") else c
        i += 1
        language = ""
        is_pre = False
        if c == ord("`") and at(i) == ord("`") and at(i + 1) == ord("`"):
            i += 2
            is_pre = True
            lang_end = i
            while lang_end < size and at(lang_end) not in SPACES and at(lang_end) != ord("`"):
                lang_end += 1
            if i != lang_end and lang_end < size and at(lang_end) != ord("`"):
                language = b[i:lang_end].decode("utf-8", "replace")
                i = lang_end
            if at(i) in (ord("\n"), ord("\r")):
                if at(i + 1) in (ord("\n"), ord("\r")) and at(i) != at(i + 1):
                    i += 2
                else:
                    i += 1
        start = utf16
        while i < size and (
            at(i) != end_char or (is_pre and not (at(i + 1) == ord("`") and at(i + 2) == ord("`")))
        ):
            utf16 += u16(at(i))
            out.append(at(i))
            i += 1
        if i >= size:
            raise EntityParseError(f"Can't find end of the entity starting at byte offset {begin}")
        if utf16 != start:
            length = utf16 - start
            if c == ord("_"):
                entities.append({"type": "italic", "offset": start, "length": length})
            elif c == ord("*"):
                entities.append({"type": "bold", "offset": start, "length": length})
            elif c == ord("["):
                if at(i + 1) != ord("("):
                    url = b[begin + 1 : i].decode("utf-8", "replace")
                else:
                    i += 2
                    url_begin = i
                    while i < size and at(i) != ord(")"):
                        i += 1
                    url = b[url_begin:i].decode("utf-8", "replace")
                link = link_entity(start, length, url)
                if link is not None:
                    entities.append(link)
            elif is_pre:
                pre: Entity = {"type": "pre", "offset": start, "length": length}
                if language:
                    pre["language"] = language
                entities.append(pre)
            else:
                entities.append({"type": "code", "offset": start, "length": length})
        if is_pre:
            i += 2
        i += 1
    return FormattedText(bytes(out).decode("utf-8", "replace"), sort_entities(entities))
