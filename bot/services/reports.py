"""Reports: the draft a resident fills in, filing it, status changes, relaying, escalation.

Everything that announces a change (the staff card, a resident's status update, a
relayed message) is an outbox row committed in the same transaction as the change.
Texts come from a `ReportMessages` renderer (implemented in `bot.views.staff`) so that
this module stays free of Telegram and of presentation.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import logging
import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, fields, replace
from datetime import date, datetime
from typing import Any, Final, Protocol

from bot.clock import Clock
from bot.config import Category, City, Neighborhood
from bot.services.staff import StaffService
from bot.storage.db import Database, Transaction
from bot.storage.outbox import (
    PRIORITY_RESIDENT,
    PRIORITY_STAFF,
    OutboxItem,
    OutboxRepository,
    OutboxRow,
)
from bot.storage.reports import (
    OPEN_STATUSES,
    STATUSES,
    NewReport,
    Report,
    ReportEvent,
    ReportRepository,
    StatusCounts,
)
from bot.storage.residents import ResidentRepository

log = logging.getLogger(__name__)

MIN_TEXT = 10
MAX_TEXT = 2000
MAX_PHOTOS = 3
MIN_ADDRESS = 3
MAX_ADDRESS = 200
CAPTION_LIMIT = 1024
HOUR = 3600.0
SUMMARY_LIST_LIMIT = 10

# Kinds of outbox rows, each with its after-send hook.
KIND_TOPIC = "report_topic"
KIND_CARD = "report_card"
KIND_MEDIA = "report_media"
KIND_TO_STAFF = "report_to_staff"
KIND_TO_RESIDENT = "report_to_resident"
KIND_STAFF_NOTICE = "report_staff_notice"

# Status codes used in callback data (short, so that buttons stay under 64 bytes).
STATUS_CODES = {"n": "new", "a": "acknowledged", "p": "in_progress", "r": "resolved"}
STATUS_CODES["x"] = "not_actionable"
CODE_OF_STATUS = {status: code for code, status in STATUS_CODES.items()}

_KEY_RE = re.compile(r"^report:(\d+):")


# --------------------------------------------------------------------------- the draft


@dataclass(slots=True)
class Draft:
    """A report being written; stored as the dialog's JSON data between steps."""

    category: str | None = None
    neighborhood: str | None = None
    address: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    outside_area: bool = False
    pending_location: list[float] | None = None  # outside the city, awaiting a yes
    text: str = ""
    photos: list[str] = field(default_factory=list)
    voice: str | None = None
    anonymous: bool | None = None
    emergency_words: list[str] = field(default_factory=list)
    editing: bool = False  # return to the summary after the step

    def to_data(self) -> dict[str, Any]:
        # `asdict` walks every value recursively; the fields are plain values and lists
        # of plain values, copied here so that the data never shares a list with the draft.
        return {
            name: list(value) if isinstance(value, list) else value
            for name in _DRAFT_FIELDS
            for value in (getattr(self, name),)
        }

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> Draft:
        return cls(**{name: data[name] for name in _DRAFT_FIELDS if name in data})

    @property
    def has_place(self) -> bool:
        return bool(self.neighborhood or self.address or self.latitude is not None)

    def clear_place(self) -> None:
        self.neighborhood = self.address = None
        self.latitude = self.longitude = None
        self.outside_area = False
        self.pending_location = None

    def note_emergency(self, words: Sequence[str]) -> None:
        for word in words:
            if word not in self.emergency_words:
                self.emergency_words.append(word)


_DRAFT_FIELDS: Final = tuple(item.name for item in fields(Draft))


@dataclass(frozen=True, slots=True)
class Reporter:
    """The resident's Telegram name, kept only when they chose to share it."""

    name: str
    username: str | None = None


@dataclass(frozen=True, slots=True)
class Quota:
    remaining: int
    next_at: float | None = None  # when the next report is allowed, if none remain

    @property
    def allowed(self) -> bool:
        return self.remaining > 0


@dataclass(frozen=True, slots=True)
class Filed:
    """The outcome of `file_report`: the report, or the time the resident may try again."""

    report: Report | None = None
    retry_at: float | None = None


@dataclass(frozen=True, slots=True)
class Relayed:
    """A message to pass on: text, or a file (photo, voice, document) with a caption."""

    kind: str  # text | photo | voice | document
    text: str = ""
    file_id: str | None = None

    @property
    def summary(self) -> str:
        """What the history keeps: the text, or a marker for a file without one."""
        if self.text:
            return self.text
        return f"[{self.kind}]"


@dataclass(frozen=True, slots=True)
class StatusChange:
    """The outcome of a staff member's button press."""

    outcome: str  # changed | unchanged | not_found | wrong_message
    report: Report | None = None


class ReportMessages(Protocol):
    """The texts the service puts in the outbox (see `bot.views.staff.ReportTexts`)."""

    def topic_name(self, report: Report) -> str: ...

    def staff_card(self, report: Report) -> tuple[str, dict[str, Any]]: ...

    def staff_media_caption(self, report: Report) -> str: ...

    def staff_escalation(self, report: Report) -> str: ...

    def staff_summary(
        self, counts: StatusCounts, reports: Sequence[Report], now: datetime
    ) -> str: ...

    def staff_from_resident(self, report: Report, text: str) -> str: ...

    def resident_status(self, report: Report, language: str) -> str: ...

    def resident_from_staff(self, report: Report, text: str, language: str) -> str: ...


# --------------------------------------------------------------------------- pure checks


def normalize(text: str) -> str:
    return unicodedata.normalize("NFC", text).casefold().strip()


@functools.lru_cache(maxsize=8)
def _emergency_needles(words: tuple[str, ...]) -> tuple[tuple[str, ...], re.Pattern[str] | None]:
    """The emergency words, normalized, and one pattern that finds any of them."""
    needles: list[str] = []
    for word in words:
        needle = normalize(word)
        if needle and needle not in needles:
            needles.append(needle)
    alternatives = "|".join(re.escape(needle) for needle in needles)
    pattern = re.compile(r"(?<!\w)(?:" + alternatives + r")(?!\w)") if needles else None
    return tuple(needles), pattern


def find_emergency_words(text: str, city: City) -> list[str]:
    """Emergency words or phrases of any enabled language found in `text` (whole words)."""
    needles, anything = _emergency_needles(
        tuple(word for code in city.languages for word in city.emergency_words.get(code, ()))
    )
    haystack = normalize(text)
    if anything is None or anything.search(haystack) is None:
        return []  # the usual case, in one pass over the text
    # Every word found, in the city file's order (one may be part of another: "fire",
    # "house fire"), so each is looked for on its own.
    return [
        needle
        for needle in needles
        if re.search(r"(?<!\w)" + re.escape(needle) + r"(?!\w)", haystack)
    ]


def description_problem(text: str) -> str | None:
    """'too_short' / 'too_long' / None for a description of acceptable length."""
    length = len(text.strip())
    if length < MIN_TEXT:
        return "too_short"
    if length > MAX_TEXT:
        return "too_long"
    return None


def match_neighborhood(text: str, city: City) -> Neighborhood | None:
    wanted = normalize(text)
    for neighborhood in city.neighborhoods:
        if any(normalize(name) == wanted for name in neighborhood.names.values()):
            return neighborhood
    return None


def match_category(text: str, city: City) -> Category | None:
    """A category typed by name in any enabled language."""
    wanted = normalize(text)
    for category in city.categories:
        if any(normalize(name) == wanted for name in category.names.values()):
            return category
    return None


def pseudonym(secret: str, resident_id: int) -> str:
    """A short stable tag for an anonymous resident: a keyed hash, never the id."""
    digest = hmac.new(secret.encode(), f"reporter:{resident_id}".encode(), hashlib.sha256)
    return digest.hexdigest()[:4].upper()


def report_id_of(key: str) -> int | None:
    match = _KEY_RE.match(key)
    return int(match.group(1)) if match else None


# --------------------------------------------------------------------------- the service


class ReportService:
    def __init__(
        self,
        *,
        db: Database,
        reports: ReportRepository,
        outbox: OutboxRepository,
        residents: ResidentRepository,
        staff: StaffService,
        city: City,
        clock: Clock,
        messages: ReportMessages,
        hash_secret: str,
        detect: Callable[[str], str | None] = lambda text: None,
        wake: Callable[[], None] = lambda: None,
    ) -> None:
        self._db = db
        self.repo = reports
        self._outbox = outbox
        self._residents = residents
        self._staff = staff
        self._city = city
        self._clock = clock
        self._messages = messages
        self._secret = hash_secret
        self._detect = detect
        self._wake = wake

    # -- filing ------------------------------------------------------------------------------

    async def quota(self, resident_id: int) -> Quota:
        """How many reports the resident may still send this hour."""
        now = self._clock.time()
        times = await self.repo.created_since(resident_id, now - HOUR)
        limit = self._city.reports_per_hour
        if len(times) < limit:
            return Quota(limit - len(times))
        return Quota(0, next_at=times[len(times) - limit] + HOUR)

    def pseudonym(self, resident_id: int) -> str:
        return pseudonym(self._secret, resident_id)

    def year(self, moment: float) -> int:
        return datetime.fromtimestamp(moment, self._city.timezone).year

    async def file_report(
        self,
        draft: Draft,
        *,
        resident_id: int,
        chat_id: int,
        language: str,
        reporter: Reporter | None,
        clear_dialog: Callable[[Transaction], Any] | None = None,
        confirm_message_id: int | None = None,
    ) -> Filed:
        """Commit the report with its staff-chat outbox rows (and close the dialog), or refuse.

        `confirm_message_id`: the resident's summary message the report was confirmed from.
        """
        if draft.category is None or description_problem(draft.text) is not None:
            raise ValueError("the draft is not complete")
        category = self._city.category(draft.category)
        destination = self._staff.destination(category)
        anonymous = draft.anonymous if draft.anonymous is not None else True
        text = draft.text.strip()
        now = self._clock.time()
        new = NewReport(
            resident_id=resident_id,
            resident_chat_id=chat_id,
            category=draft.category,
            description=text,
            language=language,
            anonymous=anonymous,
            pseudonym=self.pseudonym(resident_id),
            neighborhood=draft.neighborhood,
            address=draft.address,
            latitude=draft.latitude,
            longitude=draft.longitude,
            outside_area=draft.outside_area,
            photos=tuple(draft.photos[:MAX_PHOTOS]),
            voice=draft.voice,
            text_language=self._detect(text),
            reporter_name=None if anonymous or reporter is None else reporter.name,
            reporter_username=None if anonymous or reporter is None else reporter.username,
            emergency_words=tuple(draft.emergency_words),
            staff_chat_id=None if destination is None else destination.chat_id,
            staff_thread_id=None if destination is None else destination.thread_id,
            uses_topic=destination is not None and destination.new_topic,
        )
        async with self._db.transaction(inline=True) as tx:
            recent = await self.repo.count_since_in(tx, resident_id, now - HOUR)
            if recent >= self._city.reports_per_hour:
                quota = await self.quota(resident_id)
                return Filed(retry_at=quota.next_at or now + HOUR)
            reference = await self.repo.next_reference_in(tx, self.year(now))
            report = await self.repo.insert_in(tx, new, reference, now)
            if confirm_message_id is not None:
                await self.repo.set_confirm_message_in(tx, report.id, confirm_message_id)
            if destination is not None:
                await self._announce_in(tx, report, now)
            if clear_dialog is not None:
                await clear_dialog(tx)
        if destination is None:
            log.error("report %s saved, but no staff chat is configured (STAFF_CHAT_ID)", reference)
        self._wake()
        return Filed(report=report)

    async def _announce_in(self, tx: Transaction, report: Report, now: float) -> None:
        """The staff card (in a topic of its own when possible) and its attachments."""
        assert report.staff_chat_id is not None
        chat = report.staff_chat_id
        base = f"report:{report.id}"
        card_fill: dict[str, str] = {}
        depends: int | None = None
        if report.uses_topic:
            depends = await self._outbox.enqueue_in(
                tx,
                OutboxItem(
                    key=f"{base}:topic",
                    chat_id=chat,
                    method="createForumTopic",
                    params={"chat_id": chat, "name": self._messages.topic_name(report)},
                    not_before=now,
                    kind=KIND_TOPIC,
                    priority=PRIORITY_STAFF,
                    resend_if_unknown=True,
                ),
                now,
            )
            card_fill = {"message_thread_id": "message_thread_id"}
        text, markup = self._messages.staff_card(report)
        card_params: dict[str, Any] = {
            "chat_id": chat,
            "text": text,
            "parse_mode": "HTML",
            "reply_markup": markup,
            "link_preview_options": {"is_disabled": True},
        }
        if report.staff_thread_id is not None:
            card_params["message_thread_id"] = report.staff_thread_id
        card = await self._outbox.enqueue_in(
            tx,
            OutboxItem(
                key=f"{base}:card",
                chat_id=chat,
                method="sendMessage",
                params=card_params,
                not_before=now,
                kind=KIND_CARD,
                priority=PRIORITY_STAFF,
                resend_if_unknown=True,
                depends_on=depends,
                fill_from=card_fill,
            ),
            now,
        )
        # Attachments follow the card, in its topic and as replies to it (rows of one chat
        # go out in id order, one at a time, so they also keep this order).
        follow = {"message_thread_id": "message_thread_id", "reply_to_message_id": "message_id"}
        caption = self._messages.staff_media_caption(report)
        attachments: list[tuple[str, str, dict[str, Any]]] = []
        if report.has_location:
            attachments.append(
                (
                    "location",
                    "sendLocation",
                    {"latitude": report.latitude, "longitude": report.longitude},
                )
            )
        if len(report.photos) == 1:
            attachments.append(
                ("photos", "sendPhoto", {"photo": report.photos[0], "caption": caption})
            )
        elif report.photos:
            media = [{"type": "photo", "media": file_id} for file_id in report.photos]
            media[0]["caption"] = caption
            attachments.append(("photos", "sendMediaGroup", {"media": media}))
        if report.voice:
            attachments.append(("voice", "sendVoice", {"voice": report.voice, "caption": caption}))
        for name, method, params in attachments:
            await self._outbox.enqueue_in(
                tx,
                OutboxItem(
                    key=f"{base}:{name}",
                    chat_id=chat,
                    method=method,
                    params={"chat_id": chat, "allow_sending_without_reply": True, **params},
                    not_before=now,
                    kind=KIND_MEDIA,
                    priority=PRIORITY_STAFF,
                    resend_if_unknown=True,
                    depends_on=card,
                    fill_from=follow,
                ),
                now,
            )

    # -- residents reading their reports -----------------------------------------------------

    async def confirmed_from(self, resident_id: int, message_id: int) -> Report | None:
        """The report this resident confirmed from this summary message within the hour."""
        since = self._clock.time() - HOUR
        return await self.repo.confirmed_from(resident_id, message_id, since)

    async def for_resident(self, resident_id: int, limit: int = 10) -> list[Report]:
        return await self.repo.for_resident(resident_id, limit)

    async def count_for_resident(self, resident_id: int) -> int:
        return await self.repo.count_for_resident(resident_id)

    async def history(
        self, resident_id: int, report_id: int
    ) -> tuple[Report, list[ReportEvent]] | None:
        """A report and its history, only for the resident who filed it."""
        report = await self.repo.get(report_id)
        if report is None or report.resident_id != resident_id:
            return None
        return report, await self.repo.events(report_id)

    async def get(self, report_id: int) -> Report | None:
        return await self.repo.get(report_id)

    # -- staff changing the status -----------------------------------------------------------

    async def change_status(
        self,
        report_id: int,
        status: str,
        *,
        actor_id: int,
        actor_name: str,
        chat_id: int,
        message_id: int,
    ) -> StatusChange:
        """Record a status change pressed on the report's card and tell the resident."""
        if status not in STATUSES:
            return StatusChange("not_found")
        report = await self.repo.get(report_id)
        if report is None:
            return StatusChange("not_found")
        if report.staff_chat_id != chat_id or not await self.repo.has_link(
            report_id, chat_id, message_id, "card"
        ):
            return StatusChange("wrong_message", report)
        resident = await self._residents.get(report.resident_id)
        language = resident.language if resident is not None else report.language
        now = self._clock.time()
        async with self._db.transaction(inline=True) as tx:
            current = await self.repo.get_in(tx, report_id)
            assert current is not None
            if current.status == status:
                return StatusChange("unchanged", current)
            await self.repo.set_status_in(tx, report_id, status, actor_name, now)
            event = await self.repo.add_event_in(
                tx,
                report_id,
                "status",
                now,
                status=status,
                actor_id=actor_id,
                actor_name=actor_name,
            )
            changed = await self.repo.get_in(tx, report_id)
            assert changed is not None
            if not changed.detached:  # its resident deleted their data
                await self._outbox.enqueue_in(
                    tx,
                    OutboxItem(
                        key=f"report:{report_id}:status:{event}",
                        chat_id=changed.resident_chat_id,
                        method="sendMessage",
                        params={
                            "chat_id": changed.resident_chat_id,
                            "text": self._messages.resident_status(changed, language),
                            "parse_mode": "HTML",
                        },
                        not_before=now,
                        kind=KIND_TO_RESIDENT,
                        priority=PRIORITY_RESIDENT,
                    ),
                    now,
                )
            if changed.uses_topic and changed.staff_thread_id is not None:
                await self._outbox.enqueue_in(
                    tx,
                    OutboxItem(
                        key=f"report:{report_id}:topic-name:{event}",
                        chat_id=chat_id,
                        method="editForumTopic",
                        params={
                            "chat_id": chat_id,
                            "message_thread_id": changed.staff_thread_id,
                            "name": self._messages.topic_name(changed),
                        },
                        not_before=now,
                        kind=KIND_STAFF_NOTICE,
                        priority=PRIORITY_STAFF,
                    ),
                    now,
                )
        self._wake()
        return StatusChange("changed", changed)

    # -- the two-way relay -------------------------------------------------------------------

    async def report_for_staff_message(
        self, chat_id: int, *, reply_to: int | None, thread_id: int | None
    ) -> Report | None:
        """The report a staff-chat message is about: by what it replies to, else its topic."""
        if reply_to is not None:
            report = await self.repo.report_for_message(
                chat_id, reply_to, ("topic", "card", "media", "to_staff")
            )
            if report is not None:
                return report
        if thread_id is not None:
            return await self.repo.report_for_message(chat_id, thread_id, ("topic",))
        return None

    async def report_for_resident_reply(
        self, resident_id: int, chat_id: int, reply_to: int
    ) -> Report | None:
        """The report whose relayed message (or status update) the resident replied to."""
        report = await self.repo.report_for_message(chat_id, reply_to, ("to_resident",))
        if report is None or report.resident_id != resident_id:
            return None
        return report

    async def relay_to_resident(
        self,
        report: Report,
        message: Relayed,
        *,
        actor_id: int,
        actor_name: str,
        source_chat_id: int,
        source_message_id: int,
    ) -> None:
        """Pass a staff member's message to the resident, signed by the team, never by name."""
        if report.detached:
            return  # the resident deleted their data: there is nobody to pass it to
        resident = await self._residents.get(report.resident_id)
        language = resident.language if resident is not None else report.language
        text = self._messages.resident_from_staff(report, message.text, language)
        now = self._clock.time()
        key = f"report:{report.id}:from-staff:{source_chat_id}:{source_message_id}"
        chat = report.resident_chat_id
        items = _message_items(
            key, chat, message, text, kind=KIND_TO_RESIDENT, priority=PRIORITY_RESIDENT, now=now
        )
        async with self._db.transaction(inline=True) as tx:
            await self.repo.add_event_in(
                tx,
                report.id,
                "staff_message",
                now,
                actor_id=actor_id,
                actor_name=actor_name,
                body=message.summary,
            )
            await self.repo.touch_in(tx, report.id, now)
            await _enqueue_in_order(self._outbox, tx, items, now)
        self._wake()

    async def relay_to_staff(
        self, report: Report, message: Relayed, *, source_chat_id: int, source_message_id: int
    ) -> bool:
        """Pass a resident's reply to the report's topic or card; False if it has no staff chat."""
        if report.staff_chat_id is None:
            return False
        now = self._clock.time()
        text = self._messages.staff_from_resident(report, message.text)
        key = f"report:{report.id}:from-resident:{source_chat_id}:{source_message_id}"
        items = _message_items(
            key,
            report.staff_chat_id,
            message,
            text,
            kind=KIND_TO_STAFF,
            priority=PRIORITY_STAFF,
            now=now,
            resend_if_unknown=True,
        )
        async with self._db.transaction(inline=True) as tx:
            await self.repo.add_event_in(
                tx, report.id, "resident_message", now, body=message.summary
            )
            await self.repo.touch_in(tx, report.id, now)
            placement = await self._placement_in(tx, report)
            await _enqueue_in_order(self._outbox, tx, items, now, placement)
        self._wake()
        return True

    async def _placement_in(self, tx: Transaction, report: Report) -> _Placement:
        """Where a staff-chat row about `report` goes: in the card's topic, replying to it."""
        report = await self.repo.get_in(tx, report.id) or report
        if report.card_message_id is not None:
            params: dict[str, Any] = {}
            if report.staff_thread_id is not None:
                params["message_thread_id"] = report.staff_thread_id
            if not report.uses_topic:
                params["reply_to_message_id"] = report.card_message_id
                params["allow_sending_without_reply"] = True
            return _Placement(params)
        # The card is not sent yet: wait for it and take its topic (and id) from the result.
        card = await self._outbox.get(f"report:{report.id}:card")
        if card is None:
            return _Placement({})
        if report.uses_topic:
            return _Placement({}, card.id, {"message_thread_id": "message_thread_id"})
        fill = {"message_thread_id": "message_thread_id", "reply_to_message_id": "message_id"}
        return _Placement({"allow_sending_without_reply": True}, card.id, fill)

    # -- jobs: escalation and the daily summary ----------------------------------------------

    async def escalate_overdue(self) -> int:
        """Re-announce, once, every report nobody acknowledged in time; return how many."""
        now = self._clock.time()
        due = await self.repo.due_for_escalation(now - self._city.escalate_after_hours * HOUR)
        count = 0
        for report in due:
            if report.staff_chat_id is None:
                continue
            item = OutboxItem(
                key=f"report:{report.id}:escalation",
                chat_id=report.staff_chat_id,
                method="sendMessage",
                params={
                    "chat_id": report.staff_chat_id,
                    "text": self._messages.staff_escalation(report),
                    "parse_mode": "HTML",
                },
                not_before=now,
                kind=KIND_STAFF_NOTICE,
                priority=PRIORITY_STAFF,
                resend_if_unknown=True,
            )
            async with self._db.transaction() as tx:
                if not await self.repo.mark_escalated_in(tx, report.id, now):
                    continue
                await self.repo.add_event_in(tx, report.id, "escalated", now)
                placement = await self._placement_in(tx, report)
                await _enqueue_in_order(self._outbox, tx, [item], now, placement)
            count += 1
        if count:
            self._wake()
        return count

    def summary_date(self) -> date | None:
        """Today's date in the city if the daily summary time has passed, else None."""
        local = self._clock.now().astimezone(self._city.timezone)
        if local.time() < self._city.daily_summary_time:
            return None
        return local.date()

    async def post_daily_summary(self) -> bool:
        """Post today's summary of open reports to the staff chat, once a day."""
        chat = self._staff.settings.staff_chat_id
        day = self.summary_date()
        if chat is None or day is None:
            return False
        key = f"reports:summary:{day.isoformat()}"
        if await self._outbox.get(key) is not None:
            return False
        counts = await self.repo.status_counts()
        oldest = await self.repo.open_reports(SUMMARY_LIST_LIMIT)
        now = self._clock.time()
        text = self._messages.staff_summary(counts, oldest, self._clock.now())
        async with self._db.transaction() as tx:
            await self._outbox.enqueue_in(
                tx,
                OutboxItem(
                    key=key,
                    chat_id=chat,
                    method="sendMessage",
                    params={"chat_id": chat, "text": text, "parse_mode": "HTML"},
                    not_before=now,
                    kind=KIND_STAFF_NOTICE,
                    priority=PRIORITY_STAFF,
                    resend_if_unknown=True,
                ),
                now,
            )
        self._wake()
        return True

    async def open_counts(self) -> StatusCounts:
        return await self.repo.status_counts()

    # -- after-send hooks: remember which message belongs to which report --------------------

    async def topic_sent(self, row: OutboxRow, result: dict[str, Any]) -> None:
        report_id = report_id_of(row.key)
        thread = result.get("message_thread_id")
        if report_id is not None and thread is not None:
            await self.repo.record_topic(report_id, row.chat_id, int(thread))

    async def card_sent(self, row: OutboxRow, result: dict[str, Any]) -> None:
        report_id = report_id_of(row.key)
        message_id = result.get("message_id")
        if report_id is not None and message_id is not None:
            thread = result.get("message_thread_id")
            await self.repo.record_card(
                report_id, row.chat_id, int(message_id), None if thread is None else int(thread)
            )

    async def message_sent(self, row: OutboxRow, result: dict[str, Any], role: str) -> None:
        report_id = report_id_of(row.key)
        ids = result.get("message_ids") or (
            [result["message_id"]] if result.get("message_id") is not None else []
        )
        if report_id is not None and ids:
            await self.repo.link(report_id, row.chat_id, [int(i) for i in ids], role)

    async def media_sent(self, row: OutboxRow, result: dict[str, Any]) -> None:
        await self.message_sent(row, result, "media")

    async def to_staff_sent(self, row: OutboxRow, result: dict[str, Any]) -> None:
        await self.message_sent(row, result, "to_staff")

    async def to_resident_sent(self, row: OutboxRow, result: dict[str, Any]) -> None:
        await self.message_sent(row, result, "to_resident")

    async def recover_links(self) -> int:
        """At start: record card and topic ids that a crash kept the hooks from recording."""
        return await self.repo.backfill_from_outbox()


# --------------------------------------------------------------------------- outbox helpers


def _message_items(
    key: str,
    chat_id: int,
    message: Relayed,
    text: str,
    *,
    kind: str,
    priority: int,
    now: float,
    resend_if_unknown: bool = False,
) -> list[OutboxItem]:
    """A relayed message: text alone, or the file with the text as caption (split if long)."""

    def item(suffix: str, method: str, params: dict[str, Any]) -> OutboxItem:
        return OutboxItem(
            key=f"{key}{suffix}",
            chat_id=chat_id,
            method=method,
            params={"chat_id": chat_id, "parse_mode": "HTML", **params},
            not_before=now,
            kind=kind,
            priority=priority,
            resend_if_unknown=resend_if_unknown,
        )

    if message.kind == "text" or message.file_id is None:
        return [item("", "sendMessage", {"text": text})]
    method = {"photo": "sendPhoto", "voice": "sendVoice"}.get(message.kind, "sendDocument")
    field_name = {"photo": "photo", "voice": "voice"}.get(message.kind, "document")
    if len(text) <= CAPTION_LIMIT:
        return [item("", method, {field_name: message.file_id, "caption": text})]
    # Too long for a caption: the file first, then the text, in that order.
    return [
        item(":file", method, {field_name: message.file_id}),
        item("", "sendMessage", {"text": text}),
    ]


@dataclass(frozen=True, slots=True)
class _Placement:
    """Parameters that put staff-chat rows next to a report's card."""

    params: dict[str, Any]  # thread / reply parameters known now
    card_row: int | None = None  # else: the card's outbox row the first row waits for ...
    fill: dict[str, str] = field(default_factory=dict)  # ... and what it takes from its result


async def _enqueue_in_order(
    outbox: OutboxRepository,
    tx: Transaction,
    items: Sequence[OutboxItem],
    now: float,
    placement: _Placement | None = None,
) -> None:
    """Enqueue rows that must arrive in order: each one waits for the one before it."""
    previous: int | None = None
    for index, item in enumerate(items):
        params = {**item.params, **placement.params} if placement else item.params
        if index == 0:
            depends = placement.card_row if placement else None
            fill = placement.fill if placement else {}
        else:
            depends = previous
            fill = {"message_thread_id": "message_thread_id"} if placement else {}
        previous = await outbox.enqueue_in(
            tx, replace(item, params=params, depends_on=depends, fill_from=fill), now
        )


__all__ = [
    "CODE_OF_STATUS",
    "MAX_PHOTOS",
    "MAX_TEXT",
    "MIN_TEXT",
    "OPEN_STATUSES",
    "STATUSES",
    "STATUS_CODES",
    "Draft",
    "Filed",
    "Quota",
    "Relayed",
    "ReportMessages",
    "ReportService",
    "Reporter",
    "StatusChange",
    "description_problem",
    "find_emergency_words",
    "match_category",
    "match_neighborhood",
    "pseudonym",
]
