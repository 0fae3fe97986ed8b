"""/stats through the fake: who may ask, the text and the charts, periods, the staff chat."""

from __future__ import annotations

import io

from PIL import Image

from bot.services.charts import PNG_SIGNATURE
from bot.testing import FakeMessage
from tests.harness import Harness
from tests.integration.test_report_flow import file_report


def is_png(data: bytes) -> bool:
    if not data.startswith(PNG_SIGNATURE):
        return False
    with Image.open(io.BytesIO(data)) as image:
        image.verify()
    with Image.open(io.BytesIO(data)) as image:
        return image.format == "PNG" and image.width > 100 and image.height > 100


def texts(messages: list[FakeMessage]) -> str:
    return "\n".join(m.text for m in messages)


async def test_admin_gets_figures_as_text_and_charts_as_photos(harness: Harness) -> None:
    rosa = harness.resident("Rosa", language="es")
    alice = harness.resident("Alice")
    await file_report(harness, alice, category="Noise", place="Main South")
    await file_report(harness, rosa, category="Ruido", place="Centro")
    await file_report(harness, alice, category="Graffiti or vandalism", place="Main South")
    await harness.deliver_outbox()
    ada = harness.admin
    before = len(ada.messages) if ada.id in harness.tg.chats else 0
    await ada.send("/stats")
    received = ada.messages[before:]
    text = texts([m for m in received if m.photo is None])
    assert "Statistics: the last 30 days" in text
    assert "3 reports filed" in text
    assert "Noise: 2" in text and "Graffiti or vandalism: 1" in text
    assert "Main South: 2" in text and "Downtown: 1" in text
    assert "🆕 New 3" in text
    assert "3 reports open now" in text
    assert "Hotspots" in text and "Main South · Noise" in text
    assert "not for emergencies" not in text  # staff figures, not a resident message
    photos = [m for m in received if m.photo is not None]
    assert len(photos) >= 4
    for message in photos:
        assert message.photo is not None and is_png(message.photo[1])
    captions = [m.text for m in photos]
    assert any("Reports by category" in c for c in captions)
    assert any("Open reports by age" in c for c in captions)


async def test_residents_may_not_see_statistics(harness: Harness) -> None:
    alice = harness.resident("Alice")
    await alice.send("/stats")
    assert "for the liaison staff" in alice.last_message.text
    assert not [m for m in alice.messages if m.photo is not None]


async def test_a_bad_period_is_explained_with_examples(harness: Harness) -> None:
    ada = harness.admin
    await ada.send("/stats lastweek")
    text = ada.last_message.text
    assert "I can't read “lastweek” as a period." in text
    assert "/stats 7d" in text and "/stats 2026-11" in text and "/stats all" in text
    await ada.send("/stats 2027-03")
    assert "“2027-03” has not started yet." in ada.last_message.text
    await ada.send("/stats 0d")
    assert "between 1 and 3650 days" in ada.last_message.text


async def test_a_month_and_all_time(harness: Harness) -> None:
    alice = harness.resident("Alice")
    await file_report(harness, alice)
    ada = harness.admin
    await ada.send("/stats 2026-11")
    first = next(m for m in reversed(ada.messages) if "Statistics" in m.text)
    assert "Statistics: November 2026" in first.text
    assert "0 reports filed" in first.text  # the report was filed on December 1
    await ada.send("/stats all")
    first = next(m for m in reversed(ada.messages) if "Statistics" in m.text)
    assert "Statistics: all time" in first.text and "1 report filed" in first.text


async def test_staff_member_asks_in_the_staff_chat(harness: Harness) -> None:
    sam = harness.staff_member("Sam")
    before = len(harness.staff_chat.messages)
    await sam.send_in(harness.staff_chat, "/stats 7d")
    answers = harness.staff_chat.messages[before:]
    assert any("Statistics: the last 7 days" in m.text for m in answers)
    # In a private chat, statistics are for admins only (staff read them in the staff chat).
    await sam.send("/stats")
    assert "for the liaison staff (in the staff chat)" in sam.last_message.text


async def test_stats_in_a_topic_answer_in_that_topic(harness: Harness) -> None:
    alice = harness.resident("Alice")
    report = await file_report(harness, alice)
    await harness.deliver_outbox()
    stored = await harness.services.reports.get(report.id)
    assert stored is not None and stored.staff_thread_id is not None
    sam = harness.staff_member("Sam")
    await sam.send_in(harness.staff_chat, "/stats", thread_id=stored.staff_thread_id)
    answers = harness.staff_chat.messages_in_topic(stored.staff_thread_id)
    assert any("Statistics" in m.text for m in answers)
    # the charts went to the same topic
    assert any(m.photo is not None for m in answers)
