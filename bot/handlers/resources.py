"""/resources and /officers: the city's partner services and liaison officers."""

from __future__ import annotations

from pathlib import Path

from telegram import Update
from telegram.constants import ParseMode
from telegram.ext import CallbackQueryHandler, CommandHandler, filters

from bot.config import PROJECT_ROOT
from bot.context import BotApplication, BotContext
from bot.handlers.flows import Feature, Router
from bot.views import common
from bot.views import resources as views


async def resources_command(update: Update, context: BotContext) -> None:
    message = update.effective_message
    if message is None:
        return
    view = views.resource_menu(context.tr, context.services.city)
    await message.reply_text(view.text, reply_markup=view.keyboard, parse_mode=ParseMode.HTML)


async def resources_button(update: Update, context: BotContext) -> None:
    query = update.callback_query
    if query is None or query.data is None:
        return
    city = context.services.city
    parts = query.data.split(":", 2)
    if parts[1] == "menu":
        view = views.resource_menu(context.tr, city)
    elif (
        parts[1] == "cat"
        and len(parts) == 3
        and any(r.category == parts[2] for r in city.resources)
    ):
        view = views.resources_in(context.tr, city, parts[2])
    else:
        await query.answer(common.stale_button(context.tr), show_alert=True)
        return
    await query.answer()
    await query.edit_message_text(view.text, reply_markup=view.inline, parse_mode=ParseMode.HTML)


async def officers_command(update: Update, context: BotContext) -> None:
    message = update.effective_message
    if message is None:
        return
    view = views.officers_prompt(context.tr, context.services.city)
    await message.reply_text(view.text, reply_markup=view.keyboard, parse_mode=ParseMode.HTML)


def _photo(path: str) -> Path | None:
    if not path or "://" in path:
        return None
    candidate = Path(path) if Path(path).is_absolute() else PROJECT_ROOT / path
    return candidate if candidate.is_file() else None


async def officers_button(update: Update, context: BotContext) -> None:
    query = update.callback_query
    if query is None or query.data is None:
        return
    neighborhood_id = query.data.split(":", 2)[-1]
    if context.services.city.neighborhood(neighborhood_id) is None:
        await query.answer(common.stale_button(context.tr), show_alert=True)
        return
    view, officers = views.officers_for(context.tr, context.services.city, neighborhood_id)
    await query.answer()
    await query.edit_message_text(view.text, parse_mode=ParseMode.HTML)
    if query.message is None:
        return
    for officer in officers:
        photo = _photo(officer.photo)
        if photo is not None:
            await context.bot.send_photo(
                query.message.chat.id, photo, caption=officer.name(context.tr.language)
            )


def register(application: BotApplication, router: Router) -> None:
    private = filters.ChatType.PRIVATE
    application.add_handler(CommandHandler("resources", resources_command, filters=private))
    application.add_handler(CommandHandler("officers", officers_command, filters=private))
    application.add_handler(CallbackQueryHandler(resources_button, pattern=r"^res:"))
    application.add_handler(CallbackQueryHandler(officers_button, pattern=r"^off:nb:"))
    router.menu_action("resources", resources_command)


FEATURE = Feature(register)
