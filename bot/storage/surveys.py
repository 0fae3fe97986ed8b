"""Surveys, responses, answers, post-event invitations and dispatch records.

Anonymity lives partly here: a response row is found by its `respondent` keyed hash,
never by a user id; anonymous responses keep `user_id`, `started_at` and `completed_at`
NULL (only days are stored), and answers carry no user, chat or time at all.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from bot.storage.db import Database, Transaction


@dataclass(frozen=True, slots=True)
class StoredSurvey:
    id: str
    definition: dict[str, Any]
    source: str
    anonymous: bool
    status: str
    opens_at: float | None
    closes_at: float | None
    published_at: float
    updated_at: float


@dataclass(frozen=True, slots=True)
class Response:
    id: str
    survey_id: str
    respondent: str
    language: str
    started_on: str
    status: str = "in_progress"
    current: str | None = None
    draft: tuple[str, ...] = ()
    user_id: int | None = None
    event_id: int | None = None
    completed_on: str | None = None
    started_at: float | None = None
    completed_at: float | None = None

    @property
    def complete(self) -> bool:
        return self.status == "complete"


@dataclass(frozen=True, slots=True)
class Answer:
    response_id: str
    question_id: str
    value: Any = None
    skipped: bool = False
    text_language: str | None = None


@dataclass(frozen=True, slots=True)
class ResponseCounts:
    complete: int = 0
    in_progress: int = 0

    @property
    def total(self) -> int:
        return self.complete + self.in_progress


@dataclass(frozen=True, slots=True)
class EndedEventRow:
    id: int
    event_type: str
    titles: dict[str, str]
    ends_at: float


@dataclass(frozen=True, slots=True)
class SurveyData:
    """Everything the results and the export are computed from."""

    responses: list[Response] = field(default_factory=list)
    answers: list[Answer] = field(default_factory=list)
    invited: int = 0


def _survey(row: sqlite3.Row) -> StoredSurvey:
    return StoredSurvey(
        id=row["id"],
        definition=json.loads(row["definition"]),
        source=row["source"],
        anonymous=bool(row["anonymous"]),
        status=row["status"],
        opens_at=row["opens_at"],
        closes_at=row["closes_at"],
        published_at=row["published_at"],
        updated_at=row["updated_at"],
    )


def _response(row: sqlite3.Row) -> Response:
    return Response(
        id=row["id"],
        survey_id=row["survey_id"],
        respondent=row["respondent"],
        language=row["language"],
        started_on=row["started_on"],
        status=row["status"],
        current=row["current"],
        draft=tuple(json.loads(row["draft"])) if row["draft"] else (),
        user_id=row["user_id"],
        event_id=row["event_id"],
        completed_on=row["completed_on"],
        started_at=row["started_at"],
        completed_at=row["completed_at"],
    )


def _answer(row: sqlite3.Row) -> Answer:
    return Answer(
        response_id=row["response_id"],
        question_id=row["question_id"],
        value=None if row["value"] is None else json.loads(row["value"]),
        skipped=bool(row["skipped"]),
        text_language=row["text_language"],
    )


class SurveyRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    # -- surveys ------------------------------------------------------------------------

    async def get(self, survey_id: str) -> StoredSurvey | None:
        row = await self._db.fetchone("SELECT * FROM surveys WHERE id = ?", (survey_id,))
        return None if row is None else _survey(row)

    async def all(self) -> list[StoredSurvey]:
        rows = await self._db.fetchall("SELECT * FROM surveys ORDER BY published_at, id")
        return [_survey(row) for row in rows]

    @staticmethod
    async def get_in(tx: Transaction, survey_id: str) -> StoredSurvey | None:
        row = await tx.fetchone("SELECT * FROM surveys WHERE id = ?", (survey_id,))
        return None if row is None else _survey(row)

    @staticmethod
    async def publish_in(
        tx: Transaction,
        *,
        survey_id: str,
        definition: dict[str, Any],
        source: str,
        anonymous: bool,
        opens_at: float | None,
        closes_at: float | None,
        now: float,
    ) -> None:
        """Insert the survey (open), or replace the definition of an existing one."""
        await tx.execute(
            "INSERT INTO surveys (id, definition, source, anonymous, status, opens_at,"
            " closes_at, published_at, updated_at) VALUES (?, ?, ?, ?, 'open', ?, ?, ?, ?)"
            " ON CONFLICT (id) DO UPDATE SET definition = excluded.definition,"
            " source = excluded.source, anonymous = excluded.anonymous,"
            " opens_at = excluded.opens_at, closes_at = excluded.closes_at,"
            " updated_at = excluded.updated_at",
            (
                survey_id,
                json.dumps(definition, ensure_ascii=False),
                source,
                1 if anonymous else 0,
                opens_at,
                closes_at,
                now,
                now,
            ),
        )

    async def set_status(self, survey_id: str, status: str, now: float) -> bool:
        async with self._db.transaction() as tx:
            return (
                await tx.execute_rowcount(
                    "UPDATE surveys SET status = ?, updated_at = ? WHERE id = ?",
                    (status, now, survey_id),
                )
                > 0
            )

    async def counts(self) -> dict[str, ResponseCounts]:
        rows = await self._db.fetchall(
            "SELECT survey_id, sum(status = 'complete') AS complete,"
            " sum(status = 'in_progress') AS in_progress FROM survey_responses"
            " GROUP BY survey_id"
        )
        return {
            row["survey_id"]: ResponseCounts(int(row["complete"]), int(row["in_progress"]))
            for row in rows
        }

    @staticmethod
    async def counts_in(tx: Transaction, survey_id: str) -> ResponseCounts:
        row = await tx.fetchone(
            "SELECT coalesce(sum(status = 'complete'), 0), coalesce(sum(status = 'in_progress'), 0)"
            " FROM survey_responses WHERE survey_id = ?",
            (survey_id,),
        )
        assert row is not None
        return ResponseCounts(int(row[0]), int(row[1]))

    # -- responses ----------------------------------------------------------------------

    async def response(self, survey_id: str, respondent: str) -> Response | None:
        row = await self._db.fetchone(
            "SELECT * FROM survey_responses WHERE survey_id = ? AND respondent = ?",
            (survey_id, respondent),
        )
        return None if row is None else _response(row)

    @staticmethod
    async def response_in(tx: Transaction, survey_id: str, respondent: str) -> Response | None:
        row = await tx.fetchone(
            "SELECT * FROM survey_responses WHERE survey_id = ? AND respondent = ?",
            (survey_id, respondent),
        )
        return None if row is None else _response(row)

    async def responses_by(self, respondents: dict[str, str]) -> dict[str, Response]:
        """The responses of one resident: `respondents` maps survey id -> their key."""
        if not respondents:
            return {}
        clauses = " OR ".join("(survey_id = ? AND respondent = ?)" for _ in respondents)
        params = [value for pair in respondents.items() for value in pair]
        rows = await self._db.fetchall(
            f"SELECT * FROM survey_responses WHERE {clauses}", params, inline=True
        )
        return {row["survey_id"]: _response(row) for row in rows}

    @staticmethod
    async def respondents_in(
        tx: Transaction, survey_id: str, respondents: Iterable[str]
    ) -> set[str]:
        """Which of these keys already have a response to the survey."""
        keys = list(respondents)
        found: set[str] = set()
        for start in range(0, len(keys), 500):
            chunk = keys[start : start + 500]
            rows = await tx.fetchall(
                "SELECT respondent FROM survey_responses WHERE survey_id = ?"
                f" AND respondent IN ({','.join('?' * len(chunk))})",
                (survey_id, *chunk),
            )
            found.update(row[0] for row in rows)
        return found

    @staticmethod
    async def create_response_in(tx: Transaction, response: Response) -> None:
        await tx.execute(
            "INSERT INTO survey_responses (id, survey_id, respondent, user_id, language,"
            " event_id, status, current, draft, started_on, completed_on, started_at,"
            " completed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                response.id,
                response.survey_id,
                response.respondent,
                response.user_id,
                response.language,
                response.event_id,
                response.status,
                response.current,
                json.dumps(list(response.draft)) if response.draft else None,
                response.started_on,
                response.completed_on,
                response.started_at,
                response.completed_at,
            ),
        )

    @staticmethod
    async def update_response_in(tx: Transaction, response: Response) -> None:
        """Store the response's progress (current question, draft, completion)."""
        await tx.execute(
            "UPDATE survey_responses SET status = ?, current = ?, draft = ?, completed_on = ?,"
            " completed_at = ? WHERE id = ?",
            (
                response.status,
                response.current,
                json.dumps(list(response.draft)) if response.draft else None,
                response.completed_on,
                response.completed_at,
                response.id,
            ),
        )

    # -- answers ------------------------------------------------------------------------

    async def answers(self, response_id: str) -> dict[str, Answer]:
        rows = await self._db.fetchall(
            "SELECT * FROM survey_answers WHERE response_id = ?", (response_id,), inline=True
        )
        return {row["question_id"]: _answer(row) for row in rows}

    @staticmethod
    async def answers_in(tx: Transaction, response_id: str) -> dict[str, Answer]:
        rows = await tx.fetchall(
            "SELECT * FROM survey_answers WHERE response_id = ?", (response_id,)
        )
        return {row["question_id"]: _answer(row) for row in rows}

    @staticmethod
    async def save_answer_in(tx: Transaction, answer: Answer) -> None:
        await tx.execute(
            "INSERT INTO survey_answers (response_id, question_id, skipped, value, text_language)"
            " VALUES (?, ?, ?, ?, ?) ON CONFLICT (response_id, question_id) DO UPDATE SET"
            " skipped = excluded.skipped, value = excluded.value,"
            " text_language = excluded.text_language",
            (
                answer.response_id,
                answer.question_id,
                1 if answer.skipped else 0,
                None if answer.value is None else json.dumps(answer.value, ensure_ascii=False),
                answer.text_language,
            ),
        )

    @staticmethod
    async def delete_answers_in(
        tx: Transaction, response_id: str, question_ids: Iterable[str]
    ) -> None:
        await tx.executemany(
            "DELETE FROM survey_answers WHERE response_id = ? AND question_id = ?",
            ((response_id, question_id) for question_id in question_ids),
        )

    async def survey_data(self, survey_id: str) -> SurveyData:
        """All responses, answers and the invitation count of one survey (one snapshot)."""
        async with self._db.transaction() as tx:
            responses = await tx.fetchall(
                "SELECT * FROM survey_responses WHERE survey_id = ? ORDER BY started_on, id",
                (survey_id,),
            )
            answers = await tx.fetchall(
                "SELECT a.* FROM survey_answers a JOIN survey_responses r ON r.id = a.response_id"
                " WHERE r.survey_id = ?",
                (survey_id,),
            )
            invited = await tx.fetchone(
                "SELECT count(*) FROM survey_invitations WHERE survey_id = ?", (survey_id,)
            )
        return SurveyData(
            responses=[_response(row) for row in responses],
            answers=[_answer(row) for row in answers],
            invited=int(invited[0]) if invited else 0,
        )

    # -- invitations and dispatch -------------------------------------------------------

    async def invitations_for(self, user_id: int) -> dict[str, int | None]:
        """Survey id -> event id of every invitation this resident received."""
        rows = await self._db.fetchall(
            "SELECT survey_id, event_id FROM survey_invitations WHERE user_id = ?",
            (user_id,),
            inline=True,
        )
        return {row["survey_id"]: row["event_id"] for row in rows}

    @staticmethod
    async def invite_in(
        tx: Transaction, *, survey_id: str, user_id: int, event_id: int | None, now: float
    ) -> bool:
        """Record the invitation; False if this resident was invited to the survey before."""
        count = await tx.execute_rowcount(
            "INSERT OR IGNORE INTO survey_invitations (survey_id, user_id, event_id, invited_at)"
            " VALUES (?, ?, ?, ?)",
            (survey_id, user_id, event_id, now),
        )
        return count == 1

    async def dispatched_events(self, survey_id: str) -> set[int]:
        rows = await self._db.fetchall(
            "SELECT event_id FROM survey_dispatches WHERE survey_id = ?", (survey_id,)
        )
        return {int(row[0]) for row in rows}

    @staticmethod
    async def record_dispatch_in(
        tx: Transaction, *, survey_id: str, event_id: int, invited: int, now: float
    ) -> bool:
        """Mark the event's follow-up as done; False if another tick did it first."""
        count = await tx.execute_rowcount(
            "INSERT OR IGNORE INTO survey_dispatches (survey_id, event_id, invited,"
            " dispatched_at) VALUES (?, ?, ?, ?)",
            (survey_id, event_id, invited, now),
        )
        return count == 1

    async def ended_events(
        self, types: Iterable[str], ended_from: float, ended_to: float
    ) -> list[EndedEventRow]:
        """Published (not cancelled) events of these types that ended in [from, to).

        Reads the events feature's table (id, event_type, title, ends_at, status only).
        """
        kinds = list(types)
        if not kinds:
            return []
        rows = await self._db.fetchall(
            "SELECT id, event_type, title, ends_at FROM events WHERE status = 'published'"
            f" AND event_type IN ({','.join('?' * len(kinds))}) AND ends_at >= ? AND ends_at < ?"
            " ORDER BY ends_at, id",
            (*kinds, ended_from, ended_to),
        )
        return [
            EndedEventRow(
                id=int(row["id"]),
                event_type=row["event_type"],
                titles=json.loads(row["title"]),
                ends_at=float(row["ends_at"]),
            )
            for row in rows
        ]
