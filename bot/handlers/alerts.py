"""/alerts, /stop, the Unsubscribe button and `nb_<neighborhood>` deep links."""

from __future__ import annotations

import logging
import re

from telegram import CallbackQuery, Update
from telegram.constants import ParseMode
from telegram.error import BadRequest
from telegram.ext import CallbackQueryHandler, CommandHandler, filters

from bot.context import BotApplication, BotContext
from bot.handlers.common import reply
from bot.handlers.flows import Feature, Router
from bot.services.alerts import AlertService
from bot.storage.subscriptions import AlertSettings
from bot.views import alerts as views
from bot.views import common as common_views
from bot.views.common import View

log = logging.getLogger(__name__)

PRIVATE = filters.ChatType.PRIVATE
_TOGGLE_RE = re.compile(r"^al:(?P<what>[atp]):(?P<value>\*|[a-z0-9][a-z0-9_-]{0,30}):(?P<on>[01])$")


def _service(context: BotContext) -> AlertService:
    service: AlertService = context.services.alerts
    return service


async def edit(query: CallbackQuery, view: View | str) -> None:
    """Replace the pressed message's text and buttons ("not modified" is fine)."""
    text, keyboard = (view, None) if isinstance(view, str) else (view.text, view.keyboard)
    try:
        await query.edit_message_text(text, parse_mode=ParseMode.HTML, reply_markup=keyboard)  # type: ignore[arg-type]
    except BadRequest as error:
        if "not modified" not in error.message:
            raise


async def show_alerts(update: Update, context: BotContext) -> None:
    """/alerts and the main-menu button: the current choice and a toggle for everything."""
    resident = context.resident
    if resident is None:
        return
    settings = await _service(context).settings(resident.user_id)
    view = views.alerts_screen(context.tr, context.services.city, settings)
    await reply(update, context, view.text, view.keyboard)


async def stop_command(update: Update, context: BotContext) -> None:
    """/stop: one question, then everything is off."""
    if context.resident is None:
        return
    view = views.stop_question(context.tr)
    await reply(update, context, view.text, view.keyboard)


async def alerts_button(update: Update, context: BotContext) -> None:
    query = update.callback_query
    resident = context.resident
    if query is None or query.data is None or resident is None:
        return
    service = _service(context)
    tr, city = context.tr, context.services.city
    data = query.data
    if data == "al:unsub":
        # Under a broadcast or a reminder: ask in a new message, leave that one as it is.
        await query.answer()
        view = views.stop_question(tr)
        await reply(update, context, view.text, view.keyboard)
        return
    if data == "al:stop":
        await query.answer()
        await edit(query, views.stop_question(tr))
        return
    if data == "al:stop:yes":
        await service.stop(resident.user_id)
        log.info("resident %s stopped all alerts", resident.user_id)
        await query.answer()
        await edit(query, views.stopped(tr))
        return
    if data == "al:menu":
        await query.answer()
        current = await service.settings(resident.user_id)
        await edit(query, views.alerts_screen(tr, city, current))
        return
    match = _TOGGLE_RE.match(data)
    if match is None:
        await query.answer(common_views.stale_button(tr), show_alert=True)
        return
    on = match["on"] == "1"
    what, value = match["what"], match["value"]
    settings: AlertSettings | None
    if what == "a":
        settings = await service.set_area(resident.user_id, value, on)
    elif what == "t":
        settings = await service.set_event_type(resident.user_id, value, on)
    else:
        settings = await service.set_pref(resident.user_id, value, on)
    if settings is None:  # a neighborhood or type the city no longer has
        await query.answer(common_views.stale_button(tr), show_alert=True)
        return
    await query.answer()
    await edit(query, views.alerts_screen(tr, city, settings))


async def neighborhood_link(update: Update, context: BotContext, rest: str) -> bool:
    """`/start nb_<neighborhood>` from a flyer: follow it, or say why not."""
    resident = context.resident
    if resident is None:
        return False
    service = _service(context)
    tr, city = context.tr, context.services.city
    result = await service.subscribe_link(resident.user_id, rest)
    if result.ok:
        head = views.subscribed(tr, city, rest, already=result.already)
    else:
        log.info("unknown neighborhood in a deep link: %r", rest[:40])
        head = views.unknown_neighborhood(tr, rest)
    view = views.alerts_screen(tr, city, result.settings)
    await reply(update, context, f"{head}\n\n{view.text}", view.keyboard)
    return True


def register(application: BotApplication, router: Router) -> None:
    application.add_handler(CommandHandler("alerts", show_alerts, filters=PRIVATE))
    application.add_handler(CommandHandler("stop", stop_command, filters=PRIVATE))
    application.add_handler(CallbackQueryHandler(alerts_button, pattern=r"^al:"))
    router.start_link("nb_", neighborhood_link)
    router.menu_action("alerts", show_alerts)


FEATURE = Feature(register)
