"""Read-only queries behind statistics, hotspots and the Open311 export; the monthly
transparency digest's notes, runs and readers.

The queries select only what the figures need: no resident ids, names, usernames or
pseudonyms leave this module (the export rows cannot leak what they never read).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from bot.storage.db import Database, Transaction

CITYWIDE = "*"  # the subscription area of citywide events (see bot.storage.subscriptions)


# --------------------------------------------------------------------------- statistics


@dataclass(frozen=True, slots=True)
class ReportFact:
    """One report reduced to what statistics count and time."""

    category: str
    neighborhood: str | None
    status: str
    created_at: float
    acknowledged_at: float | None = None  # the first status change away from "new"
    status_at: float | None = None  # the latest status change

    @property
    def resolved_at(self) -> float | None:
        """When it was resolved, for a report that is resolved now."""
        return self.status_at if self.status == "resolved" else None


@dataclass(frozen=True, slots=True)
class SubscriberRow:
    area: str  # a neighborhood id, or '*' (citywide)
    language: str
    count: int


@dataclass(frozen=True, slots=True)
class SubscriberData:
    rows: tuple[SubscriberRow, ...]  # active followers per area and language
    by_language: Mapping[str, int]  # distinct active followers of any area, per language
    active_residents: int
    digest_readers: int  # residents who opted in to the monthly transparency digest


@dataclass(frozen=True, slots=True)
class ReportCount:
    """Reports of one category, neighborhood ('' for none) and status."""

    category: str
    neighborhood: str
    status: str
    reports: int
    acknowledged: int = 0  # of those, with a first response (acknowledged_at)
    status_dated: int = 0  # of those, with the moment of their status (status_at)


@dataclass(frozen=True, slots=True)
class HotspotCount:
    """Reports of one category and neighborhood ('' for none) filed in each time window."""

    category: str
    neighborhood: str
    windows: tuple[int, ...]


# The times /stats takes percentiles of: report -> seconds, which reports have one, and
# the index that holds them in order (migration 0008).
ACKNOWLEDGE = "acknowledge"
RESOLVE = "resolve"
_TIMES = {
    ACKNOWLEDGE: (
        "max(acknowledged_at - created_at, 0.0)",
        "acknowledged_at IS NOT NULL",
        "reports_acknowledge_time",
    ),
    RESOLVE: (
        "max(status_at - created_at, 0.0)",
        "status = 'resolved' AND status_at IS NOT NULL",
        "reports_resolve_time",
    ),
}
# The times of a period up to this long are read through the index of filing times and
# sorted; a longer period's at their ranks in the index of times (see `report_times`).
_SHORT_PERIOD = 62 * 86400.0


@dataclass(frozen=True, slots=True)
class EventFact:
    id: int
    titles: Mapping[str, str]
    starts_at: float
    cancelled: bool
    capacity: int | None
    going: int = 0
    maybe: int = 0
    no: int = 0
    waitlist: int = 0

    def title(self, language: str, default: str) -> str:
        return (
            self.titles.get(language)
            or self.titles.get(default)
            or next(iter(self.titles.values()), "")
        )


@dataclass(frozen=True, slots=True)
class EventTotals:
    """A period's events summed up; the answers are those at the events held."""

    held: int = 0
    cancelled: int = 0
    going: int = 0  # with a place
    maybe: int = 0
    declined: int = 0
    waitlist: int = 0  # going, waiting for a place
    places: int = 0  # capacity of the held events that have one
    places_taken: int = 0  # Going (with a place) at those events


@dataclass(frozen=True, slots=True)
class SurveyFact:
    id: str
    titles: Mapping[str, str]
    status: str
    invited: int  # invitations sent in the period
    started: int  # responses started in the period (finished or not)
    complete: int  # of those, finished

    def title(self, language: str, default: str) -> str:
        return self.titles.get(language) or self.titles.get(default) or self.id


@dataclass(frozen=True, slots=True)
class ExportRow:
    """A report as the Open311 export may show it (no resident data is read)."""

    reference: str
    category: str
    status: str
    description: str
    anonymous: bool
    created_at: float
    updated_at: float
    neighborhood: str | None = None
    address: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    photo_count: int = 0


def _fact(row: sqlite3.Row) -> ReportFact:
    return ReportFact(
        category=row["category"],
        neighborhood=row["neighborhood"],
        status=row["status"],
        created_at=float(row["created_at"]),
        acknowledged_at=None if row["acknowledged_at"] is None else float(row["acknowledged_at"]),
        status_at=None if row["status_at"] is None else float(row["status_at"]),
    )


_FACT_COLUMNS = "category, neighborhood, status, created_at, acknowledged_at, status_at"


def _titles(raw: str | None) -> dict[str, str]:
    if not raw:
        return {}
    value = json.loads(raw)
    return {str(k): str(v) for k, v in value.items()} if isinstance(value, dict) else {}


def _runs(ranks: Iterable[int]) -> list[tuple[int, int]]:
    """Ranks grouped into runs of consecutive ones: [(first, last), ...]."""
    runs: list[tuple[int, int]] = []
    for rank in sorted(set(ranks)):
        if runs and runs[-1][1] == rank - 1:
            runs[-1] = (runs[-1][0], rank)
        else:
            runs.append((rank, rank))
    return runs


def _event_fact(row: sqlite3.Row) -> EventFact:
    event_id, title, starts_at, status, capacity, going, maybe, declined, waitlist = row
    return EventFact(
        id=int(event_id),
        titles=_titles(title),
        starts_at=float(starts_at),
        cancelled=status == "cancelled",
        capacity=capacity,
        going=int(going),
        maybe=int(maybe),
        no=int(declined),
        waitlist=int(waitlist),
    )


class StatsRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def month_facts(self, start: float, end: float) -> list[ReportFact]:
        """Reports filed in [start, end), and reports resolved in it (filed earlier)."""
        rows = await self._db.fetchall(
            f"SELECT {_FACT_COLUMNS} FROM reports"
            " WHERE (created_at >= ? AND created_at < ?)"
            " OR (status = 'resolved' AND status_at >= ? AND status_at < ?)"
            " ORDER BY created_at, id",
            (start, end, start, end),
        )
        return [_fact(row) for row in rows]

    async def open_ages(
        self, now: float, buckets: Sequence[tuple[float, float | None]]
    ) -> tuple[list[int], float | None]:
        """Open reports per age bucket [low, high) in seconds (high None: no limit), and
        the age of the oldest; an age is `now` less the filing time, at least 0."""
        sums = ", ".join(
            "coalesce(sum(age >= ?" + ("" if high is None else " AND age < ?") + "), 0)"
            for _, high in buckets
        )
        params: list[object] = [now]
        for low, high in buckets:
            params += [low] if high is None else [low, high]
        params.append(now)
        row = await self._db.fetchall(
            f"SELECT max(? - min(created_at), 0.0), {sums} FROM"
            " (SELECT created_at, max(? - created_at, 0.0) AS age FROM reports"
            "  WHERE status IN ('new', 'acknowledged', 'in_progress'))",
            params,
        )
        oldest, *counts = row[0]
        return [int(n) for n in counts], None if oldest is None else float(oldest)

    async def data_version(self) -> int:
        """Changes whenever another connection commits: to tell whether several reads saw
        the same data."""
        return int(await self._db.fetchval("PRAGMA data_version"))

    async def report_counts(
        self, created_from: float | None, created_to: float
    ) -> list[ReportCount]:
        """Reports filed in [created_from, created_to) (from the beginning when None), per
        category, neighborhood and status. A key may come more than once: add them up."""
        if created_from is None:
            # The tallies count every report; take away the few filed at or after the end.
            rows = await self._db.fetchall(
                "SELECT category, neighborhood, status, reports, acknowledged, status_dated"
                " FROM report_tallies WHERE reports > 0"
                " UNION ALL SELECT category, coalesce(neighborhood, ''), status, -count(*),"
                " -count(acknowledged_at), -count(status_at)"
                " FROM reports INDEXED BY reports_created WHERE created_at >= ?"
                " GROUP BY 1, 2, 3",
                (created_to,),
            )
        else:
            # Each kind of report the tallies know, counted over the period's range of
            # reports_by_kind: no sorting, and the kinds come out in order. A tally's
            # neighborhood '' stands for none (NULL) and, should one exist, for ''.
            counted = (
                "SELECT t.category, t.neighborhood, t.status, count(*),"
                " count(r.acknowledged_at), count(r.status_at)"
                " FROM report_tallies t CROSS JOIN reports r INDEXED BY reports_by_kind"
                " ON r.category = t.category AND r.neighborhood {} AND r.status = t.status"
                " AND r.created_at >= ? AND r.created_at < ?"
                " WHERE t.reports > 0{} GROUP BY t.category, t.neighborhood, t.status"
            )
            rows = await self._db.fetchall(
                counted.format("IS nullif(+t.neighborhood, '')", "")
                + " UNION ALL "
                + counted.format("= ''", " AND t.neighborhood = ''"),
                (created_from, created_to, created_from, created_to),
            )
        return [
            ReportCount(str(row[0]), str(row[1]), str(row[2]), *(int(n) for n in row[3:6]))
            for row in rows
            if row[3]
        ]

    async def report_times(
        self,
        created_from: float | None,
        created_to: float,
        wanted: Mapping[str, tuple[int, Collection[int]]],
    ) -> dict[str, dict[int, float]]:
        """Times to acknowledge or to resolve (ACKNOWLEDGE, RESOLVE) at some ranks, among
        the reports filed in [created_from, created_to) that have one.

        `wanted` maps a measure to (how many reports of the period have that time, the
        ranks wanted, 0 for the shortest). A short period's times are read through the
        index of filing times and sorted; a longer period's are read at their place in
        the measure's own index of times, from the nearer end, so none is sorted.
        """
        parts: list[str] = []
        params: list[object] = []
        runs: list[tuple[str, int, int]] = []
        short = created_from is not None and created_to - created_from <= _SHORT_PERIOD
        if created_from is None:
            filed, bounds = "{0} < ?", [created_to]
        else:
            filed, bounds = "{0} >= ? AND {0} < ?", [created_from, created_to]
        # `+created_at`: not a range of the index of filing times, so the index of times
        # is the one read.
        filed = " AND " + filed.format("created_at" if short else "+created_at")
        for measure, (count, ranks) in wanted.items():
            seconds, having, index = _TIMES[measure]
            index = "reports_created" if short else index
            for first, last in _runs(rank for rank in ranks if 0 <= rank < count):
                from_top = not short and count - 1 - last < first
                parts.append(
                    f"SELECT {len(runs)}, value FROM (SELECT {seconds} AS value"
                    f" FROM reports INDEXED BY {index} WHERE {having}{filed}"
                    f" ORDER BY {seconds}{' DESC' if from_top else ''} LIMIT ? OFFSET ?)"
                )
                params += [*bounds, last - first + 1, count - 1 - last if from_top else first]
                runs.append((measure, first, last))
        found: dict[str, dict[int, float]] = {measure: {} for measure in wanted}
        if not parts:
            return found
        values: dict[int, list[float]] = {}
        for run, value in await self._db.fetchall(" UNION ALL ".join(parts), params):
            values.setdefault(int(run), []).append(float(value))
        for run, (measure, first, _last) in enumerate(runs):
            # Sorted, the values of a run are those of its ranks in order (ties are equal).
            for offset, value in enumerate(sorted(values.get(run, ()))):
                found[measure][first + offset] = value
        return found

    async def hotspot_counts(self, bounds: Sequence[float]) -> list[HotspotCount]:
        """Reports per category and neighborhood filed in each window (bounds[i + 1],
        bounds[i]], `bounds` from the latest moment back."""
        windows = list(zip(bounds[1:], bounds, strict=False))
        # `+p.neighborhood` has no column affinity, so the comparison can use the index
        # on coalesce(neighborhood, '').
        counts = ", ".join(
            "(SELECT count(*) FROM reports r INDEXED BY reports_hotspots"
            " WHERE r.category = p.category AND coalesce(r.neighborhood, '') = +p.neighborhood"
            " AND r.created_at > ? AND r.created_at <= ?)"
            for _ in windows
        )
        rows = await self._db.fetchall(
            f"SELECT p.category, p.neighborhood, {counts} FROM"
            " (SELECT DISTINCT category, neighborhood FROM report_tallies WHERE reports > 0) p"
            " ORDER BY 1, 2",
            [moment for window in windows for moment in window],
        )
        return [
            HotspotCount(str(row[0]), str(row[1]), tuple(int(n) for n in row[2:])) for row in rows
        ]

    async def subscribers(self) -> SubscriberData:
        """From the tallies kept by triggers (migration 0008): a few rows, not every
        subscription and resident."""
        rows = await self._db.fetchall(
            "SELECT 'area', area, language, followers FROM follower_tallies WHERE followers > 0"
            " UNION ALL SELECT 'language', NULL, language, following FROM resident_tallies"
            " WHERE following > 0"
            " UNION ALL SELECT 'active', NULL, NULL, coalesce(sum(active), 0)"
            " FROM resident_tallies"
            " UNION ALL SELECT 'readers', NULL, NULL, count(*)"
            " FROM alert_prefs p CROSS JOIN residents r ON r.user_id = p.user_id"
            " WHERE p.transparency = 1 AND r.active = 1"
            " ORDER BY 1, 2, 3"
        )
        areas = tuple(
            SubscriberRow(str(area), str(language), int(n))
            for kind, area, language, n in rows
            if kind == "area"
        )
        totals = {kind: int(n) for kind, _, _, n in rows if kind in ("active", "readers")}
        return SubscriberData(
            rows=areas,
            by_language={str(lang): int(n) for kind, _, lang, n in rows if kind == "language"},
            active_residents=totals.get("active", 0),
            digest_readers=totals.get("readers", 0),
        )

    async def event_totals(
        self, start: float | None, end: float, *, top: int
    ) -> tuple[EventTotals, list[EventFact]]:
        """Events starting in [start, end) summed up, and the `top` held ones with the most
        Going answers (then Maybe, then the earliest), from the RSVP tallies."""
        held = "e.status != 'cancelled'"
        limited = f"{held} AND coalesce(e.capacity, 0) != 0"
        bounds = (start if start is not None else float("-inf"), end)
        row = (
            await self._db.fetchall(
                f"SELECT count(*) FILTER (WHERE {held}), count(*) FILTER (WHERE NOT {held}),"
                + ", ".join(
                    f" coalesce(sum({column}) FILTER (WHERE {where}), 0)"
                    for column, where in (
                        ("t.going", held),
                        ("t.maybe", held),
                        ("t.declined", held),
                        ("t.waitlist", held),
                        ("e.capacity", limited),
                        ("t.going", limited),
                    )
                )
                + " FROM events e LEFT JOIN rsvp_tallies t ON t.event_id = e.id"
                " WHERE e.starts_at >= ? AND e.starts_at < ?",
                bounds,
            )
        )[0]
        rows = await self._db.fetchall(
            "SELECT e.id, e.title, e.starts_at, e.status, e.capacity, coalesce(t.going, 0),"
            " coalesce(t.maybe, 0), coalesce(t.declined, 0), coalesce(t.waitlist, 0)"
            " FROM events e LEFT JOIN rsvp_tallies t ON t.event_id = e.id"
            f" WHERE e.starts_at >= ? AND e.starts_at < ? AND {held}"
            " ORDER BY coalesce(t.going, 0) DESC, coalesce(t.maybe, 0) DESC, e.starts_at, e.id"
            " LIMIT ?",
            (*bounds, top),
        )
        return EventTotals(*(int(n) for n in row)), [_event_fact(row) for row in rows]

    async def surveys(
        self,
        *,
        start: float | None,
        end: float,
        first_day: str | None,
        last_day: str,
    ) -> list[SurveyFact]:
        """Each survey's invitations and responses in the period.

        Responses of anonymous surveys carry days, not moments, so responses are counted
        by their city-time start day in [first_day, last_day]; invitations by time.
        """
        rows = await self._db.fetchall(
            "SELECT s.id, json_extract(s.definition, '$.titles') AS titles, s.status,"
            " (SELECT count(*) FROM survey_invitations i WHERE i.survey_id = s.id"
            "   AND i.invited_at >= ? AND i.invited_at < ?) AS invited,"
            " (SELECT count(*) FROM survey_responses r WHERE r.survey_id = s.id"
            "   AND r.started_on >= ? AND r.started_on <= ?) AS started,"
            " (SELECT count(*) FROM survey_responses r WHERE r.survey_id = s.id"
            "   AND r.started_on >= ? AND r.started_on <= ? AND r.status = 'complete')"
            "   AS complete"
            " FROM surveys s ORDER BY s.published_at, s.id",
            (
                start if start is not None else float("-inf"),
                end,
                first_day or "",
                last_day,
                first_day or "",
                last_day,
            ),
        )
        return [
            SurveyFact(
                id=str(row["id"]),
                titles=_titles(row["titles"]),
                status=str(row["status"]),
                invited=int(row["invited"]),
                started=int(row["started"]),
                complete=int(row["complete"]),
            )
            for row in rows
        ]

    async def export_rows(self, since: float | None) -> list[ExportRow]:
        """Reports filed at or after `since` (all when None), oldest first."""
        rows = await self._db.fetchall(
            "SELECT reference, category, status, description, anonymous, created_at,"
            " updated_at, neighborhood, address, latitude, longitude,"
            " json_array_length(photos) AS photo_count"
            " FROM reports WHERE created_at >= ? ORDER BY created_at, id",
            (since if since is not None else float("-inf"),),
        )
        return [
            ExportRow(
                reference=row["reference"],
                category=row["category"],
                status=row["status"],
                description=row["description"],
                anonymous=bool(row["anonymous"]),
                created_at=float(row["created_at"]),
                updated_at=float(row["updated_at"]),
                neighborhood=row["neighborhood"],
                address=row["address"],
                latitude=row["latitude"],
                longitude=row["longitude"],
                photo_count=int(row["photo_count"] or 0),
            )
            for row in rows
        ]


# --------------------------------------------------------------------------- transparency


@dataclass(frozen=True, slots=True)
class DigestNote:
    month: str
    language: str
    body: str
    author_id: int
    updated_at: float


@dataclass(frozen=True, slots=True)
class Reader:
    """A resident who opted in to the monthly digest, and the neighborhoods they follow."""

    user_id: int
    chat_id: int
    language: str
    areas: frozenset[str] = field(default_factory=frozenset)

    @property
    def neighborhoods(self) -> tuple[str, ...]:
        return tuple(sorted(area for area in self.areas if area != CITYWIDE))


class TransparencyRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def notes(self, month: str) -> dict[str, DigestNote]:
        rows = await self._db.fetchall(
            "SELECT * FROM transparency_notes WHERE month = ? ORDER BY updated_at, language",
            (month,),
        )
        return {
            row["language"]: DigestNote(
                month=row["month"],
                language=row["language"],
                body=row["body"],
                author_id=int(row["author_id"]),
                updated_at=float(row["updated_at"]),
            )
            for row in rows
        }

    @staticmethod
    async def save_note_in(
        tx: Transaction, *, month: str, language: str, body: str, author_id: int, now: float
    ) -> None:
        await tx.execute(
            "INSERT INTO transparency_notes (month, language, body, author_id, updated_at)"
            " VALUES (?, ?, ?, ?, ?) ON CONFLICT (month, language) DO UPDATE SET"
            " body = excluded.body, author_id = excluded.author_id,"
            " updated_at = excluded.updated_at",
            (month, language, body, author_id, now),
        )

    async def delete_notes(self, month: str) -> int:
        async with self._db.transaction() as tx:
            return await tx.execute_rowcount(
                "DELETE FROM transparency_notes WHERE month = ?", (month,)
            )

    @staticmethod
    async def claim_dialog_in(tx: Transaction, chat_id: int, flow: str, version: int) -> bool:
        """Close the dialog if it is still at `version` (a second tap finds nothing)."""
        count = await tx.execute_rowcount(
            "DELETE FROM dialogs WHERE chat_id = ? AND flow = ? AND version = ?",
            (chat_id, flow, version),
        )
        return count == 1

    @staticmethod
    async def run_done_in(tx: Transaction, month: str) -> bool:
        row = await tx.fetchone("SELECT 1 FROM transparency_runs WHERE month = ?", (month,))
        return row is not None

    @staticmethod
    async def record_run_in(tx: Transaction, month: str, recipients: int, now: float) -> None:
        await tx.execute(
            "INSERT INTO transparency_runs (month, recipients, at) VALUES (?, ?, ?)",
            (month, recipients, now),
        )

    async def run(self, month: str) -> tuple[int, float] | None:
        row = await self._db.fetchone(
            "SELECT recipients, at FROM transparency_runs WHERE month = ?", (month,)
        )
        return None if row is None else (int(row[0]), float(row[1]))

    async def reader_count(self) -> int:
        value = await self._db.fetchval(
            "SELECT count(*) FROM alert_prefs p CROSS JOIN residents r ON r.user_id = p.user_id"
            " WHERE p.transparency = 1 AND r.active = 1"
        )
        return int(value or 0)

    @staticmethod
    async def readers_in(tx: Transaction) -> list[Reader]:
        """Active residents who opted in, with the areas they follow."""
        rows = await tx.fetchall(
            "SELECT r.user_id, r.chat_id, r.language FROM residents r"
            " JOIN alert_prefs p ON p.user_id = r.user_id"
            " WHERE r.active = 1 AND p.transparency = 1 ORDER BY r.user_id"
        )
        areas: dict[int, set[str]] = {int(row[0]): set() for row in rows}
        for user_id, area in await tx.fetchall(
            "SELECT s.user_id, s.area FROM subscriptions s"
            " JOIN alert_prefs p ON p.user_id = s.user_id WHERE p.transparency = 1"
        ):
            if user_id in areas:
                areas[user_id].add(str(area))
        return [
            Reader(
                user_id=int(row[0]),
                chat_id=int(row[1]),
                language=str(row[2]),
                areas=frozenset(areas[int(row[0])]),
            )
            for row in rows
        ]
