"""/resources and /officers, localized, from the city configuration."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from bot.services.charts import bar_chart
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


async def test_resources_near_a_neighborhood_with_citywide_ones_too(harness: Harness) -> None:
    from tests.integration.test_stats_storage import follow

    alice = harness.resident("Alice")
    await alice.send("/start")
    await follow(harness.services.db, alice.id, "piedmont")
    await alice.send("/resources")
    await alice.tap("📍 Near me: by neighborhood")
    assert alice.last_message.buttons[0] == "📍 Piedmont"  # her own neighborhood first
    await alice.tap("📍 Piedmont")
    text = alice.last_message.text
    assert "Partner services for Piedmont" in text
    assert "Main South Youth Center" in text  # serves Main South and Piedmont
    assert "988 Suicide & Crisis Lifeline" in text  # citywide
    assert "Youth programs" in text and "Mental health and crisis" in text
    await alice.tap("⬅️ Other neighborhoods")
    await alice.tap("Downtown")
    text = alice.last_message.text
    assert "Main South Youth Center" not in text and "Housing Help Desk" in text
    await alice.tap("⬅️ All topics")
    assert "Housing" in alice.last_message.buttons


async def test_officers_of_the_followed_neighborhood_with_photos(
    harness: Harness, tmp_path: Path
) -> None:
    from tests.integration.test_stats_storage import follow

    city = harness.settings.city
    photo = tmp_path / "rivera.png"
    photo.write_bytes(bar_chart("x", ["a"], [1]))
    officers = (
        replace(city.officers[0], photo=str(photo)),
        replace(city.officers[1], photo="https://example.org/nguyen.jpg"),
    )
    await harness.restart(city=replace(city, officers=officers))
    rosa = harness.resident("Rosa", language="es")
    await rosa.send("/start")
    await follow(harness.services.db, rosa.id, "main-south")
    await rosa.send("/officers")
    texts = [m.text for m in rosa.messages[-2:]]
    assert "Oficial Ana Rivera" in texts[0] and "Miércoles 17:00-19:00" in texts[0]
    assert rosa.last_message.photo is not None
    assert rosa.last_message.text == "Oficial Ana Rivera"
    await rosa.tap(harness.services.catalogs.get("es")._("⬅️ Other neighborhoods"))
    picker = rosa.messages[-2]  # the details message became the neighborhood picker
    assert picker.buttons[0] == "📍 Main South"
    await rosa.tap("Centro", message=picker)
    assert any("Minh Nguyen" in m.text for m in rosa.messages[-3:])
    sent = harness.tg.calls_to("sendPhoto")[-1]
    assert sent.params.get("photo") == "https://example.org/nguyen.jpg"


async def test_without_a_followed_neighborhood_officers_ask_which(harness: Harness) -> None:
    alice = harness.resident("Alice")
    await alice.send("/officers")
    assert "Which neighborhood" in alice.last_message.text
    assert not any(label.startswith("📍") for label in alice.last_message.buttons)
