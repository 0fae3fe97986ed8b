"""/stats for staff and admins; /digestnote, the admin's "you said, we did" note for the
monthly transparency digest (a stored dialog: text -> preview -> save).

The note's steps live in the `dialogs` table (flow `digestnote`); the preview's buttons
carry the dialog version, and saving closes the dialog in the note's transaction, so a
stale or second tap changes nothing.
"""

from __future__ import annotations

import asyncio
import logging
import re

from telegram import InputMediaPhoto, Message, Update
from telegram.constants import ChatType, ParseMode
from telegram.error import BadRequest, TelegramError
from telegram.ext import CallbackQueryHandler, CommandHandler, filters

from bot.context import BotApplication, BotContext, Services
from bot.handlers.common import menu_action_for, reply
from bot.handlers.flows import Feature, Router
from bot.handlers.staff import is_staff
from bot.jobs import transparency as jobs
from bot.services.charts import bar_chart
from bot.services.stats import BadPeriod, StatsService, previous_month
from bot.services.transparency import FLOW, MAX_NOTE, TransparencyService, month_key
from bot.storage import Dialog
from bot.storage.stats import StatsRepository, TransparencyRepository
from bot.views import common as common_views
from bot.views import stats as views
from bot.views import transparency as tviews
from bot.views.common import View

log = logging.getLogger(__name__)

PRIVATE = filters.ChatType.PRIVATE
MEDIA_GROUP = 10
_COMMAND_TEXT = re.compile(r"^/\S+\s*(.*)$", re.DOTALL)
STEP_TEXT = "text"
STEP_CONFIRM = "confirm"


def register(application: BotApplication, router: Router) -> None:
    # /stats: in a private chat for admins, in the staff chat for its members; the
    # handler says no everywhere else (the bot ignores unknown groups before this).
    application.add_handler(CommandHandler("stats", stats_command))
    application.add_handler(CommandHandler("digestnote", digestnote_command, filters=PRIVATE))
    application.add_handler(CallbackQueryHandler(digestnote_button, pattern=r"^dn:"))
    router.flow(FLOW, _make_flow(router))


async def on_start(application: BotApplication, services: Services) -> None:
    city = services.city
    stats_repo = StatsRepository(services.db)
    stats = StatsService(repo=stats_repo, city=city, clock=services.clock)
    stats.transparency = TransparencyService(
        db=services.db,
        repo=TransparencyRepository(services.db),
        stats=stats_repo,
        outbox=services.outbox,
        city=city,
        catalogs=services.catalogs,
        clock=services.clock,
        render=lambda tr, content: tviews.digest(tr, city, content),
        wake=services.sender.wake,
    )
    services.stats = stats
    if application.job_queue is not None:
        jobs.schedule(application.job_queue)


FEATURE = Feature(register, on_start)


def _stats(context: BotContext) -> StatsService:
    service: StatsService = context.services.stats
    return service


def _transparency(context: BotContext) -> TransparencyService:
    service = _stats(context).transparency
    assert service is not None, "the stats feature starts the transparency service"
    return service


# --------------------------------------------------------------------------- /stats


async def _may_see_stats(update: Update, context: BotContext) -> bool:
    message, chat, user = update.effective_message, update.effective_chat, update.effective_user
    if message is None or chat is None:
        return False
    services = context.services
    if chat.type == ChatType.PRIVATE:
        return services.is_admin(user.id if user else None)
    if chat.id != services.settings.staff_chat_id:
        return False
    if message.sender_chat is not None:
        # An anonymous group admin writes as the chat itself.
        return message.sender_chat.id == chat.id
    return user is not None and await is_staff(context, chat.id, user.id)


async def stats_command(update: Update, context: BotContext) -> None:
    message = update.effective_message
    if message is None:
        return
    tr = context.tr
    if not await _may_see_stats(update, context):
        await message.reply_text(views.not_allowed(tr), parse_mode=ParseMode.HTML)
        return
    services = context.services
    service = _stats(context)
    period = service.parse_period(" ".join(context.args or []))
    if isinstance(period, BadPeriod):
        today = services.clock.now().astimezone(services.city.timezone).date()
        last_month = previous_month(today.replace(day=1))
        await message.reply_text(
            views.bad_period(tr, period, month_key(last_month)), parse_mode=ParseMode.HTML
        )
        return
    stats = await service.statistics(period)
    for text in views.stats_texts(tr, services.city, stats):
        await message.reply_text(text, parse_mode=ParseMode.HTML)
    chart_tr = views.chart_translator(tr, services.catalogs, services.city)
    specs = views.stats_charts(chart_tr, services.city, stats, caption_tr=tr)
    images = [
        await asyncio.to_thread(
            bar_chart, spec.title, spec.labels, spec.values, annotations=spec.annotations
        )
        for spec in specs
    ]
    await _send_charts(message, list(zip(specs, images, strict=True)))


async def _send_charts(message: Message, charts: list[tuple[views.ChartSpec, bytes]]) -> None:
    for start in range(0, len(charts), MEDIA_GROUP):
        chunk = charts[start : start + MEDIA_GROUP]
        try:
            if len(chunk) == 1:
                spec, image = chunk[0]
                await message.reply_photo(image, caption=spec.caption, parse_mode=ParseMode.HTML)
            else:
                await message.reply_media_group(
                    [
                        InputMediaPhoto(
                            image,
                            caption=spec.caption,
                            parse_mode=ParseMode.HTML,
                            filename=f"stats-{index}.png",
                        )
                        for index, (spec, image) in enumerate(chunk, start=start + 1)
                    ]
                )
        except TelegramError as error:
            # The figures went out as text already; the pictures only repeat them.
            log.warning("could not send the statistics charts: %s", error)
            return


# --------------------------------------------------------------------------- /digestnote


def _is_admin(update: Update, context: BotContext) -> bool:
    user = update.effective_user
    return context.services.is_admin(user.id if user else None)


def _note_language(context: BotContext) -> str:
    city = context.services.city
    language = context.tr.language
    return language if language in city.languages else city.default_language


async def _overview(context: BotContext, *, head: str = "") -> View:
    service = _transparency(context)
    slot = service.next_slot()
    return tviews.overview(
        context.tr,
        context.services.city,
        slot,
        await service.notes(slot.key),
        await service.reader_count(),
        head=head,
    )


async def _open_dialog(
    context: BotContext, chat_id: int, user_id: int, step: str, data: dict[str, str]
) -> Dialog:
    dialog = Dialog(chat_id, user_id, FLOW, step, dict(data))
    return await context.services.dialogs.save(dialog, context.services.clock.time())


async def _show_preview(context: BotContext, dialog: Dialog) -> None:
    service = _transparency(context)
    key, language, text = dialog.data["month"], dialog.data["language"], dialog.data["text"]
    slot = service.slot_for(key)
    sample = await service.preview(key, language, text)
    if slot is None or sample is None:
        return
    view = tviews.preview(context.tr, slot, language, sample, dialog.version)
    await context.bot.send_message(
        dialog.chat_id, view.text, parse_mode=ParseMode.HTML, reply_markup=view.keyboard
    )


async def _take_text(context: BotContext, dialog: Dialog, text: str) -> None:
    """A note was written: check its length, then show how residents will see it."""
    body = text.strip()
    if len(body) > MAX_NOTE:
        await context.bot.send_message(
            dialog.chat_id, tviews.too_long(context.tr, len(body)), parse_mode=ParseMode.HTML
        )
        return
    dialog.step = STEP_CONFIRM
    dialog.data["text"] = body
    await context.services.dialogs.save(dialog, context.services.clock.time())
    await _show_preview(context, dialog)


async def digestnote_command(update: Update, context: BotContext) -> None:
    """/digestnote: the next digest's note in every language; `/digestnote TEXT` writes it
    in the admin's language."""
    message, chat, user = update.effective_message, update.effective_chat, update.effective_user
    if message is None or chat is None or user is None:
        return
    if not _is_admin(update, context):
        await reply(update, context, common_views.not_allowed(context.tr))
        return
    match = _COMMAND_TEXT.match(message.text or "")
    body = match.group(1).strip() if match else ""
    if not body:
        if await _in_flow(context, chat.id):
            await context.services.dialogs.clear(chat.id)  # a note half-written is dropped
        view = await _overview(context)
        await reply(update, context, view.text, view.keyboard)
        return
    slot = _transparency(context).next_slot()
    dialog = await _open_dialog(
        context,
        chat.id,
        user.id,
        STEP_TEXT,
        {"month": slot.key, "language": _note_language(context)},
    )
    await _take_text(context, dialog, body)


async def _in_flow(context: BotContext, chat_id: int) -> bool:
    dialog = await context.services.dialogs.get(chat_id)
    return dialog is not None and dialog.flow == FLOW


async def _drop_buttons(message: Message | None) -> None:
    if message is None:
        return
    try:
        await message.edit_reply_markup(None)
    except BadRequest as error:
        if "not modified" not in error.message:
            log.info("could not remove the buttons: %s", error)


async def _edit(message: Message, view: View) -> None:
    try:
        await message.edit_text(view.text, parse_mode=ParseMode.HTML, reply_markup=view.inline)
    except BadRequest as error:
        if "not modified" not in error.message:
            raise


async def digestnote_button(update: Update, context: BotContext) -> None:
    query = update.callback_query
    if query is None or query.data is None:
        return
    tr = context.tr
    if not _is_admin(update, context):
        await query.answer(common_views.not_allowed(tr), show_alert=True)
        return
    match = tviews.BUTTON_RE.match(query.data)
    message = query.message if isinstance(query.message, Message) else None
    if match is None or message is None:
        await query.answer(common_views.stale_button(tr), show_alert=True)
        return
    if match["version"] is not None:
        await _step_button(update, context, message, int(match["version"]), match["action"])
        return
    service = _transparency(context)
    slot = service.next_slot()
    op, key, language = match["op"], match["month"], match["language"]
    city = context.services.city
    if key != slot.key or (op == "w" and language not in city.languages):
        await query.answer(common_views.stale_button(tr), show_alert=True)
        return
    await query.answer()
    if op == "w":
        await _drop_buttons(message)
        await _open_dialog(
            context,
            message.chat.id,
            query.from_user.id,
            STEP_TEXT,
            {"month": key, "language": language},
        )
        await context.bot.send_message(
            message.chat.id, tviews.prompt(tr, slot, language), parse_mode=ParseMode.HTML
        )
    elif op == "rm":
        await _edit(message, tviews.confirm_removal(tr, slot))
    elif op == "rmy":
        await service.remove_notes(key)
        log.info("digest note for %s removed by %s", key, query.from_user.id)
        await _edit(message, await _overview(context, head=tviews.removed(tr, slot)))
    else:
        await _edit(message, await _overview(context))


async def _step_button(
    update: Update, context: BotContext, message: Message, version: int, action: str
) -> None:
    query = update.callback_query
    assert query is not None
    tr = context.tr
    chat_id = message.chat.id
    dialog = await context.services.dialogs.get(chat_id)
    if dialog is None or dialog.flow != FLOW or dialog.version != version:
        await query.answer(common_views.stale_button(tr), show_alert=True)
        return
    service = _transparency(context)
    if action == "cancel":
        await context.services.dialogs.clear(chat_id)
        await query.answer()
        await _drop_buttons(message)
        await context.bot.send_message(chat_id, tviews.discarded(tr), parse_mode=ParseMode.HTML)
        return
    if action == "redo" or dialog.step != STEP_CONFIRM:
        await query.answer()
        dialog.step = STEP_TEXT
        await context.services.dialogs.save(dialog, context.services.clock.time())
        await _drop_buttons(message)
        slot = service.slot_for(dialog.data["month"]) or service.next_slot()
        await context.bot.send_message(
            chat_id, tviews.prompt(tr, slot, dialog.data["language"]), parse_mode=ParseMode.HTML
        )
        return
    current = service.next_slot()
    if dialog.data["month"] != current.key:
        # The digest this note was for went out while the admin was looking at the preview.
        await query.answer()
        await _drop_buttons(message)
        sent = service.slot_for(dialog.data["month"])
        dialog.data["month"] = current.key
        await context.services.dialogs.save(dialog, context.services.clock.time())
        if sent is not None:
            await context.bot.send_message(
                chat_id, tviews.already_sent(tr, sent.at), parse_mode=ParseMode.HTML
            )
        await _show_preview(context, dialog)
        return
    saved = await service.save_note(
        chat_id=chat_id,
        version=version,
        key=dialog.data["month"],
        language=dialog.data["language"],
        body=dialog.data["text"],
        author_id=query.from_user.id,
    )
    if not saved:
        await query.answer(common_views.stale_button(tr), show_alert=True)
        return
    await query.answer()
    await _drop_buttons(message)
    view = await _overview(context, head=tviews.saved(tr, current, dialog.data["language"]))
    await context.bot.send_message(
        chat_id, view.text, parse_mode=ParseMode.HTML, reply_markup=view.keyboard
    )


def _make_flow(router: Router):  # type: ignore[no-untyped-def]
    async def digestnote_flow(update: Update, context: BotContext, dialog: Dialog) -> None:
        """A private message while the admin writes the note."""
        message = update.effective_message
        if message is None:
            return
        text = message.text
        if text is not None:
            action = menu_action_for(text, context)
            if action is not None and action in router.menu:
                # A main-menu button: put the note aside, do what was asked.
                await context.services.dialogs.clear(dialog.chat_id)
                await router.menu[action](update, context)
                return
        if not _is_admin(update, context):
            await context.services.dialogs.clear(dialog.chat_id)
            await reply(update, context, common_views.not_allowed(context.tr))
            return
        if text is None:
            await reply(update, context, tviews.text_only(context.tr))
            return
        await _take_text(context, dialog, text)

    return digestnote_flow
