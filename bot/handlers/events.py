"""/events, event cards, RSVP, Add to calendar, Directions and `ev_<id>` deep links.

This feature's `on_start` also builds the event, alert and broadcast services (they share
repositories) and schedules their periodic jobs.
"""

from __future__ import annotations

import logging
import re

from telegram import Update
from telegram.constants import ParseMode
from telegram.ext import CallbackQueryHandler, CommandHandler, filters

from bot.context import BotApplication, BotContext, Services
from bot.handlers.alerts import edit
from bot.handlers.common import reply
from bot.handlers.flows import Feature, Router
from bot.jobs import alerts as jobs
from bot.services.alerts import AlertService
from bot.services.broadcasts import BroadcastService
from bot.services.events import EventService
from bot.storage.broadcasts import BroadcastRepository
from bot.storage.events import Event, EventRepository
from bot.storage.subscriptions import SubscriptionRepository
from bot.views import common as common_views
from bot.views import events as views
from bot.views.broadcasts import BroadcastMessages
from bot.views.common import View

log = logging.getLogger(__name__)

PRIVATE = filters.ChatType.PRIVATE
_ID = r"(?P<id>[1-9]\d{0,11})"
_OPEN_RE = re.compile(rf"^ev:(?P<what>o|ics|map):{_ID}$")
_RSVP_RE = re.compile(rf"^ev:r:{_ID}:(?P<answer>going|maybe|no)$")


def _service(context: BotContext) -> EventService:
    service: EventService = context.services.events
    return service


async def _card(context: BotContext, event: Event) -> View:
    resident = context.resident
    service = _service(context)
    rsvp = await service.rsvp_of(event.id, resident.user_id) if resident else None
    position = await service.waitlist_position(rsvp) if rsvp and rsvp.waitlisted else 0
    counts = (await service.counts([event.id]))[event.id]
    return views.card(
        context.tr,
        context.services.city,
        event,
        counts=counts,
        rsvp=rsvp,
        position=position,
        now=context.services.clock.time(),
    )


async def _list_view(context: BotContext, *, show_all: bool | None = None) -> View:
    resident = context.resident
    assert resident is not None
    alerts: AlertService = context.services.alerts
    settings = await alerts.settings(resident.user_id)
    if show_all is None:
        show_all = settings.show_all_events
    events = await _service(context).upcoming_for(
        resident.user_id, show_all=show_all or not settings.subscribed
    )
    return views.event_list(
        context.tr,
        context.services.city,
        events,
        show_all=show_all,
        subscribed=settings.subscribed,
    )


async def events_command(update: Update, context: BotContext) -> None:
    """/events and the menu button: upcoming events for what the resident follows."""
    if context.resident is None:
        return
    view = await _list_view(context)
    await reply(update, context, view.text, view.keyboard)


async def events_button(update: Update, context: BotContext) -> None:
    query = update.callback_query
    resident = context.resident
    if query is None or query.data is None or resident is None:
        return
    tr, services = context.tr, context.services
    service = _service(context)
    if query.data in ("ev:l:all", "ev:l:mine"):
        show_all = query.data == "ev:l:all"
        await services.alerts.set_pref(resident.user_id, "show_all_events", show_all)
        await query.answer()
        await edit(query, await _list_view(context, show_all=show_all))
        return
    if match := _RSVP_RE.match(query.data):
        result = await service.rsvp(int(match["id"]), resident.user_id, match["answer"])
        await query.answer(views.rsvp_answer(tr, result), show_alert=result.outcome == "waitlisted")
        if result.event is not None:
            await edit(query, await _card(context, result.event))
        if result.promoted:
            services.sender.wake()
        return
    match = _OPEN_RE.match(query.data)
    if match is None:
        await query.answer(common_views.stale_button(tr), show_alert=True)
        return
    event = await service.get(int(match["id"]))
    if event is None:
        await query.answer(views.event_not_found(tr), show_alert=True)
        return
    await query.answer()
    chat_id = resident.chat_id
    if match["what"] == "o":
        view = await _card(context, event)
        await reply(update, context, view.text, view.keyboard)
    elif match["what"] == "ics":
        await context.bot.send_document(
            chat_id,
            document=service.ics(event, tr.language),
            filename=f"event-{event.id}.ics",
            caption=views.ics_caption(tr, services.city, event),
            parse_mode=ParseMode.HTML,
        )
    elif event.has_pin:
        assert event.latitude is not None and event.longitude is not None
        await context.bot.send_venue(
            chat_id,
            latitude=event.latitude,
            longitude=event.longitude,
            title=event.title(tr.language, services.city.default_language)[:100],
            address=event.place[:100] or services.city.name,
        )
    else:
        await reply(update, context, views.no_pin(tr))


async def event_link(update: Update, context: BotContext, rest: str) -> bool:
    """`/start ev_<id>` from a flyer's QR code: show the event and remember the visit."""
    resident = context.resident
    if resident is None:
        return False
    service = _service(context)
    event = await service.get(int(rest)) if rest.isdigit() and len(rest) < 12 else None
    if event is None:
        log.info("unknown event in a deep link: %r", rest[:40])
        await reply(update, context, views.event_not_found(context.tr))
        return True
    await service.record_open(event.id, resident.user_id)
    view = await _card(context, event)
    await reply(update, context, view.text, view.keyboard)
    return True


def register(application: BotApplication, router: Router) -> None:
    application.add_handler(CommandHandler("events", events_command, filters=PRIVATE))
    application.add_handler(CallbackQueryHandler(events_button, pattern=r"^ev:"))
    router.start_link("ev_", event_link)
    router.menu_action("events", events_command)


async def start(application: BotApplication, services: Services) -> None:
    """Build the event, alert and broadcast services and schedule their jobs."""
    db, city = services.db, services.city
    events = EventRepository(db)
    subscriptions = SubscriptionRepository(db)
    renderer = views.EventMessages(city)
    catalogs, clock = services.catalogs, services.clock
    services.events = EventService(
        db=db,
        events=events,
        subscriptions=subscriptions,
        city=city,
        catalogs=catalogs,
        clock=clock,
        renderer=renderer,
    )
    services.alerts = AlertService(
        db=db,
        events=events,
        subscriptions=subscriptions,
        city=city,
        catalogs=catalogs,
        clock=clock,
        renderer=renderer,
    )
    services.broadcasts = BroadcastService(
        db=db,
        broadcasts=BroadcastRepository(db),
        subscriptions=subscriptions,
        city=city,
        catalogs=catalogs,
        clock=clock,
        renderer=BroadcastMessages(city),
    )
    if application.job_queue is not None:
        jobs.schedule(application.job_queue)


FEATURE = Feature(register, start)
