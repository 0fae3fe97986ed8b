"""Dates typed by admins, and `.ics` files (RFC 5545) for residents' calendars."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from babel import Locale
from icalendar import Calendar
from icalendar import Event as CalendarEvent
from icalendar.enums import STATUS

from bot.storage.events import Event

MAX_AHEAD = timedelta(days=2 * 366)
MAX_LENGTH = timedelta(days=14)

# Why a typed date or time was refused (views turn these into kind sentences).
UNREADABLE = "unreadable"
PAST = "past"
TOO_FAR = "too_far"
END_BEFORE_START = "end_before_start"
TOO_LONG = "too_long"


@dataclass(frozen=True, slots=True)
class Parsed:
    """A parsed moment (aware, UTC) or the reason it was refused."""

    moment: datetime | None = None
    problem: str | None = None

    @property
    def ok(self) -> bool:
        return self.moment is not None


def _fold(text: str) -> str:
    """Lower case without accents: 'Miércoles' -> 'miercoles'."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


@lru_cache(maxsize=16)
def _names(languages: tuple[str, ...]) -> tuple[dict[str, int], dict[str, int]]:
    """Month and weekday names (wide and abbreviated) in English and the city's languages."""
    months: dict[str, int] = {}
    days: dict[str, int] = {}
    for code in ("en", *languages):
        try:
            locale = Locale.parse(code.replace("-", "_"))
        except (ValueError, TypeError):
            continue
        for width in ("wide", "abbreviated"):
            for number, name in locale.months["format"][width].items():
                months.setdefault(_fold(name).rstrip("."), number)
            for number, name in locale.days["format"][width].items():
                days.setdefault(_fold(name).rstrip("."), number)
                # Brazilians say "sexta" for "sexta-feira".
                days.setdefault(_fold(name).split("-")[0], number)
    months.setdefault("sept", 9)
    return months, days


_TIME = r"(?P<hour>\d{1,2})(?:(?::|h|\.)(?P<minute>\d{2}))?\s*(?P<ampm>a\.?m\.?|p\.?m\.?|h)?"
_TIME_RE = re.compile(rf"^{_TIME}$")
_ISO_RE = re.compile(rf"^(?P<y>\d{{4}})-(?P<m>\d{{1,2}})-(?P<d>\d{{1,2}})(?:t|\s+){_TIME}$")
_SLASH_RE = re.compile(rf"^(?P<m>\d{{1,2}})/(?P<d>\d{{1,2}})(?:/(?P<y>\d{{2,4}}))?\s+{_TIME}$")
_DOT_RE = re.compile(rf"^(?P<d>\d{{1,2}})\.(?P<m>\d{{1,2}})(?:\.(?P<y>\d{{2,4}})?)?\s+{_TIME}$")
_WORD = r"[^\W\d_]+(?:-[^\W\d_]+)?"  # a month or weekday name in any script: "sexta-feira"
_NAME_DAY_RE = re.compile(
    rf"^(?P<name>{_WORD})\.?\s+(?P<d>\d{{1,2}})(?:st|nd|rd|th)?(?:\s+(?P<y>\d{{4}}))?\s+{_TIME}$"
)
_DAY_NAME_RE = re.compile(
    rf"^(?P<d>\d{{1,2}})(?:st|nd|rd|th)?\s+(?:de\s+)?(?P<name>{_WORD})\.?"
    rf"(?:\s+(?:de\s+)?(?P<y>\d{{4}}))?\s+{_TIME}$"
)
# "today" and "tomorrow" in the shipped languages, folded like the input (no accents).
_RELATIVE_DAYS = {
    "today": 0, "tomorrow": 1, "hoy": 0, "manana": 1, "hoje": 0, "amanha": 1,
    "hom nay": 0, "ngay mai": 1, "اليوم": 0, "غدا": 1, "sot": 0, "neser": 1,
}  # fmt: skip
_RELATIVE_RE = re.compile(
    rf"^(?P<word>{'|'.join(sorted(map(re.escape, _RELATIVE_DAYS), key=len, reverse=True))})\s+{_TIME}$"
)
_WEEKDAY_RE = re.compile(rf"^(?:next\s+)?(?P<name>{_WORD}(?:\s{_WORD})?)\.?\s+{_TIME}$")
_DURATION_RE = re.compile(
    r"^\+?\s*(?:(?P<hours>\d+(?:[.,]\d+)?)\s*(?:h|hr|hrs|hour|hours|hora|horas)"
    r"(?:\s*(?P<hminutes>\d{1,2})\s*(?:m|min|mins|minutes|minutos)?)?"
    r"|(?P<minutes>\d+)\s*(?:m|min|mins|minute|minutes|minuto|minutos))$"
)


def _clean(text: str) -> str:
    folded = _fold(text).strip()
    folded = re.sub(r"[,;]", " ", folded)
    folded = re.sub(r"\b(at|a las|a la|the|el|on)\b", " ", folded)
    return re.sub(r"\s+", " ", folded).strip()


def _clock(match: re.Match[str]) -> time | None:
    hour = int(match["hour"])
    minute = int(match["minute"] or 0)
    suffix = (match["ampm"] or "").replace(".", "")
    if not match["minute"] and not suffix:
        return None  # a bare "18" is too ambiguous to accept
    if suffix in ("am", "pm"):
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if suffix == "pm" else 0)
    if hour > 23 or minute > 59:
        return None
    return time(hour, minute)


def _year(raw: str | None, month: int, day: int, today: date) -> int | None:
    """The year typed, or this year, or next year when the date already went by."""
    if raw:
        year = int(raw)
        return year + 2000 if year < 100 else year
    try:
        candidate = date(today.year, month, day)
    except ValueError:
        return today.year
    return today.year + 1 if candidate < today else today.year


def _local(day: date, clock: time, tz: ZoneInfo) -> datetime:
    # Round-trip through UTC so that a time skipped by a DST change becomes a real one.
    moment = datetime.combine(day, clock, tzinfo=tz)
    return moment.astimezone(UTC)


def _named_date(match: re.Match[str], months: dict[str, int], today: date) -> date | None:
    """The date of a match with a day number and a month (number or name)."""
    if "name" in match.groupdict():
        month = months.get(match["name"] or "")
        if month is None:
            return None
    else:
        month = int(match["m"])
    day = int(match["d"])
    year = int(match["y"]) if "y" in match.groupdict() and match["y"] else None
    if year is None:
        year = _year(None, month, day, today)
    elif year < 100:
        year += 2000
    return date(year or today.year, month, day)


_DATED = (_ISO_RE, _SLASH_RE, _DOT_RE, _NAME_DAY_RE, _DAY_NAME_RE)


def _read(text: str, *, tz: ZoneInfo, now: datetime, languages: Iterable[str]) -> datetime | None:
    cleaned = _clean(text)
    months, days = _names(tuple(languages))
    today = now.astimezone(tz).date()
    try:
        for pattern in _DATED:
            match = pattern.match(cleaned)
            if match is None:
                continue
            day = _named_date(match, months, today)
            if day is None:
                continue
            clock = _clock(match)
            return None if clock is None else _local(day, clock, tz)
    except ValueError:
        return None  # 31 February and friends
    match = _RELATIVE_RE.match(cleaned)
    if match is not None:
        clock = _clock(match)
        if clock is None:
            return None
        day = today + timedelta(days=_RELATIVE_DAYS[match["word"]])
        return _local(day, clock, tz)
    match = _WEEKDAY_RE.match(cleaned)
    if match is not None and match["name"] in days:
        clock = _clock(match)
        if clock is None:
            return None
        day = today + timedelta(days=(days[match["name"]] - today.weekday()) % 7)
        moment = _local(day, clock, tz)
        return moment if moment > now else _local(day + timedelta(days=7), clock, tz)
    return None


def parse_start(text: str, *, tz: ZoneInfo, now: datetime, languages: Iterable[str] = ()) -> Parsed:
    """Read an event's start typed in one of several formats, in the city's timezone.

    Accepted: 2026-12-08 18:30, 12/8 6:30pm, 12/8/2026 18:30, 8.12.2026 18:30,
    Dec 8 6:30 pm, 8 December 2026 18:30, tomorrow 18:00, friday 6pm (month and weekday
    names also in the city's languages).
    """
    moment = _read(text, tz=tz, now=now, languages=languages)
    if moment is None:
        return Parsed(problem=UNREADABLE)
    if moment <= now:
        return Parsed(problem=PAST)
    if moment - now > MAX_AHEAD:
        return Parsed(problem=TOO_FAR)
    return Parsed(moment)


def parse_end(text: str, *, start: datetime, tz: ZoneInfo, languages: Iterable[str] = ()) -> Parsed:
    """Read an event's end: a duration (2h, 90 min), a time on the start's day, or a date."""
    cleaned = _clean(text)
    end: datetime | None = None
    # "20h30" is a clock time as written in Brazil and France, not a 20.5-hour duration.
    written_clock = re.fullmatch(r"(\d{1,2})h(\d{2})", cleaned)
    if written_clock is not None and int(written_clock.group(1)) >= 5:
        clock = _clock(_TIME_RE.match(cleaned))  # type: ignore[arg-type]
        end = None if clock is None else _local(start.astimezone(tz).date(), clock, tz)
    elif duration := _DURATION_RE.match(cleaned.replace(" ", "")):
        if duration["minutes"]:
            length = timedelta(minutes=int(duration["minutes"]))
        else:
            hours = float(duration["hours"].replace(",", "."))
            length = timedelta(hours=hours, minutes=int(duration["hminutes"] or 0))
        end = start + length
    elif clock_match := _TIME_RE.match(cleaned):
        clock = _clock(clock_match)
        if clock is None:
            return Parsed(problem=UNREADABLE)
        end = _local(start.astimezone(tz).date(), clock, tz)
    else:
        end = _read(cleaned, tz=tz, now=start, languages=languages)
    if end is None:
        return Parsed(problem=UNREADABLE)
    if end <= start:
        return Parsed(problem=END_BEFORE_START)
    if end - start > MAX_LENGTH:
        return Parsed(problem=TOO_LONG)
    return Parsed(end)


def check_times(starts_at: float, ends_at: float, now: float) -> str | None:
    """The reason a start/end pair cannot be used, or None."""
    if starts_at <= now:
        return PAST
    if ends_at <= starts_at:
        return END_BEFORE_START
    if ends_at - starts_at > MAX_LENGTH.total_seconds():
        return TOO_LONG
    if starts_at - now > MAX_AHEAD.total_seconds():
        return TOO_FAR
    return None


# --------------------------------------------------------------------------- iCalendar


def event_uid(event_id: int) -> str:
    return f"event-{event_id}@resident-bot"


def event_ics(
    event: Event,
    *,
    language: str,
    default_language: str,
    tz: ZoneInfo,
    now: float,
    city_name: str,
) -> bytes:
    """One VEVENT in a VCALENDAR, times in the city's timezone with its VTIMEZONE."""
    calendar = Calendar.new(
        prodid="-//resident-bot//community events//EN",
        method="PUBLISH",
        name=city_name,
        uid=f"calendar-{event_uid(event.id)}",
    )
    description = event.description(language, default_language)
    entry = CalendarEvent.new(
        uid=event_uid(event.id),
        summary=event.title(language, default_language),
        description=description or None,
        start=datetime.fromtimestamp(event.starts_at, tz),
        end=datetime.fromtimestamp(event.ends_at, tz),
        stamp=datetime.fromtimestamp(now, UTC),
        sequence=event.revision - 1,
        location=event.place or None,
        status=STATUS.CANCELLED if event.cancelled else STATUS.CONFIRMED,
    )
    if event.latitude is not None and event.longitude is not None:
        entry.add("geo", (event.latitude, event.longitude))
    calendar.add_component(entry)
    # The VTIMEZONE only needs to cover the event (the default spans 1970-2038).
    first = datetime.fromtimestamp(event.starts_at, tz).date() - timedelta(days=366)
    calendar.add_missing_timezones(first_date=first, last_date=first + timedelta(days=3 * 366))
    ical: bytes = calendar.to_ical()
    return ical
