"""Reports without Telegram: checks, the draft, the service on a ManualClock, the views."""

from __future__ import annotations

import json
from dataclasses import asdict, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.clock import ManualClock
from bot.config import City, Settings
from bot.i18n import Catalogs
from bot.services.reports import (
    MAX_TEXT,
    Draft,
    Relayed,
    Reporter,
    ReportService,
    description_problem,
    find_emergency_words,
    match_category,
    match_neighborhood,
    pseudonym,
)
from bot.services.staff import (
    NO_TOPIC_RIGHT,
    NOT_ADMIN,
    Destination,
    StaffChatStatus,
    StaffService,
)
from bot.storage import Database, OutboxRepository, ResidentRepository
from bot.storage.reports import ReportRepository
from bot.views import reports as resident_views
from bot.views import staff as staff_views
from bot.views.staff import ReportTexts

STAFF = -1001000000001


# --------------------------------------------------------------------------- pure checks


def test_emergency_words_match_whole_words_and_phrases_in_every_language(city: City) -> None:
    assert find_emergency_words("There is a GUN in the park", city) == ["gun"]
    assert find_emergency_words("please help me now", city) == ["help me"]
    assert find_emergency_words("¡Hay fuego en el edificio!", city) == ["fuego"]
    assert find_emergency_words("Ayúdenme por favor", city) == ["ayúdenme"]
    assert find_emergency_words("The fireplace shop is noisy; gunther parks badly", city) == []
    assert find_emergency_words("", city) == []


def test_every_emergency_word_is_found_even_inside_a_longer_one(city: City) -> None:
    words = {"en": ("house fire", "fire", "gun"), "es": ("fuego", "FIRE")}
    custom = replace(city, languages=("en", "es"), emergency_words=words)
    assert find_emergency_words("A house fire and a gun!", custom) == ["house fire", "fire", "gun"]
    assert find_emergency_words("fuego, Fire", custom) == ["fire", "fuego"]  # the file's order
    assert find_emergency_words("firearms and houses", custom) == []
    assert find_emergency_words("gun", replace(custom, emergency_words={})) == []


def test_emergency_words_only_for_enabled_languages(city: City) -> None:
    assert "socorro" in city.emergency_words["pt"]
    without_pt = replace(city, languages=tuple(code for code in city.languages if code != "pt"))
    assert find_emergency_words("socorro", without_pt) == []
    assert find_emergency_words("socorro", city) == ["socorro"]


def test_description_bounds() -> None:
    assert description_problem("x" * 9) == "too_short"
    assert description_problem("   " + "x" * 9 + "   ") == "too_short"
    assert description_problem("x" * 10) is None
    assert description_problem("x" * MAX_TEXT) is None
    assert description_problem("x" * (MAX_TEXT + 1)) == "too_long"


def test_neighborhoods_and_categories_match_by_name_in_any_language(city: City) -> None:
    match = match_neighborhood("  centro ", city)
    assert match is not None and match.id == "downtown"
    assert match_neighborhood("Atlantis", city) is None
    category = match_category("RUIDO", city)
    assert category is not None and category.id == "noise"
    assert match_category("noise please", city) is None


def test_pseudonym_is_stable_keyed_and_never_the_id() -> None:
    tag = pseudonym("secret-a", 100000001)
    assert tag == pseudonym("secret-a", 100000001) and len(tag) == 4
    assert tag != pseudonym("secret-b", 100000001)
    assert tag != pseudonym("secret-a", 100000002)
    assert "100000001" not in tag


def test_draft_round_trips_and_ignores_unknown_keys() -> None:
    draft = Draft(category="noise", text="Loud music", photos=["a", "b"], anonymous=False)
    data = draft.to_data()
    assert Draft.from_data({**data, "from_an_old_version": 1}) == draft
    assert Draft.from_data({}) == Draft()
    assert data == asdict(draft)
    assert json.loads(json.dumps(data)) == data
    data["photos"].append("c")  # the stored data shares no list with the draft
    assert draft.photos == ["a", "b"]


# --------------------------------------------------------------------------- staff routing


def test_staff_chat_status_problems_and_topics() -> None:
    ready = StaffChatStatus(STAFF, is_forum=True, is_admin=True, can_manage_topics=True)
    assert ready.uses_topics and ready.problems == ()
    no_right = replace(ready, can_manage_topics=False)
    assert not no_right.uses_topics and no_right.problems == (NO_TOPIC_RIGHT,)
    member = StaffChatStatus(STAFF, is_forum=True)
    assert member.problems == (NOT_ADMIN, NO_TOPIC_RIGHT)
    assert StaffChatStatus(STAFF, reachable=False).problems == ("unreachable",)


def test_destination_follows_category_routing(settings: Settings, clock: ManualClock) -> None:
    city = settings.city
    categories = tuple(
        replace(c, staff_chat_id=-100777, staff_thread_id=5)
        if c.id == "road"
        else replace(c, staff_thread_id=9)
        if c.id == "noise"
        else c
        for c in city.categories
    )
    staff = StaffService(settings, replace(city, categories=categories), clock)
    assert staff.chat_ids() == [STAFF, -100777]
    road, noise, other = (staff.city.category(x) for x in ("road", "noise", "other"))
    assert staff.destination(road) == Destination(-100777, thread_id=5)
    assert staff.destination(noise) == Destination(STAFF, thread_id=9)
    assert staff.destination(other) == Destination(STAFF, new_topic=False)  # not checked yet
    staff.record_check(StaffChatStatus(STAFF, is_forum=True, is_admin=True, can_manage_topics=True))
    assert staff.destination(other) == Destination(STAFF, new_topic=True)
    unset = StaffService(replace(settings, staff_chat_id=None), city, clock)
    assert unset.destination(other) is None


def test_membership_answers_expire(settings: Settings, clock: ManualClock) -> None:
    staff = StaffService(settings, settings.city, clock)
    assert staff.known_member(STAFF, 42) is None
    staff.remember_member(STAFF, 42, True)
    assert staff.known_member(STAFF, 42) is True
    clock.advance(61)
    assert staff.known_member(STAFF, 42) is None
    assert staff.known_member(STAFF, next(iter(settings.admin_ids))) is True


# --------------------------------------------------------------------------- the service


@pytest.fixture
def service(
    db: Database, settings: Settings, clock: ManualClock, catalogs: Catalogs
) -> ReportService:
    staff = StaffService(settings, settings.city, clock)
    staff.record_check(StaffChatStatus(STAFF, is_forum=True, is_admin=True, can_manage_topics=True))
    return ReportService(
        db=db,
        reports=ReportRepository(db),
        outbox=OutboxRepository(db),
        residents=ResidentRepository(db),
        staff=staff,
        city=settings.city,
        clock=clock,
        messages=ReportTexts(catalogs, settings.city),
        hash_secret="unit-test-secret",
        detect=lambda text: "en",
    )


async def file(service: ReportService, resident_id: int = 7, **changes: object) -> int:
    draft = Draft(category="noise", neighborhood="downtown", text="Loud music all night long")
    for name, value in changes.items():
        setattr(draft, name, value)
    filed = await service.file_report(
        draft, resident_id=resident_id, chat_id=resident_id, language="en", reporter=None
    )
    assert filed.report is not None
    return filed.report.id


async def test_references_count_up_per_year_in_the_city_timezone(
    service: ReportService, clock: ManualClock
) -> None:
    clock.set(datetime(2027, 1, 1, 4, 30, tzinfo=UTC))  # still 2026 in Worcester
    first = await service.get(await file(service))
    second = await service.get(await file(service))
    clock.set(datetime(2027, 1, 1, 6, 0, tzinfo=UTC))
    third = await service.get(await file(service))
    assert first and second and third
    assert (first.reference, second.reference, third.reference) == (
        "R-2026-000001",
        "R-2026-000002",
        "R-2027-000001",
    )


async def test_filing_commits_the_card_with_the_report(
    service: ReportService, db: Database
) -> None:
    report_id = await file(service, photos=["p1", "p2"], latitude=42.26, longitude=-71.8)
    rows = await db.fetchall(
        "SELECT idempotency_key, method, depends_on, resend_if_unknown FROM outbox ORDER BY id"
    )
    keys = [(r[0], r[1]) for r in rows]
    assert keys == [
        (f"report:{report_id}:topic", "createForumTopic"),
        (f"report:{report_id}:card", "sendMessage"),
        (f"report:{report_id}:location", "sendLocation"),
        (f"report:{report_id}:photos", "sendMediaGroup"),
    ]
    assert all(r[3] == 1 for r in rows)  # staff rows may be resent after a timeout
    assert rows[1][2] == 1 and rows[2][2] == rows[3][2] == 2


async def test_the_hourly_limit_is_a_rolling_window(
    service: ReportService, clock: ManualClock
) -> None:
    start = clock.time()
    for _ in range(5):
        await file(service)
        clock.advance(600)
    quota = await service.quota(7)
    assert not quota.allowed and quota.next_at == start + 3600
    refused = await service.file_report(
        Draft(category="noise", text="One report too many"),
        resident_id=7,
        chat_id=7,
        language="en",
        reporter=Reporter("Seven"),
    )
    assert refused.report is None and refused.retry_at == start + 3600
    assert (await service.quota(8)).remaining == 5  # per resident
    clock.set(datetime.fromtimestamp(start + 3600, UTC))
    assert (await service.quota(7)).remaining == 1


async def test_anonymous_reports_keep_no_name(service: ReportService) -> None:
    filed = await service.file_report(
        Draft(category="drugs", text="Dealing at the park every evening", anonymous=True),
        resident_id=7,
        chat_id=7,
        language="es",
        reporter=Reporter("Rosa Ortiz", "rosa_o"),
    )
    assert filed.report is not None
    assert filed.report.reporter_name is None and filed.report.reporter_username is None
    assert filed.report.pseudonym == pseudonym("unit-test-secret", 7)


async def test_incomplete_drafts_are_refused(service: ReportService) -> None:
    with pytest.raises(ValueError):
        await service.file_report(
            Draft(category="noise", text="short"),
            resident_id=7,
            chat_id=7,
            language="en",
            reporter=None,
        )


async def test_escalation_happens_once_and_not_for_acknowledged_reports(
    service: ReportService, clock: ManualClock, db: Database
) -> None:
    late = await file(service)
    seen = await file(service, resident_id=8)
    await service.repo.record_card(seen, STAFF, 50, 3)
    change = await service.change_status(
        seen, "acknowledged", actor_id=1, actor_name="Sam", chat_id=STAFF, message_id=50
    )
    assert change.outcome == "changed"
    clock.advance(4 * 3600 - 1)
    assert await service.escalate_overdue() == 0
    clock.advance(1)
    assert await service.escalate_overdue() == 1
    assert await service.escalate_overdue() == 0
    row = await db.fetchone(
        "SELECT depends_on FROM outbox WHERE idempotency_key = ?", (f"report:{late}:escalation",)
    )
    assert row is not None and row[0] is not None  # waits for the (unsent) card


async def test_a_status_change_must_come_from_the_reports_own_card(
    service: ReportService,
) -> None:
    first, second = await file(service), await file(service)
    await service.repo.record_card(first, STAFF, 10, None)
    await service.repo.record_card(second, STAFF, 20, None)
    wrong = await service.change_status(
        second, "resolved", actor_id=1, actor_name="Sam", chat_id=STAFF, message_id=10
    )
    assert wrong.outcome == "wrong_message"
    elsewhere = await service.change_status(
        first, "resolved", actor_id=1, actor_name="Sam", chat_id=-100999, message_id=10
    )
    assert elsewhere.outcome == "wrong_message"
    assert (
        await service.change_status(
            first, "bogus", actor_id=1, actor_name="Sam", chat_id=STAFF, message_id=10
        )
    ).outcome == "not_found"
    for report_id in (first, second):
        report = await service.get(report_id)
        assert report is not None and report.status == "new"


async def test_summary_date_follows_the_city_clock(
    service: ReportService, clock: ManualClock
) -> None:
    clock.set(datetime(2026, 12, 2, 12, 59, tzinfo=UTC))  # 07:59 in Worcester
    assert service.summary_date() is None
    clock.advance(timedelta(minutes=1))
    assert service.summary_date() == datetime(2026, 12, 2).date()


async def test_a_long_caption_is_split_into_file_then_text(
    service: ReportService, db: Database
) -> None:
    report_id = await file(service)
    report = await service.get(report_id)
    assert report is not None
    await service.relay_to_resident(
        report,
        Relayed("photo", "x" * 1100, "photo-file-id"),
        actor_id=1,
        actor_name="Sam",
        source_chat_id=STAFF,
        source_message_id=77,
    )
    rows = await db.fetchall(
        "SELECT idempotency_key, method, depends_on FROM outbox"
        " WHERE idempotency_key LIKE '%from-staff%' ORDER BY id"
    )
    assert [(r[0].rsplit(":", 1)[-1], r[1]) for r in rows] == [
        ("file", "sendPhoto"),
        ("77", "sendMessage"),
    ]
    assert rows[1][2] is not None


# --------------------------------------------------------------------------- views


async def test_staff_card_escapes_resident_text_and_hides_anonymous_reporters(
    service: ReportService, catalogs: Catalogs, city: City
) -> None:
    report_id = await file(
        service,
        text="<b>bold</b> & <a href='x'>link</a>",
        address="<i>Elm</i> St",
        emergency_words=["fire"],
        anonymous=True,
    )
    report = await service.get(report_id)
    assert report is not None
    text, keyboard = staff_views.card(catalogs.get("en"), city, report)
    assert "&lt;b&gt;bold&lt;/b&gt; &amp; &lt;a href=&#x27;x&#x27;&gt;link&lt;/a&gt;" in text
    assert "&lt;i&gt;Elm&lt;/i&gt; St" in text
    assert f"Anonymous resident #{report.pseudonym}" in text and "Emergency words:</b> fire" in text
    data = [b.callback_data for row in keyboard.inline_keyboard for b in row]
    assert data == [
        f"rs:{report_id}:a",
        f"rs:{report_id}:p",
        f"rs:{report_id}:r",
        f"rs:{report_id}:x",
    ]
    assert all(len(str(d).encode()) <= 64 for d in data)


def test_flow_callback_data_stays_under_64_bytes(catalogs: Catalogs, city: City) -> None:
    tr = catalogs.get("en")
    views = [
        resident_views.category_step(tr, city, 10**9),
        resident_views.summary(tr, city, Draft(category="noise", text="x" * 20), version=10**9),
        resident_views.edit_picker(tr, 10**9),
        resident_views.outside_area(tr, city, 10**9),
    ]
    for view in views:
        markup = view.keyboard
        assert markup is not None
        for row in markup.inline_keyboard:  # type: ignore[union-attr]
            for button in row:
                assert len(str(button.callback_data).encode()) <= 64


def test_rate_limit_message_names_the_time_in_the_residents_language(
    catalogs: Catalogs, city: City
) -> None:
    now = datetime(2026, 12, 1, 15, 0, tzinfo=UTC).timestamp()
    english = resident_views.rate_limited(catalogs.get("en"), city, now + 1800, now)
    assert "10:30\u202fAM" in english and "5 reports" in english and "911" in english
    spanish = resident_views.rate_limited(catalogs.get("es"), city, now + 1800, now)
    assert "10:30" in spanish and "AM" not in spanish  # 24-hour clock


def test_summary_lists_open_reports_by_status(catalogs: Catalogs, city: City) -> None:
    from bot.storage.reports import StatusCounts

    counts = StatusCounts({"new": 3, "in_progress": 1})
    text = staff_views.daily_summary(
        catalogs.get("en"), city, counts, [], datetime(2026, 12, 1, 13, tzinfo=UTC)
    )
    assert "🆕 New: 3" in text and "👀 Acknowledged: 0" in text and "🔧 In progress: 1" in text
    empty = staff_views.daily_summary(
        catalogs.get("en"), city, StatusCounts(), [], datetime(2026, 12, 1, 13, tzinfo=UTC)
    )
    assert "Every report has been handled" in empty


def test_staff_check_text_names_each_problem(catalogs: Catalogs, tmp_path: Path) -> None:
    tr = catalogs.get("en")
    statuses = [
        StaffChatStatus(STAFF, is_forum=True),
        StaffChatStatus(-100222, reachable=False, error="Chat not found"),
    ]
    text = staff_views.staff_check(tr, statuses, {STAFF: "Liaison <staff>"})
    assert "Liaison &lt;staff&gt;" in text
    assert "not an administrator" in text and "can_manage_topics" in text
    assert "Chat not found" in text
    assert "STAFF_CHAT_ID" in staff_views.staff_check(tr, [], {})
