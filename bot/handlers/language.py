"""/language: pick a language by its own name; and the detection offer's answer."""

from __future__ import annotations

from telegram import Update
from telegram.constants import ParseMode

from bot.context import BotContext
from bot.views import common as views


async def language_command(update: Update, context: BotContext) -> None:
    message = update.effective_message
    if message is None or context.resident is None:
        return
    city = context.services.city
    view = views.language_picker(context.tr, city.languages, context.resident.language)
    await message.reply_text(view.text, reply_markup=view.keyboard, parse_mode=ParseMode.HTML)


async def language_button(update: Update, context: BotContext) -> None:
    query = update.callback_query
    if query is None or query.data is None or context.resident is None:
        return
    services = context.services
    parts = query.data.split(":")
    if parts[1] == "keep":
        await services.residents.choose_language(
            context.resident.user_id, context.resident.language
        )
        await query.answer()
        await query.edit_message_reply_markup(None)
        return
    code = parts[2] if len(parts) == 3 else ""
    if not await services.residents.choose_language(context.resident.user_id, code):
        await query.answer(views.stale_button(context.tr), show_alert=True)
        return
    tr = services.catalogs.get(code)
    context.tr = tr
    await query.answer()
    await query.edit_message_text(views.language_changed(tr), parse_mode=ParseMode.HTML)
    actions = context.bot_data.get("menu_actions")
    if query.message is not None:
        await context.bot.send_message(
            query.message.chat.id,
            tr._("Main menu"),
            reply_markup=views.main_menu(tr, actions),
        )
