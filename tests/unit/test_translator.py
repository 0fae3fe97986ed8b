from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from bot.i18n import Catalogs

NY = ZoneInfo("America/New_York")


def test_spanish_translation_and_named_placeholders() -> None:
    tr = Catalogs(["en", "es"], NY).get("es")
    assert tr._("Choose your language:") == "Elija su idioma:"
    assert tr._("Done! I will write to you in {language} from now on.", language="español") == (
        "¡Listo! A partir de ahora le escribiré en español."
    )


def test_unknown_language_falls_back_to_first_enabled() -> None:
    catalogs = Catalogs(["en", "es"], NY)
    assert catalogs.get("de").language == "en"
    assert catalogs.get(None).language == "en"


def test_dates_are_formatted_by_babel_in_the_city_timezone() -> None:
    catalogs = Catalogs(["en", "es"], NY)
    moment = datetime(2025, 12, 2, 23, 30, tzinfo=UTC)  # 18:30 in Worcester
    assert catalogs.get("es").datetime(moment) == "martes, 2 de diciembre, 18:30"
    english = catalogs.get("en").datetime(moment)
    assert english.startswith("Tuesday, December 2")
    assert "6:30" in english and "PM" in english


def test_language_names_are_in_their_own_language() -> None:
    tr = Catalogs(["en", "es", "ar", "sq", "vi", "pt"], NY).get("en")
    assert tr.language_name("es") == "Español"
    assert tr.language_name("pt") == "Português"
    assert tr.language_name("sq") == "Shqip"
    assert tr.language_name("ar") == "العربية"


def test_right_to_left_placeholders_are_isolated() -> None:
    tr = Catalogs(["en", "ar"], NY).get("ar")
    assert tr.rtl
    text = tr._("Main menu {x}", x="R-2026-000001")
    assert "\u2068R-2026-000001\u2069" in text
    assert not Catalogs(["en"], NY).get("en").rtl


def test_plural_rules_and_numbers() -> None:
    tr = Catalogs(["en"], NY).get("en")
    assert tr.ngettext("{count} report", "{count} reports", 1) == "1 report"
    assert tr.ngettext("{count} report", "{count} reports", 1200) == "1,200 reports"
    assert Catalogs(["en", "es"], NY).get("es").number(1200.5) == "1.200,5"
