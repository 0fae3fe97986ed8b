"""The one error handler: log first, with the update id, then a short kind apology."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.error import Forbidden, TelegramError

from bot.context import BotContext
from bot.views import common as views

log = logging.getLogger("bot.errors")


async def on_error(update: object, context: BotContext) -> None:
    update_id = update.update_id if isinstance(update, Update) else None
    log.error("error while handling update %s", update_id, exc_info=context.error)
    if not isinstance(update, Update) or isinstance(context.error, Forbidden):
        return
    try:
        services = context.services
    except KeyError:  # start-up failed before the services existed
        return
    # The error handler gets a fresh context: look the resident's language up again.
    user = update.effective_user
    resident = await services.residents.get(user.id) if user is not None else None
    tr = services.catalogs.get(resident.language if resident else services.city.default_language)
    try:
        if update.callback_query is not None:
            await update.callback_query.answer(views.apology(tr), show_alert=True)
        elif update.effective_chat is not None and update.effective_message is not None:
            await context.bot.send_message(update.effective_chat.id, views.apology(tr))
    except TelegramError:
        log.warning("could not send the apology for update %s", update_id)
