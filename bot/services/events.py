"""Events: publishing, RSVPs with a waitlist, changes, cancellations and their notices.

Messages to residents are rendered by an `EventRenderer` (implemented in the views and
handed in at start), in each recipient's language, and queued in the outbox in the same
transaction as the change they announce.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

from bot.clock import Clock
from bot.config import City
from bot.i18n import Catalogs, Translator
from bot.services import calendar
from bot.storage.db import Database, Transaction
from bot.storage.events import (
    ANSWERS,
    EVENT_TYPES,
    Attendee,
    Event,
    EventRepository,
    NewEvent,
    Rsvp,
    RsvpCounts,
    cancel_outbox_batches_in,
    claim_dialog_in,
)
from bot.storage.outbox import (
    PRIORITY_BULK,
    PRIORITY_RESIDENT,
    BulkMessage,
    OutboxItem,
    OutboxRepository,
)
from bot.storage.subscriptions import CITYWIDE, Recipient, SubscriptionRepository

log = logging.getLogger(__name__)

MAX_TITLE = 120
MAX_DESCRIPTION = 1500
MAX_PLACE = 300
MAX_CAPACITY = 100_000

# Why an event was refused (views turn these into sentences).
NO_TITLE = "no_title"
TITLE_TOO_LONG = "title_too_long"
DESCRIPTION_TOO_LONG = "description_too_long"
NO_AREA = "no_area"
UNKNOWN_AREA = "unknown_area"
BAD_CAPACITY = "bad_capacity"
UNKNOWN_TYPE = "unknown_type"
PLACE_TOO_LONG = "place_too_long"
NO_PLACE = "no_place"
NOT_FOUND = "not_found"
CANCELLED = "cancelled"
STARTED = "started"
ALREADY_DONE = "already_done"


class EventRejected(Exception):
    """An event (or a change to one) that cannot be accepted, with the reason code."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Outgoing:
    """A rendered message for the outbox: HTML text, an inline keyboard, maybe a photo."""

    text: str
    markup: Mapping[str, Any] | None = None
    photo: str | None = None

    def call(self, chat_id: int) -> tuple[str, dict[str, Any]]:
        """The Bot API method and parameters that deliver it to `chat_id`."""
        params: dict[str, Any]
        if self.photo:
            method = "sendPhoto"
            params = {"chat_id": chat_id, "photo": self.photo, "caption": self.text}
        else:
            method = "sendMessage"
            params = {"chat_id": chat_id, "text": self.text}
        params["parse_mode"] = "HTML"
        if self.markup:
            params["reply_markup"] = dict(self.markup)
        return method, params

    def edit(self, chat_id: int, message_id: int) -> tuple[str, dict[str, Any]]:
        """The editMessageText call that turns message `message_id` into this."""
        params: dict[str, Any] = {
            "chat_id": chat_id,
            "message_id": message_id,
            "text": self.text,
            "parse_mode": "HTML",
        }
        if self.markup:  # without one, the edit removes the buttons
            params["reply_markup"] = dict(self.markup)
        return "editMessageText", params


class EventRenderer(Protocol):
    """Messages about events, rendered for one translator (implemented in bot.views)."""

    def announcement(self, tr: Translator, event: Event) -> Outgoing: ...

    def changed(self, tr: Translator, event: Event, before: Event) -> Outgoing: ...

    def cancelled(self, tr: Translator, event: Event) -> Outgoing: ...

    def promoted(self, tr: Translator, event: Event) -> Outgoing: ...

    def attendee_message(self, tr: Translator, event: Event, text_html: str) -> Outgoing: ...

    def reminder(self, tr: Translator, event: Event) -> Outgoing: ...

    def digest(self, tr: Translator, events: Sequence[Event]) -> Outgoing: ...


@dataclass(frozen=True, slots=True)
class RsvpResult:
    """What an RSVP tap did."""

    outcome: str  # going | waitlisted | maybe | no | unchanged | closed | cancelled | not_found
    event: Event | None = None
    rsvp: Rsvp | None = None
    position: int = 0  # place on the waitlist
    promoted: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class EventDraft:
    """What an admin has entered so far (the dialog's data), loosely typed."""

    event_type: str = ""
    titles: Mapping[str, str] = field(default_factory=dict)
    descriptions: Mapping[str, str] = field(default_factory=dict)
    neighborhoods: tuple[str, ...] = ()
    citywide: bool = False
    starts_at: float | None = None
    ends_at: float | None = None
    place: str = ""
    latitude: float | None = None
    longitude: float | None = None
    capacity: int | None = None


def follows(areas: Iterable[str], muted_types: Iterable[str], event: Event) -> bool:
    """Whether someone following `areas` (without `muted_types`) hears about `event`.

    A neighborhood's event reaches that neighborhood's followers; a citywide event
    reaches everyone who follows any area (the whole city includes theirs).
    """
    followed = set(areas)
    if not followed or event.event_type in set(muted_types):
        return False
    if event.citywide:
        return True
    return bool(followed & set(event.neighborhoods))


def check_capacity(value: int | None) -> str | None:
    if value is None:
        return None
    if value < 1 or value > MAX_CAPACITY:
        return BAD_CAPACITY
    return None


class RenderCache:
    """One rendering per language for a bulk send (100,000 recipients, a few languages)."""

    def __init__(
        self, catalogs: Catalogs, render: Callable[[Translator], Outgoing], default_language: str
    ) -> None:
        self._catalogs = catalogs
        self._render = render
        self._default = default_language
        self._by_language: dict[str, Outgoing] = {}

    def __call__(self, language: str) -> Outgoing:
        found = self._by_language.get(language)
        if found is None:
            found = self._render(self._catalogs.get(language or self._default))
            self._by_language[language] = found
        return found


def each(
    recipients: Iterable[Recipient], render: Callable[[str], Outgoing]
) -> Iterator[tuple[Recipient, Outgoing]]:
    """Pair each recipient with the message in their language (rendered once per language)."""
    for recipient in recipients:
        yield recipient, render(recipient.language)


async def enqueue_bulk(
    tx: Transaction,
    deliveries: Iterable[tuple[Recipient, Outgoing]],
    *,
    key: str,
    now: float,
    priority: int,
    batch: str | None = None,
    expires_at: float | None = None,
    kind: str = "message",
) -> int:
    """Queue one delivery per recipient in the caller's transaction; return how many.

    Each row's key is `key` + ':<chat id>'. The rows are made while SQLite inserts them,
    and each rendering (one per language, from a `RenderCache`) is encoded once, so
    100,000 recipients never exist as 100,000 Python objects at once.
    """
    messages: dict[int, tuple[Outgoing, BulkMessage]] = {}

    def copies() -> Iterator[tuple[int, BulkMessage]]:
        for recipient, outgoing in deliveries:
            held = messages.get(id(outgoing))
            if held is None or held[0] is not outgoing:
                method, params = outgoing.call(0)
                del params["chat_id"]
                held = messages[id(outgoing)] = (outgoing, BulkMessage(method, params))
            yield recipient.chat_id, held[1]

    return await OutboxRepository.enqueue_copies_in(
        tx,
        copies(),
        key=key,
        now=now,
        priority=priority,
        batch=batch,
        kind=kind,
        expires_at=expires_at,
    )


class EventStores:
    """What the event and alert services are built from (the same for both)."""

    def __init__(
        self,
        *,
        db: Database,
        events: EventRepository,
        subscriptions: SubscriptionRepository,
        city: City,
        catalogs: Catalogs,
        clock: Clock,
        renderer: EventRenderer,
    ) -> None:
        self._db = db
        self._events = events
        self._subscriptions = subscriptions
        self._city = city
        self._catalogs = catalogs
        self._clock = clock
        self._renderer = renderer

    async def _deliver_in(
        self,
        tx: Transaction,
        recipients: Iterable[Recipient],
        render: Callable[[Translator], Outgoing],
        *,
        key: str,
        now: float,
        priority: int,
        batch: str,
        expires_at: float | None = None,
        kind: str = "message",
    ) -> int:
        """Queue `render`'s message for every recipient, in their language; return how many."""
        cache = RenderCache(self._catalogs, render, self._city.default_language)
        return await enqueue_bulk(
            tx,
            each(recipients, cache),
            key=key,
            now=now,
            priority=priority,
            batch=batch,
            expires_at=expires_at,
            kind=kind,
        )


class EventService(EventStores):
    @property
    def offsets_minutes(self) -> tuple[int, ...]:
        return reminder_offsets(self._city)

    # -- reading ------------------------------------------------------------------------

    async def get(self, event_id: int) -> Event | None:
        return await self._events.get(event_id)

    async def counts(self, event_ids: Sequence[int]) -> dict[int, RsvpCounts]:
        return await self._events.counts(event_ids)

    async def rsvp_of(self, event_id: int, user_id: int) -> Rsvp | None:
        return await self._events.rsvp(event_id, user_id)

    async def waitlist_position(self, rsvp: Rsvp) -> int:
        return await self._events.waitlist_position(rsvp.event_id, rsvp.queued_at)

    async def upcoming(self, *, limit: int = 20) -> list[Event]:
        return (await self._events.upcoming(self._clock.time(), limit=limit))[:limit]

    async def upcoming_for(self, user_id: int, *, show_all: bool, limit: int = 10) -> list[Event]:
        """Events for the resident's subscriptions (and their RSVPs), or all of them."""
        events = await self._events.upcoming(self._clock.time(), limit=200)
        if show_all:
            return events[:limit]
        settings = await self._subscriptions.settings(user_id)
        answered = await self._events.answered_events(user_id, ("going", "maybe"))
        mine = [
            event
            for event in events
            if event.id in answered or follows(settings.areas, settings.muted_types, event)
        ]
        return mine[:limit]

    async def reminder_runs(self, event_id: int) -> list[tuple[int, int, str, int]]:
        """(revision, offset in minutes, planned/skipped, recipients) of an event's reminders."""
        return await self._events.reminder_runs(event_id)

    async def record_open(self, event_id: int, user_id: int) -> None:
        """Remember that a resident opened the event's deep link (for follow-up surveys)."""
        await self._events.record_open(event_id, user_id, self._clock.time())

    async def attendees_for_survey(self, event_id: int) -> list[int]:
        """User ids to ask for feedback: RSVP'd Going/Maybe, or opened the event's link."""
        return await self._events.survey_audience(event_id)

    def ics(self, event: Event, language: str) -> bytes:
        return calendar.event_ics(
            event,
            language=language,
            default_language=self._city.default_language,
            tz=self._city.timezone,
            now=self._clock.time(),
            city_name=self._city.name,
        )

    async def announce_count(self, event: Event) -> int:
        """How many residents an announcement of `event` would reach now."""
        audience = await self._subscriptions.event_audience_in(
            self._db, areas=event.areas, event_type=event.event_type
        )
        return len(audience)

    async def notice_count(self, event: Event) -> int:
        """How many residents a change or cancellation of `event` would reach now."""
        return len(await self._notice_audience_in(self._db, event))

    async def going_or_maybe_count(self, event_id: int) -> int:
        attendees = await self._events.attendees_in(self._db, event_id, ("going", "maybe"))
        return sum(1 for a in attendees if a.active)

    # -- publishing ---------------------------------------------------------------------

    def preview(self, draft: EventDraft) -> Event:
        """The event a draft would become (id 0), or `EventRejected`."""
        new = self.validate(draft)
        now = self._clock.time()
        return Event(
            id=0,
            event_type=new.event_type,
            titles=new.titles,
            descriptions=new.descriptions,
            neighborhoods=new.neighborhoods,
            citywide=new.citywide,
            starts_at=new.starts_at,
            ends_at=new.ends_at,
            place=new.place,
            latitude=new.latitude,
            longitude=new.longitude,
            capacity=new.capacity,
            status="published",
            revision=1,
            created_by=0,
            created_at=now,
            updated_at=now,
        )

    def validate(self, draft: EventDraft) -> NewEvent:
        """Turn a complete draft into a `NewEvent`, or raise `EventRejected` with the reason."""
        default = self._city.default_language
        if draft.event_type not in EVENT_TYPES:
            raise EventRejected(UNKNOWN_TYPE)
        titles = {k: v.strip() for k, v in draft.titles.items() if v and v.strip()}
        if not titles.get(default):
            raise EventRejected(NO_TITLE)
        if any(len(title) > MAX_TITLE for title in titles.values()):
            raise EventRejected(TITLE_TOO_LONG)
        descriptions = {k: v.strip() for k, v in draft.descriptions.items() if v and v.strip()}
        if any(len(text) > MAX_DESCRIPTION for text in descriptions.values()):
            raise EventRejected(DESCRIPTION_TOO_LONG)
        if not draft.citywide and not draft.neighborhoods:
            raise EventRejected(NO_AREA)
        if any(self._city.neighborhood(hood) is None for hood in draft.neighborhoods):
            raise EventRejected(UNKNOWN_AREA)
        if draft.starts_at is None or draft.ends_at is None:
            raise EventRejected(calendar.UNREADABLE)
        problem = calendar.check_times(draft.starts_at, draft.ends_at, self._clock.time())
        if problem:
            raise EventRejected(problem)
        place = draft.place.strip()
        if len(place) > MAX_PLACE:
            raise EventRejected(PLACE_TOO_LONG)
        if not place and draft.latitude is None:
            raise EventRejected(NO_PLACE)
        capacity_problem = check_capacity(draft.capacity)
        if capacity_problem:
            raise EventRejected(capacity_problem)
        return NewEvent(
            event_type=draft.event_type,
            titles=titles,
            descriptions=descriptions,
            neighborhoods=() if draft.citywide else tuple(sorted(set(draft.neighborhoods))),
            citywide=draft.citywide,
            starts_at=draft.starts_at,
            ends_at=draft.ends_at,
            place=place,
            latitude=draft.latitude,
            longitude=draft.longitude,
            capacity=draft.capacity,
            created_by=0,
        )

    async def publish(
        self, draft: EventDraft, *, admin_id: int, dialog: tuple[int, str, int] | None = None
    ) -> tuple[Event, int]:
        """Store the event and announce it to the residents who follow it.

        With `dialog` (chat id, flow, version) the admin's draft dialog is closed in the same
        transaction, so a second tap on Publish raises `EventRejected(ALREADY_DONE)`.
        """
        new = self.validate(draft)
        new = replace(new, created_by=admin_id)
        now = self._clock.time()
        async with self._db.transaction() as tx:
            if dialog is not None and not await claim_dialog_in(tx, *dialog):
                raise EventRejected(ALREADY_DONE)
            event_id = await self._events.insert_in(tx, new, now)
            event = await self._events.get_in(tx, event_id)
            assert event is not None
            audience = await self._subscriptions.event_audience_in(
                tx, areas=event.areas, event_type=event.event_type
            )
            announced = await self._deliver_in(
                tx,
                audience,
                lambda tr: self._renderer.announcement(tr, event),
                key=f"announce:{event.id}",
                now=now,
                priority=PRIORITY_BULK,
                batch=f"event:{event.id}:announce",
                expires_at=event.starts_at,
            )
            await self._skip_overdue_reminders_in(tx, event, now)
        log.info("event %s published, announced to %d residents", event.id, announced)
        return event, announced

    async def _skip_overdue_reminders_in(self, tx: Transaction, event: Event, now: float) -> None:
        """Offsets already due when an event is published or moved: the notice covers them."""
        for offset in self.offsets_minutes:
            if event.starts_at - offset * 60 <= now:
                await self._events.record_reminder_in(
                    tx,
                    event_id=event.id,
                    revision=event.revision,
                    offset_minutes=offset,
                    outcome="skipped",
                    recipients=0,
                    now=now,
                )

    # -- RSVPs --------------------------------------------------------------------------

    async def rsvp(self, event_id: int, user_id: int, answer: str) -> RsvpResult:
        """Record Going / Maybe / Can't go; past capacity a Going waits on the waitlist."""
        if answer not in ANSWERS:
            raise ValueError(f"unknown answer {answer!r}")
        now = self._clock.time()
        async with self._db.transaction(inline=True) as tx:
            event = await self._events.get_in(tx, event_id)
            if event is None:
                return RsvpResult(NOT_FOUND)
            if event.cancelled:
                return RsvpResult(CANCELLED, event)
            if event.starts_at <= now:
                return RsvpResult("closed", event)
            current = await self._events.rsvp_in(tx, event_id, user_id)
            if current is not None and current.answer == answer:
                position = (
                    await self._events.waitlist_position_in(tx, event_id, current.queued_at)
                    if current.waitlisted
                    else 0
                )
                return RsvpResult("unchanged", event, current, position)
            promoted: tuple[int, ...] = ()
            if answer == "going":
                going = await self._events.confirmed_going_in(tx, event_id)
                full = event.capacity is not None and going >= event.capacity
                await self._events.set_rsvp_in(
                    tx,
                    event_id=event_id,
                    user_id=user_id,
                    answer="going",
                    waitlisted=full,
                    queued_at=now,
                    now=now,
                )
                outcome = "waitlisted" if full else "going"
            else:
                await self._events.set_rsvp_in(
                    tx,
                    event_id=event_id,
                    user_id=user_id,
                    answer=answer,
                    waitlisted=False,
                    queued_at=current.queued_at if current else now,
                    now=now,
                )
                outcome = answer
                if current is not None and current.answer == "going" and not current.waitlisted:
                    promoted = await self._promote_in(tx, event, now)
            rsvp = await self._events.rsvp_in(tx, event_id, user_id)
            position = (
                await self._events.waitlist_position_in(tx, event_id, rsvp.queued_at)
                if rsvp is not None and rsvp.waitlisted
                else 0
            )
        return RsvpResult(outcome, event, rsvp, position, promoted)

    async def _promote_in(self, tx: Transaction, event: Event, now: float) -> tuple[int, ...]:
        """Give freed places to the waitlist in order, and tell each promoted resident."""
        if event.capacity is None:
            return ()
        promoted: list[int] = []
        while await self._events.confirmed_going_in(tx, event.id) < event.capacity:
            first = await self._events.first_waitlisted_in(tx, event.id)
            if first is None:
                break
            await self._events.set_rsvp_in(
                tx,
                event_id=event.id,
                user_id=first.user_id,
                answer="going",
                waitlisted=False,
                queued_at=first.queued_at,
                now=now,
            )
            promoted.append(first.user_id)
            attendees = await self._events.attendees_in(tx, event.id, ("going",))
            target = next((a for a in attendees if a.user_id == first.user_id), None)
            if target is None or not target.active:
                continue
            tr = self._catalogs.get(target.language)
            method, params = self._renderer.promoted(tr, event).call(target.chat_id)
            await OutboxRepository.enqueue_in(
                tx,
                OutboxItem(
                    key=f"promoted:{event.id}:{first.user_id}:{int(first.queued_at * 1000)}",
                    chat_id=target.chat_id,
                    method=method,
                    params=params,
                    not_before=now,
                    priority=PRIORITY_RESIDENT,
                    batch=f"event:{event.id}:notice",
                    expires_at=event.starts_at,
                ),
                now,
            )
        return tuple(promoted)

    # -- changes ------------------------------------------------------------------------

    async def _editable_in(self, tx: Transaction, event_id: int, now: float) -> Event:
        event = await self._events.get_in(tx, event_id)
        if event is None:
            raise EventRejected(NOT_FOUND)
        if event.cancelled:
            raise EventRejected(CANCELLED)
        if event.starts_at <= now:
            raise EventRejected(STARTED)
        return event

    async def _notice_audience_in(
        self, tx: Database | Transaction, event: Event
    ) -> list[Recipient]:
        """Followers of the event plus everyone who answered Going or Maybe (waitlist too)."""
        followers = await self._subscriptions.event_audience_in(
            tx, areas=event.areas, event_type=event.event_type
        )
        attendees = await self._events.attendees_in(tx, event.id, ("going", "maybe"))
        seen = {recipient.user_id for recipient in followers}
        extra = [
            Recipient(a.user_id, a.chat_id, a.language)
            for a in attendees
            if a.active and a.user_id not in seen
        ]
        return followers + extra

    async def change_time(
        self,
        event_id: int,
        *,
        starts_at: float,
        ends_at: float,
        dialog: tuple[int, str, int] | None = None,
    ) -> tuple[Event, int]:
        """Move an event; tell its followers and RSVPs, and re-plan the reminders."""
        now = self._clock.time()
        problem = calendar.check_times(starts_at, ends_at, now)
        if problem:
            raise EventRejected(problem)
        async with self._db.transaction() as tx:
            if dialog is not None and not await claim_dialog_in(tx, *dialog):
                raise EventRejected(ALREADY_DONE)
            before = await self._editable_in(tx, event_id, now)
            await self._events.update_time_in(tx, event_id, starts_at, ends_at, now)
            return await self._changed_in(tx, before, now)

    async def change_place(
        self,
        event_id: int,
        *,
        place: str,
        latitude: float | None,
        longitude: float | None,
        dialog: tuple[int, str, int] | None = None,
    ) -> tuple[Event, int]:
        """Move an event to another place; tell its followers and RSVPs."""
        now = self._clock.time()
        place = place.strip()
        if len(place) > MAX_PLACE:
            raise EventRejected(PLACE_TOO_LONG)
        if not place and latitude is None:
            raise EventRejected(NO_PLACE)
        async with self._db.transaction() as tx:
            if dialog is not None and not await claim_dialog_in(tx, *dialog):
                raise EventRejected(ALREADY_DONE)
            before = await self._editable_in(tx, event_id, now)
            await self._events.update_place_in(tx, event_id, place, latitude, longitude, now)
            return await self._changed_in(tx, before, now)

    async def _changed_in(self, tx: Transaction, before: Event, now: float) -> tuple[Event, int]:
        after = await self._events.get_in(tx, before.id)
        assert after is not None
        # Reminders and announcements not yet delivered carry the old details.
        await cancel_outbox_batches_in(
            tx, [f"event:{after.id}:remind", f"event:{after.id}:announce"], now
        )
        audience = await self._notice_audience_in(tx, after)
        notified = await self._deliver_in(
            tx,
            audience,
            lambda tr: self._renderer.changed(tr, after, before),
            key=f"changed:{after.id}.{after.revision}",
            now=now,
            priority=PRIORITY_RESIDENT,
            batch=f"event:{after.id}:notice",
            expires_at=after.ends_at,
        )
        await self._skip_overdue_reminders_in(tx, after, now)
        log.info("event %s changed (revision %s), %d notices", after.id, after.revision, notified)
        return after, notified

    async def cancel(self, event_id: int) -> tuple[Event, int]:
        """Cancel an event: drop its pending reminders and tell followers and RSVPs."""
        now = self._clock.time()
        async with self._db.transaction() as tx:
            event = await self._events.get_in(tx, event_id)
            if event is None:
                raise EventRejected(NOT_FOUND)
            if not await self._events.cancel_in(tx, event_id, now):
                raise EventRejected(CANCELLED)
            cancelled = await self._events.get_in(tx, event_id)
            assert cancelled is not None
            await cancel_outbox_batches_in(
                tx,
                [
                    f"event:{event_id}:remind",
                    f"event:{event_id}:announce",
                    f"event:{event_id}:notice",
                ],
                now,
            )
            audience = await self._notice_audience_in(tx, cancelled)
            notified = await self._deliver_in(
                tx,
                audience,
                lambda tr: self._renderer.cancelled(tr, cancelled),
                key=f"cancelled:{event_id}",
                now=now,
                priority=PRIORITY_RESIDENT,
                batch=f"event:{event_id}:cancel",
            )
        log.info("event %s cancelled, %d notices", event_id, notified)
        return cancelled, notified

    async def message_attendees(self, event_id: int, text_html: str, *, nonce: str) -> int:
        """Send an admin's message to everyone who answered Going or Maybe."""
        now = self._clock.time()
        async with self._db.transaction() as tx:
            event = await self._events.get_in(tx, event_id)
            if event is None:
                raise EventRejected(NOT_FOUND)
            attendees = await self._events.attendees_in(tx, event_id, ("going", "maybe"))
            recipients = [
                Recipient(a.user_id, a.chat_id, a.language) for a in attendees if a.active
            ]
            return await self._deliver_in(
                tx,
                recipients,
                lambda tr: self._renderer.attendee_message(tr, event, text_html),
                key=f"attendees:{event_id}:{nonce}",
                now=now,
                priority=PRIORITY_RESIDENT,
                batch=f"event:{event_id}:message",
            )

    async def attendee_count(self, event_id: int) -> int:
        counts = (await self._events.counts([event_id]))[event_id]
        return counts.going + counts.maybe + counts.waitlist


def reminder_offsets(city: City) -> tuple[int, ...]:
    """The city's reminder offsets in whole minutes, largest first."""
    minutes = {round(hours * 60) for hours in city.reminder_offsets_hours if hours > 0}
    return tuple(sorted(minutes, reverse=True))


__all__ = [
    "CITYWIDE",
    "Attendee",
    "EventDraft",
    "EventRejected",
    "EventRenderer",
    "EventService",
    "Outgoing",
    "RsvpResult",
    "follows",
]
