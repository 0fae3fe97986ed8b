"""Every shipped catalog is complete: every message, no fuzzy entry, same placeholders."""

from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from bot.config import EXAMPLE_CITY, PROJECT_ROOT, load_city
from bot.i18n import placeholders
from bot.i18n.translator import LOCALES_DIR, SOURCE_LANGUAGE

KEYWORDS = {"_": None, "N_": None, "ngettext": (1, 2)}


def source_messages() -> dict[str | tuple[str, str], str]:
    """Every translatable string in the code, with where it is."""
    found: dict[str | tuple[str, str], str] = {}
    method_map = [("**.py", "python")]
    for filename, lineno, message, _comments, _context in extract_from_dir(
        str(PROJECT_ROOT / "bot"), method_map=method_map, keywords=KEYWORDS
    ):
        key = message if isinstance(message, str) else (message[0], message[1])
        found.setdefault(key, f"bot/{filename}:{lineno}")
    return found


def shipped_languages() -> list[str]:
    return sorted(
        p.name for p in LOCALES_DIR.iterdir() if (p / "LC_MESSAGES" / "messages.po").exists()
    )


def test_every_enabled_language_of_the_example_city_has_a_catalog() -> None:
    city = load_city(EXAMPLE_CITY)
    missing = [
        code
        for code in city.languages
        if code != SOURCE_LANGUAGE and code not in shipped_languages()
    ]
    assert missing == []
    assert "es" in shipped_languages()


def test_source_has_translatable_messages() -> None:
    messages = source_messages()
    assert len(messages) > 40
    assert "Choose your language:" in messages


@pytest.mark.parametrize("language", shipped_languages())
def test_catalog_is_complete(language: str) -> None:
    path = LOCALES_DIR / language / "LC_MESSAGES" / "messages.po"
    with path.open("rb") as handle:
        catalog = read_po(handle, locale=language)
    problems: list[str] = []
    for key, where in source_messages().items():
        msgid = key if isinstance(key, str) else key[0]
        entry = catalog.get(msgid)
        if entry is None:
            problems.append(f"missing: {msgid!r} ({where})")
            continue
        if entry.fuzzy:
            problems.append(f"fuzzy: {msgid!r}")
        strings = list(entry.string) if isinstance(entry.string, tuple | list) else [entry.string]
        if isinstance(key, tuple) and len(strings) != catalog.num_plurals:
            problems.append(
                f"plural forms: {msgid!r} has {len(strings)}, locale needs {catalog.num_plurals}"
            )
        for text in strings:
            if not text.strip():
                problems.append(f"empty: {msgid!r} ({where})")
                continue
            expected = placeholders(msgid) | (
                placeholders(key[1]) if isinstance(key, tuple) else set()
            )
            if placeholders(text) - expected or (
                not isinstance(key, tuple) and placeholders(text) != expected
            ):
                problems.append(f"placeholders: {msgid!r} -> {text!r}")
    assert problems == [], "\n".join(problems[:50])


def test_catalog_check_fails_on_a_broken_catalog(tmp_path: Path) -> None:
    """The completeness check itself can fail: a placeholder renamed is caught."""
    msgid = "Done! I will write to you in {language} from now on."
    assert placeholders(msgid) == {"language"}
    assert placeholders("¡Listo! Le escribiré en {idioma}.") != placeholders(msgid)
