"""The composition root: `build_application(settings)` wires everything together."""

from __future__ import annotations

import asyncio
import logging
import sqlite3

from telegram import (
    BotCommand,
    BotCommandScope,
    BotCommandScopeChat,
    BotCommandScopeDefault,
    Update,
)
from telegram.error import TelegramError
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    ChatMemberHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    TypeHandler,
    filters,
)
from telegram.request import BaseRequest

from bot.clock import Clock, SystemClock
from bot.config import Settings
from bot.context import SERVICES_KEY, BotApplication, BotContext, Services
from bot.delivery import OutboxSender, TelegramRateLimiter
from bot.handlers import admin as admin_handlers
from bot.handlers import alerts as alert_handlers
from bot.handlers import common, errors, language, report, resources, surveys
from bot.handlers import events as event_handlers
from bot.handlers import privacy as privacy_handlers
from bot.handlers import stats as stats_handlers
from bot.handlers.flows import Feature, Router
from bot.i18n import Catalogs, warm_up
from bot.processor import PerChatUpdateProcessor
from bot.services.residents import ResidentService
from bot.storage import (
    Database,
    DialogRepository,
    OutboxRepository,
    ResidentRepository,
    UpdateLog,
    migrate,
)
from bot.views import common as views

log = logging.getLogger(__name__)

# Each feature registers its handlers (and its flows, deep links and menu buttons with
# the router) at build time, and may start jobs and delivery hooks once services exist.
FEATURES: tuple[Feature, ...] = (
    resources.FEATURE,
    report.FEATURE,
    surveys.FEATURE,
    event_handlers.FEATURE,  # also builds the event, alert and broadcast services
    alert_handlers.FEATURE,
    admin_handlers.FEATURE,
    stats_handlers.FEATURE,  # /stats, /digestnote and the monthly transparency digest
    privacy_handlers.FEATURE,  # last: its service uses the event and survey services
)

PRIVATE = filters.ChatType.PRIVATE


def build_application(
    settings: Settings,
    *,
    request: BaseRequest | None = None,
    get_updates_request: BaseRequest | None = None,
    clock: Clock | None = None,
    limiter: TelegramRateLimiter | None = None,
    run_sender: bool = True,
) -> BotApplication:
    """Build the application; services open in `start_services` (PTB's post_init)."""
    builder = (
        Application.builder()
        .token(settings.bot_token.reveal() or "1:sandbox-token-without-telegram")
        .base_url(settings.base_url)
        .base_file_url(settings.base_file_url)
        .context_types(ContextTypes(context=BotContext))
        .rate_limiter(limiter if limiter is not None else TelegramRateLimiter())
        .concurrent_updates(PerChatUpdateProcessor())
        .post_init(start_services)
        .post_shutdown(stop_services)
    )
    if request is not None:
        builder = builder.request(request)
    if get_updates_request is not None:
        builder = builder.get_updates_request(get_updates_request)
    application: BotApplication = builder.build()  # type: ignore[assignment]
    application.bot_data["settings"] = settings
    application.bot_data["clock"] = clock or SystemClock()
    application.bot_data["run_sender"] = run_sender
    router = Router()
    application.bot_data["router"] = router
    register_handlers(application, router)
    application.bot_data["menu_actions"] = [a for a, _ in views.MENU if a in router.menu]
    return application


def register_handlers(application: BotApplication, router: Router) -> None:
    """Register every handler. Order matters, and groups run in ascending order."""
    # Group -100: drop an update delivered twice before anything else sees it.
    application.add_handler(TypeHandler(Update, common.skip_duplicates), group=-100)
    # Group -90: create/refresh the resident and choose their translator.
    application.add_handler(TypeHandler(Update, common.load_resident), group=-90)
    # Group -80: groups other than the staff chat(s) are ignored by design.
    application.add_handler(TypeHandler(Update, common.ignore_foreign_groups), group=-80)

    # Group 0, first match wins. Commands first, so /cancel works inside any flow.
    application.add_handler(
        ChatMemberHandler(common.chat_member_changed, ChatMemberHandler.MY_CHAT_MEMBER)
    )
    application.add_handler(CommandHandler("start", common.make_start(router), filters=PRIVATE))
    application.add_handler(CommandHandler("help", common.help_command))
    application.add_handler(CommandHandler("cancel", common.make_cancel(router)))
    application.add_handler(CommandHandler("language", language.language_command, filters=PRIVATE))
    application.add_handler(CallbackQueryHandler(language.language_button, pattern=r"^lang:"))
    router.menu_action("help", common.help_command)
    router.menu_action("language", language.language_command)

    # Every private message that is not a command (dialog steps, menu taps, hints): the
    # most frequent update, so it is tried before the features' commands and buttons,
    # which can never match it. Features register no handler for private non-command
    # messages: they join the dialogs and the menu through the router instead
    # (tests/integration/test_basics.py checks that nothing after this would match).
    application.add_handler(
        MessageHandler(
            PRIVATE & ~filters.COMMAND & ~filters.StatusUpdate.ALL,
            common.make_private_message(router),
        )
    )

    # Feature handlers (commands, buttons, staff-chat messages).
    for feature in FEATURES:
        feature.register(application, router)

    # Then the catch-alls: unknown commands and button presses nobody claimed (stale or
    # forged).
    application.add_handler(MessageHandler(filters.COMMAND & PRIVATE, common.unknown_command))
    application.add_handler(CallbackQueryHandler(common.stale_callback))
    application.add_error_handler(errors.on_error)


async def start_services(application: BotApplication) -> None:
    """Open the database, build the services, set commands, start delivery."""
    settings: Settings = application.bot_data["settings"]
    clock: Clock = application.bot_data["clock"]
    if settings.city.missing_names:
        log.warning(
            "city names missing in some languages (the default language is shown instead): %s",
            ", ".join(settings.city.missing_names[:20]),
        )
    db = await Database.open(settings.database_path)
    applied = await migrate(db)
    if applied:
        log.info("applied migrations: %s", ", ".join(f"{m.version:04d}_{m.name}" for m in applied))
    residents = ResidentService(ResidentRepository(db), settings.city, clock)
    outbox = OutboxRepository(db)
    limiter = application.bot.rate_limiter
    sender = OutboxSender(application.bot, outbox, clock, on_blocked=residents.blocked)
    services = Services(
        settings=settings,
        city=settings.city,
        clock=clock,
        db=db,
        catalogs=Catalogs(settings.city.languages, settings.city.timezone),
        residents=residents,
        dialogs=DialogRepository(db),
        outbox=outbox,
        updates=UpdateLog(db),
        sender=sender,
        limiter=limiter if isinstance(limiter, TelegramRateLimiter) else None,
    )
    application.bot_data[SERVICES_KEY] = services
    # Load the language profiles once now rather than on a resident's first message.
    await asyncio.to_thread(warm_up, settings.city.languages)
    for feature in FEATURES:
        if feature.on_start is not None:
            await feature.on_start(application, services)
    await sender.recover()
    await set_commands(application, services)
    if application.job_queue is not None:
        application.job_queue.run_repeating(
            _prune, interval=6 * 3600, first=60, name="prune-processed-updates-and-outbox"
        )
        # quick_check reads the whole file (0.6 s of a 0.8 s start at 200,000 residents,
        # see bench/bench_scale.py): it runs just after start instead of delaying it.
        application.job_queue.run_once(_quick_check, when=5, name="database-quick-check")
    else:
        await check_database(db)
    if application.bot_data.get("run_sender", True):
        stop = asyncio.Event()
        task = asyncio.create_task(sender.run(stop), name="outbox-sender")
        application.bot_data["sender_stop"] = stop
        application.bot_data["sender_task"] = task


async def stop_services(application: BotApplication) -> None:
    stop: asyncio.Event | None = application.bot_data.pop("sender_stop", None)
    task: asyncio.Task[None] | None = application.bot_data.pop("sender_task", None)
    if stop is not None and task is not None:
        stop.set()
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    services: Services | None = application.bot_data.pop(SERVICES_KEY, None)
    if services is not None:
        await services.db.close()


async def check_database(db: Database) -> None:
    try:
        check = await db.integrity_check(quick=True)
    except sqlite3.DatabaseError as error:  # damaged beyond what quick_check can describe
        check = str(error)
    if check != "ok":
        log.error("database quick_check reported: %s", check)


async def _quick_check(context: BotContext) -> None:
    await check_database(context.services.db)


# Settled outbox rows are kept this long (for delivery reports and audits), then deleted:
# every citywide broadcast adds a row per resident.
OUTBOX_KEEP_DAYS = 90


async def _prune(context: BotContext) -> None:
    services = context.services
    now = services.clock.time()
    await services.updates.prune(now - 7 * 86400)
    removed = await services.outbox.prune(now - OUTBOX_KEEP_DAYS * 86400)
    if removed:
        log.info("removed %d settled outbox rows older than %d days", removed, OUTBOX_KEEP_DAYS)


async def set_commands(application: BotApplication, services: Services) -> None:
    """Command menus in every enabled language, plus admin and staff menus."""
    city = services.city
    default = services.catalogs.get(city.default_language)
    menus: list[tuple[list[BotCommand], BotCommandScope, str | None]] = [
        (
            views.bot_commands(services.catalogs.get(code), views.RESIDENT_COMMANDS),
            BotCommandScopeDefault(),
            code,
        )
        for code in city.languages
    ]
    menus.append(
        (views.bot_commands(default, views.RESIDENT_COMMANDS), BotCommandScopeDefault(), None)
    )
    admin_menu = views.bot_commands(default, views.RESIDENT_COMMANDS + views.ADMIN_COMMANDS)
    menus += [
        (admin_menu, BotCommandScopeChat(admin_id), None)
        for admin_id in services.settings.admin_ids
    ]
    if services.settings.staff_chat_id is not None:
        staff_menu = views.bot_commands(default, views.STAFF_COMMANDS)
        menus.append((staff_menu, BotCommandScopeChat(services.settings.staff_chat_id), None))
    for commands, scope, language_code in menus:
        try:
            await application.bot.set_my_commands(
                commands, scope=scope, language_code=language_code
            )
        except TelegramError as error:
            # An admin who never opened the bot has no chat yet: their menu waits.
            log.warning("could not set the %s command menu: %s", scope.type, error)
