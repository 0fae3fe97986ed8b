"""The monthly transparency digest and its "you said, we did" note.

Residents who opt in (the switch in /alerts, `alert_prefs.transparency`) get, once a
month, what happened to reports in the neighborhoods they follow and in the whole city
during the previous month, with a note an admin writes with /digestnote. The digest goes
out on the configured day and time (`[transparency]` in the city file): a periodic tick
calls `plan_monthly_digest`, which queues every reader's message and records the month in
one transaction, so a restart neither loses nor repeats a digest. A digest is not sent
more than `DIGEST_GRACE` late (the bot was down): an old month's figures are not news.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from bot.clock import Clock
from bot.config import City
from bot.i18n import Catalogs, Translator
from bot.services.stats import AreaFigures, month_bounds, month_figures
from bot.storage.db import Database
from bot.storage.outbox import PRIORITY_BULK, OutboxItem, OutboxRepository
from bot.storage.stats import CITYWIDE, DigestNote, StatsRepository, TransparencyRepository

log = logging.getLogger(__name__)

FLOW = "digestnote"
MAX_NOTE = 1200  # characters: the digest and its note stay well under Telegram's 4096
DIGEST_GRACE = timedelta(days=3)
KIND_DIGEST = "transparency_digest"


@dataclass(frozen=True, slots=True)
class DigestSlot:
    """One month's digest: the month it covers and when it goes out (city time)."""

    month: date  # the first day of the month covered
    at: datetime

    @property
    def key(self) -> str:
        return month_key(self.month)


def month_key(first_day: date) -> str:
    return f"{first_day.year:04d}-{first_day.month:02d}"


def parse_month_key(key: str) -> date | None:
    try:
        year, month = (int(part) for part in key.split("-"))
        return date(year, month, 1)
    except ValueError:
        return None


def _add_months(first_day: date, months: int) -> date:
    index = first_day.year * 12 + first_day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


@dataclass(frozen=True, slots=True)
class DigestContent:
    """What one resident's digest says (rendered by `bot.views.transparency`)."""

    month: date
    areas: tuple[tuple[str, AreaFigures], ...]  # followed neighborhoods, in city order
    citywide: AreaFigures
    note: str | None = None


DigestRenderer = Callable[[Translator, DigestContent], str]


def pick_note(notes: Mapping[str, DigestNote], language: str, default: str) -> str | None:
    """The note in the reader's language, else the default language's, else the first."""
    chosen = notes.get(language) or notes.get(default)
    if chosen is None and notes:
        chosen = next(iter(notes.values()))
    return chosen.body if chosen is not None else None


@dataclass(slots=True)
class _Figures:
    by_area: dict[str, AreaFigures] = field(default_factory=dict)

    def of(self, area: str) -> AreaFigures:
        return self.by_area.get(area, AreaFigures())


class TransparencyService:
    def __init__(
        self,
        *,
        db: Database,
        repo: TransparencyRepository,
        stats: StatsRepository,
        outbox: OutboxRepository,
        city: City,
        catalogs: Catalogs,
        clock: Clock,
        render: DigestRenderer,
        wake: Callable[[], None] = lambda: None,
    ) -> None:
        self._db = db
        self.repo = repo
        self._stats = stats
        self._outbox = outbox
        self._city = city
        self._catalogs = catalogs
        self._clock = clock
        self._render = render
        self._wake = wake

    # -- when --------------------------------------------------------------------------

    def _slot_in(self, local_first_day: date) -> DigestSlot:
        """The digest that goes out in the month starting `local_first_day`."""
        city = self._city
        sent_on = local_first_day.replace(day=city.transparency_digest_day)
        at = datetime.combine(sent_on, city.transparency_digest_time, tzinfo=city.timezone)
        return DigestSlot(_add_months(local_first_day, -1), at)

    def latest_slot(self, now: datetime | None = None) -> DigestSlot:
        """The latest digest moment at or before `now`."""
        local = (now or self._clock.now()).astimezone(self._city.timezone)
        slot = self._slot_in(local.date().replace(day=1))
        if slot.at > local:
            slot = self._slot_in(_add_months(local.date().replace(day=1), -1))
        return slot

    def next_slot(self, now: datetime | None = None) -> DigestSlot:
        """The next digest to go out (the one a note written now belongs to)."""
        local = (now or self._clock.now()).astimezone(self._city.timezone)
        slot = self._slot_in(local.date().replace(day=1))
        if slot.at <= local:
            slot = self._slot_in(_add_months(local.date().replace(day=1), 1))
        return slot

    def slot_for(self, key: str) -> DigestSlot | None:
        """The digest covering the month `key` (YYYY-MM)."""
        first = parse_month_key(key)
        return None if first is None else self._slot_in(_add_months(first, 1))

    # -- the note ------------------------------------------------------------------------

    async def notes(self, key: str) -> dict[str, DigestNote]:
        return await self.repo.notes(key)

    async def save_note(
        self,
        *,
        chat_id: int,
        version: int,
        key: str,
        language: str,
        body: str,
        author_id: int,
    ) -> bool:
        """Store the note and close the dialog that confirmed it; False for a stale tap."""
        text = body.strip()
        if not text or len(text) > MAX_NOTE or language not in self._city.languages:
            return False
        now = self._clock.time()
        async with self._db.transaction() as tx:
            if not await self.repo.claim_dialog_in(tx, chat_id, FLOW, version):
                return False
            await self.repo.save_note_in(
                tx, month=key, language=language, body=text, author_id=author_id, now=now
            )
        log.info("digest note for %s (%s) saved by %s", key, language, author_id)
        return True

    async def reader_count(self) -> int:
        return await self.repo.reader_count()

    async def remove_notes(self, key: str) -> int:
        return await self.repo.delete_notes(key)

    # -- the digest ----------------------------------------------------------------------

    async def _figures(self, first_day: date) -> _Figures:
        start, end = month_bounds(first_day.year, first_day.month, self._city.timezone)
        facts = await self._stats.month_facts(start, end)
        return _Figures(month_figures(facts, start, end))

    def _content(
        self, first_day: date, figures: _Figures, neighborhoods: Sequence[str], note: str | None
    ) -> DigestContent:
        followed = set(neighborhoods)
        areas = tuple(
            (hood.id, figures.of(hood.id))
            for hood in self._city.neighborhoods
            if hood.id in followed
        )
        return DigestContent(first_day, areas, figures.of(CITYWIDE), note)

    async def preview(self, key: str, language: str, note: str | None) -> str | None:
        """The digest a citywide reader of `language` would get, with the figures so far."""
        first = parse_month_key(key)
        if first is None:
            return None
        figures = await self._figures(first)
        tr = self._catalogs.get(language)
        return self._render(tr, self._content(first, figures, (), note))

    async def plan_monthly_digest(self) -> int:
        """When the digest is due, queue it for every reader once; return how many."""
        now = self._clock.now()
        slot = self.latest_slot(now)
        if now - slot.at > DIGEST_GRACE:
            return 0
        key = slot.key
        if await self.repo.run(key) is not None:
            return 0
        figures = await self._figures(slot.month)
        notes = await self.repo.notes(key)
        default = self._city.default_language
        now_ts = now.timestamp()
        rendered: dict[tuple[str, tuple[str, ...]], str] = {}
        async with self._db.transaction() as tx:
            if await self.repo.run_done_in(tx, key):
                return 0
            items: list[OutboxItem] = []
            for reader in await self.repo.readers_in(tx):
                tr = self._catalogs.get(reader.language)
                hoods = tuple(n for n in reader.neighborhoods if self._city.neighborhood(n))
                cache_key = (tr.language, hoods)
                text = rendered.get(cache_key)
                if text is None:
                    note = pick_note(notes, tr.language, default)
                    text = self._render(tr, self._content(slot.month, figures, hoods, note))
                    rendered[cache_key] = text
                items.append(
                    OutboxItem(
                        key=f"transparency:{key}:{reader.chat_id}",
                        chat_id=reader.chat_id,
                        method="sendMessage",
                        params={
                            "chat_id": reader.chat_id,
                            "text": text,
                            "parse_mode": "HTML",
                            "link_preview_options": {"is_disabled": True},
                        },
                        not_before=now_ts,
                        kind=KIND_DIGEST,
                        priority=PRIORITY_BULK,
                        expires_at=(slot.at + DIGEST_GRACE).timestamp(),
                        batch=f"transparency:{key}",
                    )
                )
            await self._outbox.enqueue_many_in(tx, items, now_ts)
            await self.repo.record_run_in(tx, key, len(items), now_ts)
        log.info("monthly transparency digest %s: %d residents", key, len(items))
        if items:
            self._wake()
        return len(items)
