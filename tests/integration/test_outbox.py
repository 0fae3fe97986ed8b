"""The outbox under Telegram's errors: nothing lost, nothing silently duplicated."""

from __future__ import annotations

from bot.storage import OutboxItem
from bot.storage.outbox import PRIORITY_STAFF
from tests.harness import Harness


def message(key: str, chat_id: int, text: str, **extra: object) -> dict[str, object]:
    return {"key": key, "chat_id": chat_id, "text": text, **extra}


async def enqueue(harness: Harness, *items: OutboxItem) -> None:
    await harness.services.outbox.enqueue(list(items), harness.clock.time())


def item(key: str, chat_id: int, text: str, **extra: object) -> OutboxItem:
    return OutboxItem(
        key=key,
        chat_id=chat_id,
        method="sendMessage",
        params={"chat_id": chat_id, "text": text},
        **{"not_before": 0.0, **extra},  # type: ignore[arg-type]
    )


async def test_rows_are_sent_once_and_idempotent(harness: Harness) -> None:
    alice = harness.resident("Alice")
    await alice.send("/start")
    await enqueue(harness, item("greet:1", alice.id, "one"), item("greet:1", alice.id, "one again"))
    await enqueue(harness, item("greet:1", alice.id, "one, a third time"))
    assert await harness.deliver_outbox() == 1
    assert [m.text for m in alice.messages].count("one") == 1
    row = await harness.services.outbox.get("greet:1")
    assert (
        row is not None and row.status == "sent" and row.message_id == alice.last_message.message_id
    )
    assert await harness.deliver_outbox() == 0


async def test_retry_after_is_honoured(harness: Harness) -> None:
    alice = harness.resident("Alice")
    harness.tg.faults.add(
        method="sendMessage", chat_id=alice.id, kind="429", retry_after=7, times=1
    )
    await enqueue(harness, item("k", alice.id, "hello"))
    await harness.services.sender.drain()
    row = await harness.services.outbox.get("k")
    assert row is not None and row.status == "pending"
    assert await harness.services.outbox.next_due_at() == harness.clock.time() + 7
    harness.advance(7)
    await harness.deliver_outbox()
    assert [m.text for m in alice.messages] == ["hello"]
    assert harness.services.sender.stats.retry_after == 1


async def test_server_errors_and_dropped_connections_are_retried(harness: Harness) -> None:
    alice = harness.resident("Alice")
    harness.tg.faults.add(method="sendMessage", kind="500", times=1)
    harness.tg.faults.add(method="sendMessage", kind="drop", times=1)
    await enqueue(harness, item("k", alice.id, "hello"))
    for _ in range(5):
        await harness.services.sender.drain()
        harness.advance(10)
    assert [m.text for m in alice.messages] == ["hello"]
    assert harness.services.sender.stats.retried == 2


async def test_ambiguous_timeout_is_counted_not_repeated_for_residents(harness: Harness) -> None:
    alice = harness.resident("Alice")
    harness.tg.faults.add(method="sendMessage", kind="timeout", times=1)
    await enqueue(harness, item("k", alice.id, "hello"))
    await harness.deliver_outbox()
    row = await harness.services.outbox.get("k")
    assert row is not None and row.status == "unknown"
    assert [m.text for m in alice.messages] == ["hello"]  # Telegram did get it
    assert harness.services.sender.stats.unknown == 1


async def test_staff_rows_are_resent_after_an_ambiguous_timeout(harness: Harness) -> None:
    chat = harness.staff_chat.id
    harness.tg.faults.add(method="sendMessage", kind="timeout", times=1)
    await enqueue(
        harness, item("card", chat, "card", resend_if_unknown=True, priority=PRIORITY_STAFF)
    )
    await harness.deliver_outbox()
    assert [m.text for m in harness.staff_chat.bot_messages].count("card") == 2
    assert harness.services.sender.stats.resent_after_timeout == 1


async def test_blocked_resident_is_marked_inactive(harness: Harness) -> None:
    alice = harness.resident("Alice")
    await alice.send("/start")
    await alice.block()
    await harness.services.residents.unblocked(alice.id)  # the bot has not heard yet
    await enqueue(harness, item("k", alice.id, "hello"))
    await harness.deliver_outbox()
    row = await harness.services.outbox.get("k")
    assert row is not None and row.status == "failed" and "forbidden" in (row.error or "")
    resident = await harness.services.residents.get(alice.id)
    assert resident is not None and not resident.active


async def test_bad_request_fails_with_the_reason(harness: Harness) -> None:
    alice = harness.resident("Alice")
    await enqueue(
        harness,
        item(
            "k",
            alice.id,
            "<b>broken",
        ),
    )
    row_item = OutboxItem(
        key="html",
        chat_id=alice.id,
        method="sendMessage",
        params={"chat_id": alice.id, "text": "<b>unclosed", "parse_mode": "HTML"},
        not_before=0.0,
    )
    await enqueue(harness, row_item)
    await harness.deliver_outbox()
    row = await harness.services.outbox.get("html")
    assert row is not None and row.status == "failed" and "parse entities" in (row.error or "")


async def test_dependent_row_takes_the_topic_of_the_row_it_follows(harness: Harness) -> None:
    chat = harness.staff_chat.id
    async with harness.services.db.transaction() as tx:
        topic = await harness.services.outbox.enqueue_in(
            tx,
            OutboxItem(
                key="topic",
                chat_id=chat,
                method="createForumTopic",
                params={"chat_id": chat, "name": "R-2026-000001 Noise"},
                not_before=0.0,
                resend_if_unknown=True,
            ),
            harness.clock.time(),
        )
        await harness.services.outbox.enqueue_in(
            tx,
            OutboxItem(
                key="card",
                chat_id=chat,
                method="sendMessage",
                params={"chat_id": chat, "text": "the card"},
                not_before=0.0,
                depends_on=topic,
                fill_from={"message_thread_id": "message_thread_id"},
            ),
            harness.clock.time(),
        )
    await harness.deliver_outbox()
    (thread_id,) = [
        t for t, name in harness.staff_chat.topics.items() if name.startswith("R-2026-000001")
    ]
    assert [m.text for m in harness.staff_chat.messages_in_topic(thread_id)][-1] == "the card"


async def test_interrupted_rows_are_settled_after_a_crash(harness: Harness) -> None:
    alice = harness.resident("Alice")
    await enqueue(
        harness,
        item("resident", alice.id, "r"),
        item("staff", harness.staff_chat.id, "s", resend_if_unknown=True),
    )
    claimed = await harness.services.outbox.claim_due(harness.clock.time(), 10)
    assert len(claimed) == 2  # marked sending, then the process "dies"
    await harness.restart()
    resident_row = await harness.services.outbox.get("resident")
    staff_row = await harness.services.outbox.get("staff")
    assert resident_row is not None and resident_row.status == "unknown"
    assert staff_row is not None and staff_row.status == "pending"
    await harness.deliver_outbox()
    assert [m.text for m in harness.staff_chat.bot_messages] == ["s"]
    assert alice.messages == []


async def test_expired_rows_are_not_sent(harness: Harness) -> None:
    alice = harness.resident("Alice")
    await enqueue(harness, item("late", alice.id, "too late", expires_at=harness.clock.time() - 1))
    await harness.deliver_outbox()
    row = await harness.services.outbox.get("late")
    assert row is not None and row.status == "cancelled"
    assert alice.messages == []


async def test_settled_rows_are_pruned_after_they_age(harness: Harness) -> None:
    alice = harness.resident("Alice")
    await enqueue(
        harness, item("old", alice.id, "old"), item("waiting", alice.id, "w", not_before=10**12)
    )
    await harness.deliver_outbox()
    outbox = harness.services.outbox
    assert await outbox.prune(harness.clock.time() - 60) == 0  # too young
    harness.advance(91 * 86400)
    assert await outbox.prune(harness.clock.time() - 90 * 86400) == 1
    assert await outbox.get("old") is None
    assert (await outbox.get("waiting")) is not None  # pending rows are never pruned
