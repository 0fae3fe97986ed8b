"""Translators chosen per resident per call, and babel formatting in the city timezone.

Message ids are the English texts; placeholders are named (`{reference}`) and filled
after translation. There is no global `_`: each call site asks for the resident's
translator, so two residents in two languages never share state.
"""

from __future__ import annotations

import datetime as dt
import gettext
import io
import re
from collections.abc import Iterable, Mapping
from functools import cached_property
from pathlib import Path
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import (
    format_date,
    format_datetime,
    format_skeleton,
    format_time,
    get_datetime_format,
    match_skeleton,
)
from babel.lists import format_list
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal
from babel.support import Translations

LOCALES_DIR = Path(__file__).resolve().parent / "locales"
DOMAIN = "messages"
SOURCE_LANGUAGE = "en"
_FSI, _PDI = "\u2068", "\u2069"  # Unicode first-strong isolate / pop directional isolate
_PLACEHOLDER_RE = re.compile(r"\{(\w+)\}")


def N_(message: str) -> str:
    """Mark a string for extraction; it is translated later, where it is shown."""
    return message


def placeholders(message: str) -> set[str]:
    return set(_PLACEHOLDER_RE.findall(message))


_SMALL = 1000  # integers below this are formatted once per translator


class Translator:
    """Translate and format for one language, in one timezone."""

    def __init__(
        self, language: str, translations: gettext.NullTranslations, timezone: ZoneInfo
    ) -> None:
        self.language = language
        self.timezone = timezone
        self._translations = translations
        self._numbers: dict[int, str] = {}

    @cached_property
    def locale(self) -> Locale:
        return Locale.parse(self.language.replace("-", "_"))

    @cached_property
    def rtl(self) -> bool:
        return self.locale.character_order == "right-to-left"

    def _fill(self, text: str, values: Mapping[str, object]) -> str:
        if not values:
            return text
        if self.rtl:
            values = {key: f"{_FSI}{value}{_PDI}" for key, value in values.items()}
        return text.format(**values)

    def _(self, message: str, /, **values: object) -> str:
        """Translate `message`, then fill its named placeholders."""
        return self._fill(self._translations.gettext(message), values)

    def ngettext(self, singular: str, plural: str, count: int, /, **values: object) -> str:
        """Translate with the locale's plural rules; `{count}` is the formatted number."""
        values = {"count": self.number(count), **values}
        return self._fill(self._translations.ngettext(singular, plural, count), values)

    # -- formatting -------------------------------------------------------------------

    def local(self, moment: dt.datetime) -> dt.datetime:
        return moment.astimezone(self.timezone)

    def datetime(self, moment: dt.datetime) -> str:
        """'martes, 2 de diciembre, 18:30' / 'Tuesday, December 2, 6:30 PM'."""
        local = self.local(moment)
        day = format_datetime(local, self._long_day_pattern, locale=self.locale)
        clock = format_time(local, "short", locale=self.locale)
        pattern = get_datetime_format("medium", locale=self.locale)
        return str(pattern).replace("{1}", day).replace("{0}", clock)

    @cached_property
    def _long_day_pattern(self) -> str:
        """The locale's weekday-day-month pattern with the weekday written in full."""
        skeletons = self.locale.datetime_skeletons
        key = match_skeleton("MMMMEd", skeletons)
        pattern = (
            str(getattr(skeletons.get(key), "pattern", "EEEE, d MMMM")) if key else "EEEE, d MMMM"
        )
        pattern = re.sub(r"(?<!M)MMM(?!M)", "MMMM", pattern)
        return re.sub(r"(?<!E)E{1,3}(?!E)", "EEEE", pattern)

    def short_datetime(self, moment: dt.datetime) -> str:
        """'2 dic, 18:30' / 'Dec 2, 6:30 PM'."""
        local = self.local(moment)
        day = format_skeleton("MMMd", local, locale=self.locale)
        clock = format_time(local, "short", locale=self.locale)
        pattern = get_datetime_format("short", locale=self.locale)
        return str(pattern).replace("{1}", day).replace("{0}", clock)

    def date(self, moment: dt.datetime | dt.date) -> str:
        if isinstance(moment, dt.datetime):
            moment = self.local(moment).date()
        return format_date(moment, "medium", locale=self.locale)

    def time(self, moment: dt.datetime) -> str:
        return format_time(self.local(moment), "short", locale=self.locale)

    def number(self, value: float) -> str:
        if type(value) is int and 0 <= value < _SMALL:  # step numbers, counts: kept
            text = self._numbers.get(value)
            if text is None:
                text = self._numbers[value] = format_decimal(value, locale=self.locale)
            return text
        return format_decimal(value, locale=self.locale)

    def list(self, items: Iterable[str]) -> str:
        return format_list(list(items), locale=self.locale)

    def language_name(self, code: str | None = None) -> str:
        """A language's name in itself ('español'), capitalised for buttons."""
        locale = Locale.parse((code or self.language).replace("-", "_"))
        name = locale.get_display_name(locale) or (code or self.language)
        return name[:1].upper() + name[1:]


def _load(language: str, directory: Path) -> gettext.NullTranslations:
    """Load the compiled catalog, compiling the .po in memory when no fresh .mo exists."""
    folder = directory / language / "LC_MESSAGES"
    po_path, mo_path = folder / f"{DOMAIN}.po", folder / f"{DOMAIN}.mo"
    if mo_path.exists() and (
        not po_path.exists() or mo_path.stat().st_mtime >= po_path.stat().st_mtime
    ):
        with mo_path.open("rb") as handle:
            return Translations(handle, domain=DOMAIN)
    if po_path.exists():
        with po_path.open("rb") as handle:
            catalog = read_po(handle, locale=language.replace("-", "_"))
        buffer = io.BytesIO()
        write_mo(buffer, catalog)
        buffer.seek(0)
        return Translations(buffer, domain=DOMAIN)
    return gettext.NullTranslations()


class Catalogs:
    """All enabled languages' translations, loaded once at start."""

    def __init__(
        self, languages: Iterable[str], timezone: ZoneInfo, *, directory: Path | None = None
    ) -> None:
        directory = directory or LOCALES_DIR
        self.timezone = timezone
        self.languages = tuple(languages)
        self._translators = {
            language: Translator(
                language,
                gettext.NullTranslations()
                if language == SOURCE_LANGUAGE
                else _load(language, directory),
                timezone,
            )
            for language in self.languages
        }

    def get(self, language: str | None) -> Translator:
        """The translator for `language`, falling back to the first enabled language."""
        if language and language in self._translators:
            return self._translators[language]
        return self._translators[self.languages[0]]

    def all(self) -> list[Translator]:
        return list(self._translators.values())
