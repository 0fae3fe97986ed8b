"""Feedback surveys: publishing, answering one question at a time, dispatch and results.

How a response is stored, and why it stays anonymous
----------------------------------------------------
Every response is found again through `respondent`, an HMAC-SHA256 under HASH_SECRET of
(survey id, Telegram user id). It enforces one response per resident per survey and
lets a resident resume, without storing who they are: whoever reads the database
without the secret cannot tell whose response a row is.

For an anonymous survey the response row holds no user id, no chat id and no moment
(only the day it was started and finished, in city time), its id is random and the
table keeps no insertion order; answers hold no user, chat or time at all. Progress
(the question being asked, multiple-choice selections not yet confirmed) is stored on
that same hash-keyed row, so a restart or a pause loses nothing. The one thing tied to
the chat is the open dialog (`dialogs` row: flow "survey", data {"survey": id}); it
says which survey the chat is answering right now, never which question (the question
reached reveals earlier answers when conditions are used) or any answer, and it is
deleted when the survey is finished, paused or cancelled. Its version still changes at
every step, so a button from an earlier question is refused and changes nothing.

Named surveys (`anonymous = false`) use the same rows and also store the user id and
precise times, so the team can follow up.

Post-event invitations are a separate record of who was *asked* (one per resident per
survey); nothing records whether or what they answered.

What remains, knowingly: while a resident is half-way, the open dialog says that their
chat is answering survey X, so someone reading the database at that moment, with few
people answering at once, could guess which unfinished response is theirs; that ends
when they finish or leave. A response that followed an invitation carries the event's
id (so results can be read per meeting), which narrows it down to that meeting's
attendees. And whoever holds HASH_SECRET can recompute every resident's key: keep it
out of backups and logs, and never change it (resuming and one-response-each depend
on it).
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
import secrets
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol

from bot.clock import Clock
from bot.config import City, Secret
from bot.i18n import Translator, detect_language
from bot.services.survey_definitions import (
    MULTIPLE,
    RATING,
    RATING_VALUES,
    SINGLE,
    TEXT,
    YES_NO,
    YES_NO_VALUES,
    Question,
    SurveyDefinition,
)
from bot.storage.db import Database
from bot.storage.dialogs import Dialog, DialogRepository
from bot.storage.outbox import PRIORITY_BULK, OutboxItem, OutboxRepository
from bot.storage.residents import Resident, ResidentRepository
from bot.storage.surveys import Answer, Response, ResponseCounts, SurveyData, SurveyRepository

FLOW = "survey"
STEP = "answering"
LATE_LIMIT = 24 * 3600  # a follow-up more than a day late is not sent at all
INVITE_KIND = "survey_invite"


# --------------------------------------------------------------------------- model


class SurveyState(StrEnum):
    OPEN = "open"
    CLOSED = "closed"  # closed by an admin
    SCHEDULED = "scheduled"  # before its opening date
    ENDED = "ended"  # after its closing date


@dataclass(frozen=True, slots=True)
class Survey:
    definition: SurveyDefinition
    status: str
    published_at: float = 0.0

    @property
    def id(self) -> str:
        return self.definition.id

    @property
    def anonymous(self) -> bool:
        return self.definition.anonymous

    def state(self, now: float) -> SurveyState:
        if self.status == "closed":
            return SurveyState.CLOSED
        if self.definition.opens_at is not None and now < self.definition.opens_at:
            return SurveyState.SCHEDULED
        if self.definition.closes_at is not None and now >= self.definition.closes_at:
            return SurveyState.ENDED
        return SurveyState.OPEN


class Refusal(StrEnum):
    UNKNOWN = "unknown"  # no such survey
    CLOSED = "closed"
    SCHEDULED = "scheduled"
    ENDED = "ended"
    ALREADY_ANSWERED = "already_answered"
    STALE = "stale"  # a button from an earlier question, or a forged one
    BUSY = "busy"  # another conversation (a report...) is open
    TOO_LONG = "too_long"
    EMPTY = "empty"
    CHOOSE_ONE = "choose_one"  # "Done" with nothing selected
    NOT_SKIPPABLE = "not_skippable"
    USE_BUTTONS = "use_buttons"  # typed text for a question answered with buttons
    TEXT_ONLY = "text_only"  # a photo or sticker for a free-text question


@dataclass(frozen=True, slots=True)
class Asking:
    """Show this question."""

    survey: Survey
    question: Question
    position: int  # 1-based, among the questions this resident is shown
    total: int
    version: int  # the dialog version its buttons must carry
    draft: tuple[str, ...] = ()  # multiple choice: the options ticked so far
    previous: Answer | None = None  # an earlier answer (after Back, or on resume)
    first: bool = False  # the survey just started: show the intro
    resumed: bool = False
    can_go_back: bool = False


@dataclass(frozen=True, slots=True)
class Finished:
    survey: Survey
    more: int = 0  # other surveys waiting for this resident


@dataclass(frozen=True, slots=True)
class Refused:
    reason: Refusal
    survey: Survey | None = None
    limit: int = 0
    length: int = 0
    current: Asking | None = None  # the question still open, to show again


Step = Asking | Finished | Refused


@dataclass(frozen=True, slots=True)
class Answered:
    """What was just recorded, to echo under the question."""

    question: Question
    value: Any
    skipped: bool = False


@dataclass(frozen=True, slots=True)
class Outcome:
    step: Step
    answered: Answered | None = None
    in_place: bool = False  # a multiple-choice tick: redraw the same question


@dataclass(frozen=True, slots=True)
class Available:
    survey: Survey
    in_progress: bool
    event_id: int | None = None


@dataclass(frozen=True, slots=True)
class SurveySummary:
    survey: Survey
    counts: ResponseCounts


@dataclass(frozen=True, slots=True)
class PublishResult:
    survey: Survey
    created: bool
    refused: str = ""  # why a republish was refused (responses exist, structure changed)


# --------------------------------------------------------------------------- events


@dataclass(frozen=True, slots=True)
class EndedEvent:
    """An event that has ended, as the events feature describes it."""

    id: int
    type: str
    ends_at: float
    titles: Mapping[str, str] = field(default_factory=dict)

    def title(self, language: str, fallback: str) -> str:
        return self.titles.get(language) or self.titles.get(fallback) or ""


class EventSource(Protocol):
    """What post-event dispatch needs from the events feature."""

    async def ended_events(
        self, types: Sequence[str], ended_from: float, ended_to: float
    ) -> list[EndedEvent]:
        """Events of these types (not cancelled) that ended in [ended_from, ended_to)."""
        ...

    async def survey_audience(self, event_id: int) -> list[int]:
        """User ids who RSVP'd Going or Maybe, or opened the event's deep link."""
        ...


InvitationRenderer = Callable[[Survey, Resident, EndedEvent | None], dict[str, Any]]
"""Builds the `sendMessage` parameters of an invitation (text, parse_mode, reply_markup)."""


# --------------------------------------------------------------------------- visibility


def _value_map(answers: Mapping[str, Answer]) -> dict[str, Any]:
    return {qid: (None if a.skipped else a.value) for qid, a in answers.items()}


def shown_questions(definition: SurveyDefinition, answers: Mapping[str, Any]) -> list[Question]:
    """The questions a resident is shown given these answers (question id -> value).

    A question with a condition is shown when the question it depends on was shown,
    answered (not skipped) and the answer matches. Unanswered sources count as no match.
    """
    shown: set[str] = set()
    result = []
    for question in definition.questions:
        condition = question.condition
        if condition is None or (
            condition.question in shown and condition.matches(answers.get(condition.question))
        ):
            shown.add(question.id)
            result.append(question)
    return result


def progress(
    definition: SurveyDefinition, answers: Mapping[str, Any], current: str
) -> tuple[int, int]:
    """(position, total) for "Question 2 of 5".

    Questions after the current one whose condition cannot be decided yet count as
    shown, so the total only ever shrinks as the resident goes on.
    """
    index = definition.index(current)
    shown: set[str] = set()
    position = 0
    for i, question in enumerate(definition.questions):
        condition = question.condition
        if condition is None:
            visible = True
        else:
            source = definition.index(condition.question)
            decided = source < index or condition.question in answers
            visible = not decided or (
                condition.question in shown and condition.matches(answers.get(condition.question))
            )
        if visible:
            shown.add(question.id)
            if i <= index:
                position += 1
    return position, len(shown)


def respondent_key(secret: Secret | str, survey_id: str, user_id: int) -> str:
    """The keyed hash that stands for a resident in one survey's responses."""
    key = secret.reveal() if isinstance(secret, Secret) else secret
    message = f"survey-response\x00{survey_id}\x00{user_id}".encode()
    return hmac.new(key.encode(), message, hashlib.sha256).hexdigest()


# --------------------------------------------------------------------------- service


class SurveyService:
    def __init__(
        self,
        *,
        db: Database,
        surveys: SurveyRepository,
        dialogs: DialogRepository,
        residents: ResidentRepository,
        city: City,
        clock: Clock,
        secret: Secret | str,
        events: EventSource | None = None,
        render_invitation: InvitationRenderer | None = None,
    ) -> None:
        if not (secret.reveal() if isinstance(secret, Secret) else secret):
            raise ValueError("surveys need HASH_SECRET to keep anonymous answers anonymous")
        self._db = db
        self._surveys = surveys
        self._dialogs = dialogs
        self._residents = residents
        self._city = city
        self._clock = clock
        self._secret = secret
        self.events = events
        self.render_invitation = render_invitation

    @classmethod
    def on_database(
        cls, db: Database, *, city: City, clock: Clock, secret: Secret | str
    ) -> SurveyService:
        """A service for the command line: publishing, results, export (no dispatch)."""
        return cls(
            db=db,
            surveys=SurveyRepository(db),
            dialogs=DialogRepository(db),
            residents=ResidentRepository(db),
            city=city,
            clock=clock,
            secret=secret,
        )

    # -- helpers ------------------------------------------------------------------------

    def _key(self, survey_id: str, user_id: int) -> str:
        return respondent_key(self._secret, survey_id, user_id)

    def _today(self, now: float) -> str:
        return datetime.fromtimestamp(now, self._city.timezone).date().isoformat()

    def _language(self, language: str) -> str:
        return language if language in self._city.languages else self._city.default_language

    async def get(self, survey_id: str) -> Survey | None:
        stored = await self._surveys.get(survey_id)
        if stored is None:
            return None
        return Survey(
            SurveyDefinition.from_dict(stored.definition), stored.status, stored.published_at
        )

    async def all(self) -> list[Survey]:
        return [
            Survey(SurveyDefinition.from_dict(s.definition), s.status, s.published_at)
            for s in await self._surveys.all()
        ]

    # -- admin --------------------------------------------------------------------------

    async def publish(self, definition: SurveyDefinition, source: str) -> PublishResult:
        """Store a checked survey; republishing may fix texts but not reshape answers."""
        now = self._clock.time()
        async with self._db.transaction() as tx:
            existing = await self._surveys.get_in(tx, definition.id)
            if existing is not None:
                old = SurveyDefinition.from_dict(existing.definition)
                counts = await self._surveys.counts_in(tx, definition.id)
                if counts.total and old.structure() != definition.structure():
                    return PublishResult(
                        Survey(old, existing.status, existing.published_at),
                        created=False,
                        refused=(
                            f"survey {definition.id!r} already has {counts.total} responses and"
                            " this file changes its questions, types or options; publish it"
                            " under a new id instead"
                        ),
                    )
                if counts.total and old.anonymous != definition.anonymous:
                    return PublishResult(
                        Survey(old, existing.status, existing.published_at),
                        created=False,
                        refused=(
                            f"survey {definition.id!r} already has responses; it cannot switch"
                            " between anonymous and named"
                        ),
                    )
            await self._surveys.publish_in(
                tx,
                survey_id=definition.id,
                definition=definition.to_dict(),
                source=source,
                anonymous=definition.anonymous,
                opens_at=definition.opens_at,
                closes_at=definition.closes_at,
                now=now,
            )
        survey = await self.get(definition.id)
        assert survey is not None
        return PublishResult(survey, created=existing is None)

    async def summaries(self) -> list[SurveySummary]:
        counts = await self._surveys.counts()
        return [
            SurveySummary(survey, counts.get(survey.id, ResponseCounts()))
            for survey in await self.all()
        ]

    async def set_open(self, survey_id: str, is_open: bool) -> Survey | None:
        """Open or close a survey; None if there is no such survey."""
        changed = await self._surveys.set_status(
            survey_id, "open" if is_open else "closed", self._clock.time()
        )
        return await self.get(survey_id) if changed else None

    # -- residents: listing and starting -------------------------------------------------

    async def available(self, user_id: int) -> list[Available]:
        """Open surveys this resident can answer or continue, in-progress ones first."""
        now = self._clock.time()
        surveys = [s for s in await self.all() if s.state(now) is SurveyState.OPEN]
        keys = {s.id: self._key(s.id, user_id) for s in surveys}
        responses = await self._surveys.responses_by(keys)
        invitations = await self._surveys.invitations_for(user_id)
        items: list[Available] = []
        for survey in surveys:
            response = responses.get(survey.id)
            if response is not None and response.complete:
                continue
            invited = survey.id in invitations
            if response is None and survey.definition.post_event and not invited:
                continue  # a follow-up is for the people who came
            items.append(Available(survey, response is not None, invitations.get(survey.id)))
        items.sort(key=lambda item: not item.in_progress)
        return items

    async def begin(
        self,
        *,
        user_id: int,
        chat_id: int,
        survey_id: str,
        language: str,
        event_id: int | None = None,
    ) -> Step:
        """Start the survey, or continue it where the resident stopped."""
        survey = await self.get(survey_id)
        if survey is None:
            return Refused(Refusal.UNKNOWN)
        dialog = await self._dialogs.get(chat_id)
        if dialog is not None and dialog.flow != FLOW:
            return Refused(Refusal.BUSY, survey)
        refusal = self._closed_refusal(survey)
        if refusal is not None:
            return refusal
        now = self._clock.time()
        key = self._key(survey.id, user_id)
        if event_id is None:
            event_id = (await self._surveys.invitations_for(user_id)).get(survey.id)
        async with self._db.transaction() as tx:
            response = await self._surveys.response_in(tx, survey.id, key)
            if response is not None and response.complete:
                return Refused(Refusal.ALREADY_ANSWERED, survey)
            resumed = response is not None
            if response is None:
                first = survey.definition.questions[0]
                response = Response(
                    id=secrets.token_hex(12),
                    survey_id=survey.id,
                    respondent=key,
                    language=self._language(language),
                    started_on=self._today(now),
                    current=first.id,
                    user_id=None if survey.anonymous else user_id,
                    event_id=event_id,
                    started_at=None if survey.anonymous else now,
                )
                await self._surveys.create_response_in(tx, response)
            answers = await self._surveys.answers_in(tx, response.id)
            if response.current is None:  # cannot happen for in-progress rows; be safe
                response = replace(response, current=survey.definition.questions[0].id)
                await self._surveys.update_response_in(tx, response)
            dialog = Dialog(chat_id, user_id, FLOW, STEP, {"survey": survey.id})
            await DialogRepository.save_in(tx, dialog, now)
        return self._asking(
            survey, response, answers, dialog.version, first=not resumed, resumed=resumed
        )

    async def pause(self, chat_id: int) -> None:
        """Leave the survey for now; /survey continues it."""
        await self._dialogs.clear(chat_id)

    async def current(self, *, user_id: int, chat_id: int) -> Step:
        """The question the resident is on (to show it again)."""
        context = await self._context(user_id, chat_id, version=None)
        if isinstance(context, Refused):
            return context
        survey, response, answers, dialog = context
        return self._asking(survey, response, answers, dialog.version)

    def _closed_refusal(self, survey: Survey) -> Refused | None:
        state = survey.state(self._clock.time())
        if state is SurveyState.OPEN:
            return None
        reason = {
            SurveyState.CLOSED: Refusal.CLOSED,
            SurveyState.SCHEDULED: Refusal.SCHEDULED,
            SurveyState.ENDED: Refusal.ENDED,
        }[state]
        return Refused(reason, survey)

    def _asking(
        self,
        survey: Survey,
        response: Response,
        answers: Mapping[str, Answer],
        version: int,
        *,
        first: bool = False,
        resumed: bool = False,
    ) -> Asking:
        definition = survey.definition
        assert response.current is not None
        question = definition.question(response.current)
        assert question is not None
        position, total = progress(definition, _value_map(answers), question.id)
        return Asking(
            survey=survey,
            question=question,
            position=position,
            total=total,
            version=version,
            draft=response.draft,
            previous=answers.get(question.id),
            first=first,
            resumed=resumed,
            can_go_back=position > 1,
        )

    async def _context(
        self, user_id: int, chat_id: int, *, version: int | None
    ) -> Refused | tuple[Survey, Response, dict[str, Answer], Dialog]:
        """The open survey of this chat, checked: version, survey open, response going."""
        dialog = await self._dialogs.get(chat_id)
        if (
            dialog is None
            or dialog.flow != FLOW
            or (version is not None and version != dialog.version)
        ):
            return Refused(Refusal.STALE)
        survey = await self.get(str(dialog.data.get("survey", "")))
        if survey is None:
            await self._dialogs.clear(chat_id)
            return Refused(Refusal.STALE)
        refusal = self._closed_refusal(survey)
        if refusal is not None:
            await self._dialogs.clear(chat_id)
            return refusal
        response = await self._surveys.response(survey.id, self._key(survey.id, user_id))
        if response is None or response.complete or response.current is None:
            await self._dialogs.clear(chat_id)
            return Refused(Refusal.ALREADY_ANSWERED if response else Refusal.STALE, survey)
        if survey.definition.question(response.current) is None:
            await self._dialogs.clear(chat_id)
            return Refused(Refusal.STALE, survey)
        answers = await self._surveys.answers(response.id)
        return survey, response, answers, dialog

    # -- residents: answering -----------------------------------------------------------

    async def press(
        self, *, user_id: int, chat_id: int, version: int, action: str, arg: str = ""
    ) -> Outcome:
        """A button under the current question: answer, tick, done, skip, back or keep."""
        context = await self._context(user_id, chat_id, version=version)
        if isinstance(context, Refused):
            return Outcome(context)
        survey, response, answers, dialog = context
        definition = survey.definition
        assert response.current is not None
        question = definition.question(response.current)
        assert question is not None
        current = self._asking(survey, response, answers, dialog.version)
        stale = Outcome(Refused(Refusal.STALE, survey, current=current))

        if action == "a":
            value = _button_value(question, arg)
            if value is None:
                return stale
            return await self._record(survey, response, answers, dialog, question, value)
        if action == "t":
            if question.type != MULTIPLE or not arg.isdigit() or int(arg) >= len(question.options):
                return stale
            option = question.options[int(arg)].id
            ticked = set(response.draft) ^ {option}
            draft = tuple(o.id for o in question.options if o.id in ticked)
            updated = replace(response, draft=draft)
            async with self._db.transaction(inline=True) as tx:
                await self._surveys.update_response_in(tx, updated)
                await DialogRepository.save_in(tx, dialog, self._clock.time())
            return Outcome(self._asking(survey, updated, answers, dialog.version), in_place=True)
        if action == "d":
            if question.type != MULTIPLE:
                return stale
            if not response.draft:
                if not question.skippable:
                    return Outcome(Refused(Refusal.CHOOSE_ONE, survey, current=current))
                return await self._record(
                    survey, response, answers, dialog, question, None, skipped=True
                )
            return await self._record(
                survey, response, answers, dialog, question, list(response.draft)
            )
        if action == "s":
            if not question.skippable:
                return Outcome(Refused(Refusal.NOT_SKIPPABLE, survey, current=current))
            return await self._record(
                survey, response, answers, dialog, question, None, skipped=True
            )
        if action == "k":
            previous = answers.get(question.id)
            if previous is None:
                return stale
            return await self._record(
                survey,
                response,
                answers,
                dialog,
                question,
                previous.value,
                skipped=previous.skipped,
                text_language=previous.text_language,
            )
        if action == "b":
            return await self._back(survey, response, answers, dialog, question)
        return stale

    async def answer_text(self, *, user_id: int, chat_id: int, text: str | None) -> Outcome:
        """A typed message while the survey is open: the answer to a free-text question."""
        context = await self._context(user_id, chat_id, version=None)
        if isinstance(context, Refused):
            return Outcome(context)
        survey, response, answers, dialog = context
        assert response.current is not None
        question = survey.definition.question(response.current)
        assert question is not None
        current = self._asking(survey, response, answers, dialog.version)
        if question.type != TEXT:
            return Outcome(Refused(Refusal.USE_BUTTONS, survey, current=current))
        if text is None:
            return Outcome(Refused(Refusal.TEXT_ONLY, survey, current=current))
        cleaned = text.strip()
        if not cleaned:
            return Outcome(Refused(Refusal.EMPTY, survey, current=current))
        if len(cleaned) > question.max_length:
            return Outcome(
                Refused(
                    Refusal.TOO_LONG,
                    survey,
                    limit=question.max_length,
                    length=len(cleaned),
                    current=current,
                )
            )
        language = detect_language(cleaned, self._city.languages)
        return await self._record(
            survey, response, answers, dialog, question, cleaned, text_language=language
        )

    async def _record(
        self,
        survey: Survey,
        response: Response,
        answers: dict[str, Answer],
        dialog: Dialog,
        question: Question,
        value: Any,
        *,
        skipped: bool = False,
        text_language: str | None = None,
    ) -> Outcome:
        """Store one answer and move on, in one transaction with the dialog's new version."""
        definition = survey.definition
        now = self._clock.time()
        answer = Answer(response.id, question.id, value, skipped, text_language)
        answers = {**answers, question.id: answer}
        shown = shown_questions(definition, _value_map(answers))
        shown_ids = {q.id for q in shown}
        hidden = [qid for qid in answers if qid not in shown_ids]
        for qid in hidden:
            answers.pop(qid)
        index = definition.index(question.id)
        following = next((q for q in shown if definition.index(q.id) > index), None)
        if following is None:
            updated = replace(
                response,
                status="complete",
                current=None,
                draft=(),
                completed_on=self._today(now),
                completed_at=None if survey.anonymous else now,
            )
        else:
            previous = answers.get(following.id)
            draft: tuple[str, ...] = ()
            if following.type == MULTIPLE and previous is not None and not previous.skipped:
                draft = tuple(previous.value or ())
            updated = replace(response, current=following.id, draft=draft)
        async with self._db.transaction(inline=True) as tx:
            await self._surveys.save_answer_in(tx, answer)
            await self._surveys.delete_answers_in(tx, response.id, hidden)
            await self._surveys.update_response_in(tx, updated)
            if following is None:
                await DialogRepository.clear_in(tx, dialog.chat_id)
            else:
                await DialogRepository.save_in(tx, dialog, now)
        answered = Answered(question, value, skipped)
        if following is None:
            others = [a for a in await self.available(dialog.user_id) if a.survey.id != survey.id]
            return Outcome(Finished(survey, more=len(others)), answered)
        return Outcome(self._asking(survey, updated, answers, dialog.version), answered)

    async def _back(
        self,
        survey: Survey,
        response: Response,
        answers: dict[str, Answer],
        dialog: Dialog,
        question: Question,
    ) -> Outcome:
        definition = survey.definition
        index = definition.index(question.id)
        shown = shown_questions(definition, _value_map(answers))
        earlier = [q for q in shown if definition.index(q.id) < index]
        current = self._asking(survey, response, answers, dialog.version)
        if not earlier:
            return Outcome(Refused(Refusal.STALE, survey, current=current))
        target = earlier[-1]
        previous = answers.get(target.id)
        draft: tuple[str, ...] = ()
        if target.type == MULTIPLE and previous is not None and not previous.skipped:
            draft = tuple(previous.value or ())
        updated = replace(response, current=target.id, draft=draft)
        async with self._db.transaction(inline=True) as tx:
            await self._surveys.update_response_in(tx, updated)
            await DialogRepository.save_in(tx, dialog, self._clock.time())
        return Outcome(self._asking(survey, updated, answers, dialog.version))

    # -- post-event dispatch ------------------------------------------------------------

    async def dispatch_due(self) -> int:
        """Invite the people who came to recently ended events; return how many were invited.

        Called by a periodic job. Each (survey, event) pair is handled once; each resident
        is invited to a survey at most once, never after answering it, and only while the
        survey is open. The invitations are outbox rows written in the same transaction as
        the records that prevent sending them twice.
        """
        if self.events is None or self.render_invitation is None:
            return 0
        now = self._clock.time()
        total = 0
        for survey in await self.all():
            definition = survey.definition
            if not definition.post_event or survey.state(now) is not SurveyState.OPEN:
                continue
            delay = (definition.send_after_hours or 0.0) * 3600
            events = await self.events.ended_events(
                definition.after_event_types,
                max(now - delay - LATE_LIMIT, survey.published_at - delay),
                now - delay + 1e-6,
            )
            done = await self._surveys.dispatched_events(survey.id)
            for event in events:
                if event.id in done:
                    continue
                try:
                    total += await self._dispatch_event(survey, event, now)
                except _AlreadyDispatched:
                    continue
        return total

    async def _dispatch_event(self, survey: Survey, event: EndedEvent, now: float) -> int:
        assert self.events is not None and self.render_invitation is not None
        audience = sorted(set(await self.events.survey_audience(event.id)))
        residents = [r for r in [await self._residents.get(uid) for uid in audience] if r]
        residents = [r for r in residents if r.active]
        keys = {r.user_id: self._key(survey.id, r.user_id) for r in residents}
        invited = 0
        async with self._db.transaction() as tx:
            answered = await self._surveys.respondents_in(tx, survey.id, keys.values())
            for resident in residents:
                if keys[resident.user_id] in answered:
                    continue
                if not await self._surveys.invite_in(
                    tx, survey_id=survey.id, user_id=resident.user_id, event_id=event.id, now=now
                ):
                    continue
                params = {
                    **self.render_invitation(survey, resident, event),
                    "chat_id": resident.chat_id,
                }
                await OutboxRepository.enqueue_in(
                    tx,
                    OutboxItem(
                        key=f"survey:{survey.id}:invite:{resident.user_id}",
                        chat_id=resident.chat_id,
                        method="sendMessage",
                        params=params,
                        not_before=now,
                        kind=INVITE_KIND,
                        priority=PRIORITY_BULK,
                        expires_at=survey.definition.closes_at,
                        batch=f"survey:{survey.id}",
                    ),
                    now,
                )
                invited += 1
            if not await self._surveys.record_dispatch_in(
                tx, survey_id=survey.id, event_id=event.id, invited=invited, now=now
            ):
                raise _AlreadyDispatched
        return invited

    # -- results and export -------------------------------------------------------------

    async def results(self, survey_id: str) -> SurveyResults | None:
        survey = await self.get(survey_id)
        if survey is None:
            return None
        return compute_results(survey, await self._surveys.survey_data(survey_id))

    async def export_csv(self, survey_id: str, tr: Translator) -> bytes | None:
        """The survey's responses as CSV (UTF-8 with BOM), option labels in `tr`'s language."""
        survey = await self.get(survey_id)
        if survey is None:
            return None
        return build_csv(survey, await self._surveys.survey_data(survey_id), tr)


class _AlreadyDispatched(Exception):
    """Another tick dispatched this event first: roll this one back."""


def _button_value(question: Question, arg: str) -> Any:
    """The stored value a button argument stands for, or None if it is not valid."""
    if question.type == RATING:
        return int(arg) if arg.isdigit() and int(arg) in RATING_VALUES else None
    if question.type == YES_NO:
        return {"y": "yes", "n": "no"}.get(arg)
    if question.type == SINGLE and arg.isdigit() and int(arg) < len(question.options):
        return question.options[int(arg)].id
    return None


# --------------------------------------------------------------------------- results


@dataclass(frozen=True, slots=True)
class Count:
    key: str  # "1".."5", "yes"/"no" or an option id
    count: int
    share: float  # of the people who answered the question (0..1)


@dataclass(frozen=True, slots=True)
class Breakdown:
    answered: int
    counts: tuple[Count, ...]
    mean: float | None = None


@dataclass(frozen=True, slots=True)
class TextAnswer:
    text: str
    language: str | None  # detected language of the text, None when unsure
    response_language: str  # the language the survey was taken in


@dataclass(frozen=True, slots=True)
class QuestionResult:
    question: Question
    answered: int
    skipped: int
    counts: tuple[Count, ...] = ()
    mean: float | None = None
    by_language: Mapping[str, Breakdown] = field(default_factory=dict)
    texts: tuple[TextAnswer, ...] = ()


@dataclass(frozen=True, slots=True)
class SurveyResults:
    survey: Survey
    responses: int  # started, finished or not
    complete: int
    invited: int
    invited_complete: int  # complete responses that followed an invitation
    languages: Mapping[str, int]
    questions: tuple[QuestionResult, ...]

    @property
    def partial(self) -> int:
        return self.responses - self.complete

    @property
    def response_rate(self) -> float | None:
        """Complete responses per invitation, when invitations were sent."""
        if not self.invited:
            return None
        return min(self.invited_complete / self.invited, 1.0)

    @property
    def completion_rate(self) -> float | None:
        return self.complete / self.responses if self.responses else None


def _keys(question: Question) -> list[str]:
    if question.type == RATING:
        return [str(v) for v in RATING_VALUES]
    if question.type == YES_NO:
        return list(YES_NO_VALUES)
    return [o.id for o in question.options]


def _breakdown(question: Question, values: list[Any]) -> Breakdown:
    tally: Counter[str] = Counter()
    for value in values:
        for item in value if isinstance(value, list) else [value]:
            tally[str(item)] += 1
    answered = len(values)
    counts = tuple(
        Count(key, tally[key], tally[key] / answered if answered else 0.0)
        for key in _keys(question)
    )
    mean = None
    if question.type == RATING and answered:
        mean = sum(int(v) for v in values) / answered
    return Breakdown(answered, counts, mean)


def compute_results(survey: Survey, data: SurveyData) -> SurveyResults:
    """Per-question counts, shares, rating means, per language; answers of unfinished
    responses count too (each answer is kept as it is given)."""
    language_of = {r.id: r.language for r in data.responses}
    by_question: dict[str, list[Answer]] = {}
    for answer in data.answers:
        if answer.response_id in language_of:
            by_question.setdefault(answer.question_id, []).append(answer)
    languages = Counter(r.language for r in data.responses)
    ordered_languages = sorted(languages, key=lambda code: (-languages[code], code))
    questions: list[QuestionResult] = []
    for question in survey.definition.questions:
        answers = by_question.get(question.id, [])
        given = [a for a in answers if not a.skipped and a.value is not None]
        skipped = len(answers) - len(given)
        if question.type == TEXT:
            texts = tuple(
                TextAnswer(str(a.value), a.text_language, language_of[a.response_id]) for a in given
            )
            questions.append(QuestionResult(question, len(given), skipped, texts=texts))
            continue
        overall = _breakdown(question, [a.value for a in given])
        per_language = {
            code: _breakdown(
                question, [a.value for a in given if language_of[a.response_id] == code]
            )
            for code in ordered_languages
        }
        questions.append(
            QuestionResult(
                question,
                len(given),
                skipped,
                counts=overall.counts,
                mean=overall.mean,
                by_language={k: v for k, v in per_language.items() if v.answered},
            )
        )
    complete = [r for r in data.responses if r.complete]
    return SurveyResults(
        survey=survey,
        responses=len(data.responses),
        complete=len(complete),
        invited=data.invited,
        invited_complete=sum(1 for r in complete if r.event_id is not None),
        languages={code: languages[code] for code in ordered_languages},
        questions=tuple(questions),
    )


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: str) -> str:
    """Keep spreadsheets from running a resident's text as a formula."""
    return "'" + value if value.startswith(_FORMULA_START) else value


def build_csv(survey: Survey, data: SurveyData, tr: Translator) -> bytes:
    """One row per response, one column per question (plus the detected language of
    free-text answers). Anonymous surveys have no user column."""
    definition = survey.definition
    language = tr.language
    header = ["response", "status", "language", "event", "started", "completed"]
    if not survey.anonymous:
        header.append("user_id")
    for question in definition.questions:
        header.append(question.id)
        if question.type == TEXT:
            header.append(f"{question.id}_language")
    answers: dict[str, dict[str, Answer]] = {}
    for answer in data.answers:
        answers.setdefault(answer.response_id, {})[answer.question_id] = answer
    yes_no = {"yes": tr._("Yes"), "no": tr._("No")}
    skipped = tr._("(skipped)")

    def label(question: Question, value: Any) -> str:
        if question.type == YES_NO:
            return yes_no.get(str(value), str(value))
        if question.type in (SINGLE, MULTIPLE):
            items = value if isinstance(value, list) else [value]
            labels = []
            for item in items:
                option = question.option(str(item))
                labels.append(
                    option.label(language, definition.default_language) if option else str(item)
                )
            return "; ".join(labels)
        return str(value)

    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    for response in data.responses:
        row = [
            response.id,
            response.status,
            response.language,
            "" if response.event_id is None else str(response.event_id),
            response.started_on,
            response.completed_on or "",
        ]
        if not survey.anonymous:
            row.append("" if response.user_id is None else str(response.user_id))
        given = answers.get(response.id, {})
        for question in definition.questions:
            found = given.get(question.id)
            if found is None:
                cell = ""
            elif found.skipped:
                cell = skipped
            else:
                cell = _cell(label(question, found.value))
            row.append(cell)
            if question.type == TEXT:
                row.append((found.text_language or "") if found is not None else "")
        writer.writerow(row)
    return buffer.getvalue().encode("utf-8-sig")
