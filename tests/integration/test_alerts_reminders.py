"""Reminders and the weekly digest under a controllable clock, restarts and crashes."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from tests.harness import Harness
from tests.integration.test_events import (  # noqa: F401  (fixture)
    follower,
    no_handler_errors,
    publish,
    texts,
)

CITY_TZ = ZoneInfo("America/New_York")
HOUR = 3600


def reminders(user_texts: list[str]) -> list[str]:
    return [text for text in user_texts if "Reminder:" in text]


async def test_reminders_fire_24h_and_2h_before_across_a_restart(harness: Harness) -> None:
    alice = await follower(harness, "Alice", "downtown")
    event = await publish(harness, hours_ahead=48)
    await harness.deliver_outbox()  # the announcement
    alerts = harness.services.alerts
    assert await alerts.plan_reminders() == 0
    harness.clock.set(datetime.fromtimestamp(event.starts_at - 24 * HOUR - 60, CITY_TZ))
    assert await alerts.plan_reminders() == 0
    harness.advance(120)
    assert await alerts.plan_reminders() == 1
    assert await alerts.plan_reminders() == 0  # planned once
    await harness.deliver_outbox()
    assert len(reminders(texts(alice))) == 1
    assert "Downtown safety meeting" in reminders(texts(alice))[0]
    assert "🔕 Unsubscribe" in alice.last_message.buttons

    await harness.restart()
    assert await harness.services.alerts.plan_reminders() == 0  # nothing new after a restart
    harness.clock.set(datetime.fromtimestamp(event.starts_at - 2 * HOUR + 30, CITY_TZ))
    assert await harness.services.alerts.plan_reminders() == 1
    await harness.deliver_outbox()
    assert len(reminders(texts(alice))) == 2
    harness.advance(3 * HOUR)
    assert await harness.services.alerts.plan_reminders() == 0
    runs = await harness.services.events.reminder_runs(event.id)
    assert runs == [(1, 1440, "planned", 1), (1, 120, "planned", 1)]


async def test_a_reminder_missed_while_down_is_sent_late_once_and_only_the_latest(
    harness: Harness,
) -> None:
    alice = await follower(harness, "Alice", "downtown")
    event = await publish(harness, hours_ahead=48)
    await harness.stop()  # the bot is down through both reminder times ...
    harness.clock.set(datetime.fromtimestamp(event.starts_at - HOUR, CITY_TZ))
    await harness.start()  # ... and back one hour before the start
    assert await harness.services.alerts.plan_reminders() == 1
    await harness.deliver_outbox()
    assert len(reminders(texts(alice))) == 1
    runs = await harness.services.events.reminder_runs(event.id)
    assert runs == [(1, 1440, "skipped", 0), (1, 120, "planned", 1)]


async def test_no_reminder_once_the_event_has_started(harness: Harness) -> None:
    alice = await follower(harness, "Alice", "downtown")
    event = await publish(harness, hours_ahead=48)
    harness.clock.set(datetime.fromtimestamp(event.starts_at + 60, CITY_TZ))
    assert await harness.services.alerts.plan_reminders() == 0
    # Planned in time, but the sender only gets to it after the start: it expires.
    other = await publish(harness, hours_ahead=3)
    harness.clock.set(datetime.fromtimestamp(other.starts_at - 2 * HOUR + 10, CITY_TZ))
    assert await harness.services.alerts.plan_reminders() == 1
    harness.clock.set(datetime.fromtimestamp(other.starts_at + 1, CITY_TZ))
    await harness.deliver_outbox()
    assert reminders(texts(alice)) == []
    row = await harness.services.outbox.get(f"reminder:{other.id}.1:120:{alice.id}")
    assert row is not None and row.status == "cancelled"


async def test_no_duplicate_reminders_after_a_crash(harness: Harness) -> None:
    alice = await follower(harness, "Alice", "downtown")
    bob = await follower(harness, "Bob", "downtown")
    event = await publish(harness, hours_ahead=48)
    await harness.deliver_outbox()
    harness.clock.set(datetime.fromtimestamp(event.starts_at - 24 * HOUR + 5, CITY_TZ))
    assert await harness.services.alerts.plan_reminders() == 2
    # The sender takes Alice's reminder and the process dies (kill -9) mid-send.
    claimed = await harness.services.outbox.claim_due(harness.clock.time(), 1)
    assert [row.chat_id for row in claimed] == [alice.id]
    await harness.restart()
    assert await harness.services.alerts.plan_reminders() == 0
    await harness.deliver_outbox()
    assert len(reminders(texts(bob))) == 1  # nothing due was lost
    assert len(reminders(texts(alice))) == 0  # ambiguous: never sent twice
    row = await harness.services.outbox.get(f"reminder:{event.id}.1:1440:{alice.id}")
    assert row is not None and row.status == "unknown"


async def test_reminders_go_to_followers_and_rsvps_who_want_them(harness: Harness) -> None:
    alice = await follower(harness, "Alice", "downtown")
    quiet = await follower(harness, "Quinn", "downtown")
    await harness.services.alerts.set_pref(quiet.id, "reminders", False)
    carol = await follower(harness, "Carol", "downtown")
    dave = harness.resident("Dave")  # follows nothing, said Going
    await dave.send("/start")
    event = await publish(harness, hours_ahead=10)  # the 24 h reminder is already past
    await harness.services.events.rsvp(event.id, carol.id, "no")
    await harness.services.events.rsvp(event.id, dave.id, "going")
    harness.clock.set(datetime.fromtimestamp(event.starts_at - 2 * HOUR + 5, CITY_TZ))
    assert await harness.services.alerts.plan_reminders() == 2
    await harness.deliver_outbox()
    assert len(reminders(texts(alice))) == 1 and len(reminders(texts(dave))) == 1
    assert reminders(texts(quiet)) == [] and reminders(texts(carol)) == []


async def test_weekly_digest_lists_next_weeks_events_per_resident(harness: Harness) -> None:
    # Sunday 6 December 2026, 17:00 in Worcester is the configured digest time.
    alice = await follower(harness, "Alice", "downtown")
    bob = await follower(harness, "Bob", "main-south")
    carol = harness.resident("Carol")  # follows nothing, but said Going
    await carol.send("/start")
    dave = await follower(harness, "Dave", "downtown")
    await harness.services.alerts.set_pref(dave.id, "digest", False)
    near = await publish(harness, hours_ahead=7 * 24, titles={"en": "Tuesday meeting"})
    await publish(harness, hours_ahead=20 * 24, titles={"en": "Far away"})
    await harness.services.events.rsvp(near.id, carol.id, "going")
    await harness.deliver_outbox()
    alerts = harness.services.alerts

    harness.clock.set(datetime(2026, 12, 6, 16, 59, tzinfo=CITY_TZ))
    assert await alerts.plan_digest() == 0
    harness.clock.set(datetime(2026, 12, 6, 17, 0, 30, tzinfo=CITY_TZ))
    assert await alerts.plan_digest() == 2
    assert await alerts.plan_digest() == 0
    await harness.restart()
    assert await harness.services.alerts.plan_digest() == 0  # once per week, even after a restart
    await harness.deliver_outbox()
    for user in (alice, carol):
        (digest,) = [text for text in texts(user) if "Your week ahead" in text]
        assert "Tuesday meeting" in digest and "Far away" not in digest
    for user in (bob, dave):
        assert not any("Your week ahead" in text for text in texts(user))


async def test_a_late_digest_is_sent_within_hours_but_not_days_later(harness: Harness) -> None:
    await follower(harness, "Alice", "downtown")
    await publish(harness, hours_ahead=7 * 24)
    harness.clock.set(datetime(2026, 12, 6, 23, 0, tzinfo=CITY_TZ))  # down at 17:00, up at 23:00
    assert await harness.services.alerts.plan_digest() == 1
    harness.clock.set(datetime(2026, 12, 14, 9, 0, tzinfo=CITY_TZ))  # 16 h after next week's
    assert await harness.services.alerts.plan_digest() == 0
