"""Residents reporting a concern: /report (a stored, resumable flow), /myreports, replies.

The flow's steps: category -> where (-> where_confirm for a location outside the city)
-> what -> identity -> confirm (-> edit -> one step -> confirm). The draft lives in the
`dialogs` table, so a restart continues where the resident was; inline buttons carry the
dialog version, so a stale press changes nothing.
"""

from __future__ import annotations

import logging
from typing import Any

from telegram import Message, ReplyKeyboardMarkup, Update
from telegram.constants import ChatType, ParseMode
from telegram.error import BadRequest
from telegram.ext import (
    ApplicationHandlerStop,
    CallbackQueryHandler,
    CommandHandler,
    MessageHandler,
    filters,
)

from bot.context import BotApplication, BotContext, Services
from bot.delivery.replies import answer_press, edit_html, remove_buttons, send_html
from bot.handlers import staff as staff_handlers
from bot.handlers.flows import Feature, Router
from bot.i18n import detect_language
from bot.jobs import reports as report_jobs
from bot.services.reports import (
    KIND_CARD,
    KIND_MEDIA,
    KIND_TO_RESIDENT,
    KIND_TO_STAFF,
    KIND_TOPIC,
    MAX_ADDRESS,
    MAX_PHOTOS,
    MIN_ADDRESS,
    Draft,
    Reporter,
    ReportService,
    description_problem,
    find_emergency_words,
    match_category,
    match_neighborhood,
)
from bot.services.staff import StaffService
from bot.storage import Dialog, ResidentRepository, Transaction
from bot.storage.reports import Report, ReportRepository
from bot.views import common as common_views
from bot.views import reports as views
from bot.views.common import View
from bot.views.staff import ReportTexts

log = logging.getLogger(__name__)

FLOW = "report"
PRIVATE = filters.ChatType.PRIVATE
MAX_REPLY = 3500  # a relayed reply plus its header stays under Telegram's 4096


def register(application: BotApplication, router: Router) -> None:
    settings = application.bot_data["settings"]
    staff_chats = StaffService(settings, settings.city, application.bot_data["clock"]).chat_ids()
    # Group -10, before the group-0 handlers: a resident's reply to a message relayed from
    # the liaison team goes back to the team, even in the middle of a flow. Anything else
    # falls through to group 0 (commands, dialogs, menu).
    application.add_handler(
        MessageHandler(
            PRIVATE & filters.UpdateType.MESSAGE & filters.REPLY & ~filters.COMMAND,
            resident_reply,
        ),
        group=-10,
    )
    application.add_handler(CommandHandler("report", report_command, filters=PRIVATE))
    application.add_handler(CommandHandler("myreports", my_reports_command, filters=PRIVATE))
    application.add_handler(CallbackQueryHandler(flow_button, pattern=r"^rf:"))
    application.add_handler(CallbackQueryHandler(history_button, pattern=r"^rh:"))
    router.flow(FLOW, flow_message)
    router.menu_action("report", report_command)
    router.menu_action("myreports", my_reports_command)
    staff_handlers.register(application, router, staff_chats)


async def on_start(application: BotApplication, services: Services) -> None:
    """Build the staff and report services, hook into the sender, check the staff chats."""
    city = services.city
    staff = StaffService(services.settings, city, services.clock)
    services.staff = staff
    candidates = tuple(dict.fromkeys((*city.languages, *city.emergency_words.keys())))
    reports = ReportService(
        db=services.db,
        reports=ReportRepository(services.db),
        outbox=services.outbox,
        residents=ResidentRepository(services.db),
        staff=staff,
        city=city,
        clock=services.clock,
        messages=ReportTexts(services.catalogs, city),
        hash_secret=services.settings.hash_secret.reveal(),
        detect=lambda text: detect_language(text, candidates),
        wake=services.sender.wake,
    )
    services.reports = reports
    services.sender.on_sent(KIND_TOPIC, reports.topic_sent)
    services.sender.on_sent(KIND_CARD, reports.card_sent)
    services.sender.on_sent(KIND_MEDIA, reports.media_sent)
    services.sender.on_sent(KIND_TO_STAFF, reports.to_staff_sent)
    services.sender.on_sent(KIND_TO_RESIDENT, reports.to_resident_sent)
    recovered = await reports.recover_links()
    if recovered:
        log.info("recovered the card ids of %d reports from the outbox", recovered)
    await staff_handlers.check_staff_chats(application.bot, services)
    if application.job_queue is not None:
        report_jobs.schedule(application.job_queue)


FEATURE = Feature(register, on_start)


# --------------------------------------------------------------------------- helpers


def _actions(context: BotContext) -> list[str] | None:
    actions: list[str] | None = context.bot_data.get("menu_actions")
    return actions


async def _send(context: BotContext, chat_id: int, view: View | str) -> None:
    if isinstance(view, str):
        view = View(view)
    await send_html(context.bot, chat_id, view.text, view.keyboard)


async def _save(context: BotContext, dialog: Dialog, draft: Draft, step: str) -> None:
    dialog.step = step
    dialog.data = draft.to_data()
    await context.services.dialogs.save(dialog, context.services.clock.time())


def _step_view(context: BotContext, dialog: Dialog, draft: Draft) -> View:
    tr, city = context.tr, context.services.city
    step = dialog.step
    if step == "category":
        return views.category_step(tr, city, dialog.version)
    if step == "where":
        return views.where_step(tr, city)
    if step == "where_confirm":
        return views.outside_area(tr, city, dialog.version)
    if step == "what":
        if draft.editing:
            return views.edit_description(tr)
        if draft.text or draft.photos or draft.voice:
            return views.what_received(tr, draft, dialog.version)
        return views.what_step(tr)
    if step == "identity":
        category = city.category(draft.category or "")
        sensitive = category is not None and category.sensitive
        default = draft.anonymous if draft.anonymous is not None else sensitive
        return views.identity_step(
            tr, default_anonymous=default, sensitive=sensitive, version=dialog.version
        )
    if step == "edit":
        return views.edit_picker(tr, dialog.version)
    return views.summary(tr, city, draft, version=dialog.version)


async def _enter(context: BotContext, dialog: Dialog, draft: Draft, step: str) -> View:
    """Store the new step; return its view."""
    if step == "confirm":
        draft.editing = False
    await _save(context, dialog, draft, step)
    return _step_view(context, dialog, draft)


async def _go(context: BotContext, dialog: Dialog, draft: Draft, step: str) -> None:
    """Store the new step, then show it."""
    await _send(context, dialog.chat_id, await _enter(context, dialog, draft, step))


def _after(draft: Draft, step: str) -> str:
    """The step that follows `step` (the summary when editing one part)."""
    if draft.editing:
        return "confirm"
    return {"category": "where", "where": "what", "what": "identity"}.get(step, "confirm")


async def _cancel(context: BotContext, chat_id: int) -> None:
    await context.services.dialogs.clear(chat_id)
    await _send(context, chat_id, views.cancelled(context.tr, _actions(context)))


def _emergency(context: BotContext, draft: Draft, text: str) -> bool:
    """Note emergency words in `text`; True when the notice must be repeated now."""
    words = find_emergency_words(text, context.services.city)
    if words:
        draft.note_emergency(words)
    return bool(words)


# --------------------------------------------------------------------------- /report


async def report_command(update: Update, context: BotContext) -> None:
    chat, resident = update.effective_chat, context.resident
    if chat is None or resident is None or chat.type != ChatType.PRIVATE:
        return
    services = context.services
    dialog = await services.dialogs.get(chat.id)
    if dialog is not None and dialog.flow == FLOW:
        # A report already in progress is resumed, never thrown away.
        await _send(context, chat.id, views.intro(context.tr, services.city))
        await _send(context, chat.id, _step_view(context, dialog, Draft.from_data(dialog.data)))
        return
    quota = await services.reports.quota(resident.user_id)
    if not quota.allowed:
        assert quota.next_at is not None
        text = views.rate_limited(context.tr, services.city, quota.next_at, services.clock.time())
        await _send(
            context, chat.id, View(text, common_views.main_menu(context.tr, _actions(context)))
        )
        return
    dialog = Dialog(chat.id, resident.user_id, FLOW, "category")
    await _send(context, chat.id, views.intro(context.tr, services.city))
    await _go(context, dialog, Draft(), "category")


async def flow_message(update: Update, context: BotContext, dialog: Dialog) -> None:
    """Any private message while a report is being written."""
    message = update.effective_message
    if message is None or update.edited_message is not None:
        return  # an edit is not a new answer: the text was taken when it was sent
    tr, services = context.tr, context.services
    draft = Draft.from_data(dialog.data)
    if dialog.step not in _STEPS or (draft.category is None and dialog.step != "category"):
        await _go(context, dialog, draft, "category")  # a draft from an older version
        return
    text = message.text
    if text is not None and views.is_cancel(text, services.catalogs.all()):
        await _cancel(context, dialog.chat_id)
        return
    if text is not None and common_views.menu_action(text, services.catalogs.all()) is not None:
        await _send(context, dialog.chat_id, views.menu_during_flow(tr))
        await _send(context, dialog.chat_id, _step_view(context, dialog, draft))
        return
    if dialog.step == "category":
        await _category_message(context, dialog, draft, message)
    elif dialog.step == "where":
        await _where_message(context, dialog, draft, message)
    elif dialog.step == "what":
        await _what_message(context, dialog, draft, message)
    else:  # a step answered with buttons
        await _send(context, dialog.chat_id, views.use_buttons(tr))
        await _send(context, dialog.chat_id, _step_view(context, dialog, draft))


async def _category_message(
    context: BotContext, dialog: Dialog, draft: Draft, message: Message
) -> None:
    category = match_category(message.text, context.services.city) if message.text else None
    if category is None:
        await _send(context, dialog.chat_id, views.use_buttons(context.tr))
        await _send(context, dialog.chat_id, _step_view(context, dialog, draft))
        return
    await _choose_category(context, dialog, draft, category.id)


async def _choose_category(
    context: BotContext, dialog: Dialog, draft: Draft, category_id: str
) -> None:
    draft.category = category_id
    await _go(context, dialog, draft, _after(draft, "category"))


async def _where_message(
    context: BotContext, dialog: Dialog, draft: Draft, message: Message
) -> None:
    tr, city = context.tr, context.services.city
    location = message.venue.location if message.venue else message.location
    if location is not None:
        draft.clear_place()
        if message.venue is not None:
            draft.address = (message.venue.title + ", " + message.venue.address)[:MAX_ADDRESS]
        latitude, longitude = location.latitude, location.longitude
        if city.bounding_box is not None and not city.bounding_box.contains(latitude, longitude):
            draft.pending_location = [latitude, longitude]
            await _go(context, dialog, draft, "where_confirm")
            return
        draft.latitude, draft.longitude = latitude, longitude
        await _place_chosen(context, dialog, draft)
        return
    text = (message.text or "").strip()
    if not text or views.is_share_location(text, context.services.catalogs.all()):
        await _send(context, dialog.chat_id, views.where_hint(tr))
        return
    neighborhood = match_neighborhood(text, city)
    draft.clear_place()
    if neighborhood is not None:
        draft.neighborhood = neighborhood.id
    elif not MIN_ADDRESS <= len(text) <= MAX_ADDRESS:
        await _send(context, dialog.chat_id, views.address_length(tr, MIN_ADDRESS, MAX_ADDRESS))
        return
    else:
        draft.address = text
        if _emergency(context, draft, text):
            await _send(context, dialog.chat_id, views.emergency_alert(tr, city))
    await _place_chosen(context, dialog, draft)


async def _place_chosen(context: BotContext, dialog: Dialog, draft: Draft) -> None:
    """Acknowledge the place (this also takes the location keyboard away), then move on."""
    tr = context.tr
    place = views.place_text(tr, context.services.city, draft)
    recap = views.chosen(tr, tr._("Place"), place)
    view = await _enter(context, dialog, draft, _after(draft, "where"))
    if isinstance(view.keyboard, ReplyKeyboardMarkup):
        # The next step brings a keyboard of its own in place of the location one: one
        # message says both.
        await _send(context, dialog.chat_id, View(recap + "\n\n" + view.text, view.keyboard))
        return
    await _send(context, dialog.chat_id, View(recap, views.cancel_keyboard(tr)))
    await _send(context, dialog.chat_id, view)


async def _what_message(
    context: BotContext, dialog: Dialog, draft: Draft, message: Message
) -> None:
    """Text (added to the description, or replacing it when editing), photos, a voice note."""
    tr, city = context.tr, context.services.city
    chat_id = dialog.chat_id
    attached = False
    if message.photo:
        if len(draft.photos) >= MAX_PHOTOS:
            await _send(context, chat_id, views.photo_limit(tr))
        else:
            draft.photos.append(message.photo[-1].file_id)
            attached = True
    elif message.voice is not None:
        draft.voice = message.voice.file_id
        attached = True
    elif message.text is None:
        await _send(context, chat_id, views.what_hint(tr))
        return
    text = (message.text if message.text is not None else message.caption or "").strip()
    if text:
        if find_emergency_words(text, city):
            await _send(context, chat_id, views.emergency_alert(tr, city))
        combined = text if draft.editing or not draft.text else draft.text + "\n" + text
        problem = description_problem(combined)
        if problem == "too_long":
            await _send(context, chat_id, views.text_too_long(tr, len(combined)))
        elif problem == "too_short":
            await _send(context, chat_id, views.text_too_short(tr))
        else:
            draft.text = combined
            _emergency(context, draft, text)
            if draft.editing:
                await _go(context, dialog, draft, "confirm")
                return
        if problem is not None and not attached:
            return  # nothing changed: the step stays as it was
    elif not attached:
        return
    await _save(context, dialog, draft, "what")
    await _send(context, chat_id, views.what_received(tr, draft, dialog.version))


# --------------------------------------------------------------------------- flow buttons


async def flow_button(update: Update, context: BotContext) -> None:
    query, chat = update.callback_query, update.effective_chat
    if query is None or query.data is None or chat is None or context.resident is None:
        return
    services, tr = context.services, context.tr
    parts = query.data.split(":")
    dialog = await services.dialogs.get(chat.id)
    if (
        len(parts) < 3
        or not parts[1].isdigit()
        or dialog is None
        or dialog.flow != FLOW
        or dialog.version != int(parts[1])
        or dialog.user_id != query.from_user.id
    ):
        if len(parts) >= 3 and parts[2] == "ok" and await _filed_already(update, context):
            return
        await query.answer(common_views.stale_button(tr), show_alert=True)
        return
    action, argument = parts[2], (parts[3] if len(parts) > 3 else "")
    draft = Draft.from_data(dialog.data)
    handled = await _button(update, context, dialog, draft, action, argument)
    if not handled:
        await query.answer(common_views.stale_button(tr), show_alert=True)


async def _filed_already(update: Update, context: BotContext) -> bool:
    """Confirm pressed again on the very summary a report was filed from: say so again.

    The first "received" may never have arrived (the bot restarted between filing the
    report and answering). Any other summary's Confirm is a stale button.
    """
    query, resident = update.callback_query, context.resident
    assert query is not None and resident is not None
    summary = query.message
    if not isinstance(summary, Message):
        return False
    services = context.services
    report = await services.reports.confirmed_from(resident.user_id, summary.message_id)
    if report is None:
        return False
    await _close_buttons(update)
    await _send(context, summary.chat.id, _filed_view(context, report))
    return True


async def _close_buttons(update: Update, text: str | None = None) -> None:
    """Answer the press and take the buttons off the pressed message."""
    query = update.callback_query
    assert query is not None
    await answer_press(query.get_bot(), query.id)
    pressed = query.message
    if pressed is None:  # a button under an inline-mode message: nothing to edit here
        return
    try:
        if text is None:
            await remove_buttons(query.get_bot(), pressed.chat.id, pressed.message_id)
        else:
            await edit_html(query.get_bot(), pressed.chat.id, pressed.message_id, text)
    except BadRequest as error:
        log.debug("could not close the buttons: %s", error)


async def _button(
    update: Update,
    context: BotContext,
    dialog: Dialog,
    draft: Draft,
    action: str,
    argument: str,
) -> bool:
    tr, city, step = context.tr, context.services.city, dialog.step
    if action == "cancel":
        await _close_buttons(update)
        await _cancel(context, dialog.chat_id)
    elif action == "cat" and step == "category":
        category = city.category(argument)
        if category is None:
            return False
        await _close_buttons(
            update,
            views.chosen(tr, tr._("Concern"), category.name(tr.language, city.default_language)),
        )
        await _choose_category(context, dialog, draft, category.id)
    elif action == "loc" and step == "where_confirm" and draft.pending_location:
        await _close_buttons(update)
        if argument == "yes":
            draft.latitude, draft.longitude = draft.pending_location
            draft.pending_location = None
            draft.outside_area = True
            await _place_chosen(context, dialog, draft)
        else:
            draft.clear_place()
            await _go(context, dialog, draft, "where")
    elif action == "next" and step == "what":
        if description_problem(draft.text) is not None:
            assert update.callback_query is not None
            await update.callback_query.answer(views.text_too_short(tr), show_alert=True)
            return True
        await _close_buttons(update)
        await _go(context, dialog, draft, _after(draft, "what"))
    elif action == "anon" and step == "identity" and argument in ("0", "1"):
        draft.anonymous = argument == "1"
        await _close_buttons(update)
        await _go(context, dialog, draft, "confirm")
    elif action == "edit" and step == "confirm":
        await _close_buttons(update)
        await _go(context, dialog, draft, "edit")
    elif action == "back" and step == "edit":
        await _close_buttons(update)
        await _go(context, dialog, draft, "confirm")
    elif action == "e" and step == "edit" and argument in _EDIT_STEPS:
        await _close_buttons(update)
        draft.editing = True
        target = _EDIT_STEPS[argument]
        if target == "where":
            await _go(context, dialog, draft, "where")
        else:
            await _go(context, dialog, draft, target)
    elif action == "ok" and step == "confirm":
        await _confirm(update, context, dialog, draft)
    else:
        return False
    return True


_EDIT_STEPS = {"cat": "category", "place": "where", "what": "what", "id": "identity"}
_STEPS = frozenset({"category", "where", "where_confirm", "what", "identity", "confirm", "edit"})


async def _confirm(update: Update, context: BotContext, dialog: Dialog, draft: Draft) -> None:
    query, user = update.callback_query, update.effective_user
    resident = context.resident
    assert query is not None and user is not None and resident is not None
    services, tr = context.services, context.tr

    async def clear(tx: Transaction) -> Any:
        return await services.dialogs.clear_in(tx, dialog.chat_id)

    filed = await services.reports.file_report(
        draft,
        resident_id=resident.user_id,
        chat_id=dialog.chat_id,
        language=resident.language,
        reporter=Reporter(user.full_name, user.username),
        clear_dialog=clear,
        confirm_message_id=query.message.message_id if query.message is not None else None,
    )
    if filed.report is None:
        # Over the hourly limit: the draft stays, and its Confirm button keeps working.
        assert filed.retry_at is not None
        await query.answer()
        text = views.rate_limited(tr, services.city, filed.retry_at, services.clock.time())
        await _send(context, dialog.chat_id, text + "\n\n" + views.rate_limited_draft_kept(tr))
        return
    await _close_buttons(update)
    await _send(context, dialog.chat_id, _filed_view(context, filed.report))


def _filed_view(context: BotContext, report: Report) -> View:
    tr = context.tr
    view = views.filed(tr, context.services.city, report, _actions(context))
    if report.staff_chat_id is None:
        view = View(view.text + "\n\n" + views.no_staff_chat_note(tr), view.keyboard)
    return view


# --------------------------------------------------------------------------- /myreports


async def my_reports_command(update: Update, context: BotContext) -> None:
    chat, resident = update.effective_chat, context.resident
    if chat is None or resident is None:
        return
    await _send(context, chat.id, await _my_reports_view(context, resident.user_id))


async def _my_reports_view(context: BotContext, resident_id: int) -> View:
    reports = context.services.reports
    mine = await reports.for_resident(resident_id)
    total = await reports.count_for_resident(resident_id)
    return views.my_reports(context.tr, context.services.city, mine, total)


async def history_button(update: Update, context: BotContext) -> None:
    query, resident = update.callback_query, context.resident
    if query is None or query.data is None or resident is None:
        return
    argument = query.data.split(":", 1)[1] if ":" in query.data else ""
    if argument == "list":
        view = await _my_reports_view(context, resident.user_id)
    else:
        found = (
            await context.services.reports.history(resident.user_id, int(argument))
            if argument.isdigit()
            else None
        )
        if found is None:
            await query.answer(common_views.stale_button(context.tr), show_alert=True)
            return
        view = views.history(context.tr, context.services.city, *found)
    await query.answer()
    try:
        await query.edit_message_text(
            view.text,
            parse_mode=ParseMode.HTML,
            reply_markup=view.keyboard,  # type: ignore[arg-type]
        )
    except BadRequest as error:
        if "not modified" not in error.message:
            raise


# --------------------------------------------------------------------------- replies


async def resident_reply(update: Update, context: BotContext) -> None:
    """A resident replied to a message from the liaison team: pass it back to the team."""
    message, chat, user = update.effective_message, update.effective_chat, update.effective_user
    if message is None or chat is None or user is None or message.reply_to_message is None:
        return
    original = message.reply_to_message
    if original.from_user is None or original.from_user.id != context.bot.id:
        return
    services, tr = context.services, context.tr
    report = await services.reports.report_for_resident_reply(user.id, chat.id, original.message_id)
    if report is None:
        return
    content = staff_handlers.relayed_content(message)
    if content is None:
        await _send(context, chat.id, views.relay_not_supported(tr))
        raise ApplicationHandlerStop
    if len(content.text) > MAX_REPLY:
        await _send(context, chat.id, common_views.too_long(tr, MAX_REPLY))
        raise ApplicationHandlerStop
    if find_emergency_words(content.text, services.city):
        await _send(context, chat.id, views.emergency_alert(tr, services.city))
    relayed = await services.reports.relay_to_staff(
        report, content, source_chat_id=chat.id, source_message_id=message.message_id
    )
    text = views.relayed_to_staff(tr, report.reference) if relayed else views.relay_no_staff(tr)
    await message.reply_text(text, parse_mode=ParseMode.HTML)
    raise ApplicationHandlerStop
