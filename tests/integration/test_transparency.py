"""The monthly transparency digest (opted-in residents, their language, once) and the
admin's /digestnote ("you said, we did")."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

from bot.config import City
from bot.i18n import Catalogs
from bot.jobs import transparency as jobs
from bot.services.stats import AreaFigures
from bot.services.transparency import DigestContent, TransparencyService
from bot.storage import Database
from bot.testing import FakeUser, inbound
from bot.views import transparency as tviews
from tests.harness import Harness
from tests.integration.test_stats_storage import add_report, follow, opt_in

HOUR = 3600.0
DAY = 86400.0
# November 2026 in Worcester (EST after November 1): its digest goes out December 1, 10:00.
NOV_10 = datetime(2026, 11, 10, 17, 0, tzinfo=UTC).timestamp()
DIGEST_AT = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)


def transparency(harness: Harness) -> TransparencyService:
    service = harness.services.stats.transparency
    assert service is not None
    return service


async def joined(harness: Harness, name: str, language: str = "en") -> FakeUser:
    user = harness.resident(name, language=language)
    await user.send("/start")
    return user


async def november(db: Database) -> None:
    """Main South: 2 received (answered after 2 and 4 hours), 1 resolved; Downtown: 1
    received, never answered, plus 1 resolved that was filed in October."""
    await add_report(db, "noise", "main-south", "resolved", filed=NOV_10, ack_after_h=2,
                     status_after_h=30)  # fmt: skip
    await add_report(db, "road", "main-south", "acknowledged", filed=NOV_10 + DAY,
                     ack_after_h=4, status_after_h=4)  # fmt: skip
    await add_report(db, "streetlight", "downtown", "new", filed=NOV_10 + 2 * DAY)
    await add_report(db, "road", "downtown", "resolved", filed=NOV_10 - 30 * DAY,
                     ack_after_h=1, status_after_h=31 * 24)  # fmt: skip
    # December: not in November's digest
    await add_report(db, "noise", "main-south", "new", filed=DIGEST_AT.timestamp() - HOUR)


async def test_digest_goes_to_opted_in_residents_once_in_their_language(
    harness: Harness,
) -> None:
    db = harness.services.db
    alice = await joined(harness, "Alice")  # opted in, follows nothing: citywide
    rosa = await joined(harness, "Rosa", "es")  # opted in, follows Main South
    bob = await joined(harness, "Bob")  # follows Main South, did not opt in
    vera = await joined(harness, "Vera", "es")  # opted in, then blocked the bot
    await opt_in(db, alice.id)
    await opt_in(db, rosa.id)
    await opt_in(db, vera.id)
    await follow(db, rosa.id, "main-south")
    await follow(db, bob.id, "main-south")
    await vera.block()
    await november(db)
    service = transparency(harness)

    harness.clock.set(DIGEST_AT - timedelta(minutes=1))
    assert await service.plan_monthly_digest() == 0
    harness.clock.set(DIGEST_AT)
    counts = {alice.id: len(alice.messages), rosa.id: len(rosa.messages), bob.id: len(bob.messages)}
    assert await service.plan_monthly_digest() == 2
    assert await service.plan_monthly_digest() == 0  # once per month
    await harness.deliver_outbox()

    assert len(bob.messages) == counts[bob.id]
    assert not [m for m in vera.chat.bot_messages if "2026" in m.text]
    (alice_digest,) = alice.messages[counts[alice.id] :]
    (rosa_digest,) = rosa.messages[counts[rosa.id] :]
    assert "Your monthly update: November 2026" in alice_digest.text
    assert (
        "Whole city: 3 concerns received, 2 resolved; half of the first responses came"
        " within 3 hr." in alice_digest.text
    )
    assert "Main South" not in alice_digest.text
    assert "not for emergencies" in alice_digest.text and "/alerts" in alice_digest.text

    es = harness.services.catalogs.get("es")
    assert "noviembre de 2026" in rosa_digest.text
    expected = tviews.digest(
        es,
        harness.settings.city,
        DigestContent(
            month=datetime(2026, 11, 1).date(),
            areas=(("main-south", AreaFigures(2, 1, 3 * HOUR, 2)),),
            citywide=AreaFigures(3, 2, 3 * HOUR, 2),
        ),
    )
    assert rosa_digest.raw_text == expected
    assert "Main South: 2" in rosa_digest.text and "3 h" in rosa_digest.text

    keys = {
        int(call.params["chat_id"])
        for call in harness.tg.calls_to("sendMessage")
        if "2026" in str(call.params.get("text"))
    }
    assert keys == {alice.id, rosa.id}
    row = await harness.services.outbox.get(f"transparency:2026-11:{rosa.id}")
    assert row is not None and row.status == "sent"


def test_digest_lines_agree_with_one_and_two(city: City, catalogs: Catalogs) -> None:
    en, es, ar = catalogs.get("en"), catalogs.get("es"), catalogs.get("ar")
    month = datetime(2026, 11, 1).date()
    one = DigestContent(month=month, areas=(), citywide=AreaFigures(1, 1, 45 * 60, 1))
    assert (
        "<b>Whole city</b>: 1 concern received, 1 resolved; the only first response"
        " came within 45 min." in tviews.digest(en, city, one)
    )
    assert (
        "<b>Toda la ciudad</b>: 1 problema reportado, 1 resuelto; la única primera"
        " respuesta llegó en 45 min o menos." in tviews.digest(es, city, one)
    )
    assert "الرد الأول الوحيد" in tviews.digest(ar, city, one)
    # Three concerns, one of them answered: the response count, not the received one, counts.
    one_of_three = DigestContent(month=month, areas=(), citywide=AreaFigures(3, 0, 45 * 60, 1))
    assert (
        "<b>Whole city</b>: 3 concerns received, 0 resolved; the only first response"
        " came within 45 min." in tviews.digest(en, city, one_of_three)
    )
    two = DigestContent(month=month, areas=(), citywide=AreaFigures(2, 2, 2 * HOUR, 2))
    assert (
        "<b>Whole city</b>: 2 concerns received, 2 resolved; half of the first responses"
        " came within 2 hr." in tviews.digest(en, city, two)
    )
    assert "la mitad de las primeras respuestas llegaron en 2 h" in tviews.digest(es, city, two)
    assert "نصف الردود الأولى" in tviews.digest(ar, city, two)
    # A language with one plural form still tells "the only one" from "half of them".
    vi = catalogs.get("vi")
    assert "duy nhất" in tviews.digest(vi, city, one)
    assert "một nửa" in tviews.digest(vi, city, two) and "duy nhất" not in tviews.digest(
        vi, city, two
    )
    unanswered = DigestContent(month=month, areas=(), citywide=AreaFigures(2, 0, None))
    assert (
        "<b>Whole city</b>: 2 concerns received, 0 resolved; no first response to measure yet."
        in tviews.digest(en, city, unanswered)
    )


async def test_a_restart_neither_repeats_nor_loses_the_digest(harness: Harness) -> None:
    db = harness.services.db
    alice = await joined(harness, "Alice")
    await opt_in(db, alice.id)
    harness.clock.set(DIGEST_AT + timedelta(hours=2))
    assert await transparency(harness).plan_monthly_digest() == 1
    await harness.restart()  # before the outbox was drained
    assert await transparency(harness).plan_monthly_digest() == 0
    await harness.deliver_outbox()
    digests = [m for m in alice.messages if "Your monthly update" in m.text]
    assert len(digests) == 1


async def test_the_tick_is_scheduled_once_and_plans_the_digest(harness: Harness) -> None:
    assert harness.app is not None and harness.app.job_queue is not None
    (job,) = harness.app.job_queue.get_jobs_by_name(jobs.DIGEST_JOB)
    alice = await joined(harness, "Alice")
    await opt_in(harness.services.db, alice.id)
    harness.clock.set(DIGEST_AT)
    await job.callback(SimpleNamespace(services=harness.services))  # type: ignore[arg-type]
    assert await harness.services.outbox.get(f"transparency:2026-11:{alice.id}") is not None
    await harness.restart()
    assert harness.app is not None and harness.app.job_queue is not None
    assert len(harness.app.job_queue.get_jobs_by_name(jobs.DIGEST_JOB)) == 1


async def test_a_digest_is_not_sent_days_late(harness: Harness) -> None:
    alice = await joined(harness, "Alice")
    await opt_in(harness.services.db, alice.id)
    harness.clock.set(DIGEST_AT + timedelta(days=3, minutes=1))
    assert await transparency(harness).plan_monthly_digest() == 0
    harness.clock.set(datetime(2027, 1, 1, 15, 0, tzinfo=UTC))  # the next one is on time
    assert await transparency(harness).plan_monthly_digest() == 1
    row = await harness.services.outbox.get(f"transparency:2026-12:{alice.id}")
    assert row is not None


async def test_slots_follow_the_city_configuration(harness: Harness) -> None:
    service = transparency(harness)
    mid_november = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
    assert service.next_slot(mid_november).key == "2026-11"
    assert service.next_slot(mid_november).at == DIGEST_AT
    assert service.latest_slot(mid_november).key == "2026-10"
    assert service.next_slot(DIGEST_AT).key == "2026-12"  # at the moment it goes out
    assert service.latest_slot(DIGEST_AT).key == "2026-11"
    assert service.slot_for("2026-12") is not None
    assert service.slot_for("2026-12").at.month == 1  # type: ignore[union-attr]
    assert service.slot_for("nonsense") is None


async def test_residents_opt_in_and_out_in_alerts(harness: Harness) -> None:
    rosa = await joined(harness, "Rosa", "es")
    update = harness.services.catalogs.get("es")._("📊 Monthly update on concerns")
    await rosa.send("/alerts")
    label = f"⬜ {update}"  # off until she turns it on
    assert label in rosa.last_message.buttons
    await rosa.tap(label)
    assert f"✅ {update}" in rosa.last_message.buttons
    assert (await harness.services.alerts.settings(rosa.id)).transparency
    await rosa.tap("⬜ Main South")
    harness.clock.set(DIGEST_AT)
    assert await transparency(harness).plan_monthly_digest() == 1
    await harness.deliver_outbox()
    assert "noviembre de 2026" in rosa.last_message.text
    assert "Main South" in rosa.last_message.text
    # /stop turns the monthly update off with everything else.
    await rosa.send("/stop")
    await rosa.tap(rosa.last_message.buttons[0])
    assert not (await harness.services.alerts.settings(rosa.id)).transparency
    harness.clock.set(datetime(2027, 1, 1, 15, 0, tzinfo=UTC))
    assert await transparency(harness).plan_monthly_digest() == 0


async def test_the_switch_is_off_for_residents_with_other_alerts_changed(
    harness: Harness,
) -> None:
    alice = await joined(harness, "Alice")
    await alice.send("/alerts")
    await alice.tap("✅ ⏰ Reminders before events")  # writes her alert_prefs row
    assert not (await harness.services.alerts.settings(alice.id)).transparency
    harness.clock.set(DIGEST_AT)
    assert await transparency(harness).plan_monthly_digest() == 0


# --------------------------------------------------------------------------- /digestnote


async def test_admin_writes_previews_and_saves_the_note(harness: Harness) -> None:
    harness.clock.set(datetime(2026, 11, 20, 15, 0, tzinfo=UTC))
    ada = harness.admin
    await ada.send("/digestnote")
    text = ada.last_message.text
    assert "“You said, we did” for the November 2026 digest" in text
    assert "It goes out on Tuesday, December 1, 10:00\u202fAM to 0 residents" in text
    assert "No note yet" in text
    assert ada.last_message.buttons == [
        "✍️ English", "✍️ Español", "✍️ Português", "✍️ Tiếng Việt", "✍️ العربية", "✍️ Shqip"
    ]  # fmt: skip
    await ada.tap("✍️ English")
    assert "Send the note for the November 2026 digest in English" in ada.last_message.text
    await ada.send("You asked for better lighting on Main St. <b>Four lamps</b> were fixed.")
    preview = ada.last_message
    assert "Preview for residents who read English" in preview.text
    assert "You said, we did" in preview.text
    assert "<b>Four lamps</b>" in preview.text  # shown as written, not as formatting
    assert preview.buttons == ["✅ Save the note", "✍️ Write it again", "✖ Cancel"]
    save = preview.callback_data("✅ Save the note")
    await ada.tap("✅ Save the note")
    assert "✅ Saved: residents who read English get this note" in ada.last_message.text
    assert "English: “You asked for better lighting" in ada.last_message.text
    assert "Español: not written; these residents get the note in English." in (
        ada.last_message.text
    )
    notes = await transparency(harness).notes("2026-11")
    assert notes["en"].body.startswith("You asked for better lighting")
    # The same Save pressed again (a double tap) changes nothing.
    record = await inbound.press_callback(ada, preview, save)
    assert record.show_alert and "no longer works" in (record.text or "")
    assert len(await transparency(harness).notes("2026-11")) == 1


async def test_note_in_a_second_language_reaches_its_readers(harness: Harness) -> None:
    db = harness.services.db
    alice = await joined(harness, "Alice")
    rosa = await joined(harness, "Rosa", "es")
    await opt_in(db, alice.id)
    await opt_in(db, rosa.id)
    harness.clock.set(datetime(2026, 11, 20, 15, 0, tzinfo=UTC))
    ada = harness.admin
    await ada.send("/digestnote We fixed the lights you told us about.")
    assert "Preview for residents who read English" in ada.last_message.text
    await ada.tap("✅ Save the note")
    await ada.tap("✍️ Español")
    await ada.send("Arreglamos las luces que nos señalaron.")
    assert "Preview for residents who read Español" in ada.last_message.text
    await ada.tap("✅ Save the note")
    harness.clock.set(DIGEST_AT)
    assert await transparency(harness).plan_monthly_digest() == 2
    await harness.deliver_outbox()
    assert "Arreglamos las luces" in rosa.last_message.text
    assert "We fixed the lights" not in rosa.last_message.text
    assert "We fixed the lights you told us about." in alice.last_message.text


async def test_note_is_kept_across_a_restart_and_can_be_rewritten(harness: Harness) -> None:
    harness.clock.set(datetime(2026, 11, 20, 15, 0, tzinfo=UTC))
    ada = harness.admin
    await ada.send("/digestnote")
    await ada.tap("✍️ English")
    await harness.restart()
    await ada.send("First try.")
    assert "Preview" in ada.last_message.text
    await ada.tap("✍️ Write it again")
    assert "Send the note" in ada.last_message.text
    await ada.send("Second, better try.")
    assert "Second, better try." in ada.last_message.text
    await ada.tap("✅ Save the note")
    notes = await transparency(harness).notes("2026-11")
    assert notes["en"].body == "Second, better try."


async def test_a_too_long_note_is_refused_and_the_admin_can_try_again(harness: Harness) -> None:
    harness.clock.set(datetime(2026, 11, 20, 15, 0, tzinfo=UTC))
    ada = harness.admin
    await ada.send("/digestnote")
    await ada.tap("✍️ English")
    await ada.send("x" * 1300)
    assert "That note is 1,300 characters long; please keep it under 1,200" in (
        ada.last_message.text
    )
    await ada.send_photo()
    assert "Please send the note as a text message" in ada.last_message.text
    await ada.send("Short and sweet.")
    assert "Preview" in ada.last_message.text


async def test_cancel_and_remove(harness: Harness) -> None:
    harness.clock.set(datetime(2026, 11, 20, 15, 0, tzinfo=UTC))
    ada = harness.admin
    await ada.send("/digestnote Keep this one.")
    await ada.tap("✅ Save the note")
    await ada.send("/digestnote Not this one.")
    await ada.tap("✖ Cancel")
    assert "Nothing was saved." in ada.last_message.text
    notes = await transparency(harness).notes("2026-11")
    assert notes["en"].body == "Keep this one."
    await ada.send("/digestnote")
    await ada.tap("🗑 Remove the note")
    assert "Remove the note of the November 2026 digest in every language?" in (
        ada.last_message.text
    )
    await ada.tap("Keep it")
    assert await transparency(harness).notes("2026-11")
    await ada.tap("🗑 Remove the note")
    await ada.tap("🗑 Yes, remove it")
    assert "The note of the November 2026 digest was removed." in ada.last_message.text
    assert await transparency(harness).notes("2026-11") == {}


async def test_residents_cannot_write_the_note(harness: Harness) -> None:
    alice = await joined(harness, "Alice")
    await alice.send("/digestnote We did it all.")
    assert "only the program's admins" in alice.last_message.text
    await inbound.press_callback(alice, alice.last_message, "dn:w:2026-11:en")
    answer = harness.tg.calls_to("answerCallbackQuery")[-1]
    assert "only the program's admins" in str(answer.params.get("text"))
    assert await transparency(harness).notes("2026-11") == {}


async def test_a_button_for_a_past_month_is_stale(harness: Harness) -> None:
    harness.clock.set(datetime(2026, 11, 20, 15, 0, tzinfo=UTC))
    ada = harness.admin
    await ada.send("/digestnote")
    overview = ada.last_message
    harness.clock.set(DIGEST_AT + timedelta(hours=1))  # November's digest went out
    record = await inbound.press_callback(ada, overview, overview.callback_data("✍️ English"))
    assert record.show_alert and "no longer works" in (record.text or "")
    forged = await inbound.press_callback(ada, overview, "dn:w:2026-12:xx")
    assert forged.show_alert


async def test_saving_after_the_digest_went_out_moves_the_note_to_the_next_one(
    harness: Harness,
) -> None:
    harness.clock.set(DIGEST_AT - timedelta(minutes=5))
    ada = harness.admin
    await ada.send("/digestnote Late news.")
    harness.clock.set(DIGEST_AT + timedelta(minutes=1))
    await ada.tap("✅ Save the note")
    assert any("already went out" in m.text for m in ada.messages[-2:])
    assert "Preview" in ada.last_message.text
    await ada.tap("✅ Save the note")
    assert await transparency(harness).notes("2026-11") == {}
    assert (await transparency(harness).notes("2026-12"))["en"].body == "Late news."
