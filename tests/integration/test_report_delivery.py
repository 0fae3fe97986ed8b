"""Report delivery through the outbox: faults, restarts, crashes; escalation and summaries."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

from bot.services.reports import Relayed
from bot.testing import FakeMessage
from tests.harness import Harness
from tests.integration.test_report_flow import file_report


async def deliver_everything(harness: Harness, rounds: int = 40) -> None:
    """Deliver, moving the clock past retry delays and backoff, until the outbox is quiet."""
    for _ in range(rounds):
        await harness.deliver_outbox()
        due = await harness.services.outbox.next_due_at()
        if due is None:
            return
        harness.advance(max(due - harness.clock.time(), 0) + 0.1)
    raise AssertionError(f"outbox still busy: {await harness.outbox_counts()}")


def cards(messages: list[FakeMessage]) -> Counter[str]:
    """How many report cards (messages with status buttons) each reference has."""
    found: Counter[str] = Counter()
    for message in messages:
        if "👀 Acknowledge" in message.buttons or "• 👀 Acknowledge" in message.buttons:
            found[message.text.split()[1]] += 1
    return found


async def test_no_report_is_lost_under_429_5xx_drops_and_timeouts(harness: Harness) -> None:
    faults = harness.tg.faults
    staff = harness.staff_chat.id
    faults.add(method="createForumTopic", kind="429", retry_after=1, times=1)
    faults.add(method="createForumTopic", kind="502", times=1)
    faults.add(method="sendMessage", chat_id=staff, kind="500", times=2)
    faults.add(method="sendMessage", chat_id=staff, kind="drop", times=1)
    faults.add(method="sendMessage", chat_id=staff, kind="timeout", times=1)
    faults.add(method="sendLocation", kind="429", retry_after=1, times=1)
    residents = [harness.resident(name) for name in ("Ana", "Ben", "Cy", "Dee")]
    references = []
    for index, resident in enumerate(residents):
        place = (42.26, -71.80) if index % 2 else "Downtown"
        references.append((await file_report(harness, resident, place=place)).reference)
    await deliver_everything(harness)

    assert faults.active == []  # every injected fault fired
    found = cards(harness.staff_chat.bot_messages)
    duplicates = sum(found.values()) - len(references)
    assert set(found) == set(references)
    assert all(count >= 1 for count in found.values())
    assert duplicates == harness.services.sender.stats.resent_after_timeout == 1
    counts = await harness.outbox_counts()
    assert set(counts) == {"sent"}, counts
    assert len(harness.staff_chat.topics) == len(references)
    for reference in references:
        report = await harness.services.reports.repo.get_by_reference(reference)
        assert report is not None and report.card_message_id is not None


async def test_a_report_filed_before_a_restart_is_delivered_after_it(harness: Harness) -> None:
    alice = harness.resident("Alice")
    report = await file_report(harness, alice)
    await harness.restart()
    await deliver_everything(harness)
    assert cards(harness.staff_chat.bot_messages) == {report.reference: 1}


async def test_a_crash_while_sending_the_card_resends_it(harness: Harness) -> None:
    alice = harness.resident("Alice")
    report = await file_report(harness, alice)
    claimed = await harness.services.outbox.claim_due(harness.clock.time(), 10)
    assert [row.key for row in claimed] == [f"report:{report.id}:topic"]  # then "kill -9"
    await harness.restart()
    await deliver_everything(harness)
    assert cards(harness.staff_chat.bot_messages) == {report.reference: 1}
    assert len(harness.staff_chat.topics) == 1


async def test_links_lost_to_a_crash_after_sending_are_recovered_at_start(
    harness: Harness,
) -> None:
    alice = harness.resident("Alice")
    report = await file_report(harness, alice)
    await deliver_everything(harness)
    async with harness.services.db.transaction() as tx:  # as if the hooks never ran
        await tx.execute("DELETE FROM report_messages")
        await tx.execute(
            "UPDATE reports SET card_message_id = NULL, staff_thread_id = NULL WHERE id = ?",
            (report.id,),
        )
    await harness.restart()
    stored = await harness.services.reports.get(report.id)
    assert stored is not None and stored.card_message_id is not None
    sam = harness.staff_member("Sam")
    await sam.send_in(harness.staff_chat, "Got it, thanks", thread_id=stored.staff_thread_id)
    await deliver_everything(harness)
    assert "Got it, thanks" in alice.last_message.text
    card = harness.staff_chat.message(stored.card_message_id)
    assert card is not None
    await sam.tap("👀 Acknowledge", message=card)
    stored = await harness.services.reports.get(report.id)
    assert stored is not None and stored.status == "acknowledged"


async def test_resident_updates_survive_429_and_are_sent_once(harness: Harness) -> None:
    alice = harness.resident("Alice")
    report = await file_report(harness, alice)
    await deliver_everything(harness)
    harness.tg.faults.add(method="sendMessage", chat_id=alice.id, kind="429", retry_after=1)
    harness.tg.faults.add(method="sendMessage", chat_id=alice.id, kind="500")
    sam = harness.staff_member("Sam")
    card = harness.staff_chat.message(await _card_id(harness, report.id))
    assert card is not None
    await sam.tap("🔧 In progress", message=card)
    await sam.send_in(harness.staff_chat, "A crew is on the way", thread_id=card.message_thread_id)
    await deliver_everything(harness)
    texts = [m.text for m in alice.messages]
    assert sum("working on your report" in t for t in texts) == 1
    assert sum("A crew is on the way" in t for t in texts) == 1


async def _card_id(harness: Harness, report_id: int) -> int:
    stored = await harness.services.reports.get(report_id)
    assert stored is not None and stored.card_message_id is not None
    return stored.card_message_id


async def test_a_reply_before_the_card_is_sent_waits_for_it(harness: Harness) -> None:
    """The resident answers a status update while the card is still queued (staff chat down)."""
    alice = harness.resident("Alice")
    report = await file_report(harness, alice)
    reports = harness.services.reports
    assert await reports.relay_to_staff(
        report,
        Relayed("text", "Also, it started again tonight"),
        source_chat_id=alice.id,
        source_message_id=999,
    )
    await deliver_everything(harness)
    stored = await reports.get(report.id)
    assert stored is not None and stored.staff_thread_id is not None
    (card, follow_up) = harness.staff_chat.messages_in_topic(stored.staff_thread_id)
    assert card.message_id == stored.card_message_id
    assert follow_up.text.endswith("Also, it started again tonight")


async def test_unacknowledged_reports_are_re_announced_once(harness: Harness) -> None:
    alice = harness.resident("Alice")
    late = await file_report(harness, alice, category="Noise")
    seen = await file_report(harness, alice, category="Broken streetlight")
    await deliver_everything(harness)
    sam = harness.staff_member("Sam")
    seen_card = harness.staff_chat.message(await _card_id(harness, seen.id))
    assert seen_card is not None
    await sam.tap("👀 Acknowledge", message=seen_card)
    reports = harness.services.reports
    harness.advance(4 * 3600 - 5)
    assert await reports.escalate_overdue() == 0
    harness.advance(10)
    assert await reports.escalate_overdue() == 1
    assert await reports.escalate_overdue() == 0
    await deliver_everything(harness)
    stored = await reports.get(late.id)
    assert stored is not None and stored.escalated_at is not None
    notices = [
        m
        for m in harness.staff_chat.messages_in_topic(stored.staff_thread_id or 0)
        if "has not been acknowledged after 4 hours" in m.text
    ]
    assert len(notices) == 1 and late.reference in notices[0].text
    harness.advance(24 * 3600)
    assert await reports.escalate_overdue() == 0
    events = [e.kind for e in await reports.repo.events(late.id)]
    assert events.count("escalated") == 1
    history = await reports.history(alice.id, late.id)
    assert history is not None  # escalation is internal: the resident's history omits it


async def test_daily_summary_is_posted_once_a_day_after_its_time(harness: Harness) -> None:
    alice = harness.resident("Alice")
    first = await file_report(harness, alice, category="Noise")
    await file_report(harness, alice, category="Broken streetlight")
    await deliver_everything(harness)
    sam = harness.staff_member("Sam")
    card = harness.staff_chat.message(await _card_id(harness, first.id))
    assert card is not None
    await sam.tap("🔧 In progress", message=card)
    reports = harness.services.reports
    # 10:00 in Worcester, the summary time is 08:00: today's summary is due.
    assert await reports.post_daily_summary() is True
    assert await reports.post_daily_summary() is False
    await deliver_everything(harness)
    summary = harness.staff_chat.bot_messages[-1]
    assert "Open reports" in summary.text and summary.message_thread_id is None
    assert "🆕 New: 1" in summary.text and "🔧 In progress: 1" in summary.text
    assert first.reference in summary.text
    harness.advance(timedelta(hours=20).total_seconds())  # 06:00 next day: not yet
    assert await reports.post_daily_summary() is False
    harness.advance(timedelta(hours=2).total_seconds())
    assert await reports.post_daily_summary() is True


async def test_daily_summary_without_open_reports(harness: Harness) -> None:
    assert await harness.services.reports.post_daily_summary() is True
    await deliver_everything(harness)
    assert "Every report has been handled" in harness.staff_chat.bot_messages[-1].text
