"""Admin commands in a private chat: /newevent, /myevents and /broadcast.

Each guided step is a stored dialog (a restart continues where the admin was); buttons
carry the dialog's version, so a button from an earlier step is refused and changes
nothing. Publishing and confirming close the dialog in the same transaction as what they
create, so a double tap cannot publish or send twice.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from telegram import CallbackQuery, InlineKeyboardMarkup, Message, Update
from telegram.ext import CallbackQueryHandler, CommandHandler, filters

from bot.context import BotApplication, BotContext
from bot.handlers.alerts import edit
from bot.handlers.common import reply
from bot.handlers.flows import Feature, Router
from bot.i18n import Translator
from bot.services import calendar
from bot.services import events as event_rules
from bot.services.broadcasts import (
    MAX_CAPTION,
    MAX_TEXT,
    AlreadyConfirmed,
    BroadcastService,
    texts_fit,
)
from bot.services.events import EventDraft, EventRejected, EventService
from bot.storage import Dialog
from bot.storage.broadcasts import Audience, NewBroadcast
from bot.views import broadcasts as bviews
from bot.views import common as common_views
from bot.views import events as views
from bot.views.common import View

log = logging.getLogger(__name__)

PRIVATE = filters.ChatType.PRIVATE
NEW_EVENT = "newevent"
EDIT_EVENT = "eventedit"
ATTENDEES = "attendees"
BROADCAST = "broadcast"
_BUTTON_RE = re.compile(
    r"^(?P<prefix>ne|ee|bc):(?P<version>\d{1,9}):(?P<action>[a-z]{2,9})(?::(?P<arg>[A-Za-z0-9*_-]{1,31}))?$"
)
_EVENT_BUTTON_RE = re.compile(r"^me:(?P<action>t|p|m|c|cy):(?P<id>[1-9]\d{0,11})$")
_BROADCAST_BUTTON_RE = re.compile(r"^(?P<action>bx|bxy):(?P<id>[1-9]\d{0,11})$")


# --------------------------------------------------------------------------- helpers


def _events(context: BotContext) -> EventService:
    service: EventService = context.services.events
    return service


def _broadcasts(context: BotContext) -> BroadcastService:
    service: BroadcastService = context.services.broadcasts
    return service


def _is_admin(update: Update, context: BotContext) -> bool:
    user = update.effective_user
    return context.services.is_admin(user.id if user else None)


async def _refuse(update: Update, context: BotContext) -> None:
    """Non-admins get a polite refusal and nothing changes."""
    if update.callback_query is not None:
        await update.callback_query.answer(common_views.not_allowed(context.tr), show_alert=True)
        return
    await reply(update, context, common_views.not_allowed(context.tr))


async def _save(context: BotContext, dialog: Dialog, step: str) -> Dialog:
    dialog.step = step
    return await context.services.dialogs.save(dialog, context.services.clock.time())


async def _open(
    update: Update, context: BotContext, flow: str, step: str, data: dict[str, Any]
) -> Dialog:
    chat, user = update.effective_chat, update.effective_user
    assert chat is not None and user is not None
    dialog = Dialog(chat.id, user.id, flow, step, data)
    return await context.services.dialogs.save(dialog, context.services.clock.time())


async def _button_dialog(
    update: Update, context: BotContext, flows: tuple[str, ...]
) -> tuple[Dialog, str, str] | None:
    """The open dialog a versioned button belongs to, with its action and argument.

    A button from an earlier step, another flow or a forged one is answered as stale.
    """
    query = update.callback_query
    assert query is not None and query.data is not None
    match = _BUTTON_RE.match(query.data)
    chat = update.effective_chat
    dialog = await context.services.dialogs.get(chat.id) if chat is not None else None
    if (
        match is None
        or dialog is None
        or dialog.flow not in flows
        or dialog.version != int(match["version"])
    ):
        await query.answer(common_views.stale_button(context.tr), show_alert=True)
        return None
    await query.answer()
    return dialog, match["action"], match["arg"] or ""


async def _admin_button(
    update: Update,
    context: BotContext,
    flows: tuple[str, ...],
    discarded: Callable[[Translator], str],
) -> tuple[Dialog, str, str, CallbackQuery] | None:
    """Admin check, the button's dialog, and its Cancel: what every admin flow's buttons share.

    None when the press was refused, stale, or cancelled the flow (all answered here).
    """
    if not _is_admin(update, context):
        await _refuse(update, context)
        return None
    found = await _button_dialog(update, context, flows)
    if found is None:
        return None
    dialog, action, arg = found
    query = update.callback_query
    assert query is not None
    if action == "cancel":
        await context.services.dialogs.clear(dialog.chat_id)
        await edit(query, discarded(context.tr))
        return None
    return dialog, action, arg, query


async def _drop_buttons(update: Update) -> None:
    """Remove the buttons of the message that was just used (its step is over)."""
    query = update.callback_query
    if query is not None and isinstance(query.message, Message) and query.message.reply_markup:
        await query.edit_message_reply_markup(None)


def _text(message: Message) -> str | None:
    text = message.text
    return text.strip() if text and text.strip() else None


def _language_name(context: BotContext, code: str) -> str:
    return context.tr.language_name(code)


# --------------------------------------------------------------------------- /newevent


def _draft(data: dict[str, Any]) -> EventDraft:
    return EventDraft(
        event_type=data.get("type", ""),
        titles=data.get("titles", {}),
        descriptions=data.get("descriptions", {}),
        neighborhoods=tuple(data.get("hoods", [])),
        citywide=bool(data.get("citywide")),
        starts_at=data.get("start"),
        ends_at=data.get("end"),
        place=data.get("place", ""),
        latitude=data.get("lat"),
        longitude=data.get("lon"),
        capacity=data.get("capacity"),
    )


# Which step to go back to when a refusal at the preview is about that step's answer.
_RETRY_STEP = {
    calendar.PAST: "start",
    calendar.TOO_FAR: "start",
    calendar.UNREADABLE: "start",
    calendar.END_BEFORE_START: "end",
    calendar.TOO_LONG: "end",
    event_rules.NO_AREA: "areas",
    event_rules.UNKNOWN_AREA: "areas",
    event_rules.BAD_CAPACITY: "capacity",
    event_rules.NO_PLACE: "place",
}


async def new_event(update: Update, context: BotContext) -> None:
    """/newevent: start the guided event creation."""
    if not _is_admin(update, context):
        await _refuse(update, context)
        return
    data: dict[str, Any] = {"titles": {}, "descriptions": {}, "hoods": [], "citywide": False}
    dialog = await _open(update, context, NEW_EVENT, "type", data)
    view = views.ask_type(context.tr, dialog.version)
    await reply(update, context, view.text, view.keyboard)


async def _ask(update: Update, context: BotContext, dialog: Dialog) -> None:
    """Send the question of the dialog's current step."""
    tr, city = context.tr, context.services.city
    data, step, version = dialog.data, dialog.step, dialog.version
    view: View | str
    if step == "type":
        view = views.ask_type(tr, version)
    elif step == "title":
        view = views.ask_title(tr, _language_name(context, city.default_language))
    elif step == "description":
        view = views.ask_description(tr, _language_name(context, city.default_language), version)
    elif step == "translate":
        view = views.translations(tr, city, data["titles"], version)
    elif step == "tr_title":
        view = views.ask_translated_title(tr, _language_name(context, data["lang"]))
    elif step == "tr_desc":
        view = views.ask_description(tr, _language_name(context, data["lang"]), version)
    elif step == "areas":
        view = views.area_picker(tr, city, data["hoods"], data["citywide"], version)
    elif step == "start":
        view = views.ask_start(tr)
    elif step == "end":
        view = views.ask_end(tr, data["start"], version)
    elif step == "place":
        view = views.ask_place(tr)
    elif step == "pin":
        view = views.ask_pin(tr, version)
    elif step == "place_name":
        view = views.ask_place_name(tr, version)
    elif step == "capacity":
        view = views.ask_capacity(tr, version)
    else:
        await _preview(update, context, dialog)
        return
    if isinstance(view, str):
        await reply(update, context, view)
    else:
        await reply(update, context, view.text, view.keyboard)


async def _go(update: Update, context: BotContext, dialog: Dialog, step: str) -> None:
    await _save(context, dialog, step)
    await _ask(update, context, dialog)


async def _preview(update: Update, context: BotContext, dialog: Dialog) -> None:
    service = _events(context)
    try:
        event = service.preview(_draft(dialog.data))
    except EventRejected as error:
        await reply(update, context, views.refusal(context.tr, error.reason))
        await _go(update, context, dialog, _RETRY_STEP.get(error.reason, "type"))
        return
    reach = await service.announce_count(event)
    view = views.preview(context.tr, context.services.city, event, reach, dialog.version)
    await reply(update, context, view.text, view.keyboard)


def _after_description(context: BotContext) -> str:
    return "translate" if len(context.services.city.languages) > 1 else "areas"


async def new_event_message(update: Update, context: BotContext, dialog: Dialog) -> None:
    """A message while /newevent is open: the answer to the current step."""
    message = update.effective_message
    if message is None:
        return
    if not _is_admin(update, context):
        await context.services.dialogs.clear(dialog.chat_id)
        await _refuse(update, context)
        return
    tr, city, data = context.tr, context.services.city, dialog.data
    step, text = dialog.step, _text(message)
    default = city.default_language
    if step in ("type", "translate", "areas", "preview"):
        await reply(update, context, views.choose_with_buttons(tr))
        return
    if step in ("title", "tr_title"):
        if text is None:
            await reply(update, context, views.need_text(tr))
            return
        if len(text) > event_rules.MAX_TITLE:
            await reply(update, context, views.refusal(tr, event_rules.TITLE_TOO_LONG))
            return
        data["titles"][default if step == "title" else data["lang"]] = text
        await _go(update, context, dialog, "description" if step == "title" else "tr_desc")
        return
    if step in ("description", "tr_desc"):
        if text is None:
            await reply(update, context, views.need_text(tr))
            return
        if len(text) > event_rules.MAX_DESCRIPTION:
            await reply(update, context, views.refusal(tr, event_rules.DESCRIPTION_TOO_LONG))
            return
        data["descriptions"][default if step == "description" else data["lang"]] = text
        await _go(update, context, dialog, _after_description(context))
        return
    if step in ("start", "end"):
        if await _take_time(update, context, step, text, data):
            await _go(update, context, dialog, "end" if step == "start" else "place")
        return
    if await _place_answer(update, context, dialog, message, next_step="capacity"):
        return
    if step == "capacity":
        capacity = _capacity(text)
        if capacity is None or event_rules.check_capacity(capacity):
            await reply(update, context, views.refusal(tr, event_rules.BAD_CAPACITY))
            return
        data["capacity"] = capacity
        await _go(update, context, dialog, "preview")


def _capacity(text: str | None) -> int | None:
    if text is None:
        return None
    cleaned = text.replace(",", "").replace(" ", "")
    return int(cleaned) if re.fullmatch(r"-?\d{1,7}", cleaned) else None


async def _take_time(
    update: Update, context: BotContext, step: str, text: str | None, data: dict[str, Any]
) -> bool:
    """Read the start or end time into `data`, or refuse kindly and keep the step."""
    city = context.services.city
    if step == "start":
        parsed = calendar.parse_start(
            text or "", tz=city.timezone, now=context.services.clock.now(), languages=city.languages
        )
    else:
        start = datetime.fromtimestamp(data["start"], UTC)
        parsed = calendar.parse_end(
            text or "", start=start, tz=city.timezone, languages=city.languages
        )
    if parsed.moment is None:
        problem = parsed.problem or calendar.UNREADABLE
        await reply(update, context, views.refusal(context.tr, problem))
        return False
    data[step] = parsed.moment.timestamp()
    return True


async def _place_answer(
    update: Update, context: BotContext, dialog: Dialog, message: Message, *, next_step: str
) -> bool:
    """Handle the place, pin and place-name steps shared by /newevent and Change place."""
    tr, data, step = context.tr, dialog.data, dialog.step
    text, location = _text(message), message.location
    if step not in ("place", "pin", "place_name"):
        return False
    if location is not None and step in ("place", "pin"):
        data["lat"], data["lon"] = location.latitude, location.longitude
        await _go(update, context, dialog, "place_name" if step == "place" else next_step)
        return True
    if text is None or step == "pin":
        await reply(
            update, context, views.need_location(tr) if step == "pin" else views.need_text(tr)
        )
        return True
    if len(text) > event_rules.MAX_PLACE:
        await reply(update, context, views.refusal(tr, event_rules.PLACE_TOO_LONG))
        return True
    data["place"] = text
    await _go(update, context, dialog, "pin" if step == "place" else next_step)
    return True


async def new_event_button(update: Update, context: BotContext) -> None:
    found = await _admin_button(update, context, (NEW_EVENT,), views.discarded)
    if found is None:
        return
    dialog, action, arg, query = found
    tr, city, data, step = context.tr, context.services.city, dialog.data, dialog.step
    if step == "type" and action == "type" and arg in views.EVENT_TYPE_LABELS:
        data["type"] = arg
        await _drop_buttons(update)
        await _go(update, context, dialog, "title")
    elif step in ("description", "tr_desc") and action == "skip":
        await _drop_buttons(update)
        await _go(update, context, dialog, _after_description(context))
    elif step == "translate" and action == "lang" and arg in city.languages:
        data["lang"] = arg
        await _drop_buttons(update)
        await _go(update, context, dialog, "tr_title")
    elif step == "translate" and action == "next":
        await _drop_buttons(update)
        await _go(update, context, dialog, "areas")
    elif step == "areas" and action == "area" and (arg == "*" or city.neighborhood(arg)):
        if arg == "*":
            data["citywide"], data["hoods"] = not data["citywide"], []
        else:
            hoods = set(data["hoods"]) ^ {arg}
            data["hoods"], data["citywide"] = sorted(hoods), False
        await _save(context, dialog, "areas")
        await edit(
            query, views.area_picker(tr, city, data["hoods"], data["citywide"], dialog.version)
        )
    elif step == "areas" and action == "next":
        if not data["hoods"] and not data["citywide"]:
            await reply(update, context, views.refusal(tr, event_rules.NO_AREA))
            return
        await _drop_buttons(update)
        await _go(update, context, dialog, "start")
    elif step == "end" and action == "len" and arg.isdigit():
        data["end"] = data["start"] + int(arg) * 60
        await _drop_buttons(update)
        await _go(update, context, dialog, "place")
    elif step in ("pin", "place_name") and action == "skip":
        await _drop_buttons(update)
        await _go(update, context, dialog, "capacity")
    elif step == "capacity" and action == "nolimit":
        data["capacity"] = None
        await _drop_buttons(update)
        await _go(update, context, dialog, "preview")
    elif step == "preview" and action == "publish":
        await _publish(update, context, dialog)
    else:
        await reply(update, context, common_views.stale_button(tr))


async def _publish(update: Update, context: BotContext, dialog: Dialog) -> None:
    tr, city = context.tr, context.services.city
    user = update.effective_user
    assert user is not None
    try:
        event, announced = await _events(context).publish(
            _draft(dialog.data),
            admin_id=user.id,
            dialog=(dialog.chat_id, NEW_EVENT, dialog.version),
        )
    except EventRejected as error:
        if error.reason == event_rules.ALREADY_DONE:
            await reply(update, context, common_views.stale_button(tr))
            return
        await reply(update, context, views.refusal(tr, error.reason))
        await _go(update, context, dialog, _RETRY_STEP.get(error.reason, "type"))
        return
    context.services.sender.wake()
    log.info("admin %s published event %s", user.id, event.id)
    await _drop_buttons(update)
    await reply(update, context, views.published(tr, city, event, announced))


# --------------------------------------------------------------------------- /myevents


async def my_events(update: Update, context: BotContext) -> None:
    """/myevents: upcoming events with RSVP counts and the buttons to manage them."""
    if not _is_admin(update, context):
        await _refuse(update, context)
        return
    service = _events(context)
    events = await service.upcoming(limit=10)
    if not events:
        await reply(update, context, views.no_admin_events(context.tr))
        return
    counts = await service.counts([event.id for event in events])
    for event in events:
        view = views.admin_event(context.tr, context.services.city, event, counts[event.id])
        await reply(update, context, view.text, view.keyboard)


async def my_events_button(update: Update, context: BotContext) -> None:
    query = update.callback_query
    assert query is not None and query.data is not None
    if not _is_admin(update, context):
        await _refuse(update, context)
        return
    tr, city = context.tr, context.services.city
    if query.data == "me:keep":
        await query.answer()
        await edit(query, views.cancelled_kept(tr))
        return
    match = _EVENT_BUTTON_RE.match(query.data)
    service = _events(context)
    event = await service.get(int(match["id"])) if match else None
    if match is None or event is None:
        await query.answer(common_views.stale_button(tr), show_alert=True)
        return
    await query.answer()
    action = match["action"]
    now = context.services.clock.time()
    if event.cancelled or (action != "m" and event.starts_at <= now):
        reason = event_rules.CANCELLED if event.cancelled else event_rules.STARTED
        await reply(update, context, views.refusal(tr, reason))
        return
    if action == "t":
        await _open(update, context, EDIT_EVENT, "start", {"event_id": event.id, "field": "time"})
        await reply(update, context, views.ask_start(tr, step=False))
    elif action == "p":
        await _open(update, context, EDIT_EVENT, "place", {"event_id": event.id, "field": "place"})
        await reply(update, context, views.ask_place(tr, step=False))
    elif action == "m":
        reach = await service.going_or_maybe_count(event.id)
        await _open(update, context, ATTENDEES, "text", {"event_id": event.id})
        await reply(update, context, views.ask_attendee_message(tr, city, event, reach))
    elif action == "c":
        view = views.cancel_question(tr, city, event, await service.notice_count(event))
        await reply(update, context, view.text, view.keyboard)
    else:
        try:
            cancelled, notified = await service.cancel(event.id)
        except EventRejected as error:
            await reply(update, context, views.refusal(tr, error.reason))
            return
        context.services.sender.wake()
        await edit(query, views.cancelled_done(tr, city, cancelled, notified))


async def edit_event_message(update: Update, context: BotContext, dialog: Dialog) -> None:
    """A message while changing an event's time or place, or writing to its attendees."""
    message = update.effective_message
    if message is None:
        return
    if not _is_admin(update, context):
        await context.services.dialogs.clear(dialog.chat_id)
        await _refuse(update, context)
        return
    tr, data, step = context.tr, dialog.data, dialog.step
    text = _text(message)
    if dialog.flow == ATTENDEES:
        if step != "text":
            await reply(update, context, views.choose_with_buttons(tr))
            return
        if text is None:
            await reply(update, context, views.need_text(tr))
            return
        data["text_html"] = message.text_html
        await _save(context, dialog, "confirm")
        await _confirm_attendee_message(update, context, dialog)
        return
    if step in ("start", "end"):
        if not await _take_time(update, context, step, text, data):
            return
        if step == "start":
            await _save(context, dialog, "end")
            view = views.ask_end(tr, data["start"], dialog.version, prefix="ee")
            await reply(update, context, view.text, view.keyboard)
        else:
            await _save(context, dialog, "confirm")
            await _confirm_change(update, context, dialog)
        return
    if step in ("place", "pin", "place_name"):
        await _edit_place_answer(update, context, dialog, message)
        return
    await reply(update, context, views.choose_with_buttons(tr))


async def _edit_place_answer(
    update: Update, context: BotContext, dialog: Dialog, message: Message
) -> None:
    tr, data, step = context.tr, dialog.data, dialog.step
    text, location = _text(message), message.location
    if location is not None and step in ("place", "pin"):
        data["lat"], data["lon"] = location.latitude, location.longitude
        if step == "place":
            await _save(context, dialog, "place_name")
            view = views.ask_place_name(tr, dialog.version, prefix="ee")
            await reply(update, context, view.text, view.keyboard)
            return
        await _save(context, dialog, "confirm")
        await _confirm_change(update, context, dialog)
        return
    if text is None or step == "pin":
        await reply(
            update, context, views.need_location(tr) if step == "pin" else views.need_text(tr)
        )
        return
    if len(text) > event_rules.MAX_PLACE:
        await reply(update, context, views.refusal(tr, event_rules.PLACE_TOO_LONG))
        return
    data["place"] = text
    if step == "place":
        await _save(context, dialog, "pin")
        view = views.ask_pin(tr, dialog.version, prefix="ee")
        await reply(update, context, view.text, view.keyboard)
        return
    await _save(context, dialog, "confirm")
    await _confirm_change(update, context, dialog)


async def _confirm_change(update: Update, context: BotContext, dialog: Dialog) -> None:
    tr, city, data = context.tr, context.services.city, dialog.data
    service = _events(context)
    event = await service.get(data["event_id"])
    if event is None:
        await context.services.dialogs.clear(dialog.chat_id)
        await reply(update, context, views.refusal(tr, event_rules.NOT_FOUND))
        return
    if data["field"] == "time":
        summary = views.new_time_summary(tr, city, event, data["start"], data["end"])
    else:
        summary = views.new_place_summary(tr, city, event, data.get("place", ""), "lat" in data)
    view = views.confirm_change(tr, summary, await service.notice_count(event), dialog.version)
    await reply(update, context, view.text, view.keyboard)


async def _confirm_attendee_message(update: Update, context: BotContext, dialog: Dialog) -> None:
    tr, data = context.tr, dialog.data
    service = _events(context)
    event = await service.get(data["event_id"])
    if event is None:
        await context.services.dialogs.clear(dialog.chat_id)
        await reply(update, context, views.refusal(tr, event_rules.NOT_FOUND))
        return
    preview = views.EventMessages(context.services.city).attendee_message(
        tr, event, data["text_html"]
    )
    await reply(update, context, preview.text)
    reach = await service.going_or_maybe_count(event.id)
    view = views.confirm_attendee_message(tr, reach, dialog.version)
    await reply(update, context, view.text, view.keyboard)


async def edit_event_button(update: Update, context: BotContext) -> None:
    found = await _admin_button(update, context, (EDIT_EVENT, ATTENDEES), views.change_discarded)
    if found is None:
        return
    dialog, action, arg, query = found
    tr, city, data, step = context.tr, context.services.city, dialog.data, dialog.step
    service = _events(context)
    if dialog.flow == ATTENDEES and step == "confirm" and action == "send":
        count = await service.message_attendees(
            data["event_id"], data["text_html"], nonce=f"{dialog.chat_id}.{dialog.version}"
        )
        await context.services.dialogs.clear(dialog.chat_id)
        context.services.sender.wake()
        await edit(query, views.attendee_message_sent(tr, count))
        return
    if dialog.flow != EDIT_EVENT:
        await reply(update, context, common_views.stale_button(tr))
        return
    if step == "end" and action == "len" and arg.isdigit():
        data["end"] = data["start"] + int(arg) * 60
        await _drop_buttons(update)
        await _save(context, dialog, "confirm")
        await _confirm_change(update, context, dialog)
    elif step in ("pin", "place_name") and action == "skip":
        if step == "pin":
            data.pop("lat", None)
            data.pop("lon", None)
        await _drop_buttons(update)
        await _save(context, dialog, "confirm")
        await _confirm_change(update, context, dialog)
    elif step == "confirm" and action == "save":
        claim = (dialog.chat_id, EDIT_EVENT, dialog.version)
        try:
            if data["field"] == "time":
                event, notified = await service.change_time(
                    data["event_id"], starts_at=data["start"], ends_at=data["end"], dialog=claim
                )
                text = views.edit_time_saved(tr, city, event, notified)
            else:
                event, notified = await service.change_place(
                    data["event_id"],
                    place=data.get("place", ""),
                    latitude=data.get("lat"),
                    longitude=data.get("lon"),
                    dialog=claim,
                )
                text = views.edit_place_saved(tr, city, event, notified)
        except EventRejected as error:
            if error.reason != event_rules.ALREADY_DONE:
                await context.services.dialogs.clear(dialog.chat_id)
            await reply(update, context, views.refusal(tr, error.reason))
            return
        context.services.sender.wake()
        await edit(query, text)
    else:
        await reply(update, context, common_views.stale_button(tr))


# --------------------------------------------------------------------------- /broadcast


async def broadcast(update: Update, context: BotContext) -> None:
    """/broadcast: compose, choose the audience, preview, confirm (now or later)."""
    if not _is_admin(update, context):
        await _refuse(update, context)
        return
    city = context.services.city
    data: dict[str, Any] = {
        "texts": {},
        "photo": None,
        "hoods": [],
        "langs": [],
        "lang": city.default_language,
    }
    await _open(update, context, BROADCAST, "compose", data)
    text = bviews.compose_prompt(context.tr, _language_name(context, city.default_language))
    scheduled = bviews.scheduled_list(context.tr, await _broadcasts(context).scheduled())
    await reply(update, context, f"{text}\n\n{scheduled}" if scheduled else text)


def _audience(context: BotContext, data: dict[str, Any]) -> Audience:
    return _broadcasts(context).clean_audience(data["hoods"], data["langs"])


async def _broadcast_step(update: Update, context: BotContext, dialog: Dialog, step: str) -> None:
    """Move the broadcast dialog to `step` and ask its question."""
    tr, city, data = context.tr, context.services.city, dialog.data
    await _save(context, dialog, step)
    if step == "versions":
        view = bviews.versions(tr, city, data["texts"], dialog.version)
        await reply(update, context, view.text, view.keyboard)
    elif step == "compose_lang":
        await reply(
            update, context, bviews.version_prompt(tr, _language_name(context, data["lang"]))
        )
    elif step == "audience":
        audience = _audience(context, data)
        reach = await _broadcasts(context).audience_size(audience)
        view = bviews.audience_picker(tr, city, audience, reach, dialog.version)
        await reply(update, context, view.text, view.keyboard)
    elif step == "schedule":
        await reply(update, context, bviews.schedule_prompt(tr))
    elif step == "confirm":
        await _broadcast_preview(update, context, dialog)


async def _broadcast_preview(update: Update, context: BotContext, dialog: Dialog) -> None:
    """Show each version exactly as residents will get it, then the confirm buttons."""
    tr, city, data = context.tr, context.services.city, dialog.data
    chat = update.effective_chat
    assert chat is not None
    renderer = bviews.BroadcastMessages(city)
    if data.get("send_at") is None:
        for code in city.languages:
            if code not in data["texts"]:
                continue
            await reply(update, context, bviews.preview_header(tr, _language_name(context, code)))
            rendered = renderer.broadcast(
                context.services.catalogs.get(code), data["texts"][code], data["photo"]
            )
            method, params = rendered.call(chat.id)
            params.pop("chat_id")
            markup = InlineKeyboardMarkup.de_json(params.pop("reply_markup"), context.bot)
            if method == "sendPhoto":
                await context.bot.send_photo(chat.id, reply_markup=markup, **params)
            else:
                await context.bot.send_message(chat.id, reply_markup=markup, **params)
    audience = _audience(context, data)
    reach = await _broadcasts(context).audience_size(audience)
    view = bviews.confirm(tr, city, audience, reach, dialog.version, send_at=data.get("send_at"))
    await reply(update, context, view.text, view.keyboard)


async def broadcast_message(update: Update, context: BotContext, dialog: Dialog) -> None:
    """A message while /broadcast is open: the text (or photo), a version, or a time."""
    message = update.effective_message
    if message is None:
        return
    if not _is_admin(update, context):
        await context.services.dialogs.clear(dialog.chat_id)
        await _refuse(update, context)
        return
    tr, city, data, step = context.tr, context.services.city, dialog.data, dialog.step
    if step in ("compose", "compose_lang"):
        photo = message.photo[-1].file_id if message.photo and step == "compose" else None
        html = (
            message.caption_html if message.photo else (message.text_html if message.text else None)
        )
        if not html and photo is None:
            await reply(update, context, bviews.need_text(tr))
            return
        html = (html or "").strip()
        has_photo = bool(photo or data["photo"])
        if not texts_fit({"x": html}, photo=has_photo):
            await reply(
                update, context, bviews.too_long(tr, MAX_CAPTION if has_photo else MAX_TEXT)
            )
            return
        data["texts"][city.default_language if step == "compose" else data["lang"]] = html
        if step == "compose":
            data["photo"] = photo
        more = any(code not in data["texts"] for code in city.languages)
        await _broadcast_step(update, context, dialog, "versions" if more else "audience")
        return
    if step == "schedule":
        parsed = calendar.parse_start(
            _text(message) or "",
            tz=city.timezone,
            now=context.services.clock.now(),
            languages=city.languages,
        )
        if parsed.moment is None:
            await reply(update, context, views.refusal(tr, parsed.problem or calendar.UNREADABLE))
            return
        data["send_at"] = parsed.moment.timestamp()
        await _broadcast_step(update, context, dialog, "confirm")
        return
    await reply(update, context, views.choose_with_buttons(tr))


async def broadcast_button(update: Update, context: BotContext) -> None:
    found = await _admin_button(update, context, (BROADCAST,), bviews.discarded)
    if found is None:
        return
    dialog, action, arg, query = found
    tr, city, data, step = context.tr, context.services.city, dialog.data, dialog.step
    if step == "versions" and action == "lang" and arg in city.languages:
        data["lang"] = arg
        await _drop_buttons(update)
        await _broadcast_step(update, context, dialog, "compose_lang")
    elif step == "versions" and action == "next":
        await _drop_buttons(update)
        await _broadcast_step(update, context, dialog, "audience")
    elif step == "audience" and action in ("all", "nb", "lg"):
        if action == "all":
            data["hoods"], data["langs"] = [], []
        elif action == "nb" and city.neighborhood(arg):
            data["hoods"] = sorted(set(data["hoods"]) ^ {arg})
        elif action == "lg" and arg in city.languages:
            data["langs"] = sorted(set(data["langs"]) ^ {arg})
        await _save(context, dialog, "audience")
        audience = _audience(context, data)
        reach = await _broadcasts(context).audience_size(audience)
        await edit(query, bviews.audience_picker(tr, city, audience, reach, dialog.version))
    elif step == "audience" and action == "next":
        if await _broadcasts(context).audience_size(_audience(context, data)) == 0:
            await reply(update, context, bviews.nobody(tr))
            return
        await _drop_buttons(update)
        await _broadcast_step(update, context, dialog, "confirm")
    elif step == "confirm" and action == "schedule" and data.get("send_at") is None:
        await _drop_buttons(update)
        await _broadcast_step(update, context, dialog, "schedule")
    elif step == "confirm" and action == "send":
        await _confirm_broadcast(update, context, dialog)
    else:
        await reply(update, context, common_views.stale_button(tr))


async def _confirm_broadcast(update: Update, context: BotContext, dialog: Dialog) -> None:
    tr, city, data = context.tr, context.services.city, dialog.data
    query, user = update.callback_query, update.effective_user
    assert query is not None and user is not None and isinstance(query.message, Message)
    service = _broadcasts(context)
    now = context.services.clock.time()
    send_at = data.get("send_at")
    if send_at is not None and send_at <= now:
        send_at = None  # the time went by while confirming: send now
    new = NewBroadcast(
        created_by=user.id,
        admin_chat_id=dialog.chat_id,
        admin_language=tr.language,
        texts=data["texts"],
        photo_file_id=data["photo"],
        audience=_audience(context, data),
        send_at=send_at if send_at is not None else now,
        progress_message_id=query.message.message_id,
    )
    try:
        created = await service.create(
            new, dialog_chat_id=dialog.chat_id, dialog_version=dialog.version
        )
    except AlreadyConfirmed:
        await reply(update, context, bviews.already_confirmed(tr))
        return
    context.services.sender.wake()
    log.info("admin %s confirmed broadcast %s", user.id, created.broadcast.id)
    counts = await service.counts(created.broadcast)
    await edit(query, bviews.progress_view(tr, city, created.broadcast, counts))


async def broadcast_control(update: Update, context: BotContext) -> None:
    """The progress message's Cancel button, and its confirmation."""
    query = update.callback_query
    assert query is not None and query.data is not None
    if not _is_admin(update, context):
        await _refuse(update, context)
        return
    tr = context.tr
    match = _BROADCAST_BUTTON_RE.match(query.data)
    if match is None:
        await query.answer(common_views.stale_button(tr), show_alert=True)
        return
    broadcast_id = int(match["id"])
    await query.answer()
    if match["action"] == "bx":
        view = bviews.cancel_question(tr, broadcast_id)
        await reply(update, context, view.text, view.keyboard)
        return
    service = _broadcasts(context)
    cancelled = await service.cancel(broadcast_id)
    if cancelled is not None:
        user = update.effective_user
        log.info("admin %s cancelled broadcast %s", user.id if user else None, broadcast_id)
        await service.refresh_progress()
        context.services.sender.wake()
    await edit(query, bviews.cancel_result(tr, broadcast_id, cancelled=cancelled is not None))


def register(application: BotApplication, router: Router) -> None:
    application.add_handler(CommandHandler("newevent", new_event, filters=PRIVATE))
    application.add_handler(CommandHandler("myevents", my_events, filters=PRIVATE))
    application.add_handler(CommandHandler("broadcast", broadcast, filters=PRIVATE))
    application.add_handler(CallbackQueryHandler(new_event_button, pattern=r"^ne:"))
    application.add_handler(CallbackQueryHandler(my_events_button, pattern=r"^me:"))
    application.add_handler(CallbackQueryHandler(edit_event_button, pattern=r"^ee:"))
    application.add_handler(CallbackQueryHandler(broadcast_button, pattern=r"^bc:"))
    application.add_handler(CallbackQueryHandler(broadcast_control, pattern=r"^bxy?:"))
    router.flow(NEW_EVENT, new_event_message)
    router.flow(EDIT_EVENT, edit_event_message)
    router.flow(ATTENDEES, edit_event_message)
    router.flow(BROADCAST, broadcast_message)


FEATURE = Feature(register)
