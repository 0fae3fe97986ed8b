"""Adding a language is one .po file plus one line of city configuration."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from babel.messages.pofile import read_po, write_po

from bot.clock import ManualClock
from bot.config import EXAMPLE_CITY, load_settings
from bot.i18n import translator
from tests.conftest import ADMIN_ID, STAFF_CHAT_ID, TEST_TOKEN
from tests.harness import Harness

MARK = "⟦fr⟧ "


def french_catalog(locales: Path) -> None:
    """A throw-away French catalog: every message marked, placeholders kept."""
    with (locales / "messages.pot").open("rb") as handle:
        catalog = read_po(handle, locale="fr")
    for message in catalog:
        if not message.id:
            continue
        if isinstance(message.id, tuple | list):
            message.string = (MARK + message.id[0], MARK + message.id[1])
        else:
            message.string = MARK + message.id
    folder = locales / "fr" / "LC_MESSAGES"
    folder.mkdir(parents=True)
    with (folder / "messages.po").open("wb") as handle:
        write_po(handle, catalog)


async def test_a_seventh_language_works_with_one_po_file_and_one_config_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    locales = tmp_path / "locales"
    shutil.copytree(translator.LOCALES_DIR, locales, ignore=shutil.ignore_patterns("*.mo"))
    french_catalog(locales)
    monkeypatch.setattr(translator, "LOCALES_DIR", locales)
    city = tmp_path / "city.toml"
    text = EXAMPLE_CITY.read_text(encoding="utf-8")
    line = next(ln for ln in text.splitlines() if ln.startswith("languages = "))
    city.write_text(text.replace(line, line.replace("]", ', "fr"]'), 1), encoding="utf-8")

    settings = load_settings(
        {
            "BOT_TOKEN": TEST_TOKEN,
            "STAFF_CHAT_ID": str(STAFF_CHAT_ID),
            "ADMIN_IDS": str(ADMIN_ID),
            "DATABASE_PATH": str(tmp_path / "bot.sqlite3"),
            "CITY_CONFIG": str(city),
        }
    )
    assert "fr" in settings.city.languages
    harness = Harness(settings, ManualClock())
    await harness.start()
    try:
        claire = harness.resident("Claire", language="fr")
        await claire.send("/start")
        assert claire.last_message.text.startswith(MARK)
        assert "911" in claire.last_message.text
        await claire.send("/language")
        assert "✓ Français" in claire.last_message.buttons
        french_menu = {
            c["command"]: c["description"] for c in harness.tg.commands(language_code="fr")
        }
        assert french_menu["help"].startswith(MARK)
        await claire.send("/report")
        assert claire.last_message.text.startswith(MARK)
    finally:
        await harness.stop()
