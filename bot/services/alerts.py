"""Alerts: what each resident follows, reminders before events, the weekly digest.

Scheduled work is a periodic tick reading the database: a reminder offset of an event
is planned once (recorded in `reminder_runs` in the same transaction as its outbox rows),
so a restart or a crash neither loses nor repeats one. A reminder that fell due while the
bot was down is sent late, but only while the event has not started (the rows expire at
the start), and only the latest offset that fell due.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.services.events import (
    EventStores,
    Outgoing,
    enqueue_bulk,
    follows,
    reminder_offsets,
)
from bot.storage.db import Transaction
from bot.storage.events import EVENT_TYPES, Event
from bot.storage.outbox import PRIORITY_BULK, PRIORITY_RESIDENT
from bot.storage.subscriptions import (
    CITYWIDE,
    PREFS,
    AlertSettings,
    Recipient,
)

log = logging.getLogger(__name__)

DIGEST_GRACE = timedelta(hours=12)  # a digest is sent late, but not days late
DIGEST_SPAN = timedelta(days=7)


@dataclass(frozen=True, slots=True)
class LinkResult:
    ok: bool
    settings: AlertSettings
    already: bool = False


class AlertService(EventStores):
    # -- what a resident follows ------------------------------------------------------

    def valid_area(self, area: str) -> bool:
        return area == CITYWIDE or self._city.neighborhood(area) is not None

    async def settings(self, user_id: int) -> AlertSettings:
        return await self._subscriptions.settings(user_id)

    async def set_area(self, user_id: int, area: str, on: bool) -> AlertSettings | None:
        """Follow or stop following a neighborhood (or '*' citywide); None if unknown."""
        if not self.valid_area(area):
            return None
        await self._subscriptions.set_area(user_id, area, on, self._clock.time())
        return await self.settings(user_id)

    async def set_event_type(self, user_id: int, event_type: str, on: bool) -> AlertSettings | None:
        if event_type not in EVENT_TYPES:
            return None
        await self._subscriptions.set_event_type(user_id, event_type, on)
        return await self.settings(user_id)

    async def set_pref(self, user_id: int, name: str, on: bool) -> AlertSettings | None:
        if name not in PREFS:
            return None
        await self._subscriptions.set_pref(user_id, name, on, self._clock.time())
        return await self.settings(user_id)

    async def subscribe_link(self, user_id: int, neighborhood: str) -> LinkResult:
        """A `nb_<neighborhood>` deep link: follow it (an unknown one changes nothing)."""
        current = await self.settings(user_id)
        if self._city.neighborhood(neighborhood) is None:
            return LinkResult(False, current)
        if neighborhood in current.areas:
            return LinkResult(True, current, already=True)
        await self._subscriptions.set_area(user_id, neighborhood, True, self._clock.time())
        return LinkResult(True, await self.settings(user_id))

    async def stop(self, user_id: int) -> AlertSettings:
        """Unsubscribe from everything (areas, reminders, digest, broadcasts)."""
        await self._subscriptions.stop(user_id, self._clock.time())
        return await self.settings(user_id)

    # -- reminders --------------------------------------------------------------------

    async def plan_reminders(self) -> int:
        """Queue every reminder that is due now; return how many deliveries were queued."""
        now = self._clock.time()
        offsets = reminder_offsets(self._city)
        if not offsets:
            return 0
        queued = 0
        for event in await self._events.reminder_candidates(now, max(offsets) * 60):
            queued += await self._plan_event_reminder(event, offsets, now)
        return queued

    async def _plan_event_reminder(self, event: Event, offsets: tuple[int, ...], now: float) -> int:
        due = [offset for offset in offsets if event.starts_at - offset * 60 <= now]
        if not due:
            return 0
        async with self._db.transaction() as tx:
            current = await self._events.get_in(tx, event.id)
            if current is None or current.cancelled or current.revision != event.revision:
                return 0  # changed meanwhile; the next tick sees the new revision
            done = await self._events.reminder_offsets_done_in(tx, event.id, event.revision)
            pending = [offset for offset in due if offset not in done]
            if not pending:
                return 0
            latest = min(pending)
            if any(offset < latest for offset in done):
                latest = -1  # a closer reminder already went out
            for offset in pending:
                if offset != latest:
                    await self._events.record_reminder_in(
                        tx,
                        event_id=event.id,
                        revision=event.revision,
                        offset_minutes=offset,
                        outcome="skipped",
                        recipients=0,
                        now=now,
                    )
            if latest < 0:
                return 0
            recipients = await self._reminder_audience_in(tx, event)
            queued = await self._deliver_in(
                tx,
                recipients,
                lambda tr: self._renderer.reminder(tr, event),
                key=f"reminder:{event.id}.{event.revision}:{latest}",
                now=now,
                priority=PRIORITY_RESIDENT,
                batch=f"event:{event.id}:remind",
                expires_at=event.starts_at,
                kind="reminder",
            )
            await self._events.record_reminder_in(
                tx,
                event_id=event.id,
                revision=event.revision,
                offset_minutes=latest,
                outcome="planned",
                recipients=queued,
                now=now,
            )
        log.info("reminder %d min before event %s: %d residents", latest, event.id, queued)
        return queued

    async def _reminder_audience_in(self, tx: Transaction, event: Event) -> list[Recipient]:
        """Followers with reminders on, plus Going/Maybe answers with reminders on."""
        followers = await self._subscriptions.event_audience_in(
            tx, areas=event.areas, event_type=event.event_type, reminders_only=True
        )
        declined = {a.user_id for a in await self._events.attendees_in(tx, event.id, ("no",))}
        attendees = await self._events.attendees_in(tx, event.id, ("going", "maybe"))
        chosen = [r for r in followers if r.user_id not in declined]
        seen = {r.user_id for r in chosen}
        chosen += [
            Recipient(a.user_id, a.chat_id, a.language)
            for a in attendees
            if a.active and a.reminders and a.user_id not in seen
        ]
        return chosen

    # -- weekly digest ----------------------------------------------------------------

    def digest_slot(self, now: datetime) -> datetime:
        """The latest configured digest moment at or before `now` (aware, city time)."""
        tz = self._city.timezone
        local = now.astimezone(tz)
        back = (local.weekday() - self._city.digest_weekday) % 7
        day = local.date() - timedelta(days=back)
        slot = datetime.combine(day, self._city.digest_time, tzinfo=tz)
        if slot > local:
            slot = datetime.combine(day - timedelta(days=7), self._city.digest_time, tzinfo=tz)
        return slot

    async def plan_digest(self) -> int:
        """At the configured weekday and time, queue each resident's next-week digest once."""
        now = self._clock.now()
        slot = self.digest_slot(now)
        if now - slot > DIGEST_GRACE:
            return 0
        key = slot.date().isoformat()
        start = now.timestamp()
        end = (slot + DIGEST_SPAN).timestamp()
        async with self._db.transaction() as tx:
            if await self._events.digest_done_in(tx, key):
                return 0
            events = await self._digest_events(start, end)
            readers = await self._subscriptions.digest_readers_in(tx) if events else []
            rsvps = await self._subscriptions.rsvp_map_in(tx, [e.id for e in events])
            cache: dict[tuple[str, tuple[int, ...]], Outgoing] = {}
            deliveries: list[tuple[Recipient, Outgoing]] = []
            for reader in readers:
                mine = tuple(
                    event
                    for event in events
                    if event.id in rsvps.get(reader.recipient.user_id, ())
                    or follows(reader.areas, reader.muted_types, event)
                )
                if not mine:
                    continue  # nothing upcoming for them: no digest at all
                language = reader.recipient.language
                cache_key = (language, tuple(event.id for event in mine))
                rendered = cache.get(cache_key)
                if rendered is None:
                    rendered = self._renderer.digest(self._catalogs.get(language), mine)
                    cache[cache_key] = rendered
                deliveries.append((reader.recipient, rendered))
            queued = await enqueue_bulk(
                tx,
                deliveries,
                key=f"digest:{key}",
                now=start,
                priority=PRIORITY_BULK,
                batch=f"digest:{key}",
                expires_at=(slot + timedelta(days=1)).timestamp(),
                kind="digest",
            )
            await self._events.record_digest_in(tx, key, queued, start)
        log.info("weekly digest %s: %d residents", key, queued)
        return queued

    async def _digest_events(self, start: float, end: float) -> list[Event]:
        return await self._events.starting_between(start, end)
