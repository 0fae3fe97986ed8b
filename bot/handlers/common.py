"""Cross-cutting update handling and the resident basics: /start, /help, /cancel, hints."""

from __future__ import annotations

import logging
import re
import sqlite3

from telegram import ChatMemberUpdated, Update
from telegram.constants import ChatMemberStatus, ChatType
from telegram.ext import ApplicationHandlerStop

from bot.context import BotContext
from bot.delivery.replies import ReplyMarkup, reply_html
from bot.handlers import errors
from bot.handlers.flows import Router
from bot.i18n import detect_language
from bot.views import common as views

log = logging.getLogger(__name__)
MAX_TEXT = 4000
START_PAYLOAD_RE = re.compile(r"[A-Za-z0-9_-]{1,64}")


async def skip_duplicates(update: Update, context: BotContext) -> None:
    """Stop an update that was handled before (Telegram may deliver one twice)."""
    services = context.services
    try:
        claimed = await services.updates.claim(update.update_id, services.clock.time())
    except sqlite3.OperationalError as error:
        # The database stayed locked past busy_timeout: handle nothing rather than run the
        # later groups unguarded (and fail again); the resident is asked to try again.
        context.error = error
        await errors.on_error(update, context)
        raise ApplicationHandlerStop from error
    if not claimed:
        log.info("update %s delivered again; ignored", update.update_id)
        raise ApplicationHandlerStop


async def load_resident(update: Update, context: BotContext) -> None:
    """Attach the resident (created on first contact) and their translator to the context."""
    chat, user = update.effective_chat, update.effective_user
    if user is None or chat is None or user.is_bot:
        return
    if chat.type == ChatType.PRIVATE:
        context.resident = await context.services.residents.seen(
            user_id=user.id, chat_id=chat.id, telegram_language=user.language_code
        )
    else:
        staff_language = context.services.city.language_for(user.language_code)
        context.tr = context.services.catalogs.get(staff_language)


async def ignore_foreign_groups(update: Update, context: BotContext) -> None:
    """Messages in groups other than the staff chat are ignored by design."""
    chat = update.effective_chat
    if chat is None or chat.type == ChatType.PRIVATE or update.my_chat_member is not None:
        return
    if context.services.staff.is_staff_chat(chat.id):  # the staff chat or a category's own
        return
    raise ApplicationHandlerStop


def menu_actions(context: BotContext, router: Router) -> list[str]:
    return [action for action, _label in views.MENU if action in router.menu]


async def reply(
    update: Update, context: BotContext, text: str, keyboard: ReplyMarkup | None = None
) -> None:
    message = update.effective_message
    if message is None:
        return
    await reply_html(context.bot, message, text, keyboard)


def make_start(router: Router):  # type: ignore[no-untyped-def]
    async def start(update: Update, context: BotContext) -> None:
        user = update.effective_user
        if (
            user is None
            or update.effective_chat is None
            or update.effective_chat.type != ChatType.PRIVATE
        ):
            return
        payload = context.args[0] if context.args else ""
        if payload:
            # Telegram's deep links carry at most 64 characters of A-Z a-z 0-9 _ -; anything
            # else was typed or forged and reaches no feature.
            valid = START_PAYLOAD_RE.fullmatch(payload) is not None and len(context.args or ()) == 1
            for prefix, handler in router.start_links.items() if valid else ():
                if payload.startswith(prefix) and await handler(
                    update, context, payload[len(prefix) :]
                ):
                    return
            view = views.welcome(
                context.tr, context.services.city, user.first_name, menu_actions(context, router)
            )
            await reply(
                update,
                context,
                views.unknown_start_link(context.tr) + "\n\n" + view.text,
                view.keyboard,
            )
            return
        view = views.welcome(
            context.tr, context.services.city, user.first_name, menu_actions(context, router)
        )
        await reply(update, context, view.text, view.keyboard)

    return start


async def help_command(update: Update, context: BotContext) -> None:
    user, chat = update.effective_user, update.effective_chat
    services = context.services
    view = views.help_text(
        context.tr,
        services.city,
        is_admin=services.is_admin(user.id if user else None),
        is_staff=services.is_staff_chat(chat.id if chat else None),
    )
    await reply(update, context, view.text)


def make_cancel(router: Router):  # type: ignore[no-untyped-def]
    async def cancel(update: Update, context: BotContext) -> None:
        chat = update.effective_chat
        if chat is None:
            return
        cleared = await context.services.dialogs.clear(chat.id)
        text = views.cancelled(context.tr) if cleared else views.nothing_to_cancel(context.tr)
        keyboard = (
            views.main_menu(context.tr, menu_actions(context, router))
            if chat.type == ChatType.PRIVATE
            else None
        )
        await reply(update, context, text, keyboard)

    return cancel


async def unknown_command(update: Update, context: BotContext) -> None:
    await reply(update, context, views.unknown_command(context.tr))


def make_private_message(router: Router):  # type: ignore[no-untyped-def]
    async def private_message(update: Update, context: BotContext) -> None:
        """Route a private message: open dialog first, then menu buttons, then a hint."""
        message, chat = update.effective_message, update.effective_chat
        if message is None or chat is None:
            return
        dialog = await context.services.dialogs.get(chat.id)
        if dialog is not None and dialog.flow in router.flows:
            await router.flows[dialog.flow](update, context, dialog)
            return
        if message.text is not None:
            action = menu_action_for(message.text, context)
            if action is not None and action in router.menu:
                await router.menu[action](update, context)
                return
            if len(message.text) > MAX_TEXT:
                await reply(update, context, views.too_long(context.tr, MAX_TEXT))
                return
            if await offer_language(update, context, message.text):
                return
            await reply(
                update,
                context,
                views.stray_text_hint(context.tr),
                views.main_menu(context.tr, menu_actions(context, router)),
            )
            return
        await reply(update, context, views.unsupported_message(context.tr))

    return private_message


def menu_action_for(text: str, context: BotContext) -> str | None:
    return views.menu_action(text, context.services.catalogs.all())


async def offer_language(update: Update, context: BotContext, text: str) -> bool:
    """When free text is confidently in another enabled language, offer it once."""
    resident = context.resident
    if resident is None or resident.chose_language or resident.detect_offered:
        return False
    detected = detect_language(text, context.services.city.languages)
    if not await context.services.residents.should_offer_language(resident, detected):
        return False
    assert detected is not None
    view = views.language_offer(context.tr, detected, context.services.catalogs.get(detected))
    await reply(update, context, view.text, view.keyboard)
    return True


async def chat_member_changed(update: Update, context: BotContext) -> None:
    """A resident who blocks the bot is marked inactive; unblocking makes them active."""
    change: ChatMemberUpdated | None = update.my_chat_member
    if change is None or change.chat.type != ChatType.PRIVATE:
        return
    status = change.new_chat_member.status
    if status in (ChatMemberStatus.BANNED, ChatMemberStatus.LEFT):
        await context.services.residents.blocked(change.from_user.id)
    elif status == ChatMemberStatus.MEMBER:
        await context.services.residents.unblocked(change.from_user.id)


async def stale_callback(update: Update, context: BotContext) -> None:
    """Any button press no feature claimed: an old or forged button."""
    query = update.callback_query
    if query is not None:
        await query.answer(views.stale_button(context.tr), show_alert=True)
