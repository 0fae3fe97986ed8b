"""Residents and events through the Telegram fake: lists, cards, RSVP, waitlist, .ics, links."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar

from bot.services.events import EventDraft
from bot.storage.events import Event
from bot.testing import FakeUser
from bot.views import events as views
from tests.harness import Harness

LIBRARY = (42.2626, -71.8023)


@pytest.fixture(autouse=True)
def no_handler_errors(caplog: pytest.LogCaptureFixture) -> object:
    """Fail a test when a handler raised (the error handler would only log it)."""
    yield
    failures = [record for record in caplog.records if record.name == "bot.errors"]
    assert not failures, [record.getMessage() for record in failures]


async def publish(
    harness: Harness,
    *,
    hours_ahead: float = 48,
    length_hours: float = 2,
    hoods: Sequence[str] = ("downtown",),
    citywide: bool = False,
    capacity: int | None = None,
    event_type: str = "meeting",
    titles: dict[str, str] | None = None,
    descriptions: dict[str, str] | None = None,
    place: str = "Main Library, 3 Salem Sq",
    pin: tuple[float, float] | None = None,
) -> Event:
    """Publish an event through the service, as /newevent would."""
    start = harness.clock.time() + hours_ahead * 3600
    draft = EventDraft(
        event_type=event_type,
        titles=titles or {"en": "Downtown safety meeting", "es": "Reunión de seguridad"},
        descriptions=descriptions or {"en": "Meet your liaison officers & neighbors."},
        neighborhoods=tuple(hoods),
        citywide=citywide,
        starts_at=start,
        ends_at=start + length_hours * 3600,
        place=place,
        latitude=pin[0] if pin else None,
        longitude=pin[1] if pin else None,
        capacity=capacity,
    )
    event, _ = await harness.services.events.publish(
        draft, admin_id=next(iter(harness.settings.admin_ids))
    )
    return event


async def follower(harness: Harness, name: str, *areas: str, language: str = "en") -> FakeUser:
    user = harness.resident(name, language=language)
    await user.send("/start")
    for area in areas:
        await harness.services.alerts.set_area(user.id, area, True)
    return user


def texts(user: FakeUser) -> list[str]:
    return [message.text for message in user.messages]


async def test_events_lists_what_the_resident_follows_with_a_toggle_for_all(
    harness: Harness,
) -> None:
    alice = await follower(harness, "Alice", "downtown")
    await publish(harness, titles={"en": "Downtown meeting"})
    await publish(
        harness, hours_ahead=72, hoods=("main-south",), titles={"en": "Main South cleanup"}
    )
    await alice.send("/events")
    listing = alice.last_message
    assert "in the neighborhoods you follow" in listing.text
    assert "Downtown meeting" in listing.text and "Main South cleanup" not in listing.text
    await alice.tap("Show all events")
    assert (
        "Main South cleanup" in alice.last_message.text
        and "All upcoming events" in alice.last_message.text
    )
    await alice.send("/events")  # the choice is remembered
    assert "Main South cleanup" in alice.last_message.text
    await alice.tap("Only what I follow")
    assert "Main South cleanup" not in alice.last_message.text


async def test_events_without_subscriptions_shows_everything_and_invites_to_follow(
    harness: Harness,
) -> None:
    bob = harness.resident("Bob")
    await bob.send("/events")
    assert "no upcoming events" in bob.last_message.text
    await publish(harness, hoods=("main-south",), titles={"en": "Main South cleanup"})
    await bob.send("/events")
    assert "Main South cleanup" in bob.last_message.text
    assert "🔔 Choose alerts" in bob.last_message.buttons
    await bob.tap("🔔 Choose alerts")
    assert "Your alerts" in bob.last_message.text


async def test_event_card_is_in_the_residents_language_and_city_time(harness: Harness) -> None:
    rosa = await follower(harness, "Rosa", "downtown", language="es")
    event = await publish(harness, pin=LIBRARY)  # Thursday 3 Dec 2026, 10:00 in Worcester
    await rosa.send("/events")
    assert "Reunión de seguridad" in rosa.last_message.text
    await rosa.tap(rosa.last_message.buttons[0])
    card = rosa.last_message.text
    assert "Reunión de seguridad" in card
    assert "jueves, 3 de diciembre" in card and "10:00" in card
    local = datetime.fromtimestamp(event.starts_at, ZoneInfo("America/New_York"))
    assert local.hour == 10  # 15:00 UTC is 10:00 in the city, and that is what she sees
    assert "Centro" in card  # the neighborhood's Spanish name
    assert "Main Library, 3 Salem Sq" in card
    assert "Meet your liaison officers &amp; neighbors." not in card  # escaped, shown plainly
    assert "Meet your liaison officers & neighbors." in card
    spanish = harness.services.catalogs.get("es")
    labels = [spanish._(label) for label in (views.GOING, views.MAYBE, views.ADD_TO_CALENDAR)]
    assert set(labels) <= set(rosa.last_message.buttons)


async def test_rsvp_answers_are_recorded_and_shown(harness: Harness) -> None:
    alice = await follower(harness, "Alice", "downtown")
    event = await publish(harness)
    await alice.send(f"/start ev_{event.id}")
    record = await alice.tap("✅ Going")
    assert record is not None and "See you there" in (record.text or "")
    assert "You are going." in alice.last_message.text
    await alice.tap("🤔 Maybe")
    assert "You said maybe." in alice.last_message.text
    await alice.tap("🚫 Can't go")
    assert "You said you can't go." in alice.last_message.text
    rsvp = await harness.services.events.rsvp_of(event.id, alice.id)
    assert rsvp is not None and rsvp.answer == "no"


async def test_capacity_is_enforced_with_a_waitlist_and_a_freed_place_goes_to_the_first(
    harness: Harness,
) -> None:
    event = await publish(harness, capacity=1)
    alice, bob, carol = [await follower(harness, name) for name in ("Alice", "Bob", "Carol")]
    for user in (alice, bob, carol):
        await user.send(f"/start ev_{event.id}")
        await user.tap("✅ Going")
        harness.advance(1)
    assert "You are going." in alice.last_message.text
    assert "number 1 on the waitlist" in bob.last_message.text
    assert "number 2 on the waitlist" in carol.last_message.text
    counts = (await harness.services.events.counts([event.id]))[event.id]
    assert (counts.going, counts.waitlist) == (1, 2)

    await bob.tap("✅ Going")  # tapping again keeps his place in line
    assert "number 1 on the waitlist" in bob.last_message.text

    await alice.tap("🚫 Can't go")
    await harness.deliver_outbox()
    assert any("A place opened up" in text for text in texts(bob))
    assert not any("A place opened up" in text for text in texts(carol))
    bob_rsvp = await harness.services.events.rsvp_of(event.id, bob.id)
    assert bob_rsvp is not None and bob_rsvp.answer == "going" and not bob_rsvp.waitlisted
    await carol.send(f"/start ev_{event.id}")
    assert "number 1 on the waitlist" in carol.last_message.text


async def test_add_to_calendar_sends_an_ics_that_parses_back(harness: Harness) -> None:
    rosa = await follower(harness, "Rosa", "downtown", language="es")
    event = await publish(harness, pin=LIBRARY)
    await rosa.send(f"/start ev_{event.id}")
    card = rosa.last_message
    calendar_button = next(label for label in card.buttons if label.startswith("📆"))
    await rosa.tap(calendar_button)
    document = rosa.last_message.document
    assert document is not None
    filename, data = document
    assert filename.endswith(".ics")
    parsed = Calendar.from_ical(data)
    assert parsed["VERSION"] == "2.0" and "PRODID" in parsed
    (vevent,) = parsed.walk("VEVENT")
    assert str(vevent["SUMMARY"]) == "Reunión de seguridad"
    start = vevent.decoded("DTSTART")
    assert start.tzinfo is not None and str(start.tzinfo) == "America/New_York"
    assert start == datetime.fromtimestamp(event.starts_at, UTC)
    assert vevent.decoded("DTEND") - start == timedelta(hours=2)
    assert str(vevent["LOCATION"]) == "Main Library, 3 Salem Sq"
    assert str(vevent["UID"]) == f"event-{event.id}@resident-bot"
    assert vevent["GEO"].latitude == LIBRARY[0]
    (timezone,) = parsed.walk("VTIMEZONE")
    assert str(timezone["TZID"]) == "America/New_York"


async def test_directions_sends_the_map_pin(harness: Harness) -> None:
    alice = await follower(harness, "Alice", "downtown")
    event = await publish(harness, pin=LIBRARY)
    await alice.send(f"/start ev_{event.id}")
    await alice.tap("🗺 Directions")
    assert alice.last_message.location == LIBRARY
    plain = await publish(harness, titles={"en": "No pin"})
    await alice.send(f"/start ev_{plain.id}")
    assert "🗺 Directions" not in alice.last_message.buttons


async def test_event_deep_link_opens_it_and_is_remembered_for_the_survey(harness: Harness) -> None:
    event = await publish(harness)
    alice, bob = harness.resident("Alice"), harness.resident("Bob")
    await alice.send(f"/start ev_{event.id}")
    assert "Downtown safety meeting" in alice.last_message.text
    await bob.send(f"/start ev_{event.id}")
    await bob.tap("🤔 Maybe")
    carol = harness.resident("Carol")
    await carol.send(f"/start ev_{event.id}")
    await carol.tap("🚫 Can't go")
    assert set(await harness.services.events.attendees_for_survey(event.id)) == {
        alice.id,
        bob.id,
        carol.id,  # she opened the flyer's link
    }
    dave = await follower(harness, "Dave", "downtown")
    await harness.services.events.rsvp(event.id, dave.id, "going")
    assert dave.id in await harness.services.events.attendees_for_survey(event.id)


async def test_unknown_or_malformed_event_links_are_refused_with_a_reason(harness: Harness) -> None:
    alice = harness.resident("Alice")
    for payload in ("ev_999", "ev_abc", "ev_", "ev_99999999999999999999"):
        await alice.send(f"/start {payload}")
        assert "can't find that event" in alice.last_message.text


async def test_no_answers_after_the_start_or_for_a_cancelled_event(harness: Harness) -> None:
    alice = await follower(harness, "Alice", "downtown")
    event = await publish(harness, hours_ahead=1)
    await alice.send(f"/start ev_{event.id}")
    card = alice.last_message
    going = card.callback_data("✅ Going")
    harness.advance(3600 + 60)
    await harness.tg.press_callback(alice, card, going)
    answer = harness.tg.calls_to("answerCallbackQuery")[-1]
    assert "already started" in answer.params.get("text", "")
    assert await harness.services.events.rsvp_of(event.id, alice.id) is None

    other = await publish(harness)
    await alice.send(f"/start ev_{other.id}")
    card = alice.last_message
    going = card.callback_data("✅ Going")
    await harness.services.events.cancel(other.id)
    await harness.tg.press_callback(alice, card, going)
    answer = harness.tg.calls_to("answerCallbackQuery")[-1]
    assert "cancelled" in answer.params.get("text", "")
    assert "This event was cancelled." in alice.last_message.text


async def test_announcement_reaches_matching_followers_in_their_language(harness: Harness) -> None:
    alice = await follower(harness, "Alice", "downtown")
    rosa = await follower(harness, "Rosa", "*", language="es")  # citywide follower
    bob = await follower(harness, "Bob", "main-south")
    dave = await follower(harness, "Dave", "downtown")
    await harness.services.alerts.set_event_type(dave.id, "meeting", False)
    eve = await follower(harness, "Eve", "downtown")
    await eve.block()
    before = len(harness.tg.calls_to("sendMessage", chat_id=eve.id))
    await publish(harness)
    await harness.deliver_outbox()
    assert any("New event" in text and "Downtown safety meeting" in text for text in texts(alice))
    assert not any("Downtown safety meeting" in text or "Reunión" in text for text in texts(rosa))
    assert not any("New event" in text for text in texts(bob) + texts(dave))
    assert len(harness.tg.calls_to("sendMessage", chat_id=eve.id)) == before  # inactive: skipped

    citywide = await publish(
        harness, citywide=True, hoods=(), titles={"en": "City forum", "es": "Foro de la ciudad"}
    )
    await harness.deliver_outbox()
    assert any("Foro de la ciudad" in text for text in texts(rosa))
    assert any("City forum" in text for text in texts(bob))  # any area hears citywide events
    assert citywide.citywide
    announcement = alice.last_message
    assert "🔕 Unsubscribe" in announcement.buttons and "✅ Going" in announcement.buttons
