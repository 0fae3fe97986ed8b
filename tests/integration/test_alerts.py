"""Residents choose their alerts through the Telegram fake: toggles, /stop, deep links."""

from __future__ import annotations

from tests.harness import Harness


async def test_alerts_screen_shows_the_current_choice_and_toggles(harness: Harness) -> None:
    alice = harness.resident("Alice")
    await alice.send("/alerts")
    screen = alice.last_message
    assert "You follow: no neighborhood yet" in screen.text
    assert "Event types: all" in screen.text
    assert "⬜ Downtown" in screen.buttons and "⬜ 🏙 Citywide" in screen.buttons

    await alice.tap("⬜ Downtown")
    await alice.tap("⬜ 🏙 Citywide")
    await alice.tap("✅ 🛠 Workshop")
    screen = alice.last_message  # the same message, edited in place
    assert screen.message_id == alice.messages[-1].message_id
    assert "You follow: Downtown and Citywide events" in screen.text
    assert "Event types: Community meeting, Youth program, and Community event" in screen.text
    assert "✅ Downtown" in screen.buttons and "⬜ 🛠 Workshop" in screen.buttons
    settings = await harness.services.alerts.settings(alice.id)
    assert settings.areas == {"downtown", "*"} and settings.muted_types == {"workshop"}

    await alice.tap("✅ Downtown")
    settings = await harness.services.alerts.settings(alice.id)
    assert settings.areas == {"*"}
    assert "You follow: Citywide events" in alice.last_message.text


async def test_alerts_screen_in_the_residents_language_and_from_the_menu(harness: Harness) -> None:
    rosa = harness.resident("Rosa", language="es")
    await rosa.send("/start")
    await rosa.tap("🔔 Avisos")
    screen = rosa.last_message
    assert "⬜ Centro" in screen.buttons  # neighborhood names from the city file, in Spanish


async def test_a_stale_toggle_sets_the_state_it_shows_and_changes_nothing_else(
    harness: Harness,
) -> None:
    alice = harness.resident("Alice")
    await alice.send("/alerts")
    screen = alice.last_message
    turn_on = screen.callback_data("⬜ Downtown")
    await alice.tap("⬜ Downtown")
    # Pressing the old "turn on" button again (a double tap, a second copy) keeps it on.
    await harness.tg.press_callback(alice, screen, turn_on)
    settings = await harness.services.alerts.settings(alice.id)
    assert settings.areas == {"downtown"}


async def test_forged_toggles_are_refused(harness: Harness) -> None:
    alice = harness.resident("Alice")
    await alice.send("/alerts")
    screen = alice.last_message
    for forged in ("al:a:atlantis:1", "al:t:party:1", "al:p:admin:1", "al:a:DROP TABLE:1"):
        await harness.tg.press_callback(alice, screen, forged)
        answer = harness.tg.calls_to("answerCallbackQuery")[-1]
        assert "no longer works" in answer.params.get("text", "")
    settings = await harness.services.alerts.settings(alice.id)
    assert not settings.areas and not settings.muted_types


async def test_stop_unsubscribes_from_everything_after_one_confirmation(harness: Harness) -> None:
    alice = harness.resident("Alice")
    await alice.send("/start downtown")  # not a deep link prefix: plain welcome
    await alice.send("/alerts")
    await alice.tap("⬜ Downtown")
    await alice.send("/stop")
    assert "Stop all alerts?" in alice.last_message.text
    settings = await harness.services.alerts.settings(alice.id)
    assert settings.areas == {"downtown"}  # nothing changes before the confirmation
    await alice.tap("🔕 Yes, stop everything")
    assert "you will not get any more alerts" in alice.last_message.text
    settings = await harness.services.alerts.settings(alice.id)
    assert settings.silent and not settings.areas
    await alice.send("/alerts")
    assert "⬜ 📣 Announcements" in alice.last_message.buttons


async def test_stop_can_be_turned_into_choosing(harness: Harness) -> None:
    alice = harness.resident("Alice")
    await alice.send("/stop")
    await alice.tap("⚙️ Let me choose instead")
    assert "Your alerts" in alice.last_message.text
    settings = await harness.services.alerts.settings(alice.id)
    assert not settings.silent


async def test_neighborhood_deep_link_subscribes(harness: Harness) -> None:
    alice = harness.resident("Alice")
    await alice.send("/start nb_main-south")
    assert "You now follow Main South" in alice.last_message.text
    assert "✅ Main South" in alice.last_message.buttons
    await alice.send("/start nb_main-south")
    assert "You already follow Main South" in alice.last_message.text
    settings = await harness.services.alerts.settings(alice.id)
    assert settings.areas == {"main-south"}


async def test_unknown_neighborhood_in_a_deep_link_is_refused_with_a_reason(
    harness: Harness,
) -> None:
    alice = harness.resident("Alice")
    await alice.send("/start nb_atlantis")
    text = alice.last_message.text
    assert "don't know a neighborhood called “atlantis”" in text and "nothing changed" in text
    assert "⬜ Downtown" in alice.last_message.buttons  # and the list to choose from
    settings = await harness.services.alerts.settings(alice.id)
    assert not settings.areas


async def test_non_admins_are_refused_admin_commands_politely(harness: Harness) -> None:
    alice = harness.resident("Alice")
    for command in ("/newevent", "/myevents", "/broadcast"):
        await alice.send(command)
        assert "only the program's admins" in alice.last_message.text
    assert await harness.services.dialogs.get(alice.id) is None
    assert await harness.services.events.upcoming() == []
