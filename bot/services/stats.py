"""Statistics for staff and admins: reports, response times, hotspots, subscribers,
events and surveys over a period. The arithmetic is here, in pure functions; the
queries are in `bot.storage.stats`; the texts and charts in `bot.views.stats`.

/stats counts in SQL rather than reading every report, follower and RSVP: from tallies
kept by triggers (migration 0008) and from indexes, with percentiles read at their ranks.
The tests compare these figures with the same ones computed on every row
(`tests/stats_reference.py`).

Definitions (also what the tests compute by hand):

- A report's *time to acknowledge* runs from filing to its first status change away from
  "new"; its *time to resolve* from filing to the moment it was marked resolved (only
  reports resolved now count; "not actionable" is neither).
- Percentiles interpolate linearly between the nearest ranks (numpy's default, Excel's
  PERCENTILE.INC): the median of 1, 2, 3, 10 is 2.5 and its 90th percentile is 7.9.
- A period covers reports *filed* in it; "open reports by age", subscribers and hotspots
  describe the present, whatever the period.
- Hotspots compare, per neighborhood and category, the reports filed in the last 30 days
  (now - 30 days < filed <= now) with the 30 days before, and the same for 90 days.
"""

from __future__ import annotations

import itertools
import math
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from bot.clock import Clock
from bot.config import City
from bot.storage.reports import STATUSES
from bot.storage.stats import (
    ACKNOWLEDGE,
    CITYWIDE,
    RESOLVE,
    EventFact,
    EventTotals,
    HotspotCount,
    ReportCount,
    ReportFact,
    StatsRepository,
    SubscriberData,
    SurveyFact,
)

if TYPE_CHECKING:
    from bot.services.transparency import TransparencyService

DAY = 86400.0
DEFAULT_DAYS = 30
MAX_DAYS = 3650
HOTSPOT_DAYS = (30, 90)
HOTSPOT_LIMIT = 10
_READ_ATTEMPTS = 3  # reads of counts and times until both saw the same data
# Open reports by age, in days: [low, high) and the last one open-ended.
AGE_BUCKETS: tuple[tuple[int, int | None], ...] = ((0, 1), (1, 3), (3, 7), (7, 30), (30, None))

_DAYS_RE = re.compile(r"^(\d{1,5})\s*d(?:ays?)?$")
_MONTH_RE = re.compile(r"^(\d{4})-(\d{1,2})$")
_YEAR_RE = re.compile(r"^(\d{4})$")


# --------------------------------------------------------------------------- periods


class PeriodKind(StrEnum):
    DAYS = "days"
    MONTH = "month"
    YEAR = "year"
    ALL = "all"


@dataclass(frozen=True, slots=True)
class Period:
    """Reports filed in [start, end); `start` None: since the beginning."""

    kind: PeriodKind
    start: float | None
    end: float
    days: int = 0  # for the last N days
    first_day: date | None = None  # for a month or a year
    partial: bool = False  # a month or year still under way

    def first_local_day(self, tz: ZoneInfo) -> date | None:
        if self.start is None:
            return None
        return datetime.fromtimestamp(self.start, tz).date()

    def last_local_day(self, tz: ZoneInfo) -> date:
        """The last city-time day the period touches."""
        return datetime.fromtimestamp(self.end - 1e-6, tz).date()


class PeriodProblem(StrEnum):
    FORMAT = "format"  # not something we read as a period
    RANGE = "range"  # 0 days, or more than MAX_DAYS
    FUTURE = "future"  # a month or year that has not started


@dataclass(frozen=True, slots=True)
class BadPeriod:
    given: str
    problem: PeriodProblem


def month_bounds(year: int, month: int, tz: ZoneInfo) -> tuple[float, float]:
    """[first moment, first moment of the next month) of a city-time month, as Unix seconds."""
    start = datetime.combine(date(year, month, 1), time(0), tzinfo=tz)
    following = date(year + 1, 1, 1) if month == 12 else date(year, month + 1, 1)
    end = datetime.combine(following, time(0), tzinfo=tz)
    return start.timestamp(), end.timestamp()


def parse_period(text: str, now: datetime, tz: ZoneInfo) -> Period | BadPeriod:
    """`7d`, `30d`, `90d` (any number of days), `2026-10` (a month), `2026`, `all`;
    empty: the last 30 days. Months and years are city time."""
    given = text.strip().lower()
    now_ts = now.timestamp()
    upto = math.nextafter(now_ts, math.inf)  # "until now" includes a report filed this instant
    if not given:
        return Period(PeriodKind.DAYS, now_ts - DEFAULT_DAYS * DAY, upto, days=DEFAULT_DAYS)
    if given in ("all", "*"):
        return Period(PeriodKind.ALL, None, upto)
    local_today = now.astimezone(tz).date()
    if match := _DAYS_RE.match(given):
        days = int(match.group(1))
        if not 1 <= days <= MAX_DAYS:
            return BadPeriod(text, PeriodProblem.RANGE)
        return Period(PeriodKind.DAYS, now_ts - days * DAY, upto, days=days)
    if match := _MONTH_RE.match(given):
        year, month = int(match.group(1)), int(match.group(2))
        if not (1 <= month <= 12 and year >= 1970):
            return BadPeriod(text, PeriodProblem.FORMAT)
        first = date(year, month, 1)
        if first > local_today:
            return BadPeriod(text, PeriodProblem.FUTURE)
        start, end = month_bounds(year, month, tz)
        return Period(PeriodKind.MONTH, start, end, first_day=first, partial=end > now_ts)
    if match := _YEAR_RE.match(given):
        year = int(match.group(1))
        if year < 1970:
            return BadPeriod(text, PeriodProblem.FORMAT)
        if year > local_today.year:
            return BadPeriod(text, PeriodProblem.FUTURE)
        start = month_bounds(year, 1, tz)[0]
        end = month_bounds(year, 12, tz)[1]
        return Period(PeriodKind.YEAR, start, end, first_day=date(year, 1, 1), partial=end > now_ts)
    return BadPeriod(text, PeriodProblem.FORMAT)


# --------------------------------------------------------------------------- arithmetic


def percentile(values: Iterable[float], q: float) -> float | None:
    """The q-th percentile (0-100), interpolating between ranks; None for no values."""
    ordered = sorted(values)
    if not ordered:
        return None
    low, high, rank = _ranks(len(ordered), q)
    return _between(ordered[low], ordered[high], low, high, rank)


def _ranks(count: int, q: float) -> tuple[int, int, float]:
    """The ranks (0 for the smallest) the q-th percentile of `count` values lies between,
    and its fractional rank."""
    if not 0 <= q <= 100:
        raise ValueError("a percentile is between 0 and 100")
    rank = (count - 1) * q / 100
    return math.floor(rank), math.ceil(rank), rank


def _between(low_value: float, high_value: float, low: int, high: int, rank: float) -> float:
    if low == high:
        return float(low_value)
    return low_value + (high_value - low_value) * (rank - low)


def median(values: Iterable[float]) -> float | None:
    return percentile(values, 50)


@dataclass(frozen=True, slots=True)
class DurationStats:
    """How many durations (seconds), their median and 90th percentile."""

    count: int
    median: float | None = None
    p90: float | None = None


DURATION_PERCENTILES = (50, 90)  # DurationStats' median and p90


def duration_stats(values: Sequence[float]) -> DurationStats:
    return DurationStats(len(values), median(values), percentile(values, 90))


def duration_ranks(count: int) -> set[int]:
    """The ranks of `count` sorted durations that their DurationStats reads."""
    if not count:
        return set()
    return {rank for q in DURATION_PERCENTILES for rank in _ranks(count, q)[:2]}


def duration_stats_at(count: int, values: Mapping[int, float]) -> DurationStats:
    """DurationStats of `count` durations, from their values at `duration_ranks(count)`
    (rank 0 the shortest); a percentile whose values are missing is None."""

    def at(q: float) -> float | None:
        if not count:
            return None
        low, high, rank = _ranks(count, q)
        if low not in values or high not in values:
            return None
        return _between(values[low], values[high], low, high, rank)

    return DurationStats(count, at(50), at(90))


def _ranked(counts: Mapping[str, int], order: Sequence[str]) -> tuple[tuple[str, int], ...]:
    """Most first; ties in configuration order, then by id."""
    position = {key: index for index, key in enumerate(order)}
    return tuple(
        sorted(
            counts.items(),
            key=lambda item: (-item[1], position.get(item[0], len(order)), item[0]),
        )
    )


# --------------------------------------------------------------------------- reports

NO_NEIGHBORHOOD = ""  # the key of reports filed without a neighborhood


@dataclass(frozen=True, slots=True)
class ReportStats:
    total: int
    by_status: tuple[tuple[str, int], ...]  # every status, in workflow order
    by_category: tuple[tuple[str, int], ...]  # most first
    by_neighborhood: tuple[tuple[str, int], ...]  # most first; "" = not given
    acknowledge: DurationStats
    resolve: DurationStats

    @property
    def waiting(self) -> int:
        """Reports of the period nobody has acknowledged yet."""
        return self.total - self.acknowledge.count


def report_stats_of(
    counts: Iterable[ReportCount],
    *,
    acknowledge: DurationStats,
    resolve: DurationStats,
    categories: Sequence[str] = (),
    neighborhoods: Sequence[str] = (),
) -> ReportStats:
    """ReportStats from reports counted per category, neighborhood and status."""
    statuses: Counter[str] = Counter()
    by_category: Counter[str] = Counter()
    by_neighborhood: Counter[str] = Counter()
    for count in counts:
        statuses[count.status] += count.reports
        by_category[count.category] += count.reports
        by_neighborhood[count.neighborhood or NO_NEIGHBORHOOD] += count.reports
    return ReportStats(
        total=sum(statuses.values()),
        by_status=tuple((status, statuses.get(status, 0)) for status in STATUSES),
        by_category=_ranked(+by_category, categories),
        by_neighborhood=_ranked(+by_neighborhood, (*neighborhoods, NO_NEIGHBORHOOD)),
        acknowledge=acknowledge,
        resolve=resolve,
    )


@dataclass(frozen=True, slots=True)
class OpenAges:
    buckets: tuple[tuple[tuple[int, int | None], int], ...]  # ((low, high) days, count)
    oldest: float | None = None  # age of the oldest open report, seconds

    @property
    def total(self) -> int:
        return sum(count for _, count in self.buckets)


def age_buckets() -> list[tuple[float, float | None]]:
    """AGE_BUCKETS in seconds."""
    return [(low * DAY, None if high is None else high * DAY) for low, high in AGE_BUCKETS]


# --------------------------------------------------------------------------- hotspots


@dataclass(frozen=True, slots=True)
class Hotspot:
    """Reports of one category in one neighborhood, recent windows against the ones before."""

    neighborhood: str  # "" = not given
    category: str
    last_30: int = 0
    previous_30: int = 0
    last_90: int = 0
    previous_90: int = 0

    @property
    def rise_30(self) -> int:
        return self.last_30 - self.previous_30

    @property
    def rise_90(self) -> int:
        return self.last_90 - self.previous_90


# Hotspot windows by age in days: window i holds the reports filed between
# _HOTSPOT_AGES[i] and _HOTSPOT_AGES[i + 1] days ago.
_HOTSPOT_AGES = tuple(sorted({0, *HOTSPOT_DAYS, *(2 * days for days in HOTSPOT_DAYS)}))
# The windows that make up each span compared: last 30 days, the 30 before, last 90 days,
# the 90 before.
_HOTSPOT_SPANS = tuple(
    tuple(
        index
        for index, (age, older) in enumerate(itertools.pairwise(_HOTSPOT_AGES))
        if newest <= age and older <= oldest
    )
    for days in HOTSPOT_DAYS
    for newest, oldest in ((0, days), (days, 2 * days))
)


def hotspot_bounds(now: float) -> tuple[float, ...]:
    """The filing times that split the hotspot windows, from `now` back: a report filed in
    (bounds[i + 1], bounds[i]] is in window i (`now - 30 days < filed <= now` ...)."""
    return tuple(now - age * DAY for age in _HOTSPOT_AGES)


def hotspots_of(counts: Iterable[HotspotCount]) -> list[Hotspot]:
    """`hotspots` from reports counted per window of `hotspot_bounds`."""
    merged: dict[tuple[str, str], list[int]] = {}
    for count in counts:
        row = merged.setdefault(
            (count.neighborhood or NO_NEIGHBORHOOD, count.category), [0] * len(_HOTSPOT_SPANS)
        )
        for position, span in enumerate(_HOTSPOT_SPANS):
            row[position] += sum(count.windows[window] for window in span)
    found = [
        Hotspot(hood, category, *row)
        for (hood, category), row in merged.items()
        if row[0] or row[2]
    ]
    found.sort(
        key=lambda h: (-h.rise_30, -h.rise_90, -h.last_30, -h.last_90, h.neighborhood, h.category)
    )
    return found


# --------------------------------------------------------------------------- the rest


@dataclass(frozen=True, slots=True)
class SubscriberStats:
    by_area: tuple[tuple[str, int], ...]  # area ('*' citywide) -> followers, most first
    by_area_language: Mapping[str, Mapping[str, int]]  # area -> language -> followers
    by_language: tuple[tuple[str, int], ...]  # distinct followers per language, most first
    active_residents: int
    digest_readers: int

    @property
    def subscribers(self) -> int:
        return sum(count for _, count in self.by_language)


def subscriber_stats(
    data: SubscriberData, *, neighborhoods: Sequence[str] = (), languages: Sequence[str] = ()
) -> SubscriberStats:
    per_area: Counter[str] = Counter()
    matrix: dict[str, dict[str, int]] = {}
    for row in data.rows:
        per_area[row.area] += row.count
        matrix.setdefault(row.area, {})[row.language] = row.count
    return SubscriberStats(
        by_area=_ranked(per_area, (*neighborhoods, CITYWIDE)),
        by_area_language={
            area: dict(_ranked(values, languages)) for area, values in matrix.items()
        },
        by_language=_ranked(dict(data.by_language), languages),
        active_residents=data.active_residents,
        digest_readers=data.digest_readers,
    )


TOP_EVENTS = 5  # held events named in /stats: the most Going, then Maybe, then earliest


@dataclass(frozen=True, slots=True)
class EventStats:
    """A period's events: how many were held or cancelled, the answers at the held ones,
    and the held events with the most Going answers."""

    held: int = 0
    cancelled: int = 0
    going: int = 0  # with a place
    maybe: int = 0
    declined: int = 0
    waitlist: int = 0  # going, waiting for a place
    places: int = 0  # capacity of the held events that have one
    places_taken: int = 0  # Going (with a place) at those events
    top: tuple[EventFact, ...] = ()  # at most TOP_EVENTS, the most Going first

    @property
    def fill_rate(self) -> float | None:
        """Places taken (Going) per place offered, over events with a capacity."""
        return self.places_taken / self.places if self.places else None

    @classmethod
    def of(cls, totals: EventTotals, top: Iterable[EventFact]) -> EventStats:
        return cls(
            held=totals.held,
            cancelled=totals.cancelled,
            going=totals.going,
            maybe=totals.maybe,
            declined=totals.declined,
            waitlist=totals.waitlist,
            places=totals.places,
            places_taken=totals.places_taken,
            top=tuple(top),
        )


def response_rate(survey: SurveyFact) -> float | None:
    """Finished responses per invitation sent (None without invitations), at most 100%."""
    return min(survey.complete / survey.invited, 1.0) if survey.invited else None


def completion_rate(survey: SurveyFact) -> float | None:
    """Finished responses per response started."""
    return survey.complete / survey.started if survey.started else None


@dataclass(frozen=True, slots=True)
class Statistics:
    period: Period
    generated_at: float
    reports: ReportStats
    open_ages: OpenAges
    hotspots: tuple[Hotspot, ...]
    subscribers: SubscriberStats
    events: EventStats
    surveys: tuple[SurveyFact, ...]


# --------------------------------------------------------------------------- monthly figures


@dataclass(frozen=True, slots=True)
class AreaFigures:
    """One area's month for the transparency digest."""

    received: int = 0
    resolved: int = 0
    median_response: float | None = None  # seconds from filing to the first response
    responded: int = 0  # concerns received in the month that got a first response


def month_figures(facts: Iterable[ReportFact], start: float, end: float) -> dict[str, AreaFigures]:
    """Per neighborhood id, and '*' for the whole city: reports received in [start, end),
    reports resolved in it, and how many of those received got a first response, and how
    fast (the median)."""
    received: Counter[str] = Counter()
    resolved: Counter[str] = Counter()
    responses: dict[str, list[float]] = {}
    for fact in facts:
        areas = [CITYWIDE] + ([fact.neighborhood] if fact.neighborhood else [])
        filed_in = start <= fact.created_at < end
        resolved_at = fact.resolved_at
        resolved_in = resolved_at is not None and start <= resolved_at < end
        for area in areas:
            if filed_in:
                received[area] += 1
                if fact.acknowledged_at is not None:
                    responses.setdefault(area, []).append(
                        max(fact.acknowledged_at - fact.created_at, 0.0)
                    )
            if resolved_in:
                resolved[area] += 1
    return {
        area: AreaFigures(
            received[area],
            resolved[area],
            median(responses.get(area, ())),
            len(responses.get(area, ())),
        )
        for area in set(received) | set(resolved) | {CITYWIDE}
    }


# --------------------------------------------------------------------------- the service


class StatsService:
    """Statistics on demand (/stats), read from the database through `StatsRepository`."""

    def __init__(self, *, repo: StatsRepository, city: City, clock: Clock) -> None:
        self.repo = repo
        self._city = city
        self._clock = clock
        # The monthly digest, set by the feature at start (see bot.handlers.stats).
        self.transparency: TransparencyService | None = None

    def parse_period(self, text: str) -> Period | BadPeriod:
        return parse_period(text, self._clock.now(), self._city.timezone)

    async def statistics(self, period: Period) -> Statistics:
        city = self._city
        now = self._clock.time()
        neighborhoods = [n.id for n in city.neighborhoods]
        reports = await self.period_reports(period)
        counts, oldest = await self.repo.open_ages(now, age_buckets())
        first_day = period.first_local_day(city.timezone)
        surveys = await self.repo.surveys(
            start=period.start,
            end=period.end,
            first_day=None if first_day is None else first_day.isoformat(),
            last_day=period.last_local_day(city.timezone).isoformat(),
        )
        return Statistics(
            period=period,
            generated_at=now,
            reports=reports,
            open_ages=OpenAges(tuple(zip(AGE_BUCKETS, counts, strict=True)), oldest),
            hotspots=tuple(hotspots_of(await self.repo.hotspot_counts(hotspot_bounds(now)))),
            subscribers=subscriber_stats(
                await self.repo.subscribers(),
                neighborhoods=neighborhoods,
                languages=city.languages,
            ),
            events=EventStats.of(
                *await self.repo.event_totals(period.start, period.end, top=TOP_EVENTS)
            ),
            surveys=tuple(s for s in surveys if s.invited or s.started or s.status == "open"),
        )

    async def period_reports(self, period: Period) -> ReportStats:
        """The reports filed in the period, counted in SQL; the percentiles of their times
        read at their ranks. Counts and times are two reads: when a write lands between
        them, both are read again."""
        for _attempt in range(_READ_ATTEMPTS):
            version = await self.repo.data_version()
            counts = await self.repo.report_counts(period.start, period.end)
            how_many = {
                ACKNOWLEDGE: sum(count.acknowledged for count in counts),
                RESOLVE: sum(count.status_dated for count in counts if count.status == "resolved"),
            }
            times = await self.repo.report_times(
                period.start,
                period.end,
                {measure: (n, duration_ranks(n)) for measure, n in how_many.items()},
            )
            if await self.repo.data_version() == version:
                break
        return report_stats_of(
            counts,
            acknowledge=duration_stats_at(how_many[ACKNOWLEDGE], times[ACKNOWLEDGE]),
            resolve=duration_stats_at(how_many[RESOLVE], times[RESOLVE]),
            categories=[c.id for c in self._city.categories],
            neighborhoods=[n.id for n in self._city.neighborhoods],
        )


def previous_month(first_day: date) -> date:
    return (first_day - timedelta(days=1)).replace(day=1)
