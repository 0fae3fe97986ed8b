"""Resident text is escaped wherever it is shown with HTML parse mode.

The fake parses every HTML message like Telegram (and, with `strict_html`, refuses a
bare `&`), so an unescaped piece of resident text either fails to send or turns into
formatting. Each test walks a feature with hostile text and checks that the text arrives
literally, and that no link, spoiler, code or mention appeared that the bot did not make.
"""

from __future__ import annotations

import pytest

from bot.testing import FakeMessage
from tests.harness import Harness
from tests.integration.test_events import publish as publish_event
from tests.integration.test_report_delivery import deliver_everything
from tests.integration.test_report_flow import file_report
from tests.integration.test_survey_flow import publish as publish_survey

HOSTILE = (
    '<a href="https://evil.example/x">click</a> <b>bold</b> & &amp; <i>i</i>'
    " <tg-spoiler>hidden</tg-spoiler> <code>x</code> <pre>y</pre>"
    " @everyone #urgent /start https://t.me/evil <tg-emoji emoji-id='1'>😀</tg-emoji>"
)
SHORT = '<b>Eve</b> & "Co" <a href="https://evil.example">x</a>'
FORBIDDEN_ENTITIES = {"spoiler", "custom_emoji", "text_mention"}  # the bot uses none


@pytest.fixture(autouse=True)
def no_handler_errors(caplog: pytest.LogCaptureFixture) -> object:
    """A message refused by the fake for bad HTML would end in the error handler."""
    yield
    failures = [r.getMessage() for r in caplog.records if r.name == "bot.errors"]
    assert not failures, failures
    refused = [r.getMessage() for r in caplog.records if "refused by Telegram" in r.getMessage()]
    assert not refused, refused


def check(messages: list[FakeMessage], *fragments: str) -> None:
    """Some message shows every fragment literally (so none of it became formatting), and
    no message carries a link, spoiler or mention made from resident text."""
    for message in messages:
        for entity in message.entities:
            assert entity["type"] not in FORBIDDEN_ENTITIES, (message.text, entity)
            assert "evil" not in str(entity.get("url", "")), (message.text, entity)
    for fragment in fragments:
        assert any(fragment in m.text for m in messages), (fragment, [m.text for m in messages])


async def outbox_all_sent(harness: Harness) -> None:
    counts = await harness.outbox_counts()
    assert set(counts) <= {"sent"}, counts


async def test_a_hostile_report_is_shown_literally_to_everyone(harness: Harness) -> None:
    eve = harness.resident(
        '<b>Eve</b> & "Co"', last_name="<i>Evil</i>", username="eve_evil", language="en"
    )
    await eve.send("/start")
    report = await file_report(harness, eve, place=SHORT, text=HOSTILE, anonymous=False, photos=1)
    await deliver_everything(harness)
    await outbox_all_sent(harness)
    check(eve.messages, '<b>Eve</b> & "Co"', SHORT, "<b>bold</b> & &amp;")
    staff = harness.staff_chat.bot_messages
    check(staff, '<b>Eve</b> & "Co" <i>Evil</i>', SHORT, HOSTILE)
    # /myreports and the history
    await eve.send("/myreports")
    check(eve.messages[-1:], report.reference)
    await eve.tap(eve.last_message.buttons[0])
    check(eve.messages[-1:], "<b>bold</b>")


async def test_the_relay_escapes_both_ways(harness: Harness) -> None:
    eve = harness.resident("Eve")
    report = await file_report(harness, eve)
    await deliver_everything(harness)
    stored = await harness.services.reports.get(report.id)
    assert stored is not None
    sam = harness.staff_member("Sam", last_name="<b>Staff</b>")
    await sam.send_in(harness.staff_chat, HOSTILE, thread_id=stored.staff_thread_id)
    await deliver_everything(harness)
    check(eve.messages[-1:], "<b>bold</b> & &amp;", "@everyone")
    await eve.send(SHORT + " & reply", reply_to=eve.last_message)
    await eve.send_photo(caption=HOSTILE, reply_to=eve.messages[-2])
    await deliver_everything(harness)
    await outbox_all_sent(harness)
    check(
        harness.staff_chat.messages_in_topic(stored.staff_thread_id or 0),
        SHORT + " & reply",
        "<tg-spoiler>hidden</tg-spoiler>",
    )
    # The status button's card edit carries the staff member's name, escaped.
    card = harness.staff_chat.message(stored.card_message_id or 0)
    assert card is not None
    await sam.tap("👀 Acknowledge", message=card)
    card = harness.staff_chat.message(stored.card_message_id or 0)
    assert card is not None
    check([card], "by Sam <b>Staff</b>")


async def test_survey_answers_and_results_are_escaped(harness: Harness) -> None:
    await publish_survey(harness)
    eve = harness.resident("Eve")
    await eve.send("/start sv_community-meeting")
    await eve.tap("4")
    await eve.tap("No")
    await eve.tap("Translated handouts")
    await eve.tap("⬜ Housing")
    await eve.tap("✅ Done")
    await eve.send(HOSTILE)
    assert "Thank you!" in eve.last_message.text
    admin = harness.admin
    await admin.send("/results community-meeting")
    check(admin.messages, "<b>bold</b> & &amp;")


async def test_names_in_welcome_events_and_broadcasts_are_escaped(harness: Harness) -> None:
    eve = harness.resident('<b>Eve</b> & "Co"')
    await eve.send("/start nb_downtown")
    await eve.send("/start")
    check(eve.messages[-1:], '<b>Eve</b> & "Co"')
    event = await publish_event(
        harness,
        titles={"en": "<b>Safety</b> & <a href='https://evil.example'>you</a>"},
        descriptions={"en": HOSTILE},
        place="<i>Hall</i> & Co",
    )
    await deliver_everything(harness)
    await eve.send(f"/start ev_{event.id}")
    check(eve.messages, "<b>Safety</b> & <a href='https://evil.example'>you</a>", "<i>Hall</i>")
    admin = harness.admin
    await admin.send("/broadcast")
    await admin.send("Typed literally: <b>not bold</b> & <a href='x'>y</a>")
    await admin.tap("Continue →")
    await admin.tap("Continue →")
    await admin.tap("✅ Send now")
    await deliver_everything(harness)
    await outbox_all_sent(harness)
    check(eve.messages, "Typed literally: <b>not bold</b> & <a href='x'>y</a>")


async def test_unknown_deep_link_text_is_escaped(harness: Harness) -> None:
    eve = harness.resident("Eve")
    await eve.send("/start nb_<b>x</b>")
    check(eve.messages, "not valid any more")
    await eve.send("/start nb_x&y")
    check(eve.messages)
