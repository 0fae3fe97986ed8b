"""Admins create and manage events through the Telegram fake: /newevent and /myevents."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from bot.testing import FakeUser
from tests.harness import Harness
from tests.integration.test_events import (  # noqa: F401  (fixture)
    LIBRARY,
    follower,
    no_handler_errors,
    publish,
    texts,
)

CITY_TZ = ZoneInfo("America/New_York")


async def walk_to_start(admin: FakeUser) -> None:
    """Type, title, description, no translation, Downtown."""
    await admin.send("/newevent")
    await admin.tap("🏛 Community meeting")
    await admin.send("Downtown safety meeting")
    await admin.send("Meet your liaison officers.")
    await admin.tap("Continue →")
    await admin.tap("⬜ Downtown")
    await admin.tap("Continue →")


async def test_newevent_guides_the_admin_and_publishing_announces_it(harness: Harness) -> None:
    alice = await follower(harness, "Alice", "downtown")
    rosa = await follower(harness, "Rosa", "downtown", language="es")
    bob = await follower(harness, "Bob", "main-south")
    admin = harness.admin
    await admin.send("/newevent")
    assert "What kind of event is it?" in admin.last_message.text
    await admin.tap("🏛 Community meeting")
    assert "the title in English" in admin.last_message.text
    await admin.send("Downtown safety meeting")
    await admin.send("Meet your liaison officers & neighbors.")
    assert "Add another language?" in admin.last_message.text
    await admin.tap("➕ Español")
    await admin.send("Reunión de seguridad del Centro")
    await admin.tap("Skip")
    await admin.tap("Continue →")
    assert "where" in admin.last_message.text.lower()
    await admin.tap("⬜ Downtown")
    await admin.tap("Continue →")
    await admin.send("12/8 6:30pm")
    assert "When does it end?" in admin.last_message.text
    await admin.send("2h")
    await admin.send("Main Library, 3 Salem Sq")
    await admin.share_location(*LIBRARY)
    await admin.send("0")
    assert "at least 1" in admin.last_message.text  # a capacity of 0 is refused with a reason
    await admin.send("40")
    preview = admin.last_message
    assert "preview" in preview.text and "Downtown safety meeting" in preview.text
    assert "Limited to 40 places" in preview.text
    assert "announces it to 2 residents" in preview.text
    assert "Also written in: Español" in preview.text
    assert await harness.services.events.upcoming() == []  # nothing before Publish

    await admin.tap("📣 Publish")
    assert "Published" in admin.last_message.text
    (event,) = await harness.services.events.upcoming()
    local = datetime.fromtimestamp(event.starts_at, CITY_TZ)
    assert (local.month, local.day, local.hour, local.minute) == (12, 8, 18, 30)
    assert event.ends_at - event.starts_at == 2 * 3600
    assert event.capacity == 40 and event.has_pin and event.neighborhoods == ("downtown",)
    assert event.titles == {
        "en": "Downtown safety meeting",
        "es": "Reunión de seguridad del Centro",
    }
    await harness.deliver_outbox()
    assert any("Downtown safety meeting" in text for text in texts(alice))
    assert any("Reunión de seguridad del Centro" in text for text in texts(rosa))
    assert any("Meet your liaison officers & neighbors." in text for text in texts(rosa))  # default
    assert not any("safety meeting" in text for text in texts(bob))


async def test_newevent_refuses_bad_times_with_reasons(harness: Harness) -> None:
    admin = harness.admin
    await walk_to_start(admin)
    await admin.send("next blursday")
    assert "could not read that date" in admin.last_message.text
    await admin.send("2026-11-30 18:00")
    assert "in the past" in admin.last_message.text
    await admin.send("2026-12-08 18:00")
    await admin.send("17:00")
    assert "end must be after the start" in admin.last_message.text
    await admin.send("2026-12-08 17:30")
    assert "end must be after the start" in admin.last_message.text
    await admin.tap("2 hours")
    assert "Where?" in admin.last_message.text
    dialog = await harness.services.dialogs.get(admin.id)
    assert dialog is not None and dialog.data["end"] - dialog.data["start"] == 7200


async def test_newevent_continues_after_a_restart(harness: Harness) -> None:
    admin = harness.admin
    await walk_to_start(admin)
    await admin.send("tomorrow 18:00")
    await harness.restart()
    await admin.send("20:00")
    await admin.send("City Hall")
    await admin.tap("Skip")
    await admin.tap("No limit")
    await admin.tap("📣 Publish")
    (event,) = await harness.services.events.upcoming()
    assert event.place == "City Hall" and event.capacity is None


async def test_publish_twice_publishes_once_and_old_buttons_are_stale(harness: Harness) -> None:
    admin = harness.admin
    await walk_to_start(admin)
    await admin.send("tomorrow 18:00")
    await admin.send("2h")
    await admin.send("City Hall")
    await admin.tap("Skip")
    await admin.tap("No limit")
    preview = admin.last_message
    publish_data = preview.callback_data("📣 Publish")
    await admin.tap("📣 Publish")
    await harness.tg.press_callback(admin, preview, publish_data)
    assert len(await harness.services.events.upcoming()) == 1
    answer = harness.tg.calls_to("answerCallbackQuery")[-1]
    assert "no longer works" in answer.params.get("text", "")


async def test_myevents_shows_counts_and_a_time_change_notifies_and_moves_reminders(
    harness: Harness,
) -> None:
    alice = await follower(harness, "Alice", "downtown")
    bob = harness.resident("Bob")  # follows nothing, but answered Going
    carol = harness.resident("Carol")  # follows nothing, answered Can't go
    event = await publish(harness, hours_ahead=30, capacity=1)
    await bob.send("/start")
    await harness.services.events.rsvp(event.id, bob.id, "going")
    await carol.send("/start")
    await harness.services.events.rsvp(event.id, carol.id, "no")
    await alice.send(f"/start ev_{event.id}")
    await alice.tap("✅ Going")  # waitlisted: capacity 1
    await harness.deliver_outbox()

    admin = harness.admin
    await admin.send("/myevents")
    assert "Going 1 of 1 · Maybe 0 · Waitlist 1 · Can't go 1" in admin.last_message.text
    await admin.tap("🕒 Change time")
    await admin.send("2026-12-10 19:00")
    await admin.send("21:00")
    assert "Saving tells 2 residents" in admin.last_message.text
    await admin.tap("💾 Save and notify")
    assert "now starts" in admin.last_message.text
    await harness.deliver_outbox()
    for user in (alice, bob):
        assert any("has changed" in text and "It was:" in text for text in texts(user))
    assert not any("has changed" in text for text in texts(carol))
    changed = await harness.services.events.get(event.id)
    assert changed is not None and changed.revision == 2
    local = datetime.fromtimestamp(changed.starts_at, CITY_TZ)
    assert (local.day, local.hour) == (10, 19)

    # The 24 h reminder follows the new time: nothing at the old time, one at the new.
    harness.advance(6 * 3600 + 60)  # 24 h before the old start
    assert await harness.services.alerts.plan_reminders() == 0
    harness.clock.set(datetime(2026, 12, 9, 19, 1, tzinfo=CITY_TZ))
    assert await harness.services.alerts.plan_reminders() == 2  # Alice (waitlist) and Bob
    await harness.deliver_outbox()
    assert any("Reminder" in text for text in texts(bob))


async def test_change_place_notifies_followers(harness: Harness) -> None:
    alice = await follower(harness, "Alice", "downtown")
    await publish(harness)
    admin = harness.admin
    await admin.send("/myevents")
    await admin.tap("📍 Change place")
    await admin.share_location(*LIBRARY)
    await admin.send("Worcester Public Library, 3 Salem Sq")
    await admin.tap("💾 Save and notify")
    await harness.deliver_outbox()
    notice = next(text for text in texts(alice) if "has changed" in text)
    assert "Worcester Public Library" in notice and "It was: Main Library" in notice
    assert "🗺 Directions" in alice.last_message.buttons


async def test_cancelling_notifies_everyone_and_drops_pending_reminders(harness: Harness) -> None:
    alice = await follower(harness, "Alice", "downtown")
    bob = harness.resident("Bob")
    await bob.send("/start")
    event = await publish(harness, hours_ahead=23)  # the 24 h reminder is skipped
    await harness.services.events.rsvp(event.id, bob.id, "maybe")
    await harness.deliver_outbox()
    harness.advance(21 * 3600 + 60)  # 2 h reminder due ...
    assert await harness.services.alerts.plan_reminders() == 2
    # ... but the event is cancelled before the sender got to it.
    admin = harness.admin
    await admin.send("/myevents")
    await admin.tap("❌ Cancel event")
    assert "2 residents will be told" in admin.last_message.text
    await admin.tap("❌ Yes, cancel it")
    assert "is cancelled" in admin.last_message.text
    await harness.deliver_outbox()
    for user in (alice, bob):
        assert any("Cancelled:" in text for text in texts(user))
        assert not any("Reminder" in text for text in texts(user))
    counts = await harness.outbox_counts()
    assert counts.get("cancelled", 0) >= 2
    await admin.send("/myevents")
    assert "no upcoming events" in admin.last_message.text


async def test_message_attendees(harness: Harness) -> None:
    event = await publish(harness)
    going, maybe, declined = (harness.resident(n) for n in ("Gina", "Mo", "Nell"))
    for user, answer in ((going, "going"), (maybe, "maybe"), (declined, "no")):
        await user.send("/start")
        await harness.services.events.rsvp(event.id, user.id, answer)
    admin = harness.admin
    await admin.send("/myevents")
    await admin.tap("✉️ Message attendees")
    assert "for the 2 residents" in admin.last_message.text
    await admin.send("Bring a <b>chair</b> & a friend!")
    await admin.tap("✉️ Send")
    await harness.deliver_outbox()
    for user in (going, maybe):
        assert any("Bring a <b>chair</b> & a friend!" in text for text in texts(user))
    assert not any("chair" in text for text in texts(declined))


async def test_non_admins_cannot_use_admin_buttons(harness: Harness) -> None:
    event = await publish(harness)
    alice = await follower(harness, "Alice", "downtown")
    await alice.send(f"/start ev_{event.id}")
    card = alice.last_message
    for forged in (f"me:cy:{event.id}", f"me:t:{event.id}", "bxy:1", "ne:1:publish", "bc:2:send"):
        await harness.tg.press_callback(alice, card, forged)
        answer = harness.tg.calls_to("answerCallbackQuery")[-1]
        assert "only the program's admins" in answer.params.get("text", "")
    still = await harness.services.events.get(event.id)
    assert still is not None and not still.cancelled
