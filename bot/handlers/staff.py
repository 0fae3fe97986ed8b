"""The staff chat: status buttons on report cards, the relay to residents, /staffcheck."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from telegram import (
    Bot,
    ChatMemberAdministrator,
    ChatMemberOwner,
    ChatMemberRestricted,
    Message,
    Update,
)
from telegram.constants import ChatMemberStatus, ChatType, ParseMode
from telegram.error import BadRequest, TelegramError
from telegram.ext import CallbackQueryHandler, CommandHandler, MessageHandler, filters

from bot.context import BotApplication, BotContext, Services
from bot.delivery.replies import answer_press, edit_html
from bot.services.reports import STATUS_CODES, Relayed
from bot.services.staff import (
    CANNOT_POST,
    NO_TOPIC_RIGHT,
    NOT_ADMIN,
    NOT_MEMBER,
    UNREACHABLE,
    StaffChatStatus,
)
from bot.views import common as common_views
from bot.views import privacy as privacy_views
from bot.views import reports as resident_views
from bot.views import staff as views

if TYPE_CHECKING:
    from bot.handlers.flows import Router

log = logging.getLogger(__name__)

_PRESENT = (
    ChatMemberStatus.OWNER,
    ChatMemberStatus.ADMINISTRATOR,
    ChatMemberStatus.MEMBER,
)
_LOG_PROBLEMS = {
    UNREACHABLE: "the bot cannot open the chat ({error}); check STAFF_CHAT_ID and that the bot"
    " was added: reports are stored but not delivered",
    NOT_MEMBER: "the bot is not a member of the chat: reports are stored but not delivered",
    CANNOT_POST: "the bot lacks the 'can_send_messages' right: report cards cannot be posted",
    NOT_ADMIN: "the bot is not an administrator: with privacy mode on it only sees replies to"
    " its own messages, so staff messages in report topics may not reach residents",
    NO_TOPIC_RIGHT: "the chat is a forum but the bot lacks the 'can_manage_topics' administrator"
    " right ('Manage topics'): reports are posted as cards in General, one topic each is not"
    " possible",
}


def register(application: BotApplication, router: Router, chat_ids: list[int]) -> None:
    admins = application.bot_data["settings"].admin_ids
    allowed = filters.User(user_id=list(admins)) & filters.ChatType.PRIVATE
    if chat_ids:
        allowed = allowed | filters.Chat(chat_id=chat_ids)
    application.add_handler(CommandHandler("staffcheck", staffcheck_command, filters=allowed))
    application.add_handler(CallbackQueryHandler(status_button, pattern=r"^rs:"))
    if chat_ids:
        application.add_handler(
            MessageHandler(
                filters.Chat(chat_id=chat_ids)
                & filters.UpdateType.MESSAGE
                & ~filters.ChatType.PRIVATE
                & ~filters.COMMAND
                & ~filters.StatusUpdate.ALL,
                staff_message,
            )
        )


# --------------------------------------------------------------------------- relay


def relayed_content(message: Message) -> Relayed | None:
    """Text, a photo, a voice note or a document (with its caption); None for anything else."""
    if message.text is not None:
        return Relayed("text", message.text)
    caption = message.caption or ""
    if message.photo:
        return Relayed("photo", caption, message.photo[-1].file_id)
    if message.voice is not None:
        return Relayed("voice", caption, message.voice.file_id)
    if message.document is not None:
        return Relayed("document", caption, message.document.file_id)
    return None


async def staff_message(update: Update, context: BotContext) -> None:
    """A staff member wrote in a report's topic, or replied to its card: pass it on."""
    message, user, chat = update.effective_message, update.effective_user, update.effective_chat
    if message is None or user is None or chat is None or user.is_bot:
        return
    content = relayed_content(message)
    if content is None or content.text.lstrip().startswith(views.INTERNAL_PREFIX):
        return
    reports = context.services.reports
    reply_to = message.reply_to_message.message_id if message.reply_to_message else None
    thread = message.message_thread_id if message.is_topic_message else None
    report = await reports.report_for_staff_message(chat.id, reply_to=reply_to, thread_id=thread)
    if report is None:
        return
    if report.detached:  # the resident deleted their data (or retention ran)
        await message.reply_text(
            privacy_views.unreachable(context.tr, report), parse_mode=ParseMode.HTML
        )
        return
    await reports.relay_to_resident(
        report,
        content,
        actor_id=user.id,
        actor_name=user.full_name,
        source_chat_id=chat.id,
        source_message_id=message.message_id,
    )


# --------------------------------------------------------------------------- status buttons


async def is_staff(context: BotContext, chat_id: int, user_id: int) -> bool:
    """Admins, and members of the staff chat the card is in (asked, then cached briefly)."""
    services = context.services
    if services.is_admin(user_id):
        return True
    if not services.staff.is_staff_chat(chat_id):
        return False
    known = services.staff.known_member(chat_id, user_id)
    if known is not None:
        return bool(known)
    try:
        member = await context.bot.get_chat_member(chat_id, user_id)
    except TelegramError as error:
        log.info("membership of %s in %s unknown: %s", user_id, chat_id, error)
        return False
    present = member.status in _PRESENT or (
        isinstance(member, ChatMemberRestricted) and member.is_member
    )
    services.staff.remember_member(chat_id, user_id, present)
    return present


async def status_button(update: Update, context: BotContext) -> None:
    query = update.callback_query
    if query is None or query.data is None:
        return
    parts = query.data.split(":")
    message = query.message
    status = STATUS_CODES.get(parts[2]) if len(parts) == 3 else None
    if status is None or not parts[1].isdigit() or not isinstance(message, Message):
        await query.answer(common_views.stale_button(context.tr), show_alert=True)
        return
    user = query.from_user
    if not await is_staff(context, message.chat.id, user.id):
        await query.answer(views_not_staff(context), show_alert=True)
        return
    services = context.services
    change = await services.reports.change_status(
        int(parts[1]),
        status,
        actor_id=user.id,
        actor_name=user.full_name,
        chat_id=message.chat.id,
        message_id=message.message_id,
    )
    if change.outcome in ("not_found", "wrong_message") or change.report is None:
        await query.answer(common_views.stale_button(context.tr), show_alert=True)
        return
    label = resident_views.status_label(context.tr, change.report.status)
    if change.outcome == "unchanged":
        await answer_press(context.bot, query.id, context.tr._("Already: {status}", status=label))
        return
    if change.report.detached:
        await answer_press(context.bot, query.id, label)  # the resident deleted their data
    else:
        told = context.tr._("{status}. The resident was told.", status=label)
        await answer_press(context.bot, query.id, told)
    text, keyboard = views.card(
        services.catalogs.get(services.city.default_language), services.city, change.report
    )
    try:
        await edit_html(
            query.get_bot(),
            message.chat.id,
            message.message_id,
            text,
            keyboard,
            link_preview=False,
        )
    except BadRequest as error:
        if "not modified" not in error.message:
            log.warning("could not update the card of %s: %s", change.report.reference, error)


def views_not_staff(context: BotContext) -> str:
    return context.tr._("Only the liaison staff can change the status of a report.")


# --------------------------------------------------------------------------- rights check


async def check_chat(bot: Bot, chat_id: int) -> tuple[StaffChatStatus, str]:
    """What the bot may do in one staff chat, and the chat's title."""
    try:
        chat = await bot.get_chat(chat_id)
        member = await bot.get_chat_member(chat_id, bot.id)
    except TelegramError as error:
        return StaffChatStatus(chat_id, reachable=False, error=str(error)), ""
    status = member.status
    is_member = status in _PRESENT or (
        isinstance(member, ChatMemberRestricted) and member.is_member
    )
    is_admin = isinstance(member, ChatMemberAdministrator | ChatMemberOwner)
    can_post = not isinstance(member, ChatMemberRestricted) or member.can_send_messages
    can_manage_topics = isinstance(member, ChatMemberOwner) or (
        isinstance(member, ChatMemberAdministrator) and bool(member.can_manage_topics)
    )
    checked = StaffChatStatus(
        chat_id,
        is_forum=bool(chat.is_forum),
        is_member=is_member,
        is_admin=is_admin,
        can_post=is_member and can_post,
        can_manage_topics=can_manage_topics,
    )
    return checked, chat.title or ""


async def check_staff_chats(
    bot: Bot, services: Services
) -> tuple[list[StaffChatStatus], dict[int, str]]:
    """Check every staff chat, record the result and log each missing right precisely."""
    if not services.staff.chat_ids():
        log.warning("STAFF_CHAT_ID is not set: reports are stored, but no staff chat receives them")
    statuses: list[StaffChatStatus] = []
    titles: dict[int, str] = {}
    for chat_id in services.staff.chat_ids():
        status, title = await check_chat(bot, chat_id)
        services.staff.record_check(status)
        statuses.append(status)
        titles[chat_id] = title
        for problem in status.problems:
            log.warning(
                "staff chat %s: %s", chat_id, _LOG_PROBLEMS[problem].format(error=status.error)
            )
        if not status.problems:
            log.info(
                "staff chat %s: ready (%s)",
                chat_id,
                "one topic per report" if status.uses_topics else "cards with reply threads",
            )
    return statuses, titles


async def staffcheck_command(update: Update, context: BotContext) -> None:
    message = update.effective_message
    if message is None:
        return
    statuses, titles = await check_staff_chats(context.bot, context.services)
    chat = update.effective_chat
    if chat is not None and chat.type != ChatType.PRIVATE:
        statuses = [s for s in statuses if s.chat_id == chat.id] or statuses
    await message.reply_text(
        views.staff_check(context.tr, statuses, titles), parse_mode=ParseMode.HTML
    )
