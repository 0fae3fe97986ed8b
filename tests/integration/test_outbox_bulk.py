"""Bulk rows, claiming order and stored keyboards: the outbox's fast paths keep its rules."""

from __future__ import annotations

import json

from bot.storage import Database, OutboxItem, OutboxRepository
from bot.storage.outbox import PRIORITY_BULK, PRIORITY_RESIDENT, PRIORITY_STAFF, BulkMessage
from tests.harness import Harness

MARKUP = {"inline_keyboard": [[{"text": "🔕 Unsubscribe", "callback_data": "al:unsub"}]]}


def item(key: str, chat_id: int, *, markup: object = None, **extra: object) -> OutboxItem:
    params = {"chat_id": chat_id, "text": key}
    if markup is not None:
        params["reply_markup"] = markup
    return OutboxItem(
        key=key,
        chat_id=chat_id,
        method="sendMessage",
        params=params,
        **{"not_before": 0.0, **extra},  # type: ignore[arg-type]
    )


async def test_copies_are_stored_as_single_items_would_be(db: Database) -> None:
    english = BulkMessage(
        "sendMessage",
        {"text": "Cleanup <b>Saturday</b>", "parse_mode": "HTML", "reply_markup": MARKUP},
    )
    spanish = BulkMessage("sendPhoto", {"photo": "FILE", "caption": "¡Limpieza!"})
    deliveries = [(11, english), (12, spanish), (13, english)]
    async with db.transaction() as tx:
        count = await OutboxRepository.enqueue_copies_in(
            tx, deliveries, key="b:1", now=5.0, priority=PRIORITY_BULK, batch="b:1", kind="bulk"
        )
        again = await OutboxRepository.enqueue_copies_in(
            tx, deliveries[:1], key="b:1", now=6.0, priority=PRIORITY_BULK, batch="b:1", kind="bulk"
        )
    assert (count, again) == (3, 1)
    assert await db.fetchval("SELECT count(*) FROM outbox") == 3  # the key keeps it once
    for chat_id, message in deliveries:
        expected = {"chat_id": chat_id, **message.params}
        stored = await db.fetchval(
            "SELECT params FROM outbox WHERE idempotency_key = ?", (f"b:1:{chat_id}",)
        )
        assert stored == json.dumps(expected, ensure_ascii=False)
        row = await OutboxRepository(db).get(f"b:1:{chat_id}")
        assert row is not None and row.params == expected
        assert (row.method, row.kind, row.batch, row.priority, row.chat_id) == (
            message.method,
            "bulk",
            "b:1",
            PRIORITY_BULK,
            chat_id,
        )


async def test_claims_follow_priority_then_due_time_then_queueing_order(db: Database) -> None:
    outbox = OutboxRepository(db)
    await outbox.enqueue(
        [
            item("bulk-early", 1, priority=PRIORITY_BULK, not_before=1.0),
            item("resident-late", 2, priority=PRIORITY_RESIDENT, not_before=3.0),
            item("staff", 3, priority=PRIORITY_STAFF, not_before=4.0),
            item("resident-early", 4, priority=PRIORITY_RESIDENT, not_before=2.0),
            item("resident-late-too", 5, priority=PRIORITY_RESIDENT, not_before=3.0),
            item("not-due", 6, priority=PRIORITY_STAFF, not_before=99.0),
        ],
        0.0,
    )
    first = await outbox.claim_due(10.0, 3)
    assert [row.key for row in first] == ["staff", "resident-early", "resident-late"]
    assert all(row.attempts == 1 and row.status == "sending" for row in first)
    rest = await outbox.claim_due(10.0, 10)
    assert [row.key for row in rest] == ["resident-late-too", "bulk-early"]
    assert await outbox.counts() == {"sending": 5, "pending": 1}
    waiting = await outbox.get("not-due")
    assert waiting is not None and waiting.status == "pending" and waiting.attempts == 1


async def test_stored_keyboards_reach_telegram_as_they_were_queued(harness: Harness) -> None:
    alice = harness.resident("Alice")
    reply_keyboard = {"keyboard": [[{"text": "Yes"}, {"text": "No"}]], "resize_keyboard": True}
    await harness.services.outbox.enqueue(
        [
            item("inline", alice.id, markup=MARKUP),
            item("reply", alice.id, markup=reply_keyboard, not_before=1.0),
        ],
        harness.clock.time(),
    )
    assert await harness.deliver_outbox() == 2
    inline, reply = alice.messages
    assert inline.reply_markup == MARKUP and inline.callback_data("🔕 Unsubscribe") == "al:unsub"
    assert reply.reply_markup == reply_keyboard and reply.button_rows == [["Yes", "No"]]
