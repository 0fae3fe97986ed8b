"""The /stats texts and charts: localized, readable without images, valid PNGs."""

from __future__ import annotations

import io
from dataclasses import replace
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from PIL import Image

from bot.config import City
from bot.i18n import Catalogs
from bot.services.charts import PNG_SIGNATURE, bar_chart
from bot.services.stats import (
    DAY,
    BadPeriod,
    EventStats,
    Hotspot,
    Period,
    PeriodKind,
    PeriodProblem,
    Statistics,
    subscriber_stats,
)
from bot.storage.stats import EventFact, ReportFact, SubscriberData, SubscriberRow, SurveyFact
from bot.views import stats as views
from tests.stats_reference import event_stats, hotspots, open_ages, report_stats

NOW = datetime(2026, 12, 1, 15, 0, tzinfo=UTC).timestamp()
HOUR = 3600.0


def sample(city: City) -> Statistics:
    facts = [
        ReportFact(
            "noise", "main-south", "resolved", NOW - 3 * DAY, NOW - 3 * DAY + HOUR, NOW - 2 * DAY
        ),
        ReportFact("noise", "main-south", "new", NOW - DAY),
        ReportFact(
            "road",
            None,
            "acknowledged",
            NOW - 2 * DAY,
            NOW - 2 * DAY + 3 * HOUR,
            NOW - 2 * DAY + 3 * HOUR,
        ),
    ]
    return Statistics(
        period=Period(PeriodKind.DAYS, NOW - 30 * DAY, NOW, days=30),
        generated_at=NOW,
        reports=report_stats(facts, categories=[c.id for c in city.categories]),
        open_ages=open_ages([NOW - DAY, NOW - 2 * DAY], NOW),
        hotspots=tuple(hotspots(facts, NOW)),
        subscribers=subscriber_stats(
            SubscriberData(
                rows=(SubscriberRow("main-south", "es", 4), SubscriberRow("main-south", "en", 1)),
                by_language={"es": 4, "en": 1},
                active_residents=9,
                digest_readers=2,
            ),
            neighborhoods=[n.id for n in city.neighborhoods],
            languages=city.languages,
        ),
        events=event_stats(
            (
                EventFact(
                    7,
                    {"en": "Safety meeting", "es": "Reunión"},
                    NOW - DAY,
                    False,
                    20,
                    going=12,
                    maybe=3,
                    no=1,
                ),
            )
        ),
        surveys=(SurveyFact("meeting", {"en": "After the meeting"}, "open", 10, 6, 4),),
    )


def test_durations_are_localized() -> None:
    catalogs = Catalogs(("en", "es", "ar", "vi", "sq", "pt"), ZoneInfo("America/New_York"))
    en, es = catalogs.get("en"), catalogs.get("es")
    assert views.duration(en, 45 * 60) == "45 min"
    assert views.duration(en, 20) == "1 min"
    assert views.duration(en, 3.5 * HOUR) == "3.5 hr"
    assert views.duration(en, 2.5 * DAY) == "2.5 days"
    assert views.duration(es, 3.5 * HOUR) == "3,5 h"
    for tr in catalogs.all():  # babel lacks some forms: never show a raw unit id
        for seconds in (60, 3 * HOUR, 5 * DAY):
            assert "duration-" not in views.duration(tr, seconds)


def test_period_labels(catalogs: Catalogs) -> None:
    en, es = catalogs.get("en"), catalogs.get("es")
    days = Period(PeriodKind.DAYS, NOW - 7 * DAY, NOW, days=7)
    assert views.period_label(en, days) == "the last 7 days (Nov 24, 2026 – Dec 1, 2026)"
    one = Period(PeriodKind.DAYS, NOW - DAY, NOW, days=1)
    assert views.period_label(en, one) == "the last day (Nov 30, 2026 – Dec 1, 2026)"
    assert views.period_label(es, one) == "el último día (30 nov 2026 – 1 dic 2026)"
    two = Period(PeriodKind.DAYS, NOW - 2 * DAY, NOW, days=2)
    assert views.period_label(en, two) == "the last 2 days (Nov 29, 2026 – Dec 1, 2026)"
    assert views.period_label(es, two) == "los últimos 2 días (29 nov 2026 – 1 dic 2026)"
    month = Period(PeriodKind.MONTH, 0, 1, first_day=date(2026, 10, 1))
    assert views.period_label(en, month) == "October 2026"
    assert views.period_label(es, month) == "octubre de 2026"
    partial = Period(PeriodKind.MONTH, 0, 1, first_day=date(2026, 12, 1), partial=True)
    assert views.period_label(en, partial) == "December 2026 (so far)"
    assert views.period_label(en, Period(PeriodKind.ALL, None, NOW)) == "all time"


def test_texts_carry_every_figure(city: City, catalogs: Catalogs) -> None:
    en = catalogs.get("en")
    (text,) = views.stats_texts(en, city, sample(city))
    assert "Statistics: the last 30 days" in text
    assert "3 reports filed" in text
    assert "🆕 New 1 · 👀 Acknowledged 1 · ✅ Resolved 1" in text
    assert "• Noise: 2" in text and "• Pothole or damaged sidewalk: 1" in text
    assert "• Main South: 2" in text and "• Neighborhood not given: 1" in text
    # acknowledged after 1 and 3 hours: median 2, p90 2.8
    assert "First response (acknowledged): median 2 hr, 90% within 2.8 hr (2 reports)" in text
    assert "Resolved: median 24 hr, 90% within 24 hr (1 report)" in text
    assert "1 report of this period is still waiting for a first response." in text
    assert "2 reports open now" in text and "1–3 days: 2" in text
    assert "• <b>Main South · Noise</b>: 30 days 2 (before: 0, +2); 90 days 2" in text
    assert (
        "9 active residents; 5 follow a neighborhood or citywide events;"
        " 2 get the monthly digest." in text
    )
    assert "• Main South: 5 (Español 4, English 1)" in text
    assert "Safety meeting" in text and "12 going, 3 maybe" in text
    assert "Places taken at events with a capacity: 60%." in text
    assert "After the meeting: 6 started, 4 finished (67% of those started)" in text
    assert "10 invited after events, response rate 40%" in text


def test_spanish_texts_use_spanish_names_and_numbers(city: City, catalogs: Catalogs) -> None:
    es = catalogs.get("es")
    text = "\n".join(views.stats_texts(es, city, sample(city)))
    assert "• Ruido: 2" in text
    assert "Español 4" in text
    assert "2,8 h" in text


def _residents(city: City, *, active: int, following: int, readers: int) -> Statistics:
    data = SubscriberData(
        rows=(SubscriberRow("main-south", "en", following),),
        by_language={"en": following},
        active_residents=active,
        digest_readers=readers,
    )
    return replace(sample(city), subscribers=subscriber_stats(data))


def test_each_resident_figure_agrees_with_its_own_number(city: City, catalogs: Catalogs) -> None:
    en, es = catalogs.get("en"), catalogs.get("es")
    ones = _residents(city, active=1, following=1, readers=1)
    assert views.subscribers_section(en, city, ones).splitlines()[1] == (
        "1 active resident; 1 follows a neighborhood or citywide events; 1 gets the monthly digest."
    )
    assert views.subscribers_section(es, city, ones).splitlines()[1] == (
        "1 residente activo; 1 sigue un vecindario o los eventos de toda la ciudad;"
        " 1 recibe el informe mensual."
    )
    twos = _residents(city, active=2, following=2, readers=2)
    assert views.subscribers_section(en, city, twos).splitlines()[1] == (
        "2 active residents; 2 follow a neighborhood or citywide events; 2 get the monthly digest."
    )
    mixed = _residents(city, active=2, following=1, readers=0)
    assert views.subscribers_section(en, city, mixed).splitlines()[1] == (
        "2 active residents; 1 follows a neighborhood or citywide events; 0 get the monthly digest."
    )
    assert views.subscribers_section(es, city, mixed).splitlines()[1] == (
        "2 residentes activos; 1 sigue un vecindario o los eventos de toda la ciudad;"
        " 0 reciben el informe mensual."
    )


def test_resident_text_is_escaped(city: City, catalogs: Catalogs) -> None:
    stats = sample(city)
    bad = EventFact(1, {"en": "<b>x</b> & y"}, NOW, False, None, going=1)
    stats = replace(stats, events=event_stats((bad,)))
    (text,) = views.stats_texts(catalogs.get("en"), city, stats)
    assert "&lt;b&gt;x&lt;/b&gt; &amp; y" in text


def test_long_statistics_split_into_messages_under_the_limit(
    city: City, catalogs: Catalogs
) -> None:
    many = tuple(
        Hotspot(n.id, c.id, last_30=5, previous_30=1)
        for n in city.neighborhoods
        for c in city.categories
    )
    stats = replace(sample(city), hotspots=many)
    texts = views.stats_texts(catalogs.get("en"), city, stats)
    assert all(len(t) <= views.MESSAGE_LIMIT for t in texts)
    joined = "\n".join(texts)
    assert joined.count("30 days 5 (before: 1, +4)") == views.HOTSPOT_LINES
    assert f"… and {len(many) - views.HOTSPOT_LINES} more." in joined


def test_split_keeps_sections_whole_and_cuts_huge_ones() -> None:
    parts = views._split(["a" * 3000, "b" * 2000, "c\n" * 3000])
    assert parts[0] == "a" * 3000 and parts[1] == "b" * 2000
    assert all(len(p) <= views.MESSAGE_LIMIT for p in parts)
    assert "".join(parts[2:]).count("c") == 3000


def test_charts_are_valid_pngs_without_emoji(city: City, catalogs: Catalogs) -> None:
    specs = views.stats_charts(catalogs.get("en"), city, sample(city))
    titles = [s.title for s in specs]
    assert titles == [
        "Reports by status",
        "Reports by category",
        "Reports by neighborhood",
        "Open reports by age",
        "Rise in reports: last 30 days against the 30 before",
        "Followers by neighborhood",
    ]
    status = specs[0]
    assert status.labels == ["New", "Acknowledged", "In progress", "Resolved", "Not actionable"]
    assert status.values == [1, 1, 0, 1, 0]
    for spec in specs:
        image = bar_chart(spec.title, spec.labels, spec.values, annotations=spec.annotations)
        assert image.startswith(PNG_SIGNATURE)
        with Image.open(io.BytesIO(image)) as png:
            png.verify()
        with Image.open(io.BytesIO(image)) as png:
            assert png.format == "PNG" and png.width >= 600


def test_no_chart_without_data(city: City, catalogs: Catalogs) -> None:
    empty = Statistics(
        period=Period(PeriodKind.ALL, None, NOW),
        generated_at=NOW,
        reports=report_stats([]),
        open_ages=open_ages([], NOW),
        hotspots=(),
        subscribers=subscriber_stats(SubscriberData((), {}, 0, 0)),
        events=EventStats(),
        surveys=(),
    )
    assert views.stats_charts(catalogs.get("en"), city, empty) == []
    (text,) = views.stats_texts(catalogs.get("en"), city, empty)
    assert "0 reports filed" in text and "No report is open now." in text
    assert "No reports in the last 90 days." in text


def test_chart_text_drops_emoji_and_marks() -> None:
    assert views.chart_text("👀 Acknowledged") == "Acknowledged"
    assert views.chart_text("\u2068Centro\u2069 ✅") == "Centro"
    assert views.chart_text("Trung tâm thành phố") == "Trung tâm thành phố"


def test_charts_for_arabic_readers_use_a_left_to_right_language(city: City) -> None:
    catalogs = Catalogs(("ar", "en"), city.timezone)
    chosen = views.chart_translator(catalogs.get("ar"), catalogs, city)
    assert chosen.language == "en"
    assert views.chart_translator(catalogs.get("en"), catalogs, city).language == "en"


def test_bad_period_explanations(catalogs: Catalogs) -> None:
    en = catalogs.get("en")
    text = views.bad_period(en, BadPeriod("<soon>", PeriodProblem.FORMAT), "2026-11")
    assert "“&lt;soon&gt;”" in text and "/stats 2026-11 (a month), /stats 2026 (a year)" in text
    future = views.bad_period(en, BadPeriod("2030-01", PeriodProblem.FUTURE), "2026-11")
    assert future.startswith("“2030-01” has not started yet.")
