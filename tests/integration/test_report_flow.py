"""Residents filing reports through the Telegram fake: the guided flow, in two languages."""

from __future__ import annotations

from bot.storage.reports import Report
from bot.testing import FakeMessage, FakeUser
from tests.harness import Harness

LONG_TEXT = "The streetlight at the corner of Main and Hollis has been dark for a week."


def label(harness: Harness, user: FakeUser, msgid: str) -> str:
    """A button label as this user sees it (works before and after catalogs are updated)."""
    return harness.services.catalogs.get(user.language)._(msgid)


async def start_report(harness: Harness, user: FakeUser, category: str) -> None:
    await user.send("/report")
    await user.tap(category)


async def file_report(
    harness: Harness,
    user: FakeUser,
    *,
    category: str = "Noise",
    place: str | tuple[float, float] = "Main South",
    text: str = "Loud music every night until 3am from the corner house.",
    anonymous: bool = True,
    photos: int = 0,
) -> Report:
    """Walk the whole flow and return the stored report."""
    await start_report(harness, user, category)
    if isinstance(place, tuple):
        await user.share_location(*place)
    else:
        await user.tap(place) if place in user.last_message.buttons else await user.send(place)
    await user.send(text)
    for _ in range(photos):
        await user.send_photo()
    await user.tap(label(harness, user, "➡️ Continue"))
    choice = "🕶 Stay anonymous" if anonymous else "👤 Share my Telegram name"
    await user.tap(label(harness, user, choice))
    await user.tap(label(harness, user, "✅ Confirm and send"))
    (latest,) = await harness.services.reports.for_resident(user.id, limit=1)
    return latest


def reply_keys(message: FakeMessage) -> list[list[str]]:
    """The reply keyboard a message brought, as the rows of its labels."""
    markup = message.sent_markup or {}
    return [
        [key["text"] if isinstance(key, dict) else str(key) for key in row]
        for row in markup.get("keyboard", [])
    ]


async def to_summary(harness: Harness, user: FakeUser, text: str) -> FakeMessage:
    """A Noise report in Downtown, anonymous, up to its summary; return the summary."""
    await start_report(harness, user, "Noise")
    await user.tap("Downtown")
    await user.send(text)
    await user.tap("➡️ Continue")
    await user.tap("🕶 Stay anonymous")
    return user.last_message


def staff_texts(harness: Harness) -> list[str]:
    return [m.text for m in harness.staff_chat.messages]


async def test_named_report_in_english_with_photo_reaches_its_own_topic(harness: Harness) -> None:
    alice = harness.resident("Alice", language="en", last_name="Walker", username="alice_w")
    await alice.send("/report")
    intro, step = alice.messages[-2:]
    assert "not for emergencies" in intro.text and "911" in intro.text
    assert "Noise" in step.buttons and "✖ Cancel" in step.buttons
    await alice.tap("Noise")
    assert "📍 Share my location" in alice.last_message.buttons
    await alice.tap("Main South")
    assert "Step 3 of 4" in alice.last_message.text
    await alice.send("Loud music every night until 3am from the corner house.")
    await alice.send_photo(caption="This is the house")
    assert "1 photo" in alice.last_message.text
    await alice.tap("➡️ Continue")
    assert alice.last_message.buttons[0] == "👤 Share my Telegram name"  # not sensitive
    await alice.tap("👤 Share my Telegram name")
    summary = alice.last_message.text
    assert "Noise" in summary and "Main South" in summary and "This is the house" in summary
    assert "shared with the liaison team" in summary
    await alice.tap("✅ Confirm and send")

    confirmation = alice.last_message
    assert "R-2026-000001" in confirmation.text and "received" in confirmation.text
    assert "What happens next" in confirmation.text and "911" in confirmation.text
    assert "📝 Report a concern" in confirmation.buttons  # the main menu is back
    assert await harness.services.dialogs.get(alice.id) is None
    report = await harness.services.reports.repo.get_by_reference("R-2026-000001")
    assert report is not None and not report.anonymous and len(report.photos) == 1
    assert report.reporter_name == "Alice Walker" and report.reporter_username == "alice_w"

    await harness.deliver_outbox()
    ((thread_id, topic),) = harness.staff_chat.topics.items()
    assert topic == "🆕 R-2026-000001 · Noise"
    card, photo = harness.staff_chat.messages_in_topic(thread_id)
    assert "Alice Walker (@alice_w)" in card.text and "Main South" in card.text
    assert "Language of the text: English" in card.text
    assert card.buttons == ["👀 Acknowledge", "🔧 In progress", "✅ Resolved", "🚫 Not actionable"]
    assert photo.photo is not None and photo.reply_to_message_id == card.message_id
    stored = await harness.services.reports.get(report.id)
    assert stored is not None and stored.card_message_id == card.message_id
    assert stored.staff_thread_id == thread_id


async def test_anonymous_report_in_spanish_with_location(harness: Harness) -> None:
    rosa = harness.resident("Rosa", language="es", last_name="Ortiz", username="rosa_o")
    es = harness.services.catalogs.get("es")
    await rosa.send("/report")
    assert "Actividad de drogas" in rosa.last_message.buttons
    await rosa.tap("Actividad de drogas")  # a sensitive category
    assert "Centro" in rosa.last_message.buttons  # neighborhoods in Spanish
    await rosa.share_location(42.2626, -71.8023)
    await rosa.send("Venden drogas todas las noches en la esquina del parque, cerca de la escuela.")
    await rosa.tap(es._("➡️ Continue"))
    identity = rosa.last_message
    assert identity.buttons[0] == es._("🕶 Stay anonymous")  # sensitive: anonymous first
    await rosa.tap(es._("🕶 Stay anonymous"))
    await rosa.tap(es._("✅ Confirm and send"))
    assert "R-2026-000001" in rosa.last_message.text

    await harness.deliver_outbox()
    ((thread_id, topic),) = harness.staff_chat.topics.items()
    assert topic == "🆕 R-2026-000001 · Drug activity"  # staff language: the city default
    messages = harness.staff_chat.messages_in_topic(thread_id)
    card, pin = messages
    assert "Anonymous resident #" in card.text and "Language of the text: Spanish" in card.text
    assert pin.location == (42.2626, -71.8023)
    everything = " ".join(str(m.to_json()) for m in harness.staff_chat.messages)
    for secret in (str(rosa.id), "Rosa", "Ortiz", "rosa_o"):
        assert secret not in everything


async def test_emergency_words_repeat_the_notice_and_the_report_is_still_saved(
    harness: Harness,
) -> None:
    rosa = harness.resident("Rosa", language="es")
    es = harness.services.catalogs.get("es")
    await start_report(harness, rosa, "Otra cosa")
    await rosa.tap("Centro")
    before = len(rosa.messages)
    await rosa.send("Hay FUEGO en la casa abandonada de la calle Main")
    alert = rosa.messages[before]
    assert "911" in alert.text
    await rosa.tap(es._("➡️ Continue"))
    await rosa.tap(es._("👤 Share my Telegram name"))
    await rosa.tap(es._("✅ Confirm and send"))
    (report,) = await harness.services.reports.for_resident(rosa.id)
    assert report.emergency_words == ("fuego",)
    await harness.deliver_outbox()
    card = harness.staff_chat.bot_messages[-1]
    assert "Emergency words: fuego" in card.text


async def test_description_limits_are_stated_and_nothing_is_lost(harness: Harness) -> None:
    alice = harness.resident("Alice")
    await start_report(harness, alice, "Noise")
    await alice.tap("Downtown")
    await alice.send("loud")
    assert "at least 10 characters" in alice.last_message.text
    await alice.send("x" * 2001)
    assert "2,001" in alice.last_message.text and "2,000" in alice.last_message.text
    dialog = await harness.services.dialogs.get(alice.id)
    assert dialog is not None and dialog.step == "what" and dialog.data["text"] == ""
    await alice.send("Loud music every night")
    await alice.send("and shouting in the street")
    dialog = await harness.services.dialogs.get(alice.id)
    assert dialog is not None
    assert dialog.data["text"] == "Loud music every night\nand shouting in the street"
    await alice.send("y" * 1990)  # would make the whole description too long
    assert "the limit is 2,000" in alice.last_message.text
    dialog = await harness.services.dialogs.get(alice.id)
    assert dialog is not None and len(dialog.data["text"]) < 100


async def test_stickers_contacts_polls_documents_and_videos_keep_the_step(
    harness: Harness,
) -> None:
    alice = harness.resident("Alice")
    await alice.send("/report")
    await alice.send_sticker()
    hint, again = alice.messages[-2:]
    assert "use the buttons" in hint.text and "Graffiti or vandalism" in again.buttons
    await alice.tap("Graffiti or vandalism")
    await alice.send_contact()
    assert "neighborhood" in alice.last_message.text
    await alice.tap("Downtown")
    for send in (alice.send_sticker, alice.send_contact, alice.send_poll, alice.send_video):
        await send()
        assert "cannot be attached" in alice.last_message.text
    await alice.send_document("report.pdf", b"%PDF-1.4")
    assert "cannot be attached" in alice.last_message.text
    dialog = await harness.services.dialogs.get(alice.id)
    assert dialog is not None and dialog.step == "what" and dialog.data["photos"] == []
    await alice.send_voice()
    await alice.send("Tags sprayed all over the library wall")
    await alice.tap("➡️ Continue")
    await alice.send("hello?")  # text where a button is expected
    assert "use the buttons" in alice.messages[-2].text
    await alice.tap("🕶 Stay anonymous")
    assert "a voice note" in alice.last_message.text


async def test_photos_are_limited_to_three(harness: Harness) -> None:
    alice = harness.resident("Alice")
    await start_report(harness, alice, "Trash or illegal dumping")
    await alice.tap("Bell Hill")
    for _ in range(4):
        await alice.send_photo()
    assert "up to 3 photos" in alice.last_message.text
    report = await file_rest(harness, alice)
    assert len(report.photos) == 3
    await harness.deliver_outbox()
    album = harness.tg.calls_to("sendMediaGroup", chat_id=harness.staff_chat.id, ok=True)
    assert len(album) == 1


async def file_rest(harness: Harness, user: FakeUser) -> Report:
    await user.send("Mattresses and tires dumped behind the store")
    await user.tap(label(harness, user, "➡️ Continue"))
    await user.tap(label(harness, user, "🕶 Stay anonymous"))
    await user.tap(label(harness, user, "✅ Confirm and send"))
    (latest,) = await harness.services.reports.for_resident(user.id, limit=1)
    return latest


async def test_location_outside_the_city_is_questioned(harness: Harness) -> None:
    alice = harness.resident("Alice")
    await start_report(harness, alice, "Abandoned vehicle")
    await alice.share_location(40.7128, -74.0060)  # New York
    assert "outside Worcester" in alice.last_message.text
    await alice.tap("No, choose again")
    assert "📍 Share my location" in alice.last_message.buttons
    await alice.share_location(40.7128, -74.0060)
    await alice.tap("Yes, use this location")
    report = await file_rest(harness, alice)
    assert report.outside_area and report.latitude == 40.7128
    await harness.deliver_outbox()
    assert "Outside the city's area" in harness.staff_chat.bot_messages[-2].text


async def test_typed_address_and_venue(harness: Harness) -> None:
    alice = harness.resident("Alice")
    await start_report(harness, alice, "Pothole or damaged sidewalk")
    await alice.send("ab")
    assert "3 to 200 characters" in alice.last_message.text
    await alice.send("<b>12 Elm St</b> & Park Ave")
    report = await file_rest(harness, alice)
    assert report.address == "<b>12 Elm St</b> & Park Ave" and report.neighborhood is None
    await harness.deliver_outbox()
    card = harness.staff_chat.bot_messages[-1]
    assert "<b>12 Elm St</b> & Park Ave" in card.text  # shown literally


async def test_html_and_markdown_in_the_description_reach_staff_literally(
    harness: Harness,
) -> None:
    alice = harness.resident("Alice")
    text = "<i>Broken</i> *glass* & <script>alert(1)</script> on the playground"
    report = await file_report(harness, alice, category="Something else", text=text)
    assert report.description == text
    await harness.deliver_outbox()
    card = harness.staff_chat.bot_messages[-1]
    assert text in card.text
    assert card.raw_text is not None and "&lt;i&gt;Broken&lt;/i&gt;" in card.raw_text


async def test_edit_from_the_summary(harness: Harness) -> None:
    alice = harness.resident("Alice")
    await start_report(harness, alice, "Noise")
    await alice.tap("Piedmont")
    await alice.send("Barking dogs all night long")
    await alice.tap("➡️ Continue")
    await alice.tap("🕶 Stay anonymous")
    await alice.tap("✏️ Edit")
    await alice.tap("Description")
    await alice.send("Barking dogs all night long, every night since May")
    assert "every night since May" in alice.last_message.text  # back on the summary
    await alice.tap("✏️ Edit")
    await alice.tap("Concern")
    await alice.tap("Something else")
    assert "Something else" in alice.last_message.text and "Please check" in alice.last_message.text
    await alice.tap("✏️ Edit")
    await alice.tap("Place")
    shown = len(alice.messages)
    await alice.tap("Downtown")
    # The place is acknowledged on its own (taking the location keyboard away), then the
    # summary with its buttons.
    recap, summary = alice.messages[shown:]
    assert recap.text == "Place: Downtown ✓" and reply_keys(recap) == [["✖ Cancel"]]
    assert "Downtown" in summary.text and "Please check" in summary.text
    await alice.tap("✅ Confirm and send")
    (report,) = await harness.services.reports.for_resident(alice.id)
    assert report.category == "other" and report.neighborhood == "downtown"
    assert report.description == "Barking dogs all night long, every night since May"


async def test_the_place_and_the_next_step_come_in_one_message(harness: Harness) -> None:
    alice = harness.resident("Alice")
    await start_report(harness, alice, "Noise")
    shown = len(alice.messages)
    await alice.tap("Main South")
    (step,) = alice.messages[shown:]
    assert step.text.startswith("Place: Main South ✓\n\nStep 3 of 4")
    assert reply_keys(step) == [["✖ Cancel"]]  # the location keyboard is gone
    await alice.send("The corner house plays loud music every night")  # step 3's answer
    assert "Continue" in " ".join(alice.last_message.buttons)


async def test_cancel_by_button_and_by_keyboard(harness: Harness) -> None:
    alice = harness.resident("Alice")
    await alice.send("/report")
    await alice.tap("✖ Cancel", message=alice.last_message)
    assert "Nothing was sent" in alice.last_message.text
    assert await harness.services.dialogs.get(alice.id) is None
    await start_report(harness, alice, "Noise")
    await alice.send("✖ Cancel")
    assert "Nothing was sent" in alice.last_message.text
    assert await harness.services.dialogs.get(alice.id) is None
    assert await harness.services.reports.for_resident(alice.id) == []


async def test_restart_mid_flow_continues_where_the_resident_was(harness: Harness) -> None:
    alice = harness.resident("Alice")
    await start_report(harness, alice, "Noise")
    await alice.tap("Main South")
    await alice.send("Loud music every night until 3am")
    continue_message = alice.last_message
    await harness.restart()
    await alice.tap("➡️ Continue", message=continue_message)  # a button from before
    await alice.tap("🕶 Stay anonymous")
    await harness.restart()
    await alice.send("/report")  # resumes the draft instead of starting over
    assert "Please check your report" in alice.last_message.text
    await alice.tap("✅ Confirm and send")
    (report,) = await harness.services.reports.for_resident(alice.id)
    assert report.description == "Loud music every night until 3am"


async def test_stale_and_forged_flow_buttons_change_nothing(harness: Harness) -> None:
    alice = harness.resident("Alice")
    await alice.send("/report")
    categories = alice.last_message
    noise = categories.callback_data("Noise")
    await alice.tap("Noise")
    before = await harness.services.dialogs.get(alice.id)
    record = await harness.tg.press_callback(alice, categories, noise)
    assert record.show_alert and "no longer works" in (record.text or "")
    record = await harness.tg.press_callback(alice, categories, "rf:999:ok")
    assert record.show_alert
    record = await harness.tg.press_callback(alice, categories, "rf:x:cat:../../etc")
    assert record.show_alert
    after = await harness.services.dialogs.get(alice.id)
    assert before is not None and after is not None
    assert (after.step, after.version, after.data) == (before.step, before.version, before.data)

    # Same step, older message: its Continue belongs to an earlier version of the draft.
    await alice.tap("Downtown")
    await alice.send("Loud music every night")
    older = alice.last_message
    await alice.send("and shouting in the street")
    record = await harness.tg.press_callback(alice, older, older.callback_data("➡️ Continue"))
    assert record.show_alert
    dialog = await harness.services.dialogs.get(alice.id)
    assert dialog is not None and dialog.step == "what"
    assert await harness.services.reports.for_resident(alice.id) == []


async def test_double_confirm_files_one_report(harness: Harness) -> None:
    alice = harness.resident("Alice")
    summary = await to_summary(harness, alice, "Loud music every night until 3am")
    data = summary.callback_data("✅ Confirm and send")
    await alice.tap("✅ Confirm and send")
    told = len(alice.messages)
    record = await harness.tg.press_callback(alice, summary, data)
    (report,) = await harness.services.reports.for_resident(alice.id)
    # The second press is told the same: the report was received (and only one was filed).
    assert not record.show_alert
    (again,) = alice.messages[told:]
    assert "received" in again.text and report.reference in again.text


async def test_a_confirmation_lost_in_a_restart_is_given_again(harness: Harness) -> None:
    alice = harness.resident("Alice")
    summary = await to_summary(harness, alice, "Loud music every night until 3am")
    data = summary.callback_data("✅ Confirm and send")
    # The report is committed, then the bot stops before its answer reaches Alice.
    harness.tg.faults.add(method="sendMessage", kind="500", times=5)
    await alice.tap("✅ Confirm and send")
    harness.tg.faults.clear()
    assert not any("received" in m.text for m in alice.messages)
    await harness.restart()
    record = await harness.tg.press_callback(alice, summary, data)
    (report,) = await harness.services.reports.for_resident(alice.id)
    assert not record.show_alert
    assert "received" in alice.last_message.text and report.reference in alice.last_message.text
    assert len(await harness.services.reports.for_resident(alice.id)) == 1


async def test_confirm_of_a_draft_with_the_same_words_is_not_taken_for_the_filed_one(
    harness: Harness,
) -> None:
    alice = harness.resident("Alice")
    words = "Streetlight out since Monday, very dark at night"
    await file_report(harness, alice, text=words)
    summary = await to_summary(harness, alice, words)  # the same words, another draft
    data = summary.callback_data("✅ Confirm and send")
    await alice.tap("✏️ Edit")  # the summary's buttons are now an older version
    told = len(alice.messages)
    record = await harness.tg.press_callback(alice, summary, data)
    assert record.show_alert and "no longer works" in (record.text or "")
    assert alice.messages[told:] == []
    await alice.send("/cancel")
    record = await harness.tg.press_callback(alice, summary, data)
    assert record.show_alert
    assert len(await harness.services.reports.for_resident(alice.id)) == 1


async def test_confirm_of_another_draft_is_not_taken_for_the_filed_report(
    harness: Harness,
) -> None:
    alice = harness.resident("Alice")
    await file_report(harness, alice, text="Loud music every night until 3am, again.")
    summary = await to_summary(harness, alice, "A car has been parked on the sidewalk for a week")
    data = summary.callback_data("✅ Confirm and send")
    await alice.send("/cancel")
    told = len(alice.messages)
    record = await harness.tg.press_callback(alice, summary, data)
    assert record.show_alert and "no longer works" in (record.text or "")
    assert alice.messages[told:] == []
    assert len(await harness.services.reports.for_resident(alice.id)) == 1


async def test_hourly_limit_refuses_kindly_and_says_when(harness: Harness) -> None:
    alice = harness.resident("Alice")
    for _ in range(harness.settings.city.reports_per_hour):
        await file_report(harness, alice)
        harness.advance(60)
    await alice.send("/report")
    refusal = alice.last_message.text
    assert "5 reports in the last hour" in refusal
    assert "11:00\u202fAM" in refusal  # the first one was filed at 10:00 AM in Worcester
    assert await harness.services.dialogs.get(alice.id) is None
    harness.advance(3600 - 4 * 60)
    await alice.send("/report")
    assert "Step 1 of 4" in alice.last_message.text


async def test_limit_reached_at_confirm_keeps_the_draft(harness: Harness) -> None:
    alice = harness.resident("Alice")
    await start_report(harness, alice, "Noise")  # a draft opened before the limit was hit
    await alice.tap("Downtown")
    await alice.send("Loud music every night until 3am")
    await alice.tap("➡️ Continue")
    await alice.tap("🕶 Stay anonymous")
    summary = alice.last_message
    from bot.services.reports import Draft

    draft = Draft(category="noise", neighborhood="downtown", text="Something else entirely")
    for _ in range(5):
        await harness.services.reports.file_report(
            draft, resident_id=alice.id, chat_id=alice.id, language="en", reporter=None
        )
    await alice.tap("✅ Confirm and send", message=summary)
    assert "Your draft is kept" in alice.last_message.text
    assert len(await harness.services.reports.for_resident(alice.id)) == 5
    harness.advance(3601)
    await alice.tap("✅ Confirm and send", message=summary)
    assert "R-2026-000006" in alice.last_message.text


async def test_myreports_lists_newest_first_with_history(harness: Harness) -> None:
    alice = harness.resident("Alice")
    await alice.send("/myreports")
    assert "not sent any reports yet" in alice.last_message.text
    first = await file_report(harness, alice, category="Noise")
    harness.advance(120)
    second = await file_report(harness, alice, category="Broken streetlight", text=LONG_TEXT)
    await harness.deliver_outbox()
    await alice.tap("🗂 My reports")
    listing = alice.last_message
    assert listing.text.index(second.reference) < listing.text.index(first.reference)
    assert "🆕 New" in listing.text
    assert listing.buttons == [f"History of {second.reference}", f"History of {first.reference}"]
    await alice.tap(f"History of {second.reference}")
    assert "Received" in alice.last_message.text and "Broken streetlight" in alice.last_message.text
    await alice.tap("⬅️ All my reports")
    assert first.reference in alice.last_message.text

    bob = harness.resident("Bob")
    await bob.send("/start")
    record = await harness.tg.press_callback(bob, bob.last_message, f"rh:{first.id}")
    assert record.show_alert  # not his report


async def test_editing_a_sent_message_does_not_change_the_draft(harness: Harness) -> None:
    alice = harness.resident("Alice")
    await start_report(harness, alice, "Noise")
    await alice.tap("Downtown")
    sent = await alice.send("Loud music every night")
    count = len(alice.messages)
    await alice.edit(sent, "Loud music every night, and now fireworks too")
    dialog = await harness.services.dialogs.get(alice.id)
    assert dialog is not None and dialog.data["text"] == "Loud music every night"
    assert len(alice.messages) == count
