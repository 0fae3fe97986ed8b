"""Resident basics through the Telegram fake: /start, /help, /language, /cancel, bad input."""

from __future__ import annotations

from datetime import UTC, datetime

from telegram import Chat, Location, Message, PhotoSize, Update, User
from telegram.ext import MessageHandler

from bot.testing import inbound
from tests.harness import Harness


async def test_start_welcomes_with_emergency_notice_and_menu(harness: Harness) -> None:
    alice = harness.resident("Alice", language="en")
    await alice.send("/start")
    text = alice.last_message.text
    assert "Hello, Alice" in text
    assert "not for emergencies" in text and "911" in text
    assert "ℹ️ Help" in alice.last_message.buttons
    resident = await harness.services.residents.get(alice.id)
    assert resident is not None and resident.language == "en" and resident.active


async def test_new_resident_starts_in_telegram_language_when_enabled(harness: Harness) -> None:
    rosa = harness.resident("Rosa", language="es")
    await rosa.send("/start")
    assert "no es para emergencias" in rosa.last_message.text
    klaus = harness.resident("Klaus", language="de")
    await klaus.send("/start")
    assert "not for emergencies" in klaus.last_message.text  # city default


async def test_language_switch_by_own_names(harness: Harness) -> None:
    alice = harness.resident("Alice", language="en")
    await alice.send("/language")
    assert "Español" in alice.last_message.buttons
    await alice.tap("Español")
    assert any("A partir de ahora le escribiré en Español" in m.text for m in alice.messages)
    await alice.send("/help")
    assert "Cómo funciona este bot" in alice.last_message.text
    resident = await harness.services.residents.get(alice.id)
    assert resident is not None and resident.language == "es" and resident.chose_language


async def test_help_lists_admin_commands_only_for_admins(harness: Harness) -> None:
    alice = harness.resident("Alice")
    await alice.send("/help")
    assert "/newevent" not in alice.last_message.text
    await harness.admin.send("/help")
    assert "/newevent" in harness.admin.last_message.text


async def test_menu_button_and_help_button(harness: Harness) -> None:
    alice = harness.resident("Alice")
    await alice.send("/start")
    await alice.tap("ℹ️ Help")
    assert "How this bot works" in alice.last_message.text


async def test_unknown_command_and_stray_text_get_hints(harness: Harness) -> None:
    alice = harness.resident("Alice")
    await alice.send("/frobnicate")
    assert "don't know that command" in alice.last_message.text
    await alice.send("hello?")
    assert "did not understand" in alice.last_message.text


async def test_huge_binary_looking_and_non_text_messages_are_answered(harness: Harness) -> None:
    alice = harness.resident("Alice")
    await alice.send("x" * 4096)
    assert alice.last_message.text
    await alice.send("\x00\x01\x02 \ufffd\ufffd")
    assert "did not understand" in alice.last_message.text
    await alice.send_sticker()
    assert "only read text" in alice.last_message.text
    await alice.send_contact()
    assert "only read text" in alice.last_message.text


async def test_cancel_with_and_without_an_open_flow(harness: Harness) -> None:
    from bot.storage import Dialog

    alice = harness.resident("Alice")
    await alice.send("/cancel")
    assert "nothing to cancel" in alice.last_message.text
    await harness.services.dialogs.save(
        Dialog(alice.id, alice.id, "demo", "step"), harness.clock.time()
    )
    await alice.send("/cancel")
    assert "Cancelled" in alice.last_message.text
    assert await harness.services.dialogs.get(alice.id) is None


async def test_unknown_deep_link_is_answered_politely(harness: Harness) -> None:
    alice = harness.resident("Alice")
    await alice.send("/start zz_nonsense")
    assert "link is not valid any more" in alice.last_message.text


async def test_stale_or_forged_button_changes_nothing(harness: Harness) -> None:
    alice = harness.resident("Alice")
    await alice.send("/language")
    picker = alice.last_message
    await inbound.press_callback(alice, picker, "lang:set:xx")
    answer = harness.tg.calls_to("answerCallbackQuery")[-1]
    assert "no longer works" in str(answer.params.get("text", ""))
    resident = await harness.services.residents.get(alice.id)
    assert resident is not None and resident.language == "en"


async def test_messages_in_foreign_groups_are_ignored(harness: Harness) -> None:
    alice = harness.resident("Alice")
    other = harness.tg.group("Neighborhood chat", members=[alice])
    before = len(harness.tg.calls)
    await alice.send_in(other, "/help")
    await alice.send_in(other, "hello bot")
    sent = [c for c in harness.tg.calls[before:] if c.method.startswith("send")]
    assert sent == []


async def test_duplicate_update_has_one_effect(harness: Harness) -> None:
    alice = harness.resident("Alice")
    await alice.send("/help")
    count = len(alice.messages)
    await harness.tg.redeliver(harness.tg.updates[-1]["update_id"])
    assert len(alice.messages) == count


async def test_blocking_marks_resident_inactive(harness: Harness) -> None:
    alice = harness.resident("Alice")
    await alice.send("/start")
    await alice.block()
    resident = await harness.services.residents.get(alice.id)
    assert resident is not None and not resident.active
    await alice.unblock()
    resident = await harness.services.residents.get(alice.id)
    assert resident is not None and resident.active


async def test_command_menus_are_set_per_language(harness: Harness) -> None:
    spanish = harness.tg.commands(language_code="es")
    english = harness.tg.commands(language_code="en")
    assert {c["command"] for c in spanish} == {c["command"] for c in english}
    descriptions = {c["command"]: c["description"] for c in spanish}
    assert descriptions["language"] == "Cambiar idioma"


async def test_state_survives_a_restart(harness: Harness) -> None:
    alice = harness.resident("Alice")
    await alice.send("/language")
    await alice.tap("Español")
    await harness.restart()
    await alice.send("/help")
    assert "Cómo funciona este bot" in alice.last_message.text


SPANISH = "Hola, quisiera saber cuándo es la próxima reunión del vecindario"


async def test_language_offer_once_when_text_is_in_another_language(harness: Harness) -> None:
    alice = harness.resident("Alice", language="en")
    await alice.send(SPANISH)
    assert "Parece que usted escribe en Español" in alice.last_message.text
    await alice.tap("Sí, cambiar")
    resident = await harness.services.residents.get(alice.id)
    assert resident is not None and resident.language == "es"
    await alice.send("Thank you very much for the information about the meeting")
    assert "It looks like you write" not in alice.last_message.text  # asked once, never again


async def test_detection_never_overrides_an_explicit_choice(harness: Harness) -> None:
    alice = harness.resident("Alice", language="en")
    await alice.send("/language")
    await alice.tap("✓ English")
    await alice.send(SPANISH)
    assert "Parece que" not in alice.last_message.text
    assert "did not understand" in alice.last_message.text


async def test_declining_the_offer_keeps_the_language(harness: Harness) -> None:
    alice = harness.resident("Alice", language="en")
    await alice.send(SPANISH)
    await alice.tap("No, keep English")
    resident = await harness.services.residents.get(alice.id)
    assert resident is not None and resident.language == "en" and resident.chose_language


async def test_no_handler_after_the_private_catch_all_would_take_a_private_message(
    harness: Harness,
) -> None:
    assert harness.app is not None
    handlers = harness.app.handlers[0]
    catch_all = next(
        i
        for i, h in enumerate(handlers)
        if isinstance(h, MessageHandler) and h.callback.__name__ == "private_message"
    )
    user = User(5, "Ana", is_bot=False)
    chat = Chat(5, Chat.PRIVATE)
    date = datetime(2026, 1, 1, tzinfo=UTC)
    messages = [
        Message(1, date, chat, from_user=user, text="La luz de la calle no funciona"),
        Message(2, date, chat, from_user=user, location=Location(-71.8, 42.26)),
        Message(3, date, chat, from_user=user, photo=(PhotoSize("f", "u", 9, 9),)),
    ]
    for message in messages:
        update = Update(10 + message.message_id, message=message)
        matching = [i for i, h in enumerate(handlers) if h.check_update(update)]
        assert matching == [catch_all], [type(handlers[i]).__name__ for i in matching]
