"""/resources and /officers: the city's partner services and liaison officers.

Both start from the neighborhood a resident follows in /alerts when there is one: the
officers of a resident who follows a single neighborhood are shown at once, and the
neighborhood pickers list the resident's own neighborhoods first.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

from telegram import Update
from telegram.constants import ParseMode
from telegram.error import TelegramError
from telegram.ext import CallbackQueryHandler, CommandHandler, filters

from bot.config import PROJECT_ROOT, Officer
from bot.context import BotApplication, BotContext
from bot.handlers.flows import Feature, Router
from bot.storage.subscriptions import CITYWIDE
from bot.views import common
from bot.views import resources as views
from bot.views.common import View

log = logging.getLogger(__name__)


async def _followed(context: BotContext) -> list[str]:
    """The neighborhoods the resident follows (in city order), if the alerts feature runs."""
    resident, alerts = context.resident, context.services.alerts
    if resident is None or alerts is None:
        return []
    areas = (await alerts.settings(resident.user_id)).areas
    return [n.id for n in context.services.city.neighborhoods if n.id in areas and n.id != CITYWIDE]


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
    view: View
    if parts[1] == "menu":
        view = views.resource_menu(context.tr, city)
    elif parts[1] == "nbs":
        view = views.resources_neighborhoods(context.tr, city, await _followed(context))
    elif parts[1] == "nb" and len(parts) == 3 and city.neighborhood(parts[2]) is not None:
        view = views.resources_near(context.tr, city, parts[2])
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
    city = context.services.city
    followed = await _followed(context)
    if len(followed) == 1:
        view, officers = views.officers_for(context.tr, city, followed[0])
        await message.reply_text(view.text, reply_markup=view.keyboard, parse_mode=ParseMode.HTML)
        await _send_photos(context, message.chat.id, officers)
        return
    view = views.officers_prompt(context.tr, city, followed)
    await message.reply_text(view.text, reply_markup=view.keyboard, parse_mode=ParseMode.HTML)


def _photo(path: str) -> Path | str | None:
    """A photo Telegram can take: an http(s) URL as it is, or an existing local file."""
    if not path:
        return None
    if path.startswith(("https://", "http://")):
        return path
    if "://" in path:
        return None
    candidate = Path(path) if Path(path).is_absolute() else PROJECT_ROOT / path
    return candidate if candidate.is_file() else None


async def _send_photos(context: BotContext, chat_id: int, officers: Sequence[Officer]) -> None:
    city = context.services.city
    for officer in officers:
        photo = _photo(officer.photo)
        if photo is None:
            continue
        try:
            await context.bot.send_photo(
                chat_id, photo, caption=officer.name(context.tr.language, city.default_language)
            )
        except TelegramError as error:
            # The officer's details went out as text; a broken photo link must not stop that.
            log.warning("could not send the photo of officer %s: %s", officer.id, error)


async def officers_button(update: Update, context: BotContext) -> None:
    query = update.callback_query
    if query is None or query.data is None:
        return
    city = context.services.city
    if query.data == "off:list":
        view = views.officers_prompt(context.tr, city, await _followed(context))
        await query.answer()
        await query.edit_message_text(
            view.text, reply_markup=view.inline, parse_mode=ParseMode.HTML
        )
        return
    neighborhood_id = query.data.split(":", 2)[-1]
    if not query.data.startswith("off:nb:") or city.neighborhood(neighborhood_id) is None:
        await query.answer(common.stale_button(context.tr), show_alert=True)
        return
    view, officers = views.officers_for(context.tr, city, neighborhood_id)
    await query.answer()
    await query.edit_message_text(view.text, reply_markup=view.inline, parse_mode=ParseMode.HTML)
    if query.message is not None:
        await _send_photos(context, query.message.chat.id, officers)


def register(application: BotApplication, router: Router) -> None:
    private = filters.ChatType.PRIVATE
    application.add_handler(CommandHandler("resources", resources_command, filters=private))
    application.add_handler(CommandHandler("officers", officers_command, filters=private))
    application.add_handler(CallbackQueryHandler(resources_button, pattern=r"^res:"))
    application.add_handler(CallbackQueryHandler(officers_button, pattern=r"^off:"))
    router.menu_action("resources", resources_command)


FEATURE = Feature(register)
