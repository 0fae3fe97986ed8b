"""The survey service on a real database with a controllable clock."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.clock import ManualClock
from bot.config import City
from bot.services.survey_definitions import SurveyDefinition, check_survey
from bot.services.surveys import (
    Asking,
    EndedEvent,
    Finished,
    Refusal,
    Refused,
    Survey,
    SurveyService,
    respondent_key,
)
from bot.storage import Database, DialogRepository, OutboxRepository, ResidentRepository
from bot.storage.residents import Resident

SECRET = "test-hash-secret-0123456789"

SURVEY = """\
id = "svc"
anonymous = true
title = { en = "Service", es = "Servicio" }
intro = { en = "Intro", es = "Intro" }
after_event_types = ["meeting"]
send_after_hours = 2

[[questions]]
id = "score"
type = "rating"
text = { en = "Score?", es = "¿Nota?" }

[[questions]]
id = "again"
type = "yes_no"
text = { en = "Again?", es = "¿Otra vez?" }

[[questions]]
id = "why"
type = "text"
max_length = 20
show_if = { question = "again", answers = ["no"] }
text = { en = "Why not?", es = "¿Por qué no?" }
"""


def definition(text: str = SURVEY) -> SurveyDefinition:
    result = check_survey(
        text, languages=("en", "es"), default_language="en", timezone=ZoneInfo("America/New_York")
    )
    assert result.definition is not None, result.report()
    return result.definition


class FakeEvents:
    def __init__(self) -> None:
        self.events: list[EndedEvent] = []
        self.audience: dict[int, list[int]] = {}
        self.asked: list[tuple[float, float]] = []

    async def ended_events(
        self, types: Sequence[str], ended_from: float, ended_to: float
    ) -> list[EndedEvent]:
        self.asked.append((ended_from, ended_to))
        return [e for e in self.events if e.type in types and ended_from <= e.ends_at < ended_to]

    async def survey_audience(self, event_id: int) -> list[int]:
        return self.audience.get(event_id, [])


def render(survey: Survey, resident: Resident, event: EndedEvent | None) -> dict[str, Any]:
    title = event.title(resident.language, "en") if event else ""
    return {"text": f"[{resident.language}] {survey.id} after {title}"}


@pytest.fixture
async def service(db: Database, city: City, clock: ManualClock) -> SurveyService:
    svc = SurveyService.on_database(db, city=city, clock=clock, secret=SECRET)
    svc.events = FakeEvents()
    svc.render_invitation = render
    await svc.publish(definition(), "source")
    return svc


async def resident(db: Database, user_id: int, language: str = "en") -> Resident:
    return await ResidentRepository(db).touch(
        user_id=user_id, chat_id=user_id, language=language, language_source="chosen", now=0.0
    )


async def test_answers_are_stored_as_given_and_the_response_completes(
    service: SurveyService, db: Database
) -> None:
    step = await service.begin(user_id=1, chat_id=1, survey_id="svc", language="es")
    assert isinstance(step, Asking) and step.first and step.question.id == "score"
    assert (step.position, step.total) == (1, 3)
    outcome = await service.press(user_id=1, chat_id=1, version=step.version, action="a", arg="4")
    assert isinstance(outcome.step, Asking) and outcome.step.question.id == "again"
    assert await db.fetchval("SELECT value FROM survey_answers WHERE question_id = 'score'") == "4"
    outcome = await service.press(
        user_id=1, chat_id=1, version=outcome.step.version, action="a", arg="y"
    )
    assert isinstance(outcome.step, Finished)
    row = await db.fetchone("SELECT status, language, current FROM survey_responses")
    assert row is not None and tuple(row) == ("complete", "es", None)
    assert await DialogRepository(db).get(1) is None


async def test_one_response_per_resident(service: SurveyService) -> None:
    step = await service.begin(user_id=1, chat_id=1, survey_id="svc", language="en")
    assert isinstance(step, Asking)
    step2 = (
        await service.press(user_id=1, chat_id=1, version=step.version, action="a", arg="5")
    ).step
    assert isinstance(step2, Asking)
    await service.press(user_id=1, chat_id=1, version=step2.version, action="a", arg="y")
    again = await service.begin(user_id=1, chat_id=1, survey_id="svc", language="en")
    assert isinstance(again, Refused) and again.reason is Refusal.ALREADY_ANSWERED
    assert await service.available(1) == []


async def test_stale_version_changes_nothing(service: SurveyService, db: Database) -> None:
    step = await service.begin(user_id=1, chat_id=1, survey_id="svc", language="en")
    assert isinstance(step, Asking)
    await service.press(user_id=1, chat_id=1, version=step.version, action="a", arg="3")
    before = await db.fetchall("SELECT * FROM survey_answers")
    stale = await service.press(user_id=1, chat_id=1, version=step.version, action="a", arg="1")
    assert isinstance(stale.step, Refused) and stale.step.reason is Refusal.STALE
    assert [tuple(r) for r in await db.fetchall("SELECT * FROM survey_answers")] == [
        tuple(r) for r in before
    ]


async def test_too_long_text_is_refused_and_nothing_is_written(
    service: SurveyService, db: Database
) -> None:
    step = await service.begin(user_id=1, chat_id=1, survey_id="svc", language="en")
    assert isinstance(step, Asking)
    step = (
        await service.press(user_id=1, chat_id=1, version=step.version, action="a", arg="2")
    ).step
    assert isinstance(step, Asking)
    step = (
        await service.press(user_id=1, chat_id=1, version=step.version, action="a", arg="n")
    ).step
    assert isinstance(step, Asking) and step.question.id == "why"
    count = await db.fetchval("SELECT count(*) FROM survey_answers")
    outcome = await service.answer_text(user_id=1, chat_id=1, text="x" * 21)
    assert isinstance(outcome.step, Refused) and outcome.step.reason is Refusal.TOO_LONG
    assert (outcome.step.limit, outcome.step.length) == (20, 21)
    assert await db.fetchval("SELECT count(*) FROM survey_answers") == count
    current = await service.current(user_id=1, chat_id=1)
    assert isinstance(current, Asking) and current.question.id == "why"
    done = await service.answer_text(user_id=1, chat_id=1, text="  Too late  ")
    assert isinstance(done.step, Finished)
    assert await db.fetchval("SELECT value FROM survey_answers WHERE question_id = 'why'") == (
        '"Too late"'
    )


async def test_changing_an_answer_removes_answers_to_questions_no_longer_shown(
    service: SurveyService, db: Database
) -> None:
    step = await service.begin(user_id=1, chat_id=1, survey_id="svc", language="en")
    assert isinstance(step, Asking)
    step = (
        await service.press(user_id=1, chat_id=1, version=step.version, action="a", arg="2")
    ).step
    assert isinstance(step, Asking)
    step = (
        await service.press(user_id=1, chat_id=1, version=step.version, action="a", arg="n")
    ).step
    assert isinstance(step, Asking) and step.question.id == "why" and step.total == 3
    step = (await service.press(user_id=1, chat_id=1, version=step.version, action="b")).step
    assert isinstance(step, Asking) and step.question.id == "again"
    assert step.previous is not None and step.previous.value == "no"
    outcome = await service.press(user_id=1, chat_id=1, version=step.version, action="a", arg="y")
    assert isinstance(outcome.step, Finished)
    rows = await db.fetchall("SELECT question_id FROM survey_answers ORDER BY question_id")
    assert [r[0] for r in rows] == ["again", "score"]


async def test_closed_scheduled_and_ended_surveys_refuse_answers(
    service: SurveyService, clock: ManualClock
) -> None:
    step = await service.begin(user_id=1, chat_id=1, survey_id="svc", language="en")
    assert isinstance(step, Asking)
    assert await service.set_open("svc", False) is not None
    refused = await service.press(user_id=1, chat_id=1, version=step.version, action="a", arg="5")
    assert isinstance(refused.step, Refused) and refused.step.reason is Refusal.CLOSED
    again = await service.begin(user_id=2, chat_id=2, survey_id="svc", language="en")
    assert isinstance(again, Refused) and again.reason is Refusal.CLOSED

    now = clock.now()
    windowed = SURVEY.replace('id = "svc"', 'id = "window"').replace(
        "anonymous = true",
        f"anonymous = true\nopens = {(now + timedelta(days=1)).date().isoformat()}\n"
        f"closes = {(now + timedelta(days=3)).date().isoformat()}",
    )
    await service.publish(definition(windowed), windowed)
    early = await service.begin(user_id=1, chat_id=1, survey_id="window", language="en")
    assert isinstance(early, Refused) and early.reason is Refusal.SCHEDULED
    clock.advance(timedelta(days=2))
    assert isinstance(
        await service.begin(user_id=1, chat_id=1, survey_id="window", language="en"), Asking
    )
    clock.advance(timedelta(days=3))
    late = await service.begin(user_id=3, chat_id=3, survey_id="window", language="en")
    assert isinstance(late, Refused) and late.reason is Refusal.ENDED


async def test_republishing_may_fix_texts_but_not_reshape_answered_surveys(
    service: SurveyService,
) -> None:
    fixed = SURVEY.replace('en = "Score?"', 'en = "Your score?"')
    assert (await service.publish(definition(fixed), fixed)).refused == ""
    step = await service.begin(user_id=1, chat_id=1, survey_id="svc", language="en")
    assert isinstance(step, Asking) and step.question.text("en", "en") == "Your score?"
    reshaped = SURVEY.replace('type = "rating"', 'type = "yes_no"')
    result = await service.publish(definition(reshaped), reshaped)
    assert "publish it under a new id" in result.refused
    survey = await service.get("svc")
    assert survey is not None and survey.definition.questions[0].type == "rating"


async def test_anonymous_rows_hold_no_user_no_chat_and_no_moment(
    service: SurveyService, db: Database
) -> None:
    user = 424242
    step = await service.begin(user_id=user, chat_id=user, survey_id="svc", language="en")
    assert isinstance(step, Asking)
    step = (
        await service.press(user_id=user, chat_id=user, version=step.version, action="a", arg="1")
    ).step
    assert isinstance(step, Asking)
    step = (
        await service.press(user_id=user, chat_id=user, version=step.version, action="a", arg="n")
    ).step
    await service.answer_text(user_id=user, chat_id=user, text="Secret words")
    responses = [dict(r) for r in await db.fetchall("SELECT * FROM survey_responses")]
    answers = [dict(r) for r in await db.fetchall("SELECT * FROM survey_answers")]
    assert len(responses) == 1 and len(answers) == 3
    row = responses[0]
    assert row["user_id"] is None and row["started_at"] is None and row["completed_at"] is None
    assert row["started_on"] == "2026-12-01" and row["completed_on"] == "2026-12-01"
    expected = hmac.new(
        SECRET.encode(), f"survey-response\x00svc\x00{user}".encode(), hashlib.sha256
    ).hexdigest()
    assert row["respondent"] == expected == respondent_key(SECRET, "svc", user)
    plain = hashlib.sha256(f"survey-response\x00svc\x00{user}".encode()).hexdigest()
    assert row["respondent"] != plain  # needs the secret, not just the user id
    for value in [*row.values(), *(v for a in answers for v in a.values())]:
        assert str(user) not in str(value)
    # Nothing else in the database holds the answer text.
    for table in await db.fetchall("SELECT name FROM sqlite_master WHERE type = 'table'"):
        if table[0] == "survey_answers":
            continue
        for found in await db.fetchall(f"SELECT * FROM {table[0]}"):
            assert "Secret words" not in " ".join(str(v) for v in tuple(found))


async def test_named_survey_keeps_the_user(service: SurveyService, db: Database) -> None:
    named = SURVEY.replace('id = "svc"', 'id = "named"').replace(
        "anonymous = true", "anonymous = false"
    )
    await service.publish(definition(named), named)
    step = await service.begin(user_id=7, chat_id=7, survey_id="named", language="en")
    assert isinstance(step, Asking)
    await service.press(user_id=7, chat_id=7, version=step.version, action="a", arg="5")
    row = await db.fetchone("SELECT user_id, started_at FROM survey_responses")
    assert row is not None and row["user_id"] == 7 and row["started_at"] is not None


async def test_post_event_dispatch_after_the_delay_once_per_resident(
    service: SurveyService, db: Database, clock: ManualClock
) -> None:
    events = service.events
    assert isinstance(events, FakeEvents)
    for user_id, language in ((1, "en"), (2, "es"), (3, "en")):
        await resident(db, user_id, language)
    ends = clock.time() + 3600
    events.events = [
        EndedEvent(10, "meeting", ends, {"en": "Main South meeting", "es": "Reunión"}),
        EndedEvent(11, "workshop", ends, {"en": "Workshop"}),
    ]
    events.audience = {10: [1, 2, 3, 99], 11: [1]}
    # Resident 3 already answered through a link.
    step = await service.begin(user_id=3, chat_id=3, survey_id="svc", language="en")
    assert isinstance(step, Asking)
    step = (
        await service.press(user_id=3, chat_id=3, version=step.version, action="a", arg="5")
    ).step
    assert isinstance(step, Asking)
    await service.press(user_id=3, chat_id=3, version=step.version, action="a", arg="y")

    clock.advance(timedelta(hours=1))  # the meeting just ended
    assert await service.dispatch_due() == 0
    clock.advance(timedelta(hours=2) - timedelta(seconds=1))
    assert await service.dispatch_due() == 0
    clock.advance(timedelta(seconds=1))  # send_after_hours = 2
    assert await service.dispatch_due() == 2  # 1 and 2; not 3 (answered), not 99 (unknown)
    assert await service.dispatch_due() == 0
    outbox = OutboxRepository(db)
    first = await outbox.get("survey:svc:invite:1")
    second = await outbox.get("survey:svc:invite:2")
    assert first is not None and first.params["text"] == "[en] svc after Main South meeting"
    assert second is not None and second.params["text"] == "[es] svc after Reunión"
    assert await outbox.get("survey:svc:invite:3") is None
    assert (await service.available(2))[0].event_id == 10

    # A second meeting: residents already invited are not asked again.
    events.events.append(EndedEvent(12, "meeting", clock.time(), {"en": "Next"}))
    events.audience[12] = [1, 2]
    clock.advance(timedelta(hours=2))
    assert await service.dispatch_due() == 0
    assert await db.fetchval("SELECT count(*) FROM survey_invitations") == 2


async def test_a_follow_up_is_not_sent_days_late_or_for_closed_surveys(
    service: SurveyService, db: Database, clock: ManualClock
) -> None:
    events = service.events
    assert isinstance(events, FakeEvents)
    await resident(db, 1)
    events.events = [EndedEvent(10, "meeting", clock.time() - 5 * 86400, {})]
    events.audience = {10: [1]}
    assert await service.dispatch_due() == 0  # ended before the survey was published
    events.events = [EndedEvent(11, "meeting", clock.time() + 60, {})]
    events.audience = {11: [1]}
    await service.set_open("svc", False)
    clock.advance(timedelta(hours=3))
    assert await service.dispatch_due() == 0
    await service.set_open("svc", True)
    assert await service.dispatch_due() == 1


async def test_post_event_surveys_are_listed_only_for_invited_residents(
    service: SurveyService, db: Database
) -> None:
    assert await service.available(5) == []
    general = SURVEY.replace('id = "svc"', 'id = "general"').replace(
        'after_event_types = ["meeting"]\nsend_after_hours = 2\n', ""
    )
    await service.publish(definition(general), general)
    assert [a.survey.id for a in await service.available(5)] == ["general"]
    # A link still opens the follow-up survey for anyone.
    assert isinstance(
        await service.begin(user_id=5, chat_id=5, survey_id="svc", language="en"), Asking
    )
    listed = await service.available(5)
    assert [(a.survey.id, a.in_progress) for a in listed] == [("svc", True), ("general", False)]
