"""Residents in control of their data: /privacy, /mydata, /deletemydata, retention."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import pytest

from bot.config import City
from bot.i18n import Catalogs
from bot.services.privacy import DELETE_FLOW, KEEP_DAYS
from bot.services.survey_definitions import check_survey
from bot.services.surveys import respondent_key
from bot.storage.reports import Report
from bot.testing import CallbackQueryRecord, FakeMessage, FakeUser
from bot.views import privacy as privacy_views
from tests.harness import Harness
from tests.integration.test_events import publish as publish_event
from tests.integration.test_report_delivery import deliver_everything
from tests.integration.test_report_flow import file_report
from tests.integration.test_survey_flow import EXAMPLE

NAMED_SURVEY = "named-feedback"
DAY = 86400.0


@pytest.fixture(autouse=True)
def no_handler_errors(caplog: pytest.LogCaptureFixture) -> object:
    """Fail a test when a handler raised (the error handler would only log it)."""
    yield
    failures = [record for record in caplog.records if record.name == "bot.errors"]
    assert not failures, [record.getMessage() for record in failures]


async def publish_named_survey(harness: Harness) -> str:
    city = harness.services.city
    text = EXAMPLE.read_text(encoding="utf-8")
    text = text.replace('id = "community-meeting"', f'id = "{NAMED_SURVEY}"')
    text = text.replace("anonymous = true", "anonymous = false")
    result = check_survey(
        text,
        languages=city.languages,
        default_language=city.default_language,
        timezone=city.timezone,
    )
    assert result.definition is not None, result.report()
    published = await harness.services.surveys.publish(result.definition, result.source)
    assert not published.refused
    return result.definition.id


async def answer_survey(user: FakeUser, survey_id: str, comment: str) -> None:
    await user.send(f"/start sv_{survey_id}")
    await user.tap("4")
    await user.tap("No")
    await user.tap("Translated handouts")
    await user.tap("⬜ Housing")
    await user.tap("✅ Done")
    await user.send(comment)
    assert "Thank you!" in user.last_message.text


def json_document(message: FakeMessage) -> tuple[str, dict[str, Any]]:
    document = message.document
    assert document is not None, message.text
    name, data = document
    parsed: dict[str, Any] = json.loads(data.decode("utf-8"))
    return name, parsed


async def all_rows(harness: Harness, *, skip: tuple[str, ...] = ()) -> dict[str, str]:
    """Every table as text (to look for a person's traces)."""
    db = harness.services.db
    tables = [
        row[0] for row in await db.fetchall("SELECT name FROM sqlite_master WHERE type = 'table'")
    ]
    found = {}
    for table in tables:
        if table in skip:
            continue
        rows = await db.fetchall(f"SELECT * FROM {table}")
        found[table] = "\n".join(" | ".join(str(value) for value in tuple(row)) for row in rows)
    return found


async def resident_with_everything(harness: Harness) -> tuple[FakeUser, Report, Report]:
    """A resident who follows, RSVPs, answers surveys and filed two reports with photos."""
    alice = harness.resident("Alice", last_name="Walker", username="alice_w", user_id=777001)
    await alice.send("/start nb_downtown")
    event = await publish_event(harness, capacity=1)
    await alice.send(f"/start ev_{event.id}")
    await alice.tap("✅ Going")
    await publish_named_survey(harness)
    await answer_survey(alice, NAMED_SURVEY, "Alice says the lights are out near home")
    named = await file_report(harness, alice, anonymous=False, photos=1)
    anonymous = await file_report(harness, alice, category="Broken streetlight", photos=1)
    await deliver_everything(harness)
    sam = harness.staff_member("Sam")
    named = await harness.services.reports.get(named.id) or named
    await sam.send_in(
        harness.staff_chat, "Which house is it, Alice?", thread_id=named.staff_thread_id
    )
    await deliver_everything(harness)
    await alice.send("Number 42, near my home", reply_to=alice.last_message)
    await deliver_everything(harness)
    stored = await harness.services.reports.get(named.id)
    other = await harness.services.reports.get(anonymous.id)
    assert stored is not None and other is not None
    return alice, stored, other


# --------------------------------------------------------------------------- /privacy


async def test_privacy_says_what_is_stored_who_sees_it_and_for_how_long(harness: Harness) -> None:
    alice = harness.resident("Alice")
    await alice.send("/privacy")
    text = alice.last_message.text
    for part in ("What we store", "Who sees it", "For how long", "Your choices"):
        assert part in text
    assert "365 days after the report is closed" in text
    assert f"Unfinished conversations: {KEEP_DAYS} days" in text
    assert "messages it sent you: 90 days" in text
    assert "/mydata" in text and "/deletemydata" in text
    assert alice.last_message.buttons == ["📦 Get my data", "🗑 Delete my data"]


def test_a_one_day_retention_reads_in_the_singular(city: City, catalogs: Catalogs) -> None:
    one_day = replace(city, retention_days=1)
    assert (
        "1 day after the report is closed"
        in privacy_views.privacy(catalogs.get("en"), one_day).text
    )
    assert "1 día después" in privacy_views.privacy(catalogs.get("es"), one_day).text


@pytest.mark.parametrize("language", ["en", "es", "pt", "vi", "ar", "sq"])
async def test_privacy_is_answered_in_every_language(harness: Harness, language: str) -> None:
    user = harness.resident("Rosa", language=language)
    await user.send("/privacy")
    text = user.last_message.text
    tr = harness.services.catalogs.get(language)
    assert tr._("<b>What we store</b>").replace("<b>", "").replace("</b>", "") in text
    assert tr.number(365) in text and "/deletemydata" in text
    assert len(user.last_message.buttons) == 2


# --------------------------------------------------------------------------- /mydata


async def test_mydata_sends_everything_the_bot_holds_as_json(harness: Harness) -> None:
    alice, named, anonymous = await resident_with_everything(harness)
    await alice.send("/mydata")
    name, data = json_document(alice.last_message)
    assert name == "mydata-2026-12-01.json"
    assert "Keep it private" in alice.last_message.text
    assert data["profile"]["telegram_user_id"] == alice.id
    assert data["profile"]["language"] == "en"
    assert data["alerts"]["following"] == ["downtown"]
    assert [r["reference"] for r in data["reports"]] == [named.reference, anonymous.reference]
    first = data["reports"][0]
    assert first["name_shared_with_staff"] == "Alice Walker"
    assert first["username_shared_with_staff"] == "alice_w"
    assert first["photos"] == list(named.photos) and len(first["photos"]) == 1
    texts = [entry.get("text") for entry in first["history"]]
    assert "Which house is it, Alice?" in texts and "Number 42, near my home" in texts
    assert "Sam" not in json.dumps(data)  # staff are never named to residents
    assert data["reports"][1]["anonymous"] is True
    assert data["reports"][1]["name_shared_with_staff"] is None
    (rsvp,) = data["rsvps"]
    assert rsvp["answer"] == "going" and rsvp["event"] == "Downtown safety meeting"
    (survey,) = data["named_survey_answers"]
    assert any(a["answer"] == "Alice says the lights are out near home" for a in survey["answers"])
    assert data["messages_from_the_bot"]["sent"] >= 2  # the staff reply, an event notice


async def test_mydata_leaves_out_anonymous_survey_answers_and_secrets(harness: Harness) -> None:
    from tests.integration.test_survey_flow import publish as publish_anonymous

    await publish_anonymous(harness)
    bob = harness.resident("Bob")
    await answer_survey(bob, "community-meeting", "Secret thoughts about the meeting")
    await bob.send("/mydata")
    _, data = json_document(bob.last_message)
    dumped = json.dumps(data)
    assert data["named_survey_answers"] == []
    assert "Secret thoughts" not in dumped
    assert harness.settings.hash_secret.reveal() not in dumped
    assert harness.settings.bot_token.reveal().partition(":")[2] not in dumped


async def test_the_privacy_button_sends_the_data_too(harness: Harness) -> None:
    alice = harness.resident("Alice")
    await alice.send("/privacy")
    await alice.tap("📦 Get my data")
    name, data = json_document(alice.last_message)
    assert name.startswith("mydata-") and data["profile"]["telegram_user_id"] == alice.id


# --------------------------------------------------------------------------- /deletemydata


async def test_deletemydata_asks_first_and_keep_changes_nothing(harness: Harness) -> None:
    alice = harness.resident("Alice")
    report = await file_report(harness, alice)
    await alice.send("/deletemydata")
    question = alice.last_message
    assert "Delete your data?" in question.text and "cannot be undone" in question.text
    assert "Your report stays for the program's statistics" in question.text
    assert "still open" in question.text
    assert question.buttons == ["🗑 Yes, delete my data", "Keep my data"]
    yes = question.callback_data("🗑 Yes, delete my data")
    before = await all_rows(harness, skip=("processed_updates", "residents", "dialogs"))
    await alice.send("What does this do?")
    assert "buttons above" in alice.last_message.text
    await alice.tap("Keep my data", message=question)
    assert "Nothing was deleted" in question.text and question.buttons == []
    assert await all_rows(harness, skip=("processed_updates", "residents", "dialogs")) == before
    assert await harness.services.dialogs.get(alice.id) is None
    stored = await harness.services.reports.get(report.id)
    assert stored is not None and stored.resident_id == alice.id
    record = await harness.tg.press_callback(alice, question, yes)  # the old question
    assert isinstance(record, CallbackQueryRecord) and "no longer works" in (record.text or "")
    assert await harness.services.residents.get(alice.id) is not None


async def test_deleting_a_draft_in_progress_is_given_back_on_keep(harness: Harness) -> None:
    alice = harness.resident("Alice")
    await alice.send("/report")
    await alice.tap("Noise")
    await alice.send("/deletemydata")
    await alice.tap("Keep my data")
    dialog = await harness.services.dialogs.get(alice.id)
    assert dialog is not None and dialog.flow == "report" and dialog.step == "where"
    await alice.send("/report")  # resumes where she was
    assert "Main South" in alice.last_message.buttons


async def test_a_menu_button_leaves_the_question_without_deleting(harness: Harness) -> None:
    alice = harness.resident("Alice")
    await alice.send("/start")
    await alice.send("/deletemydata")
    await alice.send("🗂 My reports")
    texts = [m.text for m in alice.messages[-2:]]
    assert "Nothing was deleted" in texts[0]
    assert await harness.services.dialogs.get(alice.id) is None
    assert await harness.services.residents.get(alice.id) is not None


async def test_deletemydata_erases_the_person_and_keeps_anonymous_reports(
    harness: Harness,
) -> None:
    alice, named, anonymous = await resident_with_everything(harness)
    secret = harness.settings.hash_secret
    bob = harness.resident("Bob")
    await bob.send("/start nb_downtown")
    assert len([m for m in harness.staff_chat.bot_messages if m.photo is not None]) == 2
    await alice.send("/deletemydata")
    assert "Your 2 reports stay" in alice.last_message.text
    await alice.tap("🗑 Yes, delete my data")
    assert "Your personal data has been deleted" in alice.last_message.text
    assert "Your 2 reports remain only as anonymous records" in alice.last_message.text
    await deliver_everything(harness)

    # Nothing in the database points to her any more.
    traces = await all_rows(harness, skip=("processed_updates",))
    for table, text in traces.items():
        for marker in (str(alice.id), "Alice Walker", "alice_w", "Number 42", named.photos[0]):
            assert marker not in text, f"{table} still holds {marker!r}"
        for survey_id in ("named-feedback",):
            key = respondent_key(secret, survey_id, alice.id)
            assert key not in text, f"{table} still holds her survey key"
    assert await harness.services.residents.get(alice.id) is None
    assert await harness.services.dialogs.get(alice.id) is None

    # The reports stay for statistics, without a link to her.
    for before in (named, anonymous):
        after = await harness.services.reports.get(before.id)
        assert after is not None and after.detached
        assert after.resident_id == 0 and after.reporter_name is None and after.photos == ()
        assert after.pseudonym != before.pseudonym
        assert after.description == before.description and after.category == before.category
    held = await harness.services.db.fetchval(
        "SELECT count(*) FROM reports WHERE confirm_message_id IS NOT NULL AND id IN (?, ?)",
        (named.id, anonymous.id),
    )
    assert held == 0  # nor the message of her chat they were confirmed from
    # Her finished survey answers stay for the results, unlinked.
    rows = await harness.services.db.fetchall(
        "SELECT user_id, respondent, status FROM survey_responses WHERE survey_id = ?",
        (NAMED_SURVEY,),
    )
    assert [(row[0], row[2]) for row in rows] == [(None, "complete")]

    # The staff chat: her name gone from the card, photos deleted, a notice in each topic.
    for before in (named, anonymous):
        card = harness.staff_chat.message(before.card_message_id or 0)
        assert card is not None and "Alice" not in card.text and "alice_w" not in card.text
        assert "Attached below" not in card.text
        assert before.staff_thread_id is not None
        notices = [
            m.text
            for m in harness.staff_chat.messages_in_topic(before.staff_thread_id)
            if "deleted their data" in m.text
        ]
        assert notices == [
            f"🚪 {before.reference}: The resident has deleted their data; replies can no"
            " longer reach them.\nTheir photos and voice notes were removed from this chat"
            " where Telegram allowed it (within 48 hours of posting); please delete any that"
            " remain."
        ]
    visible_photos = [m for m in harness.staff_chat.bot_messages if m.photo is not None]
    assert visible_photos == []
    # Bob is untouched.
    assert await harness.services.residents.get(bob.id) is not None
    assert (await harness.services.alerts.settings(bob.id)).areas


async def test_staff_replies_to_a_detached_report_are_refused_kindly(harness: Harness) -> None:
    alice = harness.resident("Alice")
    report = await file_report(harness, alice)
    await deliver_everything(harness)
    report = await harness.services.reports.get(report.id) or report
    await alice.send("/deletemydata")
    await alice.tap("🗑 Yes, delete my data")
    await deliver_everything(harness)
    received = len(alice.messages)
    sam = harness.staff_member("Sam")
    await sam.send_in(harness.staff_chat, "Are you still there?", thread_id=report.staff_thread_id)
    answer = harness.staff_chat.messages_in_topic(report.staff_thread_id or 0)[-1]
    assert "Replies can no longer reach the resident" in answer.text
    card = harness.staff_chat.message(report.card_message_id or 0)
    assert card is not None
    record = await sam.tap("✅ Resolved", message=card)
    assert isinstance(record, CallbackQueryRecord) and record.text == "✅ Resolved"
    await deliver_everything(harness)
    assert len(alice.messages) == received  # nothing more reached her
    stored = await harness.services.reports.get(report.id)
    assert stored is not None and stored.status == "resolved"
    # She may come back as a new person.
    await alice.send("/start")
    resident = await harness.services.residents.get(alice.id)
    assert resident is not None
    assert await harness.services.reports.for_resident(alice.id) == []


async def test_erasure_releases_held_places_to_the_waiting_list(harness: Harness) -> None:
    event = await publish_event(harness, capacity=1)
    alice = harness.resident("Alice")
    bob = harness.resident("Bob")
    for user in (alice, bob):
        await user.send(f"/start ev_{event.id}")
        await user.tap("✅ Going")
    bob_rsvp = await harness.services.events.rsvp_of(event.id, bob.id)
    assert bob_rsvp is not None and bob_rsvp.waitlisted
    await alice.send("/deletemydata")
    await alice.tap("🗑 Yes, delete my data")
    bob_rsvp = await harness.services.events.rsvp_of(event.id, bob.id)
    assert bob_rsvp is not None and not bob_rsvp.waitlisted
    assert await harness.services.events.rsvp_of(event.id, alice.id) is None


async def test_a_second_yes_erases_once(harness: Harness) -> None:
    alice = harness.resident("Alice")
    await file_report(harness, alice)
    await alice.send("/deletemydata")
    question = alice.last_message
    data = question.callback_data("🗑 Yes, delete my data")
    await alice.tap("🗑 Yes, delete my data", message=question)
    record = await harness.tg.press_callback(alice, question, data)
    assert "no longer works" in (record.text or "")
    await deliver_everything(harness)
    notices = [m for m in harness.staff_chat.bot_messages if "deleted their data" in m.text]
    assert len(notices) == 1


async def test_a_forged_delete_confirmation_is_refused(harness: Harness) -> None:
    alice = harness.resident("Alice")
    await alice.send("/privacy")
    message = alice.last_message
    for data in ("pv:1:yes", "pv:99:yes", "pv:0:yes", "pv:x:yes", "pv:export:1", "pv:"):
        record = await harness.tg.press_callback(alice, message, data)
        assert "no longer works" in (record.text or ""), data
    assert await harness.services.residents.get(alice.id) is not None


# --------------------------------------------------------------------------- retention


async def test_retention_purges_personal_fields_of_long_closed_reports(harness: Harness) -> None:
    alice = harness.resident("Alice", last_name="Walker")
    old = await file_report(harness, alice, anonymous=False, photos=1)
    recent = await file_report(harness, alice, category="Broken streetlight", anonymous=False)
    still_open = await file_report(harness, alice, category="Graffiti or vandalism")
    await deliver_everything(harness)
    sam = harness.staff_member("Sam")
    for report in (old, recent):
        stored = await harness.services.reports.get(report.id)
        assert stored is not None
        card = harness.staff_chat.message(stored.card_message_id or 0)
        assert card is not None
        if report is old:
            await sam.send_in(harness.staff_chat, "We fixed it", thread_id=stored.staff_thread_id)
        await sam.tap("✅ Resolved", message=card)
        await deliver_everything(harness)
        harness.advance(10 * DAY)  # the second one is closed ten days later
    privacy = harness.services.privacy
    days = harness.services.city.retention_days
    harness.advance((days - 20) * DAY - 60)
    assert await privacy.purge_expired() == 0  # not yet
    recent_stored = await harness.services.reports.get(recent.id)
    assert recent_stored is not None
    harness.advance(120)
    assert await privacy.purge_expired() == 1
    assert await privacy.purge_expired() == 0  # done once
    purged = await harness.services.reports.get(old.id)
    assert purged is not None and purged.detached and purged.reporter_name is None
    assert purged.photos == () and purged.description == old.description
    events = await harness.services.reports.repo.events(old.id)
    assert all(e.body is None for e in events if e.kind == "staff_message")
    for report in (recent, still_open):
        kept = await harness.services.reports.get(report.id)
        assert kept is not None and kept.resident_id == alice.id
    await deliver_everything(harness)
    card = harness.staff_chat.message(purged.card_message_id or 0)
    assert card is not None and "Alice" not in card.text
    # Her profile is untouched; /myreports no longer lists the purged report.
    await alice.send("/myreports")
    assert old.reference not in alice.last_message.text
    assert recent.reference in alice.last_message.text


async def test_nightly_forgets_abandoned_drafts(harness: Harness) -> None:
    alice = harness.resident("Alice")
    await alice.send("/report")
    await alice.tap("Noise")
    harness.advance(KEEP_DAYS * DAY + 60)
    carol = harness.resident("Carol")
    await carol.send("/report")  # a fresh draft stays
    result = await harness.services.privacy.nightly()
    assert result.dialogs == 1
    assert await harness.services.dialogs.get(alice.id) is None
    assert await harness.services.dialogs.get(carol.id) is not None


def test_privacy_states_the_delivery_log_period_the_bot_applies() -> None:
    from bot.app import OUTBOX_KEEP_DAYS
    from bot.views.privacy import DELIVERY_LOG_DAYS

    assert DELIVERY_LOG_DAYS == OUTBOX_KEEP_DAYS


async def test_the_nightly_job_is_scheduled_once_under_its_name(harness: Harness) -> None:
    from bot.jobs.privacy import NIGHTLY_JOB

    assert harness.app is not None and harness.app.job_queue is not None
    await harness.restart()
    assert harness.app is not None and harness.app.job_queue is not None
    assert len(harness.app.job_queue.get_jobs_by_name(NIGHTLY_JOB)) == 1


async def test_an_open_delete_question_survives_a_restart(harness: Harness) -> None:
    alice = harness.resident("Alice")
    await alice.send("/deletemydata")
    question = alice.last_message
    await harness.restart()
    dialog = await harness.services.dialogs.get(alice.id)
    assert dialog is not None and dialog.flow == DELETE_FLOW
    await alice.tap("🗑 Yes, delete my data", message=question)
    assert "has been deleted" in alice.last_message.text
    assert await harness.services.residents.get(alice.id) is None


async def test_in_card_mode_the_notice_replies_to_the_card_and_answers_to_it_are_refused(
    harness: Harness,
) -> None:
    cards = harness.tg.group("Liaison (no topics)", forum=False)
    sam = harness.staff_member("Sam")
    harness.tg.add_member(cards, sam)
    await harness.restart(staff_chat_id=cards.id)
    alice = harness.resident("Alice")
    report = await file_report(harness, alice, photos=2)
    await deliver_everything(harness)
    stored = await harness.services.reports.get(report.id)
    assert stored is not None and stored.card_message_id is not None
    await alice.send("/deletemydata")
    await alice.tap("🗑 Yes, delete my data")
    await deliver_everything(harness)
    notice = cards.bot_messages[-1]
    assert "deleted their data" in notice.text
    assert notice.reply_to_message_id == stored.card_message_id
    assert [m for m in cards.bot_messages if m.photo is not None] == []  # the album is gone
    await sam.send_in(cards, "Can you tell us more?", reply_to=notice)
    assert "Replies can no longer reach the resident" in cards.bot_messages[-1].text
