"""Broadcasts through the Telegram fake: targeting, preview, confirm once, progress, errors."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from bot.testing import FakeMessage, FakeUser
from tests.harness import Harness
from tests.integration.test_events import (  # noqa: F401  (fixture)
    follower,
    no_handler_errors,
    texts,
)

CITY_TZ = ZoneInfo("America/New_York")
MESSAGE = "Neighborhood cleanup this Saturday at 9 & coffee after!"


def got(user: FakeUser, fragment: str = "cleanup") -> int:
    return sum(fragment in text for text in texts(user))


async def compose(harness: Harness, text: str = MESSAGE, *, spanish: str | None = None) -> FakeUser:
    """Open /broadcast and write the message (and a Spanish version, or skip it)."""
    admin = harness.admin
    await admin.send("/broadcast")
    assert "New broadcast" in admin.last_message.text
    await admin.send(text)
    if spanish is not None:
        await admin.tap("➕ Español")
        await admin.send(spanish)
    await admin.tap("Continue →")  # no (more) versions in other languages
    assert "Who should get it?" in admin.last_message.text
    return admin


async def finish(harness: Harness) -> None:
    """Deliver everything, then let the progress job edit and report, and deliver that."""
    await harness.deliver_outbox()
    await harness.services.broadcasts.refresh_progress()
    await harness.deliver_outbox()


async def progress_message(harness: Harness, broadcast_id: int) -> FakeMessage:
    broadcast = await harness.services.broadcasts.get(broadcast_id)
    assert broadcast is not None and broadcast.progress_message_id is not None
    message = harness.tg.message(broadcast.admin_chat_id, broadcast.progress_message_id)
    assert message is not None
    return message


async def test_broadcast_targets_neighborhoods_and_languages_and_reports(harness: Harness) -> None:
    alice = await follower(harness, "Alice", "downtown")
    rosa = await follower(harness, "Rosa", "downtown", language="es")
    bob = await follower(harness, "Bob", "main-south")
    quiet = await follower(harness, "Quinn", "downtown")
    await harness.services.alerts.set_pref(quiet.id, "broadcasts", False)
    admin = await compose(harness, spanish="¡Limpieza del barrio este sábado a las 9!")
    assert "It will reach 4 residents" in admin.last_message.text  # everyone but Quinn (+ Ada)
    await admin.tap("⬜ Downtown")
    assert "It will reach 2 residents" in admin.last_message.text
    await admin.tap("⬜ Español")
    assert "It will reach 1 resident." in admin.last_message.text
    await admin.tap("✅ Español")  # off again: Downtown in any language
    await admin.tap("Continue →")
    previews = [m.text for m in admin.messages[-5:]]
    assert MESSAGE in previews and "¡Limpieza del barrio este sábado a las 9!" in previews
    assert "🔕 Unsubscribe" in next(m for m in admin.messages if m.text == MESSAGE).buttons
    assert "It will reach 2 residents" in admin.last_message.text
    await admin.tap("✅ Send now")
    progress = admin.last_message
    assert "Broadcast #1" in progress.text and "Queued 2" in progress.text
    await finish(harness)
    assert got(alice) == 1 and got(rosa, "Limpieza") == 1
    assert got(bob) == 0 and got(quiet) == 0
    assert "Finished" in progress.text and "Sent 2" in progress.text  # edited in place
    assert progress.buttons == []
    report = admin.last_message.text
    assert "Broadcast #1 is finished" in report and "Sent 2 · Failed 0 · Blocked 0" in report


async def test_confirm_twice_sends_once(harness: Harness) -> None:
    alice = await follower(harness, "Alice", "downtown")
    admin = await compose(harness)
    await admin.tap("Continue →")
    confirm = admin.last_message
    send_now = confirm.callback_data("✅ Send now")
    await admin.tap("✅ Send now")
    await harness.tg.press_callback(admin, confirm, send_now)
    await finish(harness)
    assert got(alice) == 1
    assert await harness.services.broadcasts.get(2) is None


async def test_scheduled_broadcast_waits_for_its_time(harness: Harness) -> None:
    alice = await follower(harness, "Alice", "downtown")
    admin = await compose(harness)
    await admin.tap("Continue →")
    await admin.tap("🕒 Schedule for later")
    await admin.send("yesterday at noon")
    assert "could not read" in admin.last_message.text
    await admin.send("tomorrow 9:00")
    assert "It will be sent on" in admin.last_message.text
    await admin.tap("✅ Confirm schedule")
    assert "Scheduled for" in (await progress_message(harness, 1)).text
    await finish(harness)
    assert got(alice) == 0
    await harness.restart()  # the schedule is in the database
    assert await harness.services.broadcasts.start_due() == []
    harness.clock.set(datetime(2026, 12, 2, 9, 0, 5, tzinfo=CITY_TZ))
    assert await harness.services.broadcasts.start_due() == [1]
    await finish(harness)
    assert got(alice) == 1
    assert "Sent 2" in (await progress_message(harness, 1)).text  # Alice and Ada


async def test_a_running_broadcast_can_be_cancelled(harness: Harness) -> None:
    residents = [harness.resident(f"R{i}") for i in range(35)]
    for user in residents:
        await harness.services.residents.seen(
            user_id=user.id, chat_id=user.id, telegram_language="en"
        )
    admin = await compose(harness)
    await admin.tap("Continue →")
    await admin.tap("✅ Send now")
    assert await harness.services.sender.send_batch() == 30  # 30 out, then the admin stops it
    await admin.tap("✖ Cancel broadcast")
    await admin.tap("Yes, stop sending")
    assert "stopped" in admin.last_message.text
    await finish(harness)
    assert max(got(user) for user in residents) == 1
    broadcast = await harness.services.broadcasts.get(1)
    assert broadcast is not None
    counts = await harness.services.broadcasts.counts(broadcast)
    assert (counts.sent, counts.cancelled, counts.queued) == (30, 6, 0)
    report = admin.last_message.text
    assert "was cancelled" in report and "Sent 30" in report and "Not sent 6" in report


async def test_blocked_residents_are_counted_marked_inactive_and_skipped(harness: Harness) -> None:
    alice = await follower(harness, "Alice", "downtown")
    eve = await follower(harness, "Eve", "downtown")
    await eve.block()
    await harness.services.residents.unblocked(eve.id)  # the bot missed the update
    admin = await compose(harness)
    assert "It will reach 3 residents" in admin.last_message.text
    await admin.tap("Continue →")
    await admin.tap("✅ Send now")
    await finish(harness)
    assert "Blocked 1" in admin.last_message.text
    resident = await harness.services.residents.get(eve.id)
    assert resident is not None and not resident.active
    assert got(alice) == 1
    await compose(harness, "Second message")
    assert "It will reach 2 residents" in admin.last_message.text  # Eve is skipped now


async def test_retry_after_is_honoured_without_duplicates(harness: Harness) -> None:
    alice = await follower(harness, "Alice", "downtown")
    bob = await follower(harness, "Bob", "downtown")
    harness.tg.faults.add(method="sendMessage", chat_id=bob.id, kind="429", retry_after=1, times=1)
    admin = await compose(harness)
    await admin.tap("Continue →")
    await admin.tap("✅ Send now")
    await harness.services.sender.drain()
    assert got(alice) == 1 and got(bob) == 0
    row = await harness.services.outbox.get(f"broadcast:1:{bob.id}")
    assert row is not None and row.status == "pending"
    assert await harness.services.outbox.next_due_at() == harness.clock.time() + 1
    await harness.services.sender.drain()
    assert got(bob) == 0  # not before retry_after has passed
    harness.advance(1)
    await finish(harness)
    assert got(alice) == 1 and got(bob) == 1
    assert harness.services.sender.stats.retry_after == 1


async def test_no_duplicate_deliveries_after_a_crash_mid_broadcast(harness: Harness) -> None:
    residents = [harness.resident(f"R{i}") for i in range(40)]
    for user in residents:
        await harness.services.residents.seen(
            user_id=user.id, chat_id=user.id, telegram_language="en"
        )
    admin = await compose(harness)
    await admin.tap("Continue →")
    await admin.tap("✅ Send now")
    assert await harness.services.sender.send_batch() == 30
    in_flight = await harness.services.outbox.claim_due(harness.clock.time(), 3)  # then kill -9
    await harness.restart()
    assert await harness.services.broadcasts.start_due() == []  # nothing is planned again
    await finish(harness)
    counts = [got(user) for user in residents]
    assert max(counts) == 1
    assert sum(counts) == 41 - 1 - len(in_flight)  # 40 + Ada, minus the 3 in doubt
    report = admin.last_message.text
    assert "Sent 38" in report and "Failed 3" in report


async def test_photo_broadcast_and_unsubscribe_button(harness: Harness) -> None:
    alice = await follower(harness, "Alice", "downtown")
    admin = harness.admin
    await admin.send("/broadcast")
    await admin.send_photo(caption="Flyer for Saturday's cleanup")
    await admin.tap("Continue →")
    await admin.tap("Continue →")
    await admin.tap("✅ Send now")
    await finish(harness)
    flyer = next(m for m in alice.messages if "Flyer" in m.text)
    assert flyer.photo is not None
    await alice.tap("🔕 Unsubscribe", message=flyer)
    await alice.tap("🔕 Yes, stop everything")
    await compose(harness, "Another one")
    assert "It will reach 1 resident." in admin.last_message.text  # only Ada now


async def test_broadcast_can_be_discarded_and_needs_an_audience(harness: Harness) -> None:
    admin = await compose(harness)
    await admin.tap("⬜ Piedmont")
    await admin.tap("Continue →")
    assert "Nobody matches" in admin.last_message.text
    await admin.send("/cancel")
    assert await harness.services.dialogs.get(admin.id) is None
    assert await harness.outbox_counts() == {}
