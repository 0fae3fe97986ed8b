"""/privacy, /mydata, /deletemydata; and the check that binds every button to its chat.

Deleting is a stored two-step dialog: /deletemydata (or the button under /privacy) asks,
and only the "Yes" button of that very question (it carries the dialog's version)
erases. A conversation that was open before is kept aside and given back on "Keep".
"""

from __future__ import annotations

import logging
from typing import Any

from telegram import Message, Update
from telegram.constants import ChatType, ParseMode
from telegram.error import BadRequest
from telegram.ext import ApplicationHandlerStop, CallbackQueryHandler, CommandHandler, TypeHandler
from telegram.ext import filters as ptb_filters

from bot.context import BotApplication, BotContext, Services
from bot.handlers.common import menu_action_for, reply
from bot.handlers.flows import Feature, Router
from bot.jobs import privacy as privacy_jobs
from bot.services.privacy import DELETE_FLOW, KIND_PRIVACY, PrivacyService
from bot.storage import Dialog, ResidentRepository
from bot.storage.privacy import PrivacyRepository
from bot.storage.reports import ReportRepository
from bot.views import common as common_views
from bot.views import privacy as views

log = logging.getLogger(__name__)

PRIVATE = ptb_filters.ChatType.PRIVATE
# The only buttons the bot ever puts in a group: the status buttons of report cards.
GROUP_BUTTON_PREFIXES = ("rs:",)
MAX_CALLBACK_BYTES = 64


def register(application: BotApplication, router: Router) -> None:
    # Group -70, after the resident is loaded and foreign groups are dropped: a button
    # press must come from the chat the button is in, by its owner (in a private chat,
    # the chat's own user); in a group only the staff buttons exist. A press that fails
    # this (forged, or replayed on another message) is refused before any feature sees it.
    application.add_handler(TypeHandler(Update, bind_callbacks), group=-70)
    application.add_handler(CommandHandler("privacy", privacy_command, filters=PRIVATE))
    application.add_handler(CommandHandler("mydata", mydata_command, filters=PRIVATE))
    application.add_handler(CommandHandler("deletemydata", delete_command, filters=PRIVATE))
    application.add_handler(CallbackQueryHandler(privacy_button, pattern=r"^pv:"))
    router.flow(DELETE_FLOW, delete_flow_message)


async def on_start(application: BotApplication, services: Services) -> None:
    """Build the privacy service and schedule the nightly retention job."""
    events, surveys = services.events, services.surveys

    async def release_place(event_id: int, user_id: int) -> object:
        return await events.rsvp(event_id, user_id, "no")

    services.privacy = PrivacyService(
        db=services.db,
        repo=PrivacyRepository(services.db),
        reports=ReportRepository(services.db),
        residents=ResidentRepository(services.db),
        dialogs=services.dialogs,
        city=services.city,
        clock=services.clock,
        hash_secret=services.settings.hash_secret,
        messages=views.PrivacyTexts(services.catalogs, services.city),
        surveys=surveys.get if surveys is not None else None,
        release_place=release_place if events is not None else None,
        wake=services.sender.wake,
    )
    services.sender.on_sent(KIND_PRIVACY, services.privacy.notice_sent)
    if application.job_queue is not None:
        privacy_jobs.schedule(application.job_queue, services.city)


FEATURE = Feature(register, on_start)


# --------------------------------------------------------------------------- buttons


async def bind_callbacks(update: Update, context: BotContext) -> None:
    """Refuse a button press that does not belong where it was pressed."""
    query = update.callback_query
    if query is None:
        return
    message = query.message
    chat = message.chat if message is not None else None
    data = query.data or ""
    if chat is None or not data or len(data.encode()) > MAX_CALLBACK_BYTES:
        bound = False
    elif chat.type == ChatType.PRIVATE:
        bound = chat.id == query.from_user.id
    else:
        bound = data.startswith(GROUP_BUTTON_PREFIXES)
    if bound:
        return
    log.info("refused a button press (%r) by %s", data[:64], query.from_user.id)
    await query.answer(common_views.stale_button(context.tr), show_alert=True)
    raise ApplicationHandlerStop


async def privacy_button(update: Update, context: BotContext) -> None:
    query, chat, user = update.callback_query, update.effective_chat, update.effective_user
    if query is None or chat is None or user is None:
        return
    match = views.BUTTON_RE.match(query.data or "")
    if match is None or context.resident is None:
        await query.answer(common_views.stale_button(context.tr), show_alert=True)
        return
    if match["simple"] == "export":
        await query.answer()
        await send_my_data(context, chat.id, user.id)
    elif match["simple"] == "delete":
        await query.answer()
        await ask_to_delete(context, chat.id, user.id)
    elif match["answer"] == "yes":
        await _confirm(update, context, int(match["version"]))
    else:
        await _keep(update, context, int(match["version"]))


# --------------------------------------------------------------------------- commands


async def privacy_command(update: Update, context: BotContext) -> None:
    view = views.privacy(context.tr, context.services.city)
    await reply(update, context, view.text, view.keyboard)


async def mydata_command(update: Update, context: BotContext) -> None:
    chat, user = update.effective_chat, update.effective_user
    if chat is None or user is None or context.resident is None:
        return
    await send_my_data(context, chat.id, user.id)


async def send_my_data(context: BotContext, chat_id: int, user_id: int) -> None:
    """The resident's data as a JSON document (an immediate reply)."""
    service: PrivacyService = context.services.privacy
    data = await service.personal_data(user_id, chat_id)
    await context.bot.send_document(
        chat_id,
        service.to_json(data),
        filename=service.export_filename(),
        caption=views.mydata_caption(context.tr),
        parse_mode=ParseMode.HTML,
    )


async def delete_command(update: Update, context: BotContext) -> None:
    chat, user = update.effective_chat, update.effective_user
    if chat is None or user is None or context.resident is None:
        return
    await ask_to_delete(context, chat.id, user.id)


async def ask_to_delete(context: BotContext, chat_id: int, user_id: int) -> None:
    """Open (or reopen) the confirmation dialog and ask."""
    services = context.services
    service: PrivacyService = services.privacy
    current = await services.dialogs.get(chat_id)
    data: dict[str, Any] = {}
    if current is not None and current.flow == DELETE_FLOW:
        data = current.data  # asked again: keep what was set aside the first time
    elif current is not None:
        data = {"previous": {"flow": current.flow, "step": current.step, "data": current.data}}
    dialog = Dialog(chat_id, user_id, DELETE_FLOW, "confirm", data)
    await services.dialogs.save(dialog, services.clock.time())
    view = views.delete_question(context.tr, await service.holdings(user_id), dialog.version)
    await context.bot.send_message(
        chat_id, view.text, parse_mode=ParseMode.HTML, reply_markup=view.keyboard
    )


async def _confirm(update: Update, context: BotContext, version: int) -> None:
    query, chat, user = update.callback_query, update.effective_chat, update.effective_user
    assert query is not None and chat is not None and user is not None
    service: PrivacyService = context.services.privacy
    erased = await service.erase(user_id=user.id, chat_id=chat.id, dialog_version=version)
    if erased is None:
        await query.answer(common_views.stale_button(context.tr), show_alert=True)
        return
    await query.answer()
    await _edit(query.message, views.deleted(context.tr, erased))


async def _keep(update: Update, context: BotContext, version: int) -> None:
    query, chat = update.callback_query, update.effective_chat
    assert query is not None and chat is not None
    services = context.services
    dialog = await services.dialogs.get(chat.id)
    if dialog is None or dialog.flow != DELETE_FLOW or dialog.version != version:
        await query.answer(common_views.stale_button(context.tr), show_alert=True)
        return
    await _restore(context, dialog)
    await query.answer()
    await _edit(query.message, views.kept(context.tr))


async def _restore(context: BotContext, dialog: Dialog) -> None:
    """Close the confirmation; give back the conversation it had set aside, if any."""
    services = context.services
    previous = dialog.data.get("previous")
    if isinstance(previous, dict) and previous.get("flow"):
        restored = Dialog(
            dialog.chat_id,
            dialog.user_id,
            str(previous["flow"]),
            str(previous.get("step", "")),
            dict(previous.get("data") or {}),
        )
        await services.dialogs.save(restored, services.clock.time())
    else:
        await services.dialogs.clear(dialog.chat_id)


async def _edit(message: object, text: str) -> None:
    if not isinstance(message, Message):
        return
    try:
        await message.edit_text(text, parse_mode=ParseMode.HTML)
    except BadRequest as error:
        log.debug("could not edit the privacy question: %s", error)


async def delete_flow_message(update: Update, context: BotContext, dialog: Dialog) -> None:
    """A message while the confirmation is open: a menu button leaves it, anything else
    is asked to use the buttons."""
    message = update.effective_message
    if message is None or update.edited_message is not None:
        return
    router: Router = context.bot_data["router"]
    action = menu_action_for(message.text, context) if message.text else None
    if action is not None and action in router.menu:
        await _restore(context, dialog)
        await reply(update, context, views.kept(context.tr))
        await router.menu[action](update, context)
        return
    await reply(update, context, views.use_buttons(context.tr))
