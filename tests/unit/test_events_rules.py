"""Event rules without Telegram: who follows what, draft validation, rendered messages."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from bot.clock import ManualClock
from bot.config import City
from bot.i18n import Catalogs
from bot.services import calendar
from bot.services import events as rules
from bot.services.events import EventDraft, EventRejected, EventService, Outgoing, follows
from bot.storage import Database
from bot.storage.events import EVENT_TYPES, Event, EventRepository, Rsvp, RsvpCounts
from bot.storage.subscriptions import AlertSettings, SubscriptionRepository
from bot.views import alerts as alert_views
from bot.views import events as views

HOUR = 3600.0


def event(**changes: Any) -> Event:
    base = Event(
        id=12,
        event_type="meeting",
        titles={"en": "Safety <meeting> & more", "es": "Reunión"},
        descriptions={"en": "Talk"},
        neighborhoods=("downtown", "main-south"),
        citywide=False,
        starts_at=ManualClock().time() + 48 * HOUR,
        ends_at=ManualClock().time() + 50 * HOUR,
        place="Library & Co",
        latitude=None,
        longitude=None,
        capacity=None,
        status="published",
        revision=1,
        created_by=1,
        created_at=0.0,
        updated_at=0.0,
    )
    return replace(base, **changes)


def test_follows_neighborhood_events_citywide_events_and_muted_types() -> None:
    downtown = event(neighborhoods=("downtown",))
    citywide = event(neighborhoods=(), citywide=True)
    assert follows({"downtown"}, set(), downtown)
    assert not follows({"piedmont"}, set(), downtown)
    assert not follows({"*"}, set(), downtown)  # Citywide means events for the whole city
    assert follows({"*"}, set(), citywide) and follows({"piedmont"}, set(), citywide)
    assert not follows(set(), set(), citywide)  # following nothing hears nothing
    assert not follows({"downtown"}, {"meeting"}, downtown)
    assert follows({"downtown"}, {"workshop"}, downtown)


@pytest.fixture
async def service(db: Database, city: City, catalogs: Catalogs) -> EventService:
    return EventService(
        db=db,
        events=EventRepository(db),
        subscriptions=SubscriptionRepository(db),
        city=city,
        catalogs=catalogs,
        clock=ManualClock(),
        renderer=views.EventMessages(city),
    )


def draft(**changes: Any) -> EventDraft:
    now = ManualClock().time()
    base = EventDraft(
        event_type="workshop",
        titles={"en": "  Bike repair  "},
        descriptions={"en": "Tools provided", "es": "  "},
        neighborhoods=("main-south", "main-south"),
        starts_at=now + 24 * HOUR,
        ends_at=now + 26 * HOUR,
        place="Youth Center",
        capacity=10,
    )
    return replace(base, **changes)


async def test_a_valid_draft_is_cleaned(service: EventService) -> None:
    new = service.validate(draft())
    assert new.titles == {"en": "Bike repair"} and new.descriptions == {"en": "Tools provided"}
    assert new.neighborhoods == ("main-south",)
    citywide = service.validate(draft(citywide=True))
    assert citywide.neighborhoods == () and citywide.citywide


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"event_type": "rave"}, rules.UNKNOWN_TYPE),
        ({"titles": {"es": "Solo en español"}}, rules.NO_TITLE),
        ({"titles": {"en": "x" * 121}}, rules.TITLE_TOO_LONG),
        ({"neighborhoods": ()}, rules.NO_AREA),
        ({"neighborhoods": ("atlantis",)}, rules.UNKNOWN_AREA),
        ({"capacity": 0}, rules.BAD_CAPACITY),
        ({"capacity": -3}, rules.BAD_CAPACITY),
        ({"starts_at": ManualClock().time() - 60}, calendar.PAST),
        ({"ends_at": ManualClock().time() + 23 * HOUR}, calendar.END_BEFORE_START),
        ({"place": "", "latitude": None}, rules.NO_PLACE),
        ({"place": "p" * 301}, rules.PLACE_TOO_LONG),
    ],
)
async def test_bad_drafts_are_refused_with_a_reason(
    service: EventService, changes: dict[str, Any], reason: str
) -> None:
    with pytest.raises(EventRejected) as refused:
        await service.publish(draft(**changes), admin_id=1)
    assert refused.value.reason == reason
    assert await service.upcoming() == []


def test_outgoing_calls() -> None:
    markup = {"inline_keyboard": [[{"text": "x", "callback_data": "y"}]]}
    method, params = Outgoing("<b>hi</b>", markup).call(5)
    assert method == "sendMessage" and params["parse_mode"] == "HTML"
    assert params["reply_markup"] == markup and params["chat_id"] == 5
    method, params = Outgoing("caption", None, "FILEID").call(5)
    assert method == "sendPhoto" and params["photo"] == "FILEID" and "reply_markup" not in params
    method, params = Outgoing("done").edit(5, 9)
    assert (
        method == "editMessageText" and params["message_id"] == 9 and "reply_markup" not in params
    )


def _callback_data(markup: Any) -> list[str]:
    rows = (
        markup["inline_keyboard"]
        if isinstance(markup, dict)
        else markup.to_dict()["inline_keyboard"]
    )
    return [button["callback_data"] for row in rows for button in row if "callback_data" in button]


def test_every_button_fits_telegrams_64_bytes(city: City, catalogs: Catalogs) -> None:
    big = event(id=999_999_999_999, latitude=42.0, longitude=-71.0, capacity=5)
    tr = catalogs.get("es")
    renderer = views.EventMessages(city)
    rendered: list[Any] = [
        renderer.announcement(tr, big).markup,
        renderer.changed(tr, big, big).markup,
        renderer.cancelled(tr, big).markup,
        renderer.promoted(tr, big).markup,
        renderer.reminder(tr, big).markup,
        renderer.digest(tr, [big] * 12).markup,
        views.card(tr, city, big, counts=RsvpCounts(), rsvp=None, position=0, now=0).keyboard,
        views.admin_event(tr, city, big, RsvpCounts()).keyboard,
        views.area_picker(tr, city, [n.id for n in city.neighborhoods], True, 999_999_999).keyboard,
        views.ask_type(tr, 999_999_999).keyboard,
        alert_views.alerts_screen(
            tr, city, AlertSettings(1, frozenset({"*"}), frozenset(EVENT_TYPES))
        ).keyboard,
    ]
    data = [item for markup in rendered for item in _callback_data(markup)]
    assert data and all(1 <= len(item.encode()) <= 64 for item in data)


def test_event_texts_escape_admin_input_and_use_the_readers_language(
    city: City, catalogs: Catalogs
) -> None:
    item = event()
    english = views.EventMessages(city).announcement(catalogs.get("en"), item).text
    assert "Safety &lt;meeting&gt; &amp; more" in english and "Library &amp; Co" in english
    spanish = views.EventMessages(city).reminder(catalogs.get("es"), item).text
    assert "Reunión" in spanish


def test_card_shows_capacity_and_the_residents_answer(city: City, catalogs: Catalogs) -> None:
    tr = catalogs.get("en")
    item = event(capacity=2)
    waiting = Rsvp(item.id, 5, "going", True, 0.0)
    view = views.card(
        tr, city, item, counts=RsvpCounts(going=2, waitlist=1), rsvp=waiting, position=1, now=0
    )
    assert "Full (2 places)" in view.text and "number 1 on the waitlist" in view.text
    view = views.card(tr, city, item, counts=RsvpCounts(going=1), rsvp=None, position=0, now=0)
    assert "1 of 2 places taken" in view.text
    single = event(capacity=1)
    view = views.card(tr, city, single, counts=RsvpCounts(), rsvp=None, position=0, now=0)
    assert "0 of 1 place taken" in view.text and "places" not in view.text
    spanish = views.card(
        catalogs.get("es"), city, single, counts=RsvpCounts(), rsvp=None, position=0, now=0
    )
    assert "0 de 1 cupo ocupado" in spanish.text
    over = views.card(
        tr, city, item, counts=RsvpCounts(), rsvp=None, position=0, now=item.ends_at + 1
    )
    assert "This event is over." in over.text and over.keyboard is None
