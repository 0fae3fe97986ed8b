"""What the bot holds about one resident, erasing it, and the retention purge.

Reads gather a resident's data from every table for /mydata. Writes run inside the
caller's transaction, so that an erasure (or one batch of the nightly purge) is all or
nothing. Reports are never deleted: they lose their link to the person (see
migrations/0007_privacy.sql) and stay for the program's statistics.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from bot.storage.db import Database, Transaction

DETACHED = 0  # resident_id / resident_chat_id of a report that lost its resident
CLOSED_STATUSES = ("resolved", "not_actionable")
# Spelled out (constants, not input) so that SQLite can use the partial index.
_CLOSED_SQL = "(" + ", ".join(f"'{status}'" for status in CLOSED_STATUSES) + ")"


@dataclass(frozen=True, slots=True)
class HeldRsvp:
    """A resident's answer to an event."""

    event_id: int
    titles: dict[str, str]
    starts_at: float
    place: str
    answer: str
    waitlisted: bool
    updated_at: float


@dataclass(frozen=True, slots=True)
class OpenedEvent:
    event_id: int
    titles: dict[str, str]
    opened_at: float


@dataclass(frozen=True, slots=True)
class NamedResponse:
    """A survey response linked to a resident (named surveys), with its answers."""

    id: str
    survey_id: str
    status: str
    language: str
    started_on: str
    completed_on: str | None
    event_id: int | None
    answers: list[tuple[str, bool, Any]] = field(default_factory=list)  # question, skipped, value


@dataclass(frozen=True, slots=True)
class Invitation:
    survey_id: str
    event_id: int | None
    invited_at: float


@dataclass(frozen=True, slots=True)
class ReportRow:
    """The outbox row of a report-related message (key `report:<id>:...`)."""

    id: int
    key: str
    kind: str
    chat_id: int
    method: str
    status: str
    params: dict[str, Any]
    result: dict[str, Any]

    @property
    def message_ids(self) -> list[int]:
        ids = self.result.get("message_ids") or (
            [self.result["message_id"]] if self.result.get("message_id") is not None else []
        )
        return [int(i) for i in ids]


@dataclass(frozen=True, slots=True)
class SurveyLinks:
    """What an erasure did to survey responses."""

    deleted: int = 0  # unfinished: dropped with their answers
    unlinked: int = 0  # finished: kept for the results, no longer findable


def _report_key_range(report_id: int) -> tuple[str, str]:
    # `key >= 'report:7:' AND key < 'report:7;'` uses the unique index (';' follows ':').
    return f"report:{report_id}:", f"report:{report_id};"


class PrivacyRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    # -- reading: /mydata ------------------------------------------------------------------

    async def alert_choices(self, user_id: int) -> tuple[list[str], list[str], dict[str, Any]]:
        """Followed areas, muted event types and the alert switches (raw columns)."""
        areas = await self._db.fetchall(
            "SELECT area FROM subscriptions WHERE user_id = ? ORDER BY area", (user_id,)
        )
        muted = await self._db.fetchall(
            "SELECT event_type FROM muted_event_types WHERE user_id = ? ORDER BY event_type",
            (user_id,),
        )
        prefs = await self._db.fetchone("SELECT * FROM alert_prefs WHERE user_id = ?", (user_id,))
        switches = {} if prefs is None else dict(prefs)
        switches.pop("user_id", None)
        return [row[0] for row in areas], [row[0] for row in muted], switches

    async def rsvps(self, user_id: int) -> list[HeldRsvp]:
        rows = await self._db.fetchall(
            "SELECT r.event_id, e.title, e.starts_at, e.place, r.answer, r.waitlisted,"
            " r.updated_at FROM rsvps r JOIN events e ON e.id = r.event_id"
            " WHERE r.user_id = ? ORDER BY e.starts_at, r.event_id",
            (user_id,),
        )
        return [
            HeldRsvp(
                event_id=row[0],
                titles=json.loads(row[1]),
                starts_at=row[2],
                place=row[3],
                answer=row[4],
                waitlisted=bool(row[5]),
                updated_at=row[6],
            )
            for row in rows
        ]

    async def places_held(self, user_id: int, now: float) -> list[int]:
        """Upcoming events where the resident holds a place (Going, not waitlisted)."""
        rows = await self._db.fetchall(
            "SELECT r.event_id FROM rsvps r JOIN events e ON e.id = r.event_id"
            " WHERE r.user_id = ? AND r.answer = 'going' AND r.waitlisted = 0"
            " AND e.status = 'published' AND e.starts_at > ? ORDER BY r.event_id",
            (user_id, now),
        )
        return [int(row[0]) for row in rows]

    async def opened_events(self, user_id: int) -> list[OpenedEvent]:
        rows = await self._db.fetchall(
            "SELECT o.event_id, e.title, o.opened_at FROM event_opens o"
            " JOIN events e ON e.id = o.event_id WHERE o.user_id = ? ORDER BY o.opened_at",
            (user_id,),
        )
        return [OpenedEvent(row[0], json.loads(row[1]), row[2]) for row in rows]

    async def survey_ids(self) -> list[str]:
        rows = await self._db.fetchall("SELECT id FROM surveys ORDER BY id")
        return [str(row[0]) for row in rows]

    async def named_responses(self, user_id: int) -> list[NamedResponse]:
        """Responses that carry the resident's user id (never those of anonymous surveys)."""
        rows = await self._db.fetchall(
            "SELECT * FROM survey_responses WHERE user_id = ? ORDER BY started_on, survey_id",
            (user_id,),
        )
        responses = []
        for row in rows:
            answers = await self._db.fetchall(
                "SELECT question_id, skipped, value FROM survey_answers WHERE response_id = ?"
                " ORDER BY question_id",
                (row["id"],),
            )
            responses.append(
                NamedResponse(
                    id=row["id"],
                    survey_id=row["survey_id"],
                    status=row["status"],
                    language=row["language"],
                    started_on=row["started_on"],
                    completed_on=row["completed_on"],
                    event_id=row["event_id"],
                    answers=[
                        (a[0], bool(a[1]), None if a[2] is None else json.loads(a[2]))
                        for a in answers
                    ],
                )
            )
        return responses

    async def invitations(self, user_id: int) -> list[Invitation]:
        rows = await self._db.fetchall(
            "SELECT survey_id, event_id, invited_at FROM survey_invitations WHERE user_id = ?"
            " ORDER BY invited_at",
            (user_id,),
        )
        return [Invitation(row[0], row[1], row[2]) for row in rows]

    async def message_counts(self, chat_id: int) -> dict[str, int]:
        """Messages the bot sent (or still has to send) to this chat, by outcome."""
        rows = await self._db.fetchall(
            "SELECT status, count(*) FROM outbox WHERE chat_id = ? GROUP BY status", (chat_id,)
        )
        return {row[0]: int(row[1]) for row in rows}

    # -- erasing, inside the caller's transaction -------------------------------------------

    @staticmethod
    async def claim_dialog_in(tx: Transaction, chat_id: int, flow: str, version: int) -> bool:
        """Close the dialog if it is still at `version`; False when it moved on (stale)."""
        deleted = await tx.execute_rowcount(
            "DELETE FROM dialogs WHERE chat_id = ? AND flow = ? AND version = ?",
            (chat_id, flow, version),
        )
        return deleted == 1

    @staticmethod
    async def report_ids_of_in(tx: Transaction, user_id: int) -> list[int]:
        rows = await tx.fetchall(
            "SELECT id FROM reports WHERE resident_id = ? ORDER BY id", (user_id,)
        )
        return [int(row[0]) for row in rows]

    @staticmethod
    async def counts_in(tx: Transaction | Database, user_id: int) -> dict[str, int]:
        """How many followed areas and RSVPs the resident has (what an erasure removes)."""
        row = await tx.fetchone(
            "SELECT (SELECT count(*) FROM subscriptions WHERE user_id = ?),"
            " (SELECT count(*) FROM rsvps WHERE user_id = ?)",
            (user_id, user_id),
        )
        assert row is not None
        return {"subscriptions": int(row[0]), "rsvps": int(row[1])}

    async def counts(self, user_id: int) -> dict[str, int]:
        return await self.counts_in(self._db, user_id)

    @staticmethod
    async def detach_reports_in(
        tx: Transaction, pseudonyms: Sequence[tuple[int, str]], by: str, now: float
    ) -> None:
        """Remove the link to the person from reports (id, new random pseudonym)."""
        await tx.executemany(
            "UPDATE reports SET resident_id = 0, resident_chat_id = 0, reporter_name = NULL,"
            " reporter_username = NULL, photos = '[]', voice = NULL, confirm_message_id = NULL,"
            " pseudonym = ?,"
            " redacted_at = ?, redacted_by = ? WHERE id = ?",
            ((pseudonym, now, by, report_id) for report_id, pseudonym in pseudonyms),
        )
        ids = [report_id for report_id, _ in pseudonyms]
        marks = ",".join("?" * len(ids))
        if not ids:
            return
        # The words exchanged with the person (their replies, the team's answers to them).
        await tx.execute(
            "UPDATE report_events SET body = NULL"
            f" WHERE report_id IN ({marks}) AND kind IN ('resident_message', 'staff_message')",
            ids,
        )
        # The messages in the person's own chat that they could reply to.
        await tx.execute(
            f"DELETE FROM report_messages WHERE report_id IN ({marks}) AND role = 'to_resident'",
            ids,
        )

    @staticmethod
    async def report_rows_in(tx: Transaction, report_id: int) -> list[ReportRow]:
        low, high = _report_key_range(report_id)
        rows = await tx.fetchall(
            "SELECT id, idempotency_key, kind, chat_id, method, status, params, result"
            " FROM outbox WHERE idempotency_key >= ? AND idempotency_key < ? ORDER BY id",
            (low, high),
        )
        return [
            ReportRow(
                id=row[0],
                key=row[1],
                kind=row[2],
                chat_id=row[3],
                method=row[4],
                status=row[5],
                params=json.loads(row[6]),
                result=json.loads(row[7]) if row[7] else {},
            )
            for row in rows
        ]

    @staticmethod
    async def set_params_in(tx: Transaction, row_id: int, params: dict[str, Any]) -> None:
        await tx.execute(
            "UPDATE outbox SET params = ? WHERE id = ? AND status = 'pending'",
            (json.dumps(params, ensure_ascii=False), row_id),
        )

    @staticmethod
    async def scrub_rows_in(
        tx: Transaction,
        row_ids: Iterable[int],
        now: float,
        *,
        forget_chat: bool = False,
        forget_key: bool = False,
    ) -> None:
        """Empty the stored parameters of outbox rows; pending ones are not sent any more.

        `forget_chat` also drops the chat (the person's own chat), `forget_key` the
        idempotency key (when it names the person's chat).
        """
        await tx.executemany(
            "UPDATE outbox SET params = '{}',"
            " status = CASE status WHEN 'pending' THEN 'cancelled' ELSE status END,"
            " error = CASE status WHEN 'pending' THEN 'personal data removed' ELSE error END,"
            " chat_id = CASE WHEN ? THEN 0 ELSE chat_id END,"
            " idempotency_key = CASE WHEN ? THEN 'erased:' || id ELSE idempotency_key END,"
            " updated_at = ? WHERE id = ? AND status != 'sending'",
            ((forget_chat, forget_key, now, row_id) for row_id in row_ids),
        )

    @staticmethod
    async def scrub_chat_in(tx: Transaction, chat_id: int, now: float) -> int:
        """Forget every message to the person's chat (pending ones are cancelled)."""
        return await tx.execute_rowcount(
            "UPDATE outbox SET params = '{}', result = NULL, chat_id = 0,"
            " idempotency_key = 'erased:' || id,"
            " status = CASE status WHEN 'pending' THEN 'cancelled' ELSE status END,"
            " error = CASE status WHEN 'pending' THEN 'personal data removed' ELSE error END,"
            " updated_at = ? WHERE chat_id = ? AND status != 'sending'",
            (now, chat_id),
        )

    @staticmethod
    async def unlink_survey_responses_in(
        tx: Transaction, user_id: int, respondents: Sequence[str], new_key: Any
    ) -> SurveyLinks:
        """Drop unfinished responses; finished ones lose every way back to the person.

        `new_key()` gives a fresh random respondent key for each kept response.
        """
        rows = await tx.fetchall(
            "SELECT id, status FROM survey_responses WHERE user_id = ?"
            " OR respondent IN (SELECT value FROM json_each(?))",
            (user_id, json.dumps(list(respondents))),
        )
        deleted = unlinked = 0
        for row in rows:
            if row["status"] != "complete":
                await tx.execute("DELETE FROM survey_responses WHERE id = ?", (row["id"],))
                deleted += 1
            else:
                await tx.execute(
                    "UPDATE survey_responses SET respondent = ?, user_id = NULL,"
                    " started_at = NULL, completed_at = NULL WHERE id = ?",
                    (new_key(), row["id"]),
                )
                unlinked += 1
        await tx.execute("DELETE FROM survey_invitations WHERE user_id = ?", (user_id,))
        return SurveyLinks(deleted, unlinked)

    @staticmethod
    async def delete_resident_in(tx: Transaction, user_id: int, chat_id: int) -> bool:
        """Delete the resident row (subscriptions, RSVPs, switches follow) and open dialogs."""
        await tx.execute("DELETE FROM dialogs WHERE chat_id = ? OR user_id = ?", (chat_id, user_id))
        return await tx.execute_rowcount("DELETE FROM residents WHERE user_id = ?", (user_id,)) > 0

    # -- retention ---------------------------------------------------------------------------

    async def expired_reports(self, closed_before: float, limit: int) -> list[int]:
        """Closed reports, closed before the cutoff, that still hold personal fields."""
        rows = await self._db.fetchall(
            f"SELECT id FROM reports WHERE redacted_at IS NULL AND status IN {_CLOSED_SQL}"
            " AND status_at < ? ORDER BY status_at, id LIMIT ?",
            (closed_before, limit),
        )
        return [int(row[0]) for row in rows]

    async def prune_dialogs(self, updated_before: float) -> int:
        """Drop conversations nobody touched since the cutoff (abandoned drafts)."""
        async with self._db.transaction() as tx:
            return await tx.execute_rowcount(
                "DELETE FROM dialogs WHERE updated_at < ?", (updated_before,)
            )
