"""The liaison staff's side: status buttons, the two-way relay, anonymity, rights checks."""

from __future__ import annotations

import json
import logging
from dataclasses import replace

import pytest

from bot.storage.reports import Report
from bot.testing import FakeMessage, FakeUser
from tests.harness import Harness
from tests.integration.test_report_flow import file_report


async def filed_and_delivered(
    harness: Harness, user: FakeUser, **kwargs: object
) -> tuple[Report, FakeMessage]:
    report = await file_report(harness, user, **kwargs)  # type: ignore[arg-type]
    await harness.deliver_outbox()
    stored = await harness.services.reports.get(report.id)
    assert stored is not None and stored.card_message_id is not None
    card = harness.staff_chat.message(stored.card_message_id)
    assert card is not None
    return stored, card


def assert_no_identity(harness: Harness, resident: FakeUser) -> None:
    """Nothing the staff chat received names the resident (id, names, username)."""
    sent = [
        json.dumps(call.params, ensure_ascii=False) + json.dumps(call.result, ensure_ascii=False)
        for call in harness.tg.calls
        if call.chat_id == harness.staff_chat.id
    ]
    shown = [json.dumps(m.to_json(), ensure_ascii=False) for m in harness.staff_chat.messages]
    secrets = [str(resident.id), resident.first_name]
    secrets += [x for x in (resident.last_name, resident.username) if x]
    for text in sent + shown:
        for secret in secrets:
            assert secret not in text, f"{secret!r} leaked to the staff chat: {text[:200]}"


async def test_status_buttons_update_card_record_and_notify_in_residents_language(
    harness: Harness,
) -> None:
    rosa = harness.resident("Rosa", language="es")
    es = harness.services.catalogs.get("es")
    report, card = await filed_and_delivered(harness, rosa, category="Ruido", place="Centro")
    sam = harness.staff_member("Sam", last_name="Staff")
    harness.advance(600)
    record = await sam.tap("👀 Acknowledge", message=card)
    assert record is not None and not getattr(record, "show_alert", True)
    card = harness.staff_chat.message(card.message_id)  # type: ignore[assignment]
    assert card is not None
    assert "Status: 👀 Acknowledged, by Sam Staff" in card.text
    assert card.buttons[0] == "• 👀 Acknowledge"
    stored = await harness.services.reports.get(report.id)
    assert stored is not None and stored.status == "acknowledged"
    assert stored.acknowledged_at == harness.clock.time()

    await harness.deliver_outbox()
    notice = rosa.last_message
    assert report.reference in notice.text and "Ruido" in notice.text
    expected = es._(
        "👀 The liaison team has seen your report {reference} ({category}) and will look into it.",
        reference=report.reference,
        category="Ruido",
    )
    assert expected in notice.text
    assert "Sam" not in notice.text
    assert harness.staff_chat.topics[stored.staff_thread_id or 0].startswith("👀 ")

    await sam.tap("✅ Resolved", message=card)
    again = await harness.tg.press_callback(sam, card, card.callback_data("• ✅ Resolved"))
    assert "Already" in (again.text or "")
    events = await harness.services.reports.repo.events(report.id)
    assert [(e.kind, e.status) for e in events] == [
        ("created", "new"),
        ("status", "acknowledged"),
        ("status", "resolved"),
    ]
    assert events[1].actor_id == sam.id  # kept internally


async def test_status_buttons_refuse_outsiders_and_change_nothing(harness: Harness) -> None:
    alice = harness.resident("Alice")
    report, card = await filed_and_delivered(harness, alice)
    mallory = harness.tg.user("Mallory")
    former = harness.staff_member("Fred", status="left")
    for outsider in (mallory, former, alice):
        forged = {
            "callback_query": {
                "id": f"forged-{outsider.id}",
                "from": outsider.to_json(),
                "message": card.to_json(),
                "chat_instance": "x",
                "data": card.callback_data("✅ Resolved"),
            }
        }
        await harness.tg.push_raw_update(forged)
        answer = harness.tg.calls_to("answerCallbackQuery")[-1]
        assert "Only the liaison staff" in str(answer.params.get("text"))
    stored = await harness.services.reports.get(report.id)
    assert stored is not None and stored.status == "new"
    await harness.deliver_outbox()
    assert not any("resolved" in m.text for m in alice.messages)


async def test_admin_may_press_the_buttons(harness: Harness) -> None:
    alice = harness.resident("Alice")
    report, card = await filed_and_delivered(harness, alice)
    admin = harness.admin
    forged = {
        "callback_query": {
            "id": "admin-press",
            "from": admin.to_json(),
            "message": card.to_json(),
            "chat_instance": "x",
            "data": card.callback_data("🔧 In progress"),
        }
    }
    await harness.tg.push_raw_update(forged)
    stored = await harness.services.reports.get(report.id)
    assert stored is not None and stored.status == "in_progress"


async def test_a_forged_callback_never_changes_another_report(harness: Harness) -> None:
    alice = harness.resident("Alice")
    first, first_card = await filed_and_delivered(harness, alice)
    second, _ = await filed_and_delivered(harness, alice, category="Graffiti or vandalism")
    sam = harness.staff_member("Sam")
    for data in (f"rs:{second.id}:r", "rs:999:r", "rs:1:zz", "rs:abc:r", "rs:1"):
        record = await harness.tg.press_callback(sam, first_card, data)
        assert record.show_alert, data
    for report in (first, second):
        stored = await harness.services.reports.get(report.id)
        assert stored is not None and stored.status == "new"


async def test_two_way_relay_in_a_topic_keeps_the_resident_anonymous(harness: Harness) -> None:
    alice = harness.resident("Alice", last_name="Walker", username="alice_w")
    report, _ = await filed_and_delivered(harness, alice, anonymous=True, photos=1)
    thread = report.staff_thread_id
    assert thread is not None
    sam = harness.staff_member("Sam", last_name="Staffer")
    await sam.send_in(harness.staff_chat, "Thanks! Which house number is it?", thread_id=thread)
    await harness.deliver_outbox()
    relayed = alice.last_message
    assert "The community liaison team" in relayed.text
    assert "Which house number is it?" in relayed.text and report.reference in relayed.text
    assert "Sam" not in relayed.text and "Staffer" not in relayed.text

    before = len(harness.staff_chat.messages_in_topic(thread))
    await alice.send("It is number 42, the blue one", reply_to=relayed)
    assert "Sent to the liaison team" in alice.last_message.text
    await alice.send_photo(caption="Here it is", reply_to=relayed)
    await harness.deliver_outbox()
    arrived = harness.staff_chat.messages_in_topic(thread)[before:]
    assert [m.text.split("\n\n")[-1] for m in arrived] == [
        "It is number 42, the blue one",
        "Here it is",
    ]
    assert arrived[1].photo is not None
    assert all(f"Anonymous resident #{report.pseudonym}" in m.text for m in arrived)

    # Staff answer the relayed reply itself (an explicit reply inside the topic), with a photo.
    await sam.send_photo(
        caption="Is this the one?", in_chat=harness.staff_chat, reply_to=arrived[0]
    )
    await harness.deliver_outbox()
    assert alice.last_message.photo is not None and "Is this the one?" in alice.last_message.text
    assert_no_identity(harness, alice)
    history = await harness.services.reports.repo.events(report.id)
    assert [e.kind for e in history].count("staff_message") == 2
    assert [e.kind for e in history].count("resident_message") == 2


async def test_internal_notes_and_unrelated_messages_are_not_relayed(harness: Harness) -> None:
    alice = harness.resident("Alice")
    report, _ = await filed_and_delivered(harness, alice)
    sam = harness.staff_member("Sam")
    count = len(alice.messages)
    await sam.send_in(
        harness.staff_chat, "// she called before, same issue", thread_id=report.staff_thread_id
    )
    await sam.send_in(harness.staff_chat, "Coffee anyone?")  # General, about nothing
    await sam.send_in(harness.staff_chat, "/staffcheck")
    await harness.deliver_outbox()
    assert len(alice.messages) == count


async def test_resident_messages_that_are_not_replies_keep_the_menu_behaviour(
    harness: Harness,
) -> None:
    alice = harness.resident("Alice")
    report, _ = await filed_and_delivered(harness, alice)
    sam = harness.staff_member("Sam")
    await sam.send_in(harness.staff_chat, "Can you tell us more?", thread_id=report.staff_thread_id)
    await harness.deliver_outbox()
    before = len(harness.staff_chat.messages)
    await alice.send("hello?")
    assert "did not understand" in alice.last_message.text
    await alice.send("a reply to my own confirmation", reply_to=alice.messages[-3])
    await harness.deliver_outbox()
    assert len(harness.staff_chat.messages) == before
    await alice.send_sticker()
    await alice.send_sticker()  # stickers are not passed on either
    assert len(harness.staff_chat.messages) == before


async def test_card_mode_threads_by_replies(harness: Harness) -> None:
    cards = harness.tg.group("Liaison (no topics)", forum=False)
    sam = harness.staff_member("Sam")
    harness.tg.add_member(cards, sam)
    await harness.restart(staff_chat_id=cards.id)
    alice = harness.resident("Alice", username="alice_w")
    report = await file_report(harness, alice, place=(42.2626, -71.8023), photos=2)
    await harness.deliver_outbox()
    assert cards.topics == {}
    card, pin, *album = cards.bot_messages
    assert "Reply to this card" in card.text
    assert pin.location == (42.2626, -71.8023) and pin.reply_to_message_id == card.message_id
    assert len(album) == 2 and album[0].reply_to_message_id == card.message_id

    await sam.send_in(cards, "We will send someone tomorrow.", reply_to=card)
    await harness.deliver_outbox()
    relayed = alice.last_message
    assert "We will send someone tomorrow." in relayed.text
    await alice.send("Thank you!", reply_to=relayed)
    await harness.deliver_outbox()
    answer = cards.bot_messages[-1]
    assert answer.text.endswith("Thank you!") and answer.reply_to_message_id == card.message_id
    await sam.send_in(cards, "You're welcome", reply_to=answer)
    await sam.send_in(cards, "Replying to the map pin", reply_to=pin)
    await harness.deliver_outbox()
    texts = [m.text for m in alice.messages]
    assert any("You're welcome" in t for t in texts) and any("map pin" in t for t in texts)
    stored = await harness.services.reports.get(report.id)
    assert stored is not None and not stored.uses_topic


async def test_staffcheck_names_the_missing_right_and_falls_back_to_cards(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    harness.tg.set_bot_rights(harness.staff_chat, can_manage_topics=False)
    with caplog.at_level(logging.WARNING, logger="bot.handlers.staff"):
        await harness.restart()
    assert any("can_manage_topics" in r.getMessage() for r in caplog.records)
    sam = harness.staff_member("Sam")
    await sam.send_in(harness.staff_chat, "/staffcheck")
    reply = harness.staff_chat.bot_messages[-1].text
    assert "Manage topics" in reply and "can_manage_topics" in reply

    alice = harness.resident("Alice")
    await file_report(harness, alice)
    await harness.deliver_outbox()
    assert harness.staff_chat.topics == {}
    assert "Reply to this card" in harness.staff_chat.bot_messages[-1].text

    harness.tg.set_bot_rights(harness.staff_chat, can_manage_topics=True)
    await sam.send_in(harness.staff_chat, "/staffcheck")
    assert "one topic per report" in harness.staff_chat.bot_messages[-1].text


async def test_staffcheck_when_the_bot_cannot_post(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    harness.tg.set_bot_rights(harness.staff_chat, can_post_messages=False)
    with caplog.at_level(logging.WARNING, logger="bot.handlers.staff"):
        await harness.restart()
    assert any("can_send_messages" in r.getMessage() for r in caplog.records)
    alice = harness.resident("Alice")
    report = await file_report(harness, alice)
    await harness.deliver_outbox()
    row = await harness.services.outbox.get(f"report:{report.id}:card")
    assert (
        row is not None
        and row.status == "failed"
        and "not enough rights" in (row.error or "").lower()
    )
    assert await harness.services.reports.get(report.id) is not None  # never lost


async def test_a_category_can_route_to_its_own_chat(harness: Harness) -> None:
    roads = harness.tg.group("Public works liaison", forum=False)
    city = harness.settings.city
    categories = tuple(
        replace(c, staff_chat_id=roads.id) if c.id == "road" else c for c in city.categories
    )
    await harness.restart(city=replace(city, categories=categories))
    alice = harness.resident("Alice")
    await file_report(harness, alice, category="Pothole or damaged sidewalk")
    await file_report(harness, alice, category="Noise")
    await harness.deliver_outbox()
    assert len(roads.bot_messages) == 1 and "Pothole" in roads.bot_messages[0].text
    assert list(harness.staff_chat.topics.values()) == ["🆕 R-2026-000002 · Noise"]
    worker = harness.tg.user("Wendy")
    harness.tg.add_member(roads, worker)
    await worker.tap("✅ Resolved", message=roads.bot_messages[0])
    (pothole, _) = await harness.services.reports.for_resident(alice.id)
    assert pothole.status == "new"  # newest first: the noise report
    (_, pothole) = await harness.services.reports.for_resident(alice.id)
    assert pothole.status == "resolved"


async def test_edited_replies_and_staff_edits_are_not_relayed_twice(harness: Harness) -> None:
    alice = harness.resident("Alice")
    report, _ = await filed_and_delivered(harness, alice)
    sam = harness.staff_member("Sam")
    question = await sam.send_in(
        harness.staff_chat, "Is it still happening?", thread_id=report.staff_thread_id
    )
    await harness.deliver_outbox()
    relayed = alice.last_message
    answer = await alice.send("Yes, every night", reply_to=relayed)
    await alice.edit(answer, "Yes, every single night")
    await sam.edit(question, "Is it still happening tonight?")
    await harness.deliver_outbox()
    events = [e.kind for e in await harness.services.reports.repo.events(report.id)]
    assert events.count("resident_message") == 1 and events.count("staff_message") == 1
    assert sum("Is it still happening" in m.text for m in alice.messages) == 1
