"""/resources and /officers, localized, from the city configuration."""

from __future__ import annotations

from tests.harness import Harness


async def test_resources_by_topic_in_spanish(harness: Harness) -> None:
    rosa = harness.resident("Rosa", language="es")
    await rosa.send("/resources")
    assert "Salud mental y crisis" in rosa.last_message.buttons
    await rosa.tap("Programas juveniles")
    text = rosa.last_message.text
    assert "Centro Juvenil Main South" in text
    assert "Lun-Vie 14:00-20:00" in text
    assert "(508) 555-0142" in text
    assert "Main South y Piedmont" in text
    await rosa.tap("⬅️ Todos los temas")
    assert "Vivienda" in rosa.last_message.buttons


async def test_resources_from_the_menu_button(harness: Harness) -> None:
    alice = harness.resident("Alice")
    await alice.send("/start")
    await alice.tap("🤝 Help and resources")
    assert "Mental health and crisis" in alice.last_message.buttons
    await alice.tap("Mental health and crisis")
    assert "988" in alice.last_message.text and "24 hours, every day" in alice.last_message.text


async def test_officers_for_a_neighborhood(harness: Harness) -> None:
    alice = harness.resident("Alice")
    await alice.send("/officers")
    await alice.tap("Main South")
    text = alice.last_message.text
    assert "Officer Ana Rivera" in text
    assert "English and Español" in text
    assert "Wednesdays 5pm-7pm" in text
    assert "Minh Nguyen" not in text


async def test_forged_resource_buttons_are_refused(harness: Harness) -> None:
    from bot.testing import inbound

    alice = harness.resident("Alice")
    await alice.send("/officers")
    await inbound.press_callback(alice, alice.last_message, "off:nb:atlantis")
    answer = harness.tg.calls_to("answerCallbackQuery")[-1]
    assert "no longer works" in str(answer.params.get("text"))
