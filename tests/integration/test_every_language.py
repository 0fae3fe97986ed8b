"""Every flow, in every shipped language: no message or button left in English.

The walk covers the resident's main flows through the Telegram fake. Any English
message id that has a translation in the resident's language and still shows up in
what the resident received is a string that bypassed the translator.
"""

from __future__ import annotations

import re

import pytest
from babel.messages.extract import extract_from_dir

from bot.config import EXAMPLE_CITY, PROJECT_ROOT, load_city
from bot.i18n import Translator
from tests.harness import Harness

KEYWORDS = {"_": None, "N_": None, "ngettext": (1, 2)}
LANGUAGES = [code for code in load_city(EXAMPLE_CITY).languages if code != "en"]


def english_messages() -> set[str]:
    found: set[str] = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
        str(PROJECT_ROOT / "bot"), method_map=[("**.py", "python")], keywords=KEYWORDS
    ):
        for text in [message] if isinstance(message, str) else list(message):
            if text:
                found.add(text)
    return found


def telltales(tr: Translator) -> list[str]:
    """English texts (tags removed, split at placeholders) that this language translates."""
    result = []
    for msgid in english_messages():
        if tr._(msgid) == msgid:  # without values, the translation comes back unformatted
            continue  # same in both languages (a name, a symbol)
        for piece in re.split(r"\{\w+\}", re.sub(r"<[^>]+>", "", msgid)):
            piece = piece.strip(" .,:;!?()\n")
            if len(piece) >= 14:
                result.append(piece)
    return result


@pytest.mark.parametrize("language", LANGUAGES)
async def test_every_flow_speaks_the_residents_language(harness: Harness, language: str) -> None:
    tr = harness.services.catalogs.get(language)
    city = harness.services.city
    resident = harness.resident("Nadia", language=language, username="nadia_n")
    for command in ("/start", "/help", "/language", "/myreports", "/events", "/alerts", "/survey"):
        await resident.send(command)
    await resident.send("/report")
    await resident.tap(city.categories[0].name(language))
    await resident.tap(city.neighborhoods[0].name(language))
    await resident.send("The streetlight at the corner has been dark for a week now.")
    await resident.tap(tr._("➡️ Continue"))
    await resident.tap(tr._("👤 Share my Telegram name"))
    await resident.tap(tr._("✅ Confirm and send"))
    await harness.deliver_outbox()
    staff = harness.staff_member("Sam")
    ((thread_id, _topic),) = harness.staff_chat.topics.items()
    card = harness.staff_chat.messages_in_topic(thread_id)[0]
    await staff.tap("👀 Acknowledge", message=card, in_chat=harness.staff_chat)
    await staff.send_in(harness.staff_chat, "We are on it.", thread_id=thread_id)
    await harness.deliver_outbox()
    await resident.send("/myreports")
    await resident.send("/resources")
    await resident.tap(resident.last_message.buttons[0])
    await resident.send("/officers")
    await resident.tap(resident.last_message.buttons[0])
    await resident.send("/privacy")
    await resident.send("hmm?")
    await resident.send("/cancel")

    received = [m for m in resident.messages]
    assert len(received) > 20
    shown = "\n".join(m.text + "\n" + "\n".join(m.buttons) for m in received)
    leaks = sorted({text for text in telltales(tr) if text in shown})
    assert leaks == [], f"English left in the {language} flow: {leaks[:10]}"
