"""Surveys through the real application on the Telegram fake."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta
from typing import Any

from bot.config import PROJECT_ROOT
from bot.services.charts import PNG_SIGNATURE
from bot.services.survey_definitions import check_survey, load_survey_file
from bot.services.surveys import respondent_key
from bot.testing import CallbackQueryRecord, FakeUser
from bot.testing.inbound import press_callback
from tests.harness import Harness

EXAMPLE = PROJECT_ROOT / "surveys" / "community-meeting.toml"
SURVEY_ID = "community-meeting"


async def publish(harness: Harness, text: str | None = None) -> str:
    city = harness.services.city
    if text is None:
        result = load_survey_file(
            EXAMPLE,
            languages=city.languages,
            default_language=city.default_language,
            timezone=city.timezone,
        )
    else:
        result = check_survey(
            text,
            languages=("en", "es"),  # the small surveys written in these tests are bilingual
            default_language=city.default_language,
            timezone=city.timezone,
        )
    assert result.definition is not None, result.report()
    published = await harness.services.surveys.publish(result.definition, result.source)
    assert not published.refused
    return result.definition.id


async def answers_of(harness: Harness) -> dict[str, Any]:
    rows = await harness.services.db.fetchall(
        "SELECT question_id, value, skipped FROM survey_answers"
    )
    return {
        row["question_id"]: "SKIPPED" if row["skipped"] else json.loads(row["value"])
        for row in rows
    }


def alert(record: object) -> str:
    assert isinstance(record, CallbackQueryRecord) and record.answered
    return record.text or ""


async def start(user: FakeUser, survey_id: str = SURVEY_ID) -> None:
    await user.send(f"/start sv_{survey_id}")


async def test_every_question_type_in_english(harness: Harness) -> None:
    await publish(harness)
    alice = harness.resident("Alice", language="en")
    await start(alice)
    intro = alice.messages[-2].text
    assert "How was tonight's community meeting?" in intro
    assert "5 questions" in intro and "anonymous" in intro
    question = alice.last_message
    assert question.text.startswith("Question 1 of 5")
    assert "Overall, how useful was the meeting for you?" in question.text
    assert question.buttons == ["1", "2", "3", "4", "5"]  # no Back, no Skip on question 1

    await alice.tap("4")  # rating
    assert "✔️ 4" in alice.messages[-2].text  # the answered question shows the answer
    assert alice.messages[-2].buttons == []
    assert alice.last_message.text.startswith("Question 2 of 5")  # "of 5": may still follow
    await alice.tap("No")  # yes/no
    assert alice.last_message.text.startswith("Question 3 of 5")
    assert "What would help most next time?" in alice.last_message.text
    await alice.tap("Translated handouts")  # single choice
    assert "Which topics should we cover next time?" in alice.last_message.text
    await alice.tap("⬜ Housing")  # multiple choice: toggles redraw the same message
    await alice.tap("⬜ Youth programs")
    await alice.tap("☑️ Housing")
    assert alice.last_message.buttons[:4] == [
        "⬜ Traffic and speeding",
        "☑️ Youth programs",
        "⬜ Housing",
        "⬜ Street safety",
    ]
    await alice.tap("✅ Done")
    assert alice.last_message.text.startswith("Question 5 of 5")
    await alice.send("Great meeting, thanks to the officers for listening")  # free text
    assert "Thank you! Your answers were saved." in alice.last_message.text
    assert await answers_of(harness) == {
        "overall": 4,
        "understood": "no",
        "language_help": "translated_handouts",
        "topics": ["youth"],
        "comments": "Great meeting, thanks to the officers for listening",
    }
    language = await harness.services.db.fetchval(
        "SELECT text_language FROM survey_answers WHERE question_id = 'comments'"
    )
    assert language == "en"


async def test_every_question_type_in_spanish(harness: Harness) -> None:
    await publish(harness)
    rosa = harness.resident("Rosa", language="es")
    await start(rosa)
    assert "¿Qué tal la reunión comunitaria de esta noche?" in rosa.messages[-2].text
    assert "¿qué tan útil fue la reunión para usted?" in rosa.last_message.text
    await rosa.tap("2")
    assert "¿Pudo entender todo en su idioma?" in rosa.last_message.text
    no = rosa.last_message.buttons[1]
    await rosa.tap(no)
    assert "¿Qué le ayudaría más la próxima vez?" in rosa.last_message.text
    assert "Un intérprete" in rosa.last_message.buttons
    await rosa.tap("Un intérprete")
    await rosa.tap("⬜ Tráfico y exceso de velocidad")
    await rosa.tap("⬜ Seguridad en la calle")
    done = next(label for label in rosa.last_message.buttons if label.startswith("✅"))
    await rosa.tap(done)
    assert "¿Algo más que quiera decirnos?" in rosa.last_message.text
    await rosa.send("La reunión fue muy buena, pero necesitamos más luces en la calle")
    assert await answers_of(harness) == {
        "overall": 2,
        "understood": "no",
        "language_help": "interpreter",
        "topics": ["traffic", "safety"],
        "comments": "La reunión fue muy buena, pero necesitamos más luces en la calle",
    }
    row = await harness.services.db.fetchone(
        "SELECT r.language, a.text_language FROM survey_responses r"
        " JOIN survey_answers a ON a.response_id = r.id WHERE a.question_id = 'comments'"
    )
    assert row is not None and tuple(row) == ("es", "es")


async def test_condition_skips_the_follow_up_question(harness: Harness) -> None:
    await publish(harness)
    alice = harness.resident("Alice")
    await start(alice)
    await alice.tap("5")
    await alice.tap("Yes")
    assert alice.last_message.text.startswith("Question 3 of 4")  # language_help is not shown
    assert "Which topics" in alice.last_message.text
    assert "language_help" not in await answers_of(harness)


async def test_skip_and_back(harness: Harness) -> None:
    await publish(harness)
    alice = harness.resident("Alice")
    await start(alice)
    await alice.tap("3")
    assert "Skip ▶️" not in alice.last_message.buttons  # this question needs an answer
    await alice.tap("◀️ Back")
    assert alice.last_message.text.startswith("Question 1 of 5")
    assert "Your earlier answer: 3" in alice.last_message.text
    assert "✓ 3" in alice.last_message.buttons
    await alice.tap("✓ 3")
    await alice.tap("No")
    await alice.tap("Skip ▶️")  # language_help
    assert "⏭ Skipped" in alice.messages[-2].text
    await alice.tap("✅ Done")  # nothing ticked on a skippable question counts as skipped
    await alice.tap("◀️ Back")
    assert "Which topics" in alice.last_message.text
    await alice.tap("⬜ Housing")
    await alice.tap("✅ Done")
    await alice.tap("Skip ▶️")  # comments
    assert "Thank you!" in alice.last_message.text
    assert await answers_of(harness) == {
        "overall": 3,
        "understood": "no",
        "language_help": "SKIPPED",
        "topics": ["housing"],
        "comments": "SKIPPED",
    }


async def test_done_with_nothing_ticked_on_a_required_question_is_refused(
    harness: Harness,
) -> None:
    await publish(
        harness,
        """\
id = "pick"
anonymous = true
title = { en = "Pick", es = "Elegir" }
intro = { en = "Intro", es = "Intro" }

[[questions]]
id = "colors"
type = "multiple_choice"
text = { en = "Colors?", es = "¿Colores?" }
options = [
  { id = "red", label = { en = "Red", es = "Rojo" } },
  { id = "blue", label = { en = "Blue", es = "Azul" } },
]
""",
    )
    alice = harness.resident("Alice")
    await start(alice, "pick")
    record = await alice.tap("✅ Done")
    assert "Choose at least one option" in alert(record)
    assert await answers_of(harness) == {}
    await alice.tap("⬜ Blue")
    await alice.tap("✅ Done")
    assert await answers_of(harness) == {"colors": ["blue"]}


async def test_typed_answers_for_button_questions(harness: Harness) -> None:
    await publish(harness)
    alice = harness.resident("Alice")
    await start(alice)
    await alice.send("5")
    assert "Could you follow everything" in alice.last_message.text
    await alice.send("maybe?")
    assert "Please answer with the buttons" in alice.messages[-2].text
    assert "Could you follow everything" in alice.last_message.text  # asked again
    await alice.send("yes")
    assert await answers_of(harness) == {"overall": 5, "understood": "yes"}


async def test_resume_after_restart(harness: Harness) -> None:
    await publish(harness)
    alice = harness.resident("Alice")
    await start(alice)
    await alice.tap("4")
    await alice.tap("No")
    question = alice.last_message
    await harness.restart()
    # The open question's buttons still work after a restart ...
    await alice.tap("An interpreter", message=question)
    assert "Which topics" in alice.last_message.text
    # ... and stopping, then /survey, continues at the same place.
    await alice.send("/cancel")
    await harness.restart()
    await alice.send("/survey")
    assert "Welcome back" in alice.messages[-2].text
    assert alice.last_message.text.startswith("Question 4 of 5")
    await alice.tap("⬜ Traffic and speeding")
    await alice.tap("✅ Done")
    await alice.send("ok")
    answers = await answers_of(harness)
    assert answers["language_help"] == "interpreter" and answers["topics"] == ["traffic"]


async def test_one_response_per_resident(harness: Harness) -> None:
    await publish(harness)
    alice = harness.resident("Alice")
    await start(alice)
    for label in ("5", "Yes", "Skip ▶️", "Skip ▶️"):
        await alice.tap(label)
    assert "Thank you!" in alice.last_message.text
    await start(alice)
    assert "You have already answered" in alice.last_message.text
    await alice.send("/survey")
    assert "no surveys for you right now" in alice.last_message.text
    count = await harness.services.db.fetchval("SELECT count(*) FROM survey_responses")
    assert count == 1


async def test_stale_and_forged_buttons_change_nothing(harness: Harness) -> None:
    await publish(harness)
    alice = harness.resident("Alice")
    await start(alice)
    first = alice.last_message
    old_button = first.callback_data("1")
    await alice.tap("4")
    before = await answers_of(harness)
    record = await press_callback(alice, first, old_button)
    assert "earlier question" in alert(record)
    for forged in ("sv:99999:a:1", "sv:1:zz", "sv:x:a:1", "svs:../../etc", "sva:drop:x"):
        record = await press_callback(alice, alice.last_message, forged)
        assert record.answered and record.show_alert
    assert await answers_of(harness) == before
    assert alice.last_message.text.startswith("Question 2 of 5")


async def test_free_text_over_the_limit_is_refused_and_nothing_written(
    harness: Harness,
) -> None:
    await publish(harness)
    alice = harness.resident("Alice")
    await start(alice)
    for label in ("5", "Yes", "Skip ▶️"):
        await alice.tap(label)
    before = await answers_of(harness)
    await alice.send("a" * 501)
    assert "too long: 501 characters, and the limit is 500" in alice.last_message.text
    assert await answers_of(harness) == before
    await alice.send_sticker()
    assert "Please type your answer as text" in alice.last_message.text
    await alice.send("a" * 500)
    assert "Thank you!" in alice.last_message.text


async def test_closed_survey_refuses_answers_and_keeps_what_was_given(
    harness: Harness,
) -> None:
    await publish(harness)
    alice = harness.resident("Alice")
    await start(alice)
    await alice.tap("4")
    admin = harness.admin
    await admin.send("/surveys")
    assert "community-meeting" in admin.last_message.text
    await admin.tap(f"Close {SURVEY_ID}")
    assert "is closed" in admin.last_message.text
    record = await alice.tap("Yes")
    assert "is closed now" in alert(record)
    assert await answers_of(harness) == {"overall": 4}
    bob = harness.resident("Bob")
    await start(bob)
    assert "is closed now" in bob.last_message.text
    await admin.send("/surveys")
    await admin.tap(f"Open {SURVEY_ID}")
    await alice.send("/survey")
    assert alice.last_message.text.startswith("Question 2 of 5")


async def test_menu_button_pauses_the_survey(harness: Harness) -> None:
    await publish(harness)
    alice = harness.resident("Alice")
    await alice.send("/start")
    await start(alice)
    await alice.tap("3")
    await alice.tap("Yes")
    await alice.tap("⬜ Housing")
    await alice.tap("✅ Done")
    await alice.tap("ℹ️ Help")  # a main-menu button while a free-text question is open
    assert "How this bot works" in alice.last_message.text
    assert "paused" in alice.messages[-2].text
    assert "comments" not in await answers_of(harness)
    await alice.tap("💬 Surveys")
    assert alice.last_message.text.startswith("Question 4 of 4")


async def test_unknown_survey_link(harness: Harness) -> None:
    alice = harness.resident("Alice")
    await alice.send("/start sv_no-such-survey")
    assert "link is not valid any more" in alice.last_message.text


async def test_survey_list_and_start_button(harness: Harness) -> None:
    await publish(
        harness,
        """\
id = "parks"
anonymous = false
title = { en = "Our parks", es = "Nuestros parques" }
intro = { en = "About parks", es = "Sobre parques" }

[[questions]]
id = "visit"
type = "yes_no"
text = { en = "Do you visit a park weekly?", es = "¿Visita un parque cada semana?" }
""",
    )
    await publish(harness)  # a follow-up survey: not listed for people who were not invited
    rosa = harness.resident("Rosa", language="es")
    await rosa.send("/survey")
    assert "Nuestros parques" in rosa.last_message.text
    assert rosa.last_message.buttons == ["Nuestros parques"]
    await rosa.tap("Nuestros parques")
    assert "¿Visita un parque cada semana?" in rosa.last_message.text
    assert "vinculadas a su cuenta de Telegram" in rosa.messages[-2].text
    await rosa.tap(rosa.last_message.buttons[0])
    row = await harness.services.db.fetchone("SELECT user_id, status FROM survey_responses")
    assert row is not None and tuple(row) == (rosa.id, "complete")


async def test_anonymous_survey_leaves_no_trace_of_the_resident(harness: Harness) -> None:
    await publish(harness)
    alice = harness.resident("Alice", user_id=555001)
    await start(alice)
    await alice.tap("2")
    await alice.tap("No")
    await alice.tap("An interpreter")
    await alice.tap("⬜ Housing")
    await alice.tap("✅ Done")
    await alice.send("Nobody should know this was me")
    db = harness.services.db
    tables = [
        row[0] for row in await db.fetchall("SELECT name FROM sqlite_master WHERE type = 'table'")
    ]
    marker = str(alice.id)
    for table in tables:
        rows = await db.fetchall(f"SELECT * FROM {table}")
        text = "\n".join(" ".join(str(value) for value in tuple(row)) for row in rows)
        if table.startswith("survey_") or table == "dialogs":
            assert marker not in text, f"{table} links the resident to the survey"
        if table != "survey_answers":
            assert "Nobody should know" not in text, f"{table} holds the answer"
    responses = [dict(row) for row in await db.fetchall("SELECT * FROM survey_responses")]
    assert len(responses) == 1
    response = responses[0]
    assert response["user_id"] is None
    assert response["started_at"] is None and response["completed_at"] is None
    assert len(response["started_on"]) == 10  # a day, not a moment
    secret = harness.settings.hash_secret
    assert response["respondent"] == respondent_key(secret, SURVEY_ID, alice.id)
    answer_columns = {row[1] for row in await db.fetchall("PRAGMA table_info(survey_answers)")}
    assert answer_columns == {"response_id", "question_id", "skipped", "value", "text_language"}


async def test_post_meeting_dispatch(harness: Harness) -> None:
    await publish(harness)
    db = harness.services.db
    going = harness.resident("Gina", language="es")
    maybe = harness.resident("Mo")
    declined = harness.resident("Nadia")
    opened = harness.resident("Omar")
    for user in (going, maybe, declined, opened):
        await user.send("/start")
    now = harness.clock.time()
    ends = now + 2 * 3600
    async with db.transaction() as tx:
        event_id = await tx.execute(
            "INSERT INTO events (event_type, title, starts_at, ends_at, created_by, created_at,"
            " updated_at) VALUES ('meeting', ?, ?, ?, 1, ?, ?)",
            (
                json.dumps({"en": "Main South meeting", "es": "Reunión de Main South"}),
                now + 3600,
                ends,
                now,
                now,
            ),
        )
        for user, answer in ((going, "going"), (maybe, "maybe"), (declined, "no")):
            await tx.execute(
                "INSERT INTO rsvps (event_id, user_id, answer, queued_at, updated_at)"
                " VALUES (?, ?, ?, ?, ?)",
                (event_id, user.id, answer, now, now),
            )
        await tx.execute(
            "INSERT INTO event_opens (event_id, user_id, opened_at) VALUES (?, ?, ?)",
            (event_id, opened.id, now),
        )
    surveys = harness.services.surveys
    harness.advance(2 * 3600)  # the meeting ends
    assert await surveys.dispatch_due() == 0
    harness.advance(3600 - 1)
    assert await surveys.dispatch_due() == 0  # send_after_hours = 1
    harness.advance(1)
    assert await surveys.dispatch_due() == 3
    await harness.deliver_outbox()
    invitation = going.last_message
    assert "Reunión de Main South" in invitation.text
    assert "¿Qué tal la reunión comunitaria de esta noche?" in invitation.text
    assert "Main South meeting" in maybe.last_message.text
    assert "Main South meeting" in opened.last_message.text
    assert all("Main South" not in m.text for m in declined.messages)
    # Later ticks send nothing more.
    harness.advance(600)
    assert await surveys.dispatch_due() == 0
    assert await harness.deliver_outbox() == 0
    await going.tap(invitation.buttons[0])
    assert "¿qué tan útil fue la reunión" in going.last_message.text
    await going.tap("5")
    event = await db.fetchval("SELECT event_id FROM survey_responses")
    assert event == event_id
    await going.send("/survey")  # the survey she started is offered again
    assert "Hola de nuevo" in going.messages[-2].text


async def test_results_and_export_are_for_admins_only(harness: Harness) -> None:
    await publish(harness)
    for name, language, rating, understood in (
        ("Alice", "en", "5", "Yes"),
        ("Bob", "en", "4", "No"),
        ("Rosa", "es", "2", None),
    ):
        user = harness.resident(name, language=language)
        await start(user)
        await user.tap(rating)
        if understood is not None:
            await user.tap(understood)
        else:
            await user.tap(user.last_message.buttons[0])  # "Sí"/"Yes": Spanish chrome
    alice = harness.resident("Alice")
    await alice.send("/results community-meeting")
    assert "only the program's admins" in alice.last_message.text
    await alice.send("/export community-meeting")
    assert "only the program's admins" in alice.last_message.text

    admin = harness.admin
    await admin.send("/results")
    assert "Which survey?" in admin.last_message.text and SURVEY_ID in admin.last_message.text
    await admin.send("/results nope")
    assert "There is no survey “nope”" in admin.last_message.text
    before = len(admin.messages)
    await admin.send("/results community-meeting")
    new = admin.messages[before:]
    text = "\n".join(m.text for m in new if m.photo is None)
    assert "Responses: 3 (0 complete, 3 unfinished)" in text
    assert "Average: 3.67 out of 5" in text  # (5 + 4 + 2) / 3
    assert "5 ★ — 1 (33%)" in text
    assert "English: average 4.5 (2 answers)" in text and "Spanish: average 2 (1 answer)" in text
    photos = [m for m in new if m.photo is not None]
    assert len(photos) == 2  # the rating and the yes/no question have answers
    assert all(m.photo is not None and m.photo[1].startswith(PNG_SIGNATURE) for m in photos)
    assert "1. Overall, how useful" in photos[0].text

    await admin.send("/export community-meeting")
    document = admin.last_message.document
    assert document is not None
    name, data = document
    assert name.startswith("survey-community-meeting-") and name.endswith(".csv")
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))
    assert sorted(row["overall"] for row in rows) == ["2", "4", "5"]
    assert "user_id" not in rows[0]


async def test_admin_list_links_and_buttons(harness: Harness) -> None:
    admin = harness.admin
    await admin.send("/surveys")
    assert "No surveys are published yet" in admin.last_message.text
    await publish(harness)
    await admin.send("/surveys")
    text = admin.last_message.text
    assert "?start=sv_community-meeting" in text and "open" in text
    await admin.tap("📊 Results")
    assert any("Responses: 0" in m.text for m in admin.messages[-3:])
    await admin.tap("📄 CSV", message=next(m for m in reversed(admin.messages) if m.buttons))
    assert admin.last_message.document is not None
    alice = harness.resident("Alice")
    await alice.send("/surveys")
    assert "only the program's admins" in alice.last_message.text


async def test_survey_in_the_middle_of_another_conversation(harness: Harness) -> None:
    from bot.storage import Dialog

    await publish(harness)
    alice = harness.resident("Alice")
    await alice.send("/start")
    await harness.services.dialogs.save(
        Dialog(alice.id, alice.id, "report", "describe"), harness.clock.time()
    )
    await start(alice)
    assert "in the middle of something else" in alice.last_message.text
    dialog = await harness.services.dialogs.get(alice.id)
    assert dialog is not None and dialog.flow == "report"  # nothing was lost


async def test_a_survey_outside_its_dates(harness: Harness) -> None:
    tomorrow = (harness.clock.now() + timedelta(days=1)).date().isoformat()
    text = EXAMPLE.read_text(encoding="utf-8").replace(
        "# opens = 2026-01-01", f"opens = {tomorrow}"
    )
    await publish(harness, text)
    alice = harness.resident("Alice")
    await start(alice)
    assert "opens on" in alice.last_message.text
    harness.advance(2 * 86400)
    await start(alice)
    assert alice.last_message.text.startswith("Question 1 of 5")
