"""Residents in control of their data: /mydata, /deletemydata and the retention purge.

What an erasure does, in one transaction:

* the resident row goes, and with it (foreign keys) their followed areas, muted event
  types, alert switches, RSVPs and event-link visits; their open dialogs and survey
  invitations go too;
* their reports stay for the program's statistics but lose every link to the person:
  no user id, no chat, no shared name or username, no photos or voice note, a new random
  pseudonym, and the texts exchanged with them are cleared (category, place, description,
  status and dates remain). The staff card is edited to match, the photos posted in the
  staff chat are deleted where Telegram still allows it (48 hours), and each open
  report's topic is told that replies can no longer reach the resident;
* unfinished survey responses are dropped; finished ones (named or anonymous) are kept
  for the results under a new random key, so nobody, not even with HASH_SECRET, can find
  them again from the person's Telegram id; named ones also lose the user id and times;
* messages to the person's chat are forgotten (pending ones are not sent).

Before that transaction the places they held at upcoming events are given back through
the events service, so the waiting list moves up as if they had answered "Can't go".

The nightly purge applies the same report treatment to reports closed more than
`city.retention_days` ago, and forgets conversations abandoned for `KEEP_DAYS`.
"""

from __future__ import annotations

import json
import logging
import re
import secrets
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Protocol

from bot.clock import Clock
from bot.config import City, Secret
from bot.services.surveys import Survey, respondent_key
from bot.storage.db import Database, Transaction
from bot.storage.dialogs import DialogRepository
from bot.storage.outbox import (
    PRIORITY_BULK,
    PRIORITY_STAFF,
    OutboxItem,
    OutboxRepository,
    OutboxRow,
)
from bot.storage.privacy import DETACHED, PrivacyRepository, ReportRow
from bot.storage.reports import Report, ReportRepository
from bot.storage.residents import ResidentRepository

log = logging.getLogger(__name__)

DELETE_FLOW = "deletemydata"
DAY = 86400.0
KEEP_DAYS = 30  # abandoned conversations (report drafts, half-written notes ...)
PURGE_BATCH = 200
KIND_PRIVACY = "privacy_notice"
# Outbox rows that carry the person's own media into the staff chat.
_MEDIA_SUFFIXES = (":photos", ":voice")
_FILE_METHODS = ("sendPhoto", "sendVoice", "sendDocument", "sendMediaGroup")
_NOTICE_KEY = re.compile(r"^privacy:(\d+):left$")


class PrivacyMessages(Protocol):
    """Staff-chat texts for detached reports (implemented in `bot.views.privacy`)."""

    def staff_card(self, report: Report) -> tuple[str, dict[str, Any]]: ...

    def resident_left(self, report: Report, *, media_removed: bool) -> str: ...


SurveyLookup = Callable[[str], Awaitable[Survey | None]]
PlaceRelease = Callable[[int, int], Awaitable[object]]  # (event id, user id)


@dataclass(frozen=True, slots=True)
class Holdings:
    """What an erasure would touch, for the confirmation question."""

    reports: int = 0
    open_reports: int = 0
    subscriptions: int = 0
    rsvps: int = 0


@dataclass(frozen=True, slots=True)
class Erased:
    reports: int = 0
    open_reports: int = 0
    subscriptions: int = 0
    rsvps: int = 0
    survey_responses: int = 0


@dataclass(frozen=True, slots=True)
class Nightly:
    reports: int = 0
    dialogs: int = 0


def _random_tag() -> str:
    return secrets.token_hex(2).upper()


class PrivacyService:
    def __init__(
        self,
        *,
        db: Database,
        repo: PrivacyRepository,
        reports: ReportRepository,
        residents: ResidentRepository,
        dialogs: DialogRepository,
        city: City,
        clock: Clock,
        hash_secret: Secret | str,
        messages: PrivacyMessages,
        surveys: SurveyLookup | None = None,
        release_place: PlaceRelease | None = None,
        wake: Callable[[], None] = lambda: None,
    ) -> None:
        self._db = db
        self.repo = repo
        self._reports = reports
        self._residents = residents
        self._dialogs = dialogs
        self._city = city
        self._clock = clock
        self._secret = hash_secret.reveal() if isinstance(hash_secret, Secret) else hash_secret
        self._messages = messages
        self._surveys = surveys
        self._release_place = release_place
        self._wake = wake

    # -- /mydata -------------------------------------------------------------------------------

    def _when(self, moment: float | None) -> str | None:
        if moment is None:
            return None
        return datetime.fromtimestamp(moment, self._city.timezone).isoformat(timespec="seconds")

    def _title(self, titles: dict[str, str], language: str) -> str:
        default = self._city.default_language
        return titles.get(language) or titles.get(default) or next(iter(titles.values()), "")

    async def personal_data(self, user_id: int, chat_id: int) -> dict[str, Any]:
        """Everything the bot holds about one resident, as JSON-ready data."""
        resident = await self._residents.get(user_id)
        language = resident.language if resident else self._city.default_language
        areas, muted, switches = await self.repo.alert_choices(user_id)
        dialog = await self._dialogs.get(chat_id)
        return {
            "about": (
                "Everything this bot stores about you, as of the time below. Anonymous survey"
                " answers are not included: they are not linked to you."
            ),
            "generated_at": self._when(self._clock.time()),
            "service": self._city.name,
            "profile": None
            if resident is None
            else {
                "telegram_user_id": resident.user_id,
                "chat_id": resident.chat_id,
                "language": resident.language,
                "language_source": resident.language_source,
                "receiving_messages": resident.active,
                "first_contact": self._when(resident.created_at),
                "last_seen": self._when(resident.last_seen_at),
            },
            "alerts": {
                "following": areas,
                "muted_event_types": muted,
                "switches": {k: v for k, v in switches.items() if k != "updated_at"},
            },
            "reports": [
                await self._report_data(report, language)
                for report in await self._all_reports(user_id)
            ],
            "rsvps": [
                {
                    "event_id": rsvp.event_id,
                    "event": self._title(rsvp.titles, language),
                    "starts_at": self._when(rsvp.starts_at),
                    "place": rsvp.place,
                    "answer": rsvp.answer,
                    "waiting_list": rsvp.waitlisted,
                    "answered_at": self._when(rsvp.updated_at),
                }
                for rsvp in await self.repo.rsvps(user_id)
            ],
            "event_links_opened": [
                {
                    "event_id": opened.event_id,
                    "event": self._title(opened.titles, language),
                    "opened_at": self._when(opened.opened_at),
                }
                for opened in await self.repo.opened_events(user_id)
            ],
            "named_survey_answers": await self._named_answers(user_id, language),
            "survey_invitations": [
                {
                    "survey_id": invitation.survey_id,
                    "event_id": invitation.event_id,
                    "invited_at": self._when(invitation.invited_at),
                }
                for invitation in await self.repo.invitations(user_id)
            ],
            "conversation_in_progress": None
            if dialog is None
            else {"flow": dialog.flow, "step": dialog.step, "data": dialog.data},
            "messages_from_the_bot": await self.repo.message_counts(chat_id),
        }

    async def _all_reports(self, user_id: int) -> list[Report]:
        total = await self._reports.count_for_resident(user_id)
        return list(reversed(await self._reports.for_resident(user_id, max(total, 1))))

    async def _report_data(self, report: Report, language: str) -> dict[str, Any]:
        category = self._city.category(report.category)
        neighborhood = self._city.neighborhood(report.neighborhood or "")
        default = self._city.default_language
        history = []
        for event in await self._reports.events(report.id):
            entry: dict[str, Any] = {"what": event.kind, "at": self._when(event.created_at)}
            if event.status:
                entry["status"] = event.status
            if event.kind in ("resident_message", "staff_message") and event.body is not None:
                entry["text"] = event.body  # the team is never named, as in the chat
            if event.kind != "escalated":  # internal to the team
                history.append(entry)
        return {
            "reference": report.reference,
            "category": category.name(language, default) if category else report.category,
            "neighborhood": neighborhood.name(language, default) if neighborhood else None,
            "address": report.address,
            "latitude": report.latitude,
            "longitude": report.longitude,
            "description": report.description,
            "photos": list(report.photos),
            "voice_note": report.voice,
            "anonymous": report.anonymous,
            "name_shared_with_staff": report.reporter_name,
            "username_shared_with_staff": report.reporter_username,
            "tag_shown_to_staff": report.pseudonym,
            "language": report.language,
            "status": report.status,
            "filed_at": self._when(report.created_at),
            "updated_at": self._when(report.updated_at),
            "history": history,
        }

    async def _named_answers(self, user_id: int, language: str) -> list[dict[str, Any]]:
        answers = []
        for response in await self.repo.named_responses(user_id):
            survey = await self._surveys(response.survey_id) if self._surveys else None
            definition = survey.definition if survey is not None else None
            items = []
            for question_id, skipped, value in response.answers:
                question = definition.question(question_id) if definition else None
                default = definition.default_language if definition else language
                items.append(
                    {
                        "question": question.text(language, default) if question else question_id,
                        "skipped": skipped,
                        "answer": value,
                    }
                )
            answers.append(
                {
                    "survey": definition.title(language) if definition else response.survey_id,
                    "status": response.status,
                    "started_on": response.started_on,
                    "completed_on": response.completed_on,
                    "event_id": response.event_id,
                    "answers": items,
                }
            )
        return answers

    @staticmethod
    def to_json(data: dict[str, Any]) -> bytes:
        return json.dumps(data, ensure_ascii=False, indent=2).encode("utf-8")

    def export_filename(self) -> str:
        day = datetime.fromtimestamp(self._clock.time(), self._city.timezone).date()
        return f"mydata-{day.isoformat()}.json"

    # -- /deletemydata -------------------------------------------------------------------------

    async def holdings(self, user_id: int) -> Holdings:
        reports = await self._all_reports(user_id)
        counts = await self.repo.counts(user_id)
        return Holdings(
            reports=len(reports),
            open_reports=sum(1 for r in reports if r.is_open),
            subscriptions=counts["subscriptions"],
            rsvps=counts["rsvps"],
        )

    async def erase(self, *, user_id: int, chat_id: int, dialog_version: int) -> Erased | None:
        """Erase the resident's personal data; None when the confirmation is stale."""
        dialog = await self._dialogs.get(chat_id)
        if (
            dialog is None
            or dialog.flow != DELETE_FLOW
            or dialog.version != dialog_version
            or dialog.user_id != user_id
        ):
            return None
        now = self._clock.time()
        if self._release_place is not None:
            for event_id in await self.repo.places_held(user_id, now):
                await self._release_place(event_id, user_id)
        keys = [respondent_key(self._secret, sid, user_id) for sid in await self.repo.survey_ids()]
        async with self._db.transaction() as tx:
            if not await self.repo.claim_dialog_in(tx, chat_id, DELETE_FLOW, dialog_version):
                return None
            counts = await self.repo.counts_in(tx, user_id)
            report_ids = await self.repo.report_ids_of_in(tx, user_id)
            reports = await self._detach_in(tx, report_ids, "resident", now, tell_staff=True)
            await self.repo.scrub_chat_in(tx, chat_id, now)
            links = await self.repo.unlink_survey_responses_in(
                tx, user_id, keys, lambda: secrets.token_hex(32)
            )
            await self.repo.delete_resident_in(tx, user_id, chat_id)
        self._wake()
        erased = Erased(
            reports=len(reports),
            open_reports=sum(1 for r in reports if r.is_open),
            subscriptions=counts["subscriptions"],
            rsvps=counts["rsvps"],
            survey_responses=links.deleted + links.unlinked,
        )
        log.info(
            "a resident deleted their data: %d reports detached, %d survey responses",
            erased.reports,
            erased.survey_responses,
        )
        return erased

    async def _detach_in(
        self, tx: Transaction, report_ids: Sequence[int], by: str, now: float, *, tell_staff: bool
    ) -> list[Report]:
        """Remove the person from these reports and from the messages stored about them."""
        before: list[Report] = []
        for report_id in report_ids:
            report = await ReportRepository.get_in(tx, report_id)
            if report is not None:
                before.append(report)
        tags = [(report.id, _random_tag()) for report in before]
        await self.repo.detach_reports_in(tx, tags, by, now)
        for report, (_, tag) in zip(before, tags, strict=True):
            after = replace(
                report,
                resident_id=DETACHED,
                resident_chat_id=DETACHED,
                reporter_name=None,
                reporter_username=None,
                photos=(),
                voice=None,
                pseudonym=tag,
            )
            await self._scrub_report_rows_in(tx, report, after, now, tell_staff=tell_staff)
        return before

    async def _scrub_report_rows_in(
        self, tx: Transaction, before: Report, after: Report, now: float, *, tell_staff: bool
    ) -> None:
        rows = await self.repo.report_rows_in(tx, before.id)
        person = before.resident_chat_id
        to_person = [r.id for r in rows if r.chat_id == person]
        await self.repo.scrub_rows_in(tx, to_person, now, forget_chat=True, forget_key=True)
        staff_rows = [r for r in rows if r.chat_id != person]
        media = [r for r in staff_rows if _carries_media(r)]
        card = next((r for r in staff_rows if r.key == f"report:{before.id}:card"), None)
        scrub = [r for r in staff_rows if r.status != "pending" or r in media]
        # A relayed reply's key names the chat it came from: the person's.
        named_keys = {r.id for r in scrub if f":from-resident:{person}:" in r.key}
        await self.repo.scrub_rows_in(tx, [r.id for r in scrub if r.id not in named_keys], now)
        await self.repo.scrub_rows_in(tx, named_keys, now, forget_key=True)
        if card is not None and card.status == "pending":
            # Not posted yet: post it as it is now.
            text, markup = self._messages.staff_card(after)
            await self.repo.set_params_in(
                tx, card.id, {**card.params, "text": text, "reply_markup": markup}
            )
        chat = before.staff_chat_id
        if chat is None:
            return
        base = f"privacy:{before.id}"
        named = before.reporter_name is not None or before.reporter_username is not None
        attached = bool(before.photos or before.voice)
        card_sent = card is not None and card.status == "sent"
        if card_sent and before.card_message_id is not None and (named or attached):
            text, markup = self._messages.staff_card(after)
            params = {
                "chat_id": chat,
                "message_id": before.card_message_id,
                "text": text,
                "parse_mode": "HTML",
                "reply_markup": markup,
                "link_preview_options": {"is_disabled": True},
            }
            # The nightly purge's edits wait behind new reports' cards.
            priority = PRIORITY_STAFF if tell_staff else PRIORITY_BULK
            await OutboxRepository.enqueue_in(
                tx,
                replace(
                    self._staff_item(f"{base}:card", chat, "editMessageText", params, now),
                    priority=priority,
                ),
                now,
            )
        media_ids = [i for r in media if r.status in ("sent", "unknown") for i in r.message_ids]
        if tell_staff and media_ids:
            for start in range(0, len(media_ids), 100):
                await OutboxRepository.enqueue_in(
                    tx,
                    self._staff_item(
                        f"{base}:media:{start}",
                        chat,
                        "deleteMessages",
                        {"chat_id": chat, "message_ids": media_ids[start : start + 100]},
                        now,
                    ),
                    now,
                )
        if tell_staff and before.is_open:
            text = self._messages.resident_left(after, media_removed=bool(media_ids))
            notice: dict[str, Any] = {"chat_id": chat, "text": text, "parse_mode": "HTML"}
            depends: int | None = None
            fill: dict[str, str] = {}
            if before.staff_thread_id is not None:
                notice["message_thread_id"] = before.staff_thread_id
            if before.card_message_id is not None and not before.uses_topic:
                notice["reply_to_message_id"] = before.card_message_id
                notice["allow_sending_without_reply"] = True
            elif before.card_message_id is None and card is not None and card.status == "pending":
                depends = card.id  # the card is still queued: follow it into its topic
                fill = {"message_thread_id": "message_thread_id"}
                if not before.uses_topic:
                    fill["reply_to_message_id"] = "message_id"
                    notice["allow_sending_without_reply"] = True
            await OutboxRepository.enqueue_in(
                tx,
                replace(
                    self._staff_item(f"{base}:left", chat, "sendMessage", notice, now),
                    depends_on=depends,
                    fill_from=fill,
                ),
                now,
            )

    @staticmethod
    def _staff_item(
        key: str, chat: int, method: str, params: dict[str, Any], now: float
    ) -> OutboxItem:
        return OutboxItem(
            key=key,
            chat_id=chat,
            method=method,
            params=params,
            not_before=now,
            kind=KIND_PRIVACY,
            priority=PRIORITY_STAFF,
        )

    async def notice_sent(self, row: OutboxRow, result: dict[str, Any]) -> None:
        """Link the "resident left" notice to its report, so a reply to it is recognised."""
        match = _NOTICE_KEY.match(row.key)
        message_id = result.get("message_id")
        if match is not None and message_id is not None:
            await self._reports.link(
                int(match.group(1)), row.chat_id, [int(message_id)], "to_staff"
            )

    # -- retention -----------------------------------------------------------------------------

    async def purge_expired(self) -> int:
        """Detach the reports closed more than `retention_days` ago; return how many."""
        now = self._clock.time()
        cutoff = now - self._city.retention_days * DAY
        total = 0
        while True:
            ids = await self.repo.expired_reports(cutoff, PURGE_BATCH)
            if not ids:
                break
            async with self._db.transaction() as tx:
                detached = await self._detach_in(tx, ids, "retention", now, tell_staff=False)
            if not detached:
                break  # (cannot happen: reports are never deleted) never loop forever
            total += len(detached)
        if total:
            log.info("retention: personal fields removed from %d closed reports", total)
            self._wake()
        return total

    async def nightly(self) -> Nightly:
        """The nightly privacy work: retention, then abandoned conversations.

        (The delivery log is pruned by `bot.app` after `OUTBOX_KEEP_DAYS`.)
        """
        reports = await self.purge_expired()
        dialogs = await self.repo.prune_dialogs(self._clock.time() - KEEP_DAYS * DAY)
        return Nightly(reports, dialogs)


def _carries_media(row: ReportRow) -> bool:
    """The person's photos or voice note, or a file they sent in a reply."""
    if row.key.endswith(_MEDIA_SUFFIXES):
        return True
    return ":from-resident:" in row.key and row.method in _FILE_METHODS


__all__ = [
    "DELETE_FLOW",
    "KEEP_DAYS",
    "Erased",
    "Holdings",
    "Nightly",
    "PrivacyMessages",
    "PrivacyService",
]
