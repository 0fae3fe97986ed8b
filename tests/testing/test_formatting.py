"""Telegram's HTML / MarkdownV2 parsing, checked against tdlib's own test expectations."""

from __future__ import annotations

import html

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.testing.errors import ApiError
from bot.testing.formatting import (
    EntityParseError,
    detect_entities,
    format_text,
    parse_html,
    parse_markdown,
    parse_markdown_v2,
    utf16_len,
)


@pytest.mark.parametrize(
    ("source", "error"),
    [
        # Cases from tdlib's test/message_entities.cpp (byte offsets count the emoji bytes).
        ("🏟 🏟&lt;<abacaba", "Unclosed start tag at byte offset 13"),
        ("🏟 🏟&lt;<abac aba>", 'Unsupported start tag "abac" at byte offset 13'),
        ("🏟 🏟&lt;<i   =aba>", 'Empty attribute name in the tag "i" at byte offset 13'),
        (
            "🏟 🏟&lt;<i    aba>",
            'Expected equal sign in declaration of an attribute of the tag "i" at byte offset 13',
        ),
        ("🏟 🏟&lt;<i    aba  =  ", 'Unclosed start tag "i" at byte offset 13'),
        ("🏟 🏟&lt;<i    aba  =  190azAz-.,", "Unexpected end of name token at byte offset 27"),
        ('🏟 🏟&lt;<i    aba  =  "&lt;&gt;&quot;>', "Unclosed start tag at byte offset 13"),
        ("🏟 🏟&lt;</", "Unexpected end tag at byte offset 13"),
        ("🏟 🏟&lt;<b></b></", "Unexpected end tag at byte offset 20"),
        ("<span>x</span>", 'Tag "span" must have class "tg-spoiler" at byte offset 0'),
        ("<b>x</i>", 'Unmatched end tag at byte offset 4, expected "</b>", found "</i>"'),
        ("<b>x", 'Can\'t find end tag corresponding to start tag "b"'),
        ("&#57311;", "Text contains invalid Unicode characters"),
    ],
)
def test_html_errors_match_tdlib(source: str, error: str) -> None:
    with pytest.raises(EntityParseError) as caught:
        parse_html(source)
    assert str(caught.value).startswith(error)


def test_html_entities_are_utf16_offsets() -> None:
    parsed = parse_html("🏟 <b>bold <i>both</i></b> <a href='https://x.org/?a=1&amp;b=2'>link</a>")
    assert parsed.text == "🏟 bold both link"
    assert parsed.entities == [
        {"type": "bold", "offset": 3, "length": 9},
        {"type": "italic", "offset": 8, "length": 4},
        {"type": "text_link", "offset": 13, "length": 4, "url": "https://x.org/?a=1&b=2"},
    ]


def test_plain_runs_keep_utf16_offsets_with_bare_ampersands_and_wide_characters() -> None:
    parsed = parse_html("A & B 😀 ضوء & <b>é 𝄞</b> tail")
    assert parsed.text == "A & B 😀 ضوء & é 𝄞 tail"
    assert parsed.entities == [{"type": "bold", "offset": 15, "length": 4}]
    assert utf16_len(parsed.text[: parsed.text.index("é")]) == 15


def test_html_pre_code_spoiler_quote_and_mentions() -> None:
    parsed = parse_html(
        '<pre><code class="language-python">x = 1</code></pre><tg-spoiler>s</tg-spoiler>'
        '<blockquote expandable>q</blockquote><a href="tg://user?id=42">Al</a>'
    )
    assert parsed.text == "x = 1sqAl"
    assert parsed.entities == [
        {"type": "pre", "offset": 0, "length": 5, "language": "python"},
        {"type": "spoiler", "offset": 5, "length": 1},
        {"type": "expandable_blockquote", "offset": 6, "length": 1},
        {"type": "text_mention", "offset": 7, "length": 2, "user": {"id": 42}},
    ]


def test_bare_ampersand_is_literal_in_telegram_and_an_error_in_strict_mode() -> None:
    assert parse_html("Tom & Jerry &unknown; &amp").text == "Tom & Jerry &unknown; &"
    with pytest.raises(EntityParseError, match='Unescaped "&" at byte offset 4'):
        parse_html("Tom & Jerry", strict_ampersand=True)


@settings(derandomize=True, max_examples=200)
@given(st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc"))))
def test_escaped_text_always_round_trips(text: str) -> None:
    formatted = format_text(html.escape(text), "HTML", strict_ampersand=True)
    assert formatted.text == text.strip(" \t\r\n\x0b\x0c")
    assert formatted.entities == []


def test_markdown_v2() -> None:
    parsed = parse_markdown_v2("*bold* _it_ __under__ ~s~ ||sp|| `c` [l](https://x\\.org) 1\\.5")
    assert parsed.text == "bold it under s sp c l 1.5"
    assert [e["type"] for e in parsed.entities] == [
        "bold",
        "italic",
        "underline",
        "strikethrough",
        "spoiler",
        "code",
        "text_link",
    ]
    assert parsed.entities[-1]["url"] == "https://x.org"
    with pytest.raises(EntityParseError, match=r"Character '\.' is reserved"):
        parse_markdown_v2("Meeting at 5.30")
    with pytest.raises(EntityParseError, match="Can't find end of Bold entity at byte offset 0"):
        parse_markdown_v2("*open")


def test_legacy_markdown() -> None:
    assert parse_markdown("*b* _i_ `c`").entities == [
        {"type": "bold", "offset": 0, "length": 1},
        {"type": "italic", "offset": 2, "length": 1},
        {"type": "code", "offset": 4, "length": 1},
    ]
    with pytest.raises(EntityParseError, match="Can't find end of the entity"):
        parse_markdown("snake_case")


def test_format_text_trims_and_validates() -> None:
    formatted = format_text("  <b> hi </b>  ", "HTML")
    assert formatted.text == "hi"
    assert formatted.entities == [{"type": "bold", "offset": 0, "length": 2}]
    with pytest.raises(ApiError, match="unsupported parse_mode"):
        format_text("x", "BBCode")
    given_entities = [
        {"type": "bold", "offset": 0, "length": 99},
        {"type": "italic", "offset": 0, "length": 1},
    ]
    assert format_text("ab", None, given_entities).entities == [
        {"type": "italic", "offset": 0, "length": 1}
    ]


def test_detected_entities() -> None:
    text = "🏟 /start@resident_test_bot see https://x.org #meeting @alice"
    found = {e["type"]: (e["offset"], e["length"]) for e in detect_entities(text)}
    assert found["bot_command"] == (3, 24)
    assert found["url"] == (32, 13)
    assert found["hashtag"] == (46, 8)
    assert found["mention"] == (55, 6)
    assert utf16_len("🏟") == 2
    assert detect_entities("a/b and 1/2") == []
