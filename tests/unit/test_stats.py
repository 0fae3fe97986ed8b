"""Statistics arithmetic on a fixed dataset, against values computed by hand."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from bot.services.stats import (
    DAY,
    AreaFigures,
    BadPeriod,
    Period,
    PeriodKind,
    PeriodProblem,
    completion_rate,
    median,
    month_bounds,
    month_figures,
    parse_period,
    percentile,
    response_rate,
    subscriber_stats,
)
from bot.storage.stats import EventFact, ReportFact, SubscriberData, SubscriberRow, SurveyFact
from tests.stats_reference import event_stats, hotspots, open_ages, report_stats

TZ = ZoneInfo("America/New_York")
NOW = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)  # 10:00 in Worcester
HOUR = 3600.0
T0 = 1_790_000_000.0  # any fixed moment


def fact(
    category: str,
    hood: str | None,
    status: str,
    *,
    filed: float = T0,
    ack_after_h: float | None = None,
    status_after_h: float | None = None,
) -> ReportFact:
    return ReportFact(
        category=category,
        neighborhood=hood,
        status=status,
        created_at=filed,
        acknowledged_at=None if ack_after_h is None else filed + ack_after_h * HOUR,
        status_at=None if status_after_h is None else filed + status_after_h * HOUR,
    )


# --------------------------------------------------------------------------- percentiles


def test_percentiles_interpolate_between_ranks() -> None:
    values = [10.0, 1.0, 3.0, 2.0]  # sorted: 1, 2, 3, 10
    assert median(values) == 2.5
    # rank (4 - 1) * 0.9 = 2.7: 3 + (10 - 3) * 0.7
    assert percentile(values, 90) == pytest.approx(7.9)
    assert percentile(values, 0) == 1.0 and percentile(values, 100) == 10.0
    assert median([5.0, 1.0, 3.0]) == 3.0
    assert median([42.0]) == 42.0 and percentile([42.0], 90) == 42.0
    assert median([]) is None
    with pytest.raises(ValueError):
        percentile(values, 101)


# --------------------------------------------------------------------------- reports

DATASET = [
    fact("noise", "main-south", "resolved", ack_after_h=1, status_after_h=10),
    fact("noise", "main-south", "acknowledged", ack_after_h=2, status_after_h=2),
    fact("road", "downtown", "in_progress", ack_after_h=3, status_after_h=5),
    fact("road", None, "new"),
    fact("drugs", "downtown", "resolved", ack_after_h=10, status_after_h=30),
    fact("noise", "downtown", "not_actionable", ack_after_h=0.5, status_after_h=5),
]


def test_reports_by_status_category_and_neighborhood() -> None:
    stats = report_stats(
        DATASET,
        categories=["streetlight", "road", "noise", "drugs"],
        neighborhoods=["downtown", "main-south"],
    )
    assert stats.total == 6
    assert stats.by_status == (
        ("new", 1),
        ("acknowledged", 1),
        ("in_progress", 1),
        ("resolved", 2),
        ("not_actionable", 1),
    )
    assert stats.by_category == (("noise", 3), ("road", 2), ("drugs", 1))
    assert stats.by_neighborhood == (("downtown", 3), ("main-south", 2), ("", 1))


def test_time_to_acknowledge_and_to_resolve() -> None:
    stats = report_stats(DATASET)
    # acknowledged after 1, 2, 3, 10 and 0.5 hours: sorted 0.5, 1, 2, 3, 10
    assert stats.acknowledge.count == 5 and stats.waiting == 1
    assert stats.acknowledge.median == 2 * HOUR
    # rank 4 * 0.9 = 3.6: 3 + (10 - 3) * 0.6 = 7.2 hours
    assert stats.acknowledge.p90 == pytest.approx(7.2 * HOUR)
    # resolved after 10 and 30 hours ("not actionable" is not resolved)
    assert stats.resolve.count == 2
    assert stats.resolve.median == 20 * HOUR
    assert stats.resolve.p90 == pytest.approx(28 * HOUR)  # 10 + 20 * 0.9


def test_ties_keep_the_configuration_order() -> None:
    facts = [fact("road", None, "new"), fact("streetlight", None, "new")]
    stats = report_stats(facts, categories=["streetlight", "road"])
    assert stats.by_category == (("streetlight", 1), ("road", 1))


def test_no_reports_gives_zeros_and_no_times() -> None:
    stats = report_stats([])
    assert stats.total == 0 and stats.by_category == () and stats.waiting == 0
    assert stats.acknowledge.median is None and stats.resolve.p90 is None


def test_open_reports_by_age() -> None:
    now = T0
    ages_in_days = [0.5, 1.0, 2.9, 3.0, 10.0, 45.0]
    ages = open_ages([now - d * DAY for d in ages_in_days], now)
    assert dict(ages.buckets) == {
        (0, 1): 1,
        (1, 3): 2,  # exactly one day old is "1-3 days"
        (3, 7): 1,
        (7, 30): 1,
        (30, None): 1,
    }
    assert ages.total == 6
    assert ages.oldest == 45 * DAY
    assert open_ages([], now).oldest is None


# --------------------------------------------------------------------------- hotspots


def at_age(days: float, category: str, hood: str | None) -> ReportFact:
    return fact(category, hood, "new", filed=T0 - days * DAY)


def test_hotspots_compare_with_the_previous_period_highest_rise_first() -> None:
    facts = [
        # Main South noise: 3 in the last 30 days, 1 in the 30 before, 1 more 90-180 days ago
        *(at_age(d, "noise", "main-south") for d in (1, 5, 29)),
        at_age(31, "noise", "main-south"),
        at_age(100, "noise", "main-south"),
        # Downtown roads: 1 recent, 2 in the 30 before, 2 in the 90 before
        at_age(10, "road", "downtown"),
        at_age(45, "road", "downtown"),
        at_age(50, "road", "downtown"),
        at_age(120, "road", "downtown"),
        at_age(150, "road", "downtown"),
        # Downtown noise: 1 recent
        at_age(2, "noise", "downtown"),
        # only old reports: not a hotspot at all
        at_age(100, "graffiti", "piedmont"),
        at_age(200, "road", "main-south"),
    ]
    found = hotspots(facts, T0)
    assert [(h.neighborhood, h.category) for h in found] == [
        ("main-south", "noise"),
        ("downtown", "noise"),
        ("downtown", "road"),
    ]
    noise = found[0]
    assert (noise.last_30, noise.previous_30, noise.last_90, noise.previous_90) == (3, 1, 4, 1)
    assert (noise.rise_30, noise.rise_90) == (2, 3)
    roads = found[2]
    assert (roads.last_30, roads.previous_30, roads.last_90, roads.previous_90) == (1, 2, 3, 2)
    assert (roads.rise_30, roads.rise_90) == (-1, 1)


def test_hotspot_windows_are_half_open() -> None:
    facts = [
        at_age(0, "noise", None),  # filed right now: the last 30 days
        at_age(30, "noise", None),  # exactly 30 days ago: the 30 days before
        at_age(90, "noise", None),  # exactly 90 days ago: the 90 days before
        at_age(180, "noise", None),  # exactly 180 days ago: outside both
    ]
    (spot,) = hotspots(facts, T0)
    assert spot.neighborhood == ""
    assert (spot.last_30, spot.previous_30, spot.last_90, spot.previous_90) == (1, 1, 2, 1)


def test_hotspot_ties_break_on_the_90_day_rise() -> None:
    facts = [
        at_age(1, "noise", "a"),  # a: 1 vs 0 in 30 days, 1 vs 1 in 90 days
        at_age(100, "noise", "a"),
        at_age(1, "road", "b"),  # b: 1 vs 0 in 30 days, 3 vs 0 in 90 days
        at_age(70, "road", "b"),
        at_age(80, "road", "b"),
    ]
    found = hotspots(facts, T0)
    assert [(h.neighborhood, h.rise_30, h.rise_90) for h in found] == [
        ("b", 1, 3),
        ("a", 1, 0),
    ]


# --------------------------------------------------------------------------- periods


def test_default_period_is_the_last_30_days() -> None:
    period = parse_period("", NOW, TZ)
    assert isinstance(period, Period) and period.kind is PeriodKind.DAYS
    assert period.days == 30
    assert period.start == NOW.timestamp() - 30 * DAY
    assert period.end > NOW.timestamp()  # a report filed this instant is included


@pytest.mark.parametrize(("text", "days"), [("7d", 7), ("30D", 30), (" 90d ", 90), ("14 days", 14)])
def test_periods_in_days(text: str, days: int) -> None:
    period = parse_period(text, NOW, TZ)
    assert isinstance(period, Period) and period.days == days
    assert period.start == NOW.timestamp() - days * DAY


def test_a_month_is_city_time() -> None:
    period = parse_period("2026-10", NOW, TZ)
    assert isinstance(period, Period) and period.kind is PeriodKind.MONTH
    # October 1, 00:00 EDT is 04:00 UTC; November 1, 00:00 EDT likewise
    assert period.start == datetime(2026, 10, 1, 4, 0, tzinfo=UTC).timestamp()
    assert period.end == datetime(2026, 11, 1, 4, 0, tzinfo=UTC).timestamp()
    assert not period.partial
    current = parse_period("2026-12", NOW, TZ)
    assert isinstance(current, Period) and current.partial
    # November ends at midnight EST (05:00 UTC) after the clocks went back
    assert month_bounds(2026, 11, TZ)[1] == datetime(2026, 12, 1, 5, 0, tzinfo=UTC).timestamp()


def test_a_year_and_all_time() -> None:
    year = parse_period("2025", NOW, TZ)
    assert isinstance(year, Period) and year.kind is PeriodKind.YEAR and not year.partial
    assert year.start == datetime(2025, 1, 1, 5, 0, tzinfo=UTC).timestamp()
    assert year.end == datetime(2026, 1, 1, 5, 0, tzinfo=UTC).timestamp()
    everything = parse_period("all", NOW, TZ)
    assert isinstance(everything, Period) and everything.start is None


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("lastweek", PeriodProblem.FORMAT),
        ("2026-13", PeriodProblem.FORMAT),
        ("0d", PeriodProblem.RANGE),
        ("4000d", PeriodProblem.RANGE),
        ("2027-01", PeriodProblem.FUTURE),
        ("2027", PeriodProblem.FUTURE),
        ("-5d", PeriodProblem.FORMAT),
    ],
)
def test_bad_periods_say_why(text: str, problem: PeriodProblem) -> None:
    assert parse_period(text, NOW, TZ) == BadPeriod(text, problem)


# --------------------------------------------------------------------------- the month


def test_month_figures_per_neighborhood_and_citywide() -> None:
    start, end = month_bounds(2026, 10, TZ)
    facts = [
        # A: Main South, answered after 2 hours, resolved in the month
        fact(
            "noise", "main-south", "resolved", filed=start + DAY, ack_after_h=2, status_after_h=48
        ),
        # B: Main South, answered after 4 hours, still open
        fact("noise", "main-south", "acknowledged", filed=start + 2 * DAY, ack_after_h=4),
        # C: Downtown, filed the month before, resolved in this one
        fact(
            "road",
            "downtown",
            "resolved",
            filed=start - 10 * DAY,
            ack_after_h=1,
            status_after_h=11 * 24,
        ),
        # D: no neighborhood, nobody answered yet
        fact("other", None, "new", filed=start + 5 * DAY),
        # E: filed after the month: not counted
        fact("noise", "main-south", "resolved", filed=end + HOUR, ack_after_h=1, status_after_h=2),
    ]
    figures = month_figures(facts, start, end)
    assert figures["main-south"] == AreaFigures(
        received=2, resolved=1, median_response=3 * HOUR, responded=2
    )
    assert figures["downtown"] == AreaFigures(received=0, resolved=1, median_response=None)
    assert figures["*"] == AreaFigures(
        received=3, resolved=2, median_response=3 * HOUR, responded=2
    )
    assert "piedmont" not in figures
    assert month_figures([], start, end) == {"*": AreaFigures()}


# --------------------------------------------------------------------------- the rest


def test_subscribers_by_neighborhood_and_language() -> None:
    data = SubscriberData(
        rows=(
            SubscriberRow("main-south", "en", 3),
            SubscriberRow("main-south", "es", 5),
            SubscriberRow("downtown", "en", 2),
            SubscriberRow("*", "vi", 1),
        ),
        by_language={"en": 4, "es": 5, "vi": 1},
        active_residents=20,
        digest_readers=6,
    )
    stats = subscriber_stats(data, neighborhoods=["downtown", "main-south"], languages=["en", "es"])
    assert stats.by_area == (("main-south", 8), ("downtown", 2), ("*", 1))
    assert stats.by_area_language["main-south"] == {"es": 5, "en": 3}
    assert stats.by_language == (("es", 5), ("en", 4), ("vi", 1))
    assert stats.subscribers == 10 and stats.active_residents == 20


def test_events_and_rsvps() -> None:
    events = event_stats(
        (
            EventFact(1, {"en": "A"}, T0, False, 10, going=8, maybe=2, no=1, waitlist=0),
            EventFact(2, {"en": "B"}, T0, False, 5, going=5, maybe=0, no=0, waitlist=3),
            EventFact(3, {"en": "C"}, T0, False, None, going=4, maybe=1, no=2),
            EventFact(4, {"en": "D"}, T0, True, 10, going=9),
        )
    )
    assert events.held == 3 and events.cancelled == 1
    assert (events.going, events.maybe, events.declined, events.waitlist) == (17, 3, 3, 3)
    # places taken over events with a capacity: (8 + 5) / (10 + 5)
    assert events.fill_rate == pytest.approx(13 / 15)
    assert [e.id for e in events.top] == [1, 2, 3]  # the most going first; not cancelled
    assert event_stats(()).fill_rate is None


def test_leading_events_break_ties_on_maybe_then_the_earliest() -> None:
    events = event_stats(
        [
            EventFact(1, {}, T0 + 2, False, None, going=3, maybe=1),
            EventFact(2, {}, T0 + 1, False, None, going=3, maybe=1),
            EventFact(3, {}, T0, False, None, going=3, maybe=2),
            EventFact(4, {}, T0, False, None, going=1),
        ],
        top=3,
    )
    assert [e.id for e in events.top] == [3, 2, 1]


def test_survey_rates() -> None:
    survey = SurveyFact("s", {}, "open", invited=40, started=12, complete=9)
    assert response_rate(survey) == pytest.approx(9 / 40)
    assert completion_rate(survey) == pytest.approx(9 / 12)
    assert response_rate(SurveyFact("t", {}, "open", invited=0, started=3, complete=3)) is None
    assert completion_rate(SurveyFact("u", {}, "open", invited=0, started=0, complete=0)) is None
    # more finished than invited (people also came from the flyer): capped at 100%
    assert response_rate(SurveyFact("v", {}, "open", invited=2, started=5, complete=5)) == 1.0
