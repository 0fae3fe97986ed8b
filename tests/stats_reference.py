"""Statistics computed the slow, obvious way: on every report and event, in Python.

/stats counts in SQL, from tallies kept by triggers and from indexes
(`bot.services.stats`, `bot.storage.stats`); the tests compare its figures with these.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from bot.services.stats import (
    AGE_BUCKETS,
    DAY,
    NO_NEIGHBORHOOD,
    TOP_EVENTS,
    EventStats,
    Hotspot,
    OpenAges,
    ReportStats,
    duration_stats,
    hotspot_bounds,
    hotspots_of,
    report_stats_of,
)
from bot.storage import Database
from bot.storage.stats import (
    _FACT_COLUMNS,
    EventFact,
    HotspotCount,
    ReportCount,
    ReportFact,
    _event_fact,
    _fact,
)


def report_stats(
    facts: Sequence[ReportFact],
    *,
    categories: Sequence[str] = (),
    neighborhoods: Sequence[str] = (),
) -> ReportStats:
    acknowledged = [
        f.acknowledged_at - f.created_at for f in facts if f.acknowledged_at is not None
    ]
    resolved = [
        resolved_at - f.created_at for f in facts if (resolved_at := f.resolved_at) is not None
    ]
    return report_stats_of(
        [ReportCount(f.category, f.neighborhood or NO_NEIGHBORHOOD, f.status, 1) for f in facts],
        acknowledge=duration_stats([max(d, 0.0) for d in acknowledged]),
        resolve=duration_stats([max(d, 0.0) for d in resolved]),
        categories=categories,
        neighborhoods=neighborhoods,
    )


def open_ages(created_at: Iterable[float], now: float) -> OpenAges:
    """Open reports by how long ago they were filed."""
    ages = [max(now - moment, 0.0) for moment in created_at]
    counts = []
    for low, high in AGE_BUCKETS:
        counts.append(
            (
                (low, high),
                sum(1 for a in ages if low * DAY <= a and (high is None or a < high * DAY)),
            )
        )
    return OpenAges(tuple(counts), max(ages) if ages else None)


def hotspots(facts: Iterable[ReportFact], now: float) -> list[Hotspot]:
    """Every (neighborhood, category) with a report in the last 90 days, highest rise first.

    Sorted by the 30-day rise, then the 90-day rise, then the recent counts.
    """
    bounds = hotspot_bounds(now)
    counts: dict[tuple[str, str], list[int]] = {}
    for fact in facts:
        window = next(
            (
                index
                for index in range(len(bounds) - 1)
                if bounds[index + 1] < fact.created_at <= bounds[index]
            ),
            None,
        )
        if window is None:
            continue
        key = (fact.category, fact.neighborhood or NO_NEIGHBORHOOD)
        counts.setdefault(key, [0] * (len(bounds) - 1))[window] += 1
    return hotspots_of(
        HotspotCount(category, hood, tuple(row)) for (category, hood), row in counts.items()
    )


def event_stats(events: Iterable[EventFact], *, top: int = TOP_EVENTS) -> EventStats:
    """EventStats of these events (those of a period)."""
    every = list(events)
    held = [e for e in every if not e.cancelled]
    limited = [e for e in held if e.capacity]
    return EventStats(
        held=len(held),
        cancelled=len(every) - len(held),
        going=sum(e.going for e in held),
        maybe=sum(e.maybe for e in held),
        declined=sum(e.no for e in held),
        waitlist=sum(e.waitlist for e in held),
        places=sum(e.capacity or 0 for e in limited),
        places_taken=sum(e.going for e in limited),
        top=tuple(sorted(held, key=lambda e: (-e.going, -e.maybe, e.starts_at))[:top]),
    )


# -- the rows they are computed from


async def report_facts(
    db: Database, created_from: float | None, created_to: float
) -> list[ReportFact]:
    """Reports filed in [created_from, created_to) (from the beginning when None)."""
    rows = await db.fetchall(
        f"SELECT {_FACT_COLUMNS} FROM reports WHERE created_at >= ? AND created_at < ?"
        " ORDER BY created_at, id",
        (created_from if created_from is not None else float("-inf"), created_to),
    )
    return [_fact(row) for row in rows]


async def open_created_at(db: Database) -> list[float]:
    """When each report that is still open was filed."""
    rows = await db.fetchall(
        "SELECT created_at FROM reports WHERE status IN ('new', 'acknowledged', 'in_progress')"
        " ORDER BY created_at"
    )
    return [float(row[0]) for row in rows]


async def events_between(db: Database, start: float | None, end: float) -> list[EventFact]:
    """Events starting in [start, end), with their RSVP counts (kept by triggers)."""
    rows = await db.fetchall(
        "SELECT e.id, e.title, e.starts_at, e.status, e.capacity, coalesce(t.going, 0),"
        " coalesce(t.maybe, 0), coalesce(t.declined, 0), coalesce(t.waitlist, 0)"
        " FROM events e LEFT JOIN rsvp_tallies t ON t.event_id = e.id"
        " WHERE e.starts_at >= ? AND e.starts_at < ? ORDER BY e.starts_at, e.id",
        (start if start is not None else float("-inf"), end),
    )
    return [_event_fact(row) for row in rows]
