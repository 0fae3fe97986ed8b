"""Typed dates for events (several formats, city time) and the .ics files (RFC 5545)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar

from bot.services import calendar
from bot.storage.events import Event

TZ = ZoneInfo("America/New_York")
NOW = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)  # Tuesday 10:00 in the city
LANGUAGES = ("en", "es")


def start(text: str) -> calendar.Parsed:
    return calendar.parse_start(text, tz=TZ, now=NOW, languages=LANGUAGES)


@pytest.mark.parametrize(
    "text",
    [
        "2026-12-08 18:30",
        "2026-12-08T18:30",
        "12/8 6:30pm",
        "12/8/2026 18:30",
        "12/08/26 6:30 PM",
        "8.12.2026 18:30",
        "Dec 8 6:30 pm",
        "December 8, 2026 at 6:30 PM",
        "8 December 2026 18:30",
        "8 de diciembre 18:30",
        "dic 8 18h30",
        "  DEC 8,  6:30 p.m. ",
    ],
)
def test_many_formats_mean_the_same_moment(text: str) -> None:
    parsed = start(text)
    assert parsed.moment is not None, text
    local = parsed.moment.astimezone(TZ)
    assert (local.year, local.month, local.day, local.hour, local.minute) == (2026, 12, 8, 18, 30)


def test_relative_words_and_weekdays() -> None:
    assert start("tomorrow 18:00").moment == datetime(2026, 12, 2, 18, 0, tzinfo=TZ)
    assert start("mañana 18:00").moment == datetime(2026, 12, 2, 18, 0, tzinfo=TZ)
    assert start("friday 6pm").moment == datetime(2026, 12, 4, 18, 0, tzinfo=TZ)
    assert start("viernes 18:00").moment == datetime(2026, 12, 4, 18, 0, tzinfo=TZ)
    # Today is Tuesday 10:00: Tuesday 9am is next week's, Tuesday 6pm is today's.
    assert start("Tuesday 9am").moment == datetime(2026, 12, 8, 9, 0, tzinfo=TZ)
    assert start("today 18:00").moment == datetime(2026, 12, 1, 18, 0, tzinfo=TZ)


@pytest.mark.parametrize(
    ("text", "day"),
    [
        ("amanhã 18:00", 2),
        ("hoje 18:00", 1),
        ("ngày mai 18:00", 2),
        ("hôm nay 18:00", 1),
        ("غداً 18:00", 2),
        ("اليوم 18:00", 1),
        ("nesër 18:00", 2),
        ("sot 18:00", 1),
        ("sexta-feira 18:00", 4),
        ("sexta 18h00", 4),
        ("thứ sáu 18:00", 4),
        ("e premte 18:00", 4),
    ],
)
def test_relative_words_and_weekdays_in_every_language(text: str, day: int) -> None:
    parsed = calendar.parse_start(
        text, tz=TZ, now=NOW, languages=("en", "es", "pt", "vi", "ar", "sq")
    )
    assert parsed.moment == datetime(2026, 12, day, 18, 0, tzinfo=TZ), text


def test_a_date_without_a_year_that_went_by_means_next_year() -> None:
    assert start("Jan 5 10am").moment == datetime(2027, 1, 5, 10, 0, tzinfo=TZ)
    assert start("12/1 18:00").moment == datetime(2026, 12, 1, 18, 0, tzinfo=TZ)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("2026-11-30 10:00", calendar.PAST),
        ("today 9:00", calendar.PAST),
        ("2031-01-01 10:00", calendar.TOO_FAR),
        ("next blursday", calendar.UNREADABLE),
        ("12/8 18", calendar.UNREADABLE),  # a bare hour is too ambiguous
        ("31.02.2027 10:00", calendar.UNREADABLE),
        ("2026-12-08 25:00", calendar.UNREADABLE),
        ("13pm tomorrow", calendar.UNREADABLE),
        ("", calendar.UNREADABLE),
        ("x" * 5000, calendar.UNREADABLE),
    ],
)
def test_refusals_have_a_reason(text: str, problem: str) -> None:
    parsed = start(text)
    assert parsed.moment is None and parsed.problem == problem


def test_daylight_saving_time_is_the_citys() -> None:
    summer = calendar.parse_start("2027-07-04 18:00", tz=TZ, now=NOW, languages=LANGUAGES)
    assert summer.moment is not None and summer.moment.utcoffset() == timedelta(0)
    assert summer.moment.astimezone(UTC).hour == 22  # EDT is UTC-4
    assert start("2026-12-08 18:00").moment.astimezone(UTC).hour == 23  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("text", "minutes"),
    [
        ("20:30", 120),
        ("8:30 pm", 120),
        ("2h", 120),
        ("90 min", 90),
        ("1h30", 90),
        ("+2 hours", 120),
        ("20h30", 120),  # a clock time as written in Brazil, not 20.5 hours
    ],
)
def test_end_as_time_or_length(text: str, minutes: int) -> None:
    begin = datetime(2026, 12, 8, 18, 30, tzinfo=TZ)
    parsed = calendar.parse_end(text, start=begin, tz=TZ, languages=LANGUAGES)
    assert parsed.moment is not None and parsed.moment - begin == timedelta(minutes=minutes)


def test_end_before_start_and_too_long_are_refused() -> None:
    begin = datetime(2026, 12, 8, 18, 30, tzinfo=TZ)
    for text, problem in (
        ("17:00", calendar.END_BEFORE_START),
        ("18:30", calendar.END_BEFORE_START),
        ("2026-12-08 10:00", calendar.END_BEFORE_START),
        ("2026-12-30 10:00", calendar.TOO_LONG),
        ("soon", calendar.UNREADABLE),
    ):
        parsed = calendar.parse_end(text, start=begin, tz=TZ, languages=LANGUAGES)
        assert parsed.problem == problem, text


def test_check_times() -> None:
    now = NOW.timestamp()
    assert calendar.check_times(now + 60, now + 120, now) is None
    assert calendar.check_times(now - 60, now + 120, now) == calendar.PAST
    assert calendar.check_times(now + 120, now + 60, now) == calendar.END_BEFORE_START
    assert calendar.check_times(now + 120, now + 120, now) == calendar.END_BEFORE_START


def event(**changes: object) -> Event:
    values: dict[str, object] = {
        "id": 7,
        "event_type": "workshop",
        "titles": {"en": "Bike repair workshop", "es": "Taller de bicicletas"},
        "descriptions": {"en": "Bring your bike; tools provided."},
        "neighborhoods": ("main-south",),
        "citywide": False,
        "starts_at": datetime(2027, 3, 14, 1, 30, tzinfo=TZ).timestamp(),  # before the DST jump
        "ends_at": datetime(2027, 3, 14, 4, 0, tzinfo=TZ).timestamp(),  # after it
        "place": "Youth Center, 3 Main St",
        "latitude": 42.25,
        "longitude": -71.81,
        "capacity": 20,
        "status": "published",
        "revision": 3,
        "created_by": 1,
        "created_at": 0.0,
        "updated_at": 0.0,
    }
    values.update(changes)
    return Event(**values)  # type: ignore[arg-type]


def ics(item: Event, language: str = "es") -> Calendar:
    data = calendar.event_ics(
        item,
        language=language,
        default_language="en",
        tz=TZ,
        now=NOW.timestamp(),
        city_name="Worcester",
    )
    assert data.startswith(b"BEGIN:VCALENDAR\r\n") and data.endswith(b"END:VCALENDAR\r\n")
    assert all(len(line) <= 75 for line in data.split(b"\r\n"))  # RFC 5545 line folding
    return Calendar.from_ical(data)


def test_ics_round_trip_keeps_time_zone_and_details() -> None:
    item = event()
    parsed = ics(item)
    (vevent,) = parsed.walk("VEVENT")
    assert str(vevent["SUMMARY"]) == "Taller de bicicletas"
    assert str(vevent["DESCRIPTION"]) == "Bring your bike; tools provided."  # default language
    start_at, end_at = vevent.decoded("DTSTART"), vevent.decoded("DTEND")
    assert str(start_at.tzinfo) == "America/New_York"
    assert start_at.timestamp() == item.starts_at and end_at.timestamp() == item.ends_at
    assert end_at.timestamp() - start_at.timestamp() == 1.5 * 3600  # across the DST jump
    assert int(vevent["SEQUENCE"]) == 2 and str(vevent["STATUS"]) == "CONFIRMED"
    assert vevent["GEO"].longitude == -71.81
    assert str(vevent["LOCATION"]) == "Youth Center, 3 Main St"
    assert "DTSTAMP" in vevent and str(vevent["UID"]) == "event-7@resident-bot"
    (timezone,) = parsed.walk("VTIMEZONE")
    offsets = {str(sub["TZNAME"]) for sub in timezone.subcomponents}
    assert offsets == {"EST", "EDT"}


def test_ics_of_a_cancelled_event_without_pin_or_description() -> None:
    parsed = ics(event(status="cancelled", latitude=None, longitude=None, descriptions={}), "en")
    (vevent,) = parsed.walk("VEVENT")
    assert str(vevent["STATUS"]) == "CANCELLED" and "GEO" not in vevent
    assert "DESCRIPTION" not in vevent and str(vevent["SUMMARY"]) == "Bike repair workshop"
