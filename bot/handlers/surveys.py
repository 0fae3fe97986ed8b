"""Surveys: /survey, sv_<id> links, answering with buttons or text; admins' /surveys,
/results and /export."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from telegram import InputMediaPhoto, Message, Update
from telegram.constants import ParseMode
from telegram.error import TelegramError
from telegram.ext import CallbackQueryHandler, CommandHandler, filters

from bot.context import BotApplication, BotContext, Services
from bot.handlers.common import menu_action_for, reply
from bot.handlers.flows import Feature, Router
from bot.jobs import surveys as jobs
from bot.services.charts import bar_chart
from bot.services.survey_definitions import TEXT
from bot.services.surveys import (
    FLOW,
    Asking,
    EndedEvent,
    Finished,
    Outcome,
    Refusal,
    Refused,
    Step,
    Survey,
    SurveyService,
)
from bot.storage import Dialog, Resident, ResidentRepository
from bot.storage.events import EventRepository
from bot.storage.surveys import SurveyRepository
from bot.views import common as common_views
from bot.views import surveys as views

log = logging.getLogger(__name__)
PRIVATE = filters.ChatType.PRIVATE
DISPATCH_JOB = "surveys-post-event-dispatch"
DISPATCH_INTERVAL = 300.0


def register(application: BotApplication, router: Router) -> None:
    application.add_handler(CommandHandler("survey", survey_command, filters=PRIVATE))
    application.add_handler(CommandHandler("surveys", surveys_command, filters=PRIVATE))
    application.add_handler(CommandHandler("results", results_command, filters=PRIVATE))
    application.add_handler(CommandHandler("export", export_command, filters=PRIVATE))
    application.add_handler(CallbackQueryHandler(answer_button, pattern=r"^sv:"))
    application.add_handler(CallbackQueryHandler(start_button, pattern=r"^svs:"))
    application.add_handler(CallbackQueryHandler(admin_button, pattern=r"^sva:"))
    router.flow(FLOW, _make_flow(router))
    router.start_link(views.START_PREFIX, start_link)
    router.menu_action("survey", survey_command)


async def on_start(application: BotApplication, services: Services) -> None:
    repository = SurveyRepository(services.db)
    service = SurveyService(
        db=services.db,
        surveys=repository,
        dialogs=services.dialogs,
        residents=ResidentRepository(services.db),
        city=services.city,
        clock=services.clock,
        secret=services.settings.hash_secret,
        events=_EventsFeature(repository, EventRepository(services.db)),
    )

    def render_invitation(
        survey: Survey, resident: Resident, event: EndedEvent | None
    ) -> dict[str, Any]:
        tr = services.catalogs.get(resident.language)
        title = event.title(tr.language, services.city.default_language) if event else ""
        return views.invitation(tr, survey, title, event.id if event else None)

    service.render_invitation = render_invitation
    services.surveys = service
    if application.job_queue is not None:
        application.job_queue.run_repeating(
            jobs.dispatch_post_event_surveys,
            interval=DISPATCH_INTERVAL,
            first=30,
            name=DISPATCH_JOB,
        )


class _EventsFeature:
    """The events feature's data seen through `EventSource`: events that ended, and who
    RSVP'd Going/Maybe or opened their link (read through the events repository, so it
    does not matter which feature starts first)."""

    def __init__(self, surveys: SurveyRepository, events: EventRepository) -> None:
        self._surveys = surveys
        self._events = events

    async def ended_events(
        self, types: Sequence[str], ended_from: float, ended_to: float
    ) -> list[EndedEvent]:
        rows = await self._surveys.ended_events(types, ended_from, ended_to)
        return [EndedEvent(row.id, row.event_type, row.ends_at, row.titles) for row in rows]

    async def survey_audience(self, event_id: int) -> list[int]:
        return await self._events.survey_audience(event_id)


# --------------------------------------------------------------------------- residents


def _service(context: BotContext) -> SurveyService:
    service: SurveyService = context.services.surveys
    return service


async def _send(context: BotContext, chat_id: int, text: str, keyboard: object = None) -> Message:
    return await context.bot.send_message(
        chat_id,
        text,
        parse_mode=ParseMode.HTML,
        reply_markup=keyboard,  # type: ignore[arg-type]
    )


async def show_step(context: BotContext, chat_id: int, step: Step) -> None:
    """Send what the step asks for: a question (after the intro), the thanks, a refusal."""
    tr = context.tr
    if isinstance(step, Asking):
        if step.first:
            await _send(context, chat_id, views.intro(tr, step))
        elif step.resumed:
            await _send(context, chat_id, views.welcome_back(tr, step))
        view = views.question_view(tr, step)
        await _send(context, chat_id, view.text, view.keyboard)
    elif isinstance(step, Finished):
        actions = context.bot_data.get("menu_actions")
        await _send(context, chat_id, views.finished(tr, step), common_views.main_menu(tr, actions))
    else:
        await _send(context, chat_id, views.refusal(tr, step))
        if step.reason is Refusal.USE_BUTTONS and step.current is not None:
            view = views.question_view(tr, step.current)
            await _send(context, chat_id, view.text, view.keyboard)


async def survey_command(update: Update, context: BotContext) -> None:
    """List the surveys open for this resident; continue the one they started."""
    user, chat = update.effective_user, update.effective_chat
    if user is None or chat is None or context.resident is None:
        return
    service = _service(context)
    items = await service.available(user.id)
    started = [item for item in items if item.in_progress]
    if len(started) == 1:
        item = started[0]
        step = await service.begin(
            user_id=user.id,
            chat_id=chat.id,
            survey_id=item.survey.id,
            language=context.resident.language,
            event_id=item.event_id,
        )
        await show_step(context, chat.id, step)
        return
    view = views.survey_list(context.tr, items)
    await reply(update, context, view.text, view.keyboard)


async def start_link(update: Update, context: BotContext, survey_id: str) -> bool:
    """`/start sv_<id>`: start (or continue) that survey; False if there is no such survey."""
    user, chat = update.effective_user, update.effective_chat
    if user is None or chat is None or context.resident is None:
        return False
    if not views.START_RE.match(f"svs:{survey_id}"):
        return False
    step = await _service(context).begin(
        user_id=user.id, chat_id=chat.id, survey_id=survey_id, language=context.resident.language
    )
    if isinstance(step, Refused) and step.reason is Refusal.UNKNOWN:
        return False
    await show_step(context, chat.id, step)
    return True


async def start_button(update: Update, context: BotContext) -> None:
    query = update.callback_query
    if query is None or query.data is None or query.message is None:
        return
    match = views.START_RE.match(query.data)
    if match is None or context.resident is None:
        await query.answer(common_views.stale_button(context.tr), show_alert=True)
        return
    await query.answer()
    step = await _service(context).begin(
        user_id=query.from_user.id,
        chat_id=query.message.chat.id,
        survey_id=match.group(1),
        language=context.resident.language,
        event_id=int(match.group(2)) if match.group(2) else None,
    )
    await show_step(context, query.message.chat.id, step)


async def answer_button(update: Update, context: BotContext) -> None:
    """A button under a question. Stale or forged presses are refused and change nothing."""
    query = update.callback_query
    if query is None or query.data is None or query.message is None:
        return
    tr = context.tr
    match = views.ANSWER_RE.match(query.data)
    if match is None:
        await query.answer(views.refusal(tr, Refused(Refusal.STALE)), show_alert=True)
        return
    chat_id = query.message.chat.id
    outcome = await _service(context).press(
        user_id=query.from_user.id,
        chat_id=chat_id,
        version=int(match.group(1)),
        action=match.group(2),
        arg=match.group(3) or "",
    )
    step = outcome.step
    if isinstance(step, Refused):
        await query.answer(_plain(views.refusal(tr, step)), show_alert=True)
        if step.reason in (Refusal.CLOSED, Refusal.ENDED, Refusal.ALREADY_ANSWERED):
            await _edit_markup(query.message, None)
        return
    await query.answer()
    message = query.message
    if outcome.in_place and isinstance(step, Asking):
        view = views.question_view(tr, step)
        await _edit_markup(message, view.keyboard)
        return
    if outcome.answered is not None:
        text = views.answered(tr, step.survey, outcome.answered)
        try:
            await context.bot.edit_message_text(
                text, chat_id=chat_id, message_id=message.message_id, parse_mode=ParseMode.HTML
            )
        except TelegramError as error:
            log.info("could not mark the answered question: %s", error)
    else:
        await _edit_markup(message, None)
    await show_step(context, chat_id, step)


async def _edit_markup(message: Any, keyboard: Any) -> None:
    try:
        await message.edit_reply_markup(keyboard)
    except (TelegramError, AttributeError) as error:
        log.info("could not update the question's buttons: %s", error)


def _plain(text: str) -> str:
    """Callback alerts show no HTML; they hold at most 200 characters."""
    for tag in ("<b>", "</b>", "<i>", "</i>", "<code>", "</code>"):
        text = text.replace(tag, "")
    text = text.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", '"')
    text = text.replace("&#x27;", "'").replace("&amp;", "&")
    return text if len(text) <= 200 else text[:199] + "…"


def _make_flow(router: Router):  # type: ignore[no-untyped-def]
    async def survey_flow(update: Update, context: BotContext, dialog: Dialog) -> None:
        """A private message while a survey is open: a free-text answer, or a typed choice."""
        message, user = update.effective_message, update.effective_user
        if message is None or user is None:
            return
        service = _service(context)
        chat_id = message.chat.id
        text = message.text
        if text is not None:
            action = menu_action_for(text, context)
            if action is not None and action in router.menu:
                # A main-menu button: put the survey aside, do what was asked.
                await service.pause(chat_id)
                await _send(context, chat_id, views.paused(context.tr))
                await router.menu[action](update, context)
                return
        current = await service.current(user_id=user.id, chat_id=chat_id)
        if not isinstance(current, Asking):
            await show_step(context, chat_id, current)
            return
        if current.question.type != TEXT:
            arg = (
                views.typed_answer(context.tr, context.services.catalogs.get("en"), current, text)
                if text is not None
                else None
            )
            if arg is None:
                await show_step(context, chat_id, Refused(Refusal.USE_BUTTONS, current=current))
                return
            outcome: Outcome = await service.press(
                user_id=user.id, chat_id=chat_id, version=current.version, action="a", arg=arg
            )
        else:
            outcome = await service.answer_text(user_id=user.id, chat_id=chat_id, text=text)
        await show_step(context, chat_id, outcome.step)

    return survey_flow


# --------------------------------------------------------------------------- admins


async def _admin_only(update: Update, context: BotContext) -> bool:
    user = update.effective_user
    if context.services.is_admin(user.id if user else None):
        return True
    if update.callback_query is not None:
        await update.callback_query.answer(common_views.not_allowed(context.tr), show_alert=True)
    else:
        await reply(update, context, common_views.not_allowed(context.tr))
    return False


async def surveys_command(update: Update, context: BotContext) -> None:
    """List every survey with open/close, results and CSV buttons."""
    if not await _admin_only(update, context):
        return
    view = await _admin_list(context)
    await reply(update, context, view.text, view.keyboard)


async def _admin_list(context: BotContext) -> common_views.View:
    service = _service(context)
    return views.admin_list(
        context.tr,
        await service.summaries(),
        context.services.clock.time(),
        context.bot.username or "",
    )


async def _survey_argument(update: Update, context: BotContext, command: str) -> Survey | None:
    service = _service(context)
    args = list(context.args or [])
    if args and args[0] == "survey":  # "/export survey <id>" reads like the shell command
        args = args[1:]
    if not args:
        known = [survey.id for survey in await service.all()]
        await reply(update, context, views.command_usage(context.tr, command, known))
        return None
    survey = await service.get(args[0].lower())
    if survey is None:
        known = [s.id for s in await service.all()]
        await reply(update, context, views.unknown_survey(context.tr, args[0], known))
    return survey


async def results_command(update: Update, context: BotContext) -> None:
    if not await _admin_only(update, context):
        return
    survey = await _survey_argument(update, context, "results")
    chat = update.effective_chat
    if survey is not None and chat is not None:
        await send_results(context, chat.id, survey.id)


async def export_command(update: Update, context: BotContext) -> None:
    if not await _admin_only(update, context):
        return
    survey = await _survey_argument(update, context, "export")
    chat = update.effective_chat
    if survey is not None and chat is not None:
        await send_export(context, chat.id, survey)


async def send_results(context: BotContext, chat_id: int, survey_id: str) -> None:
    """The figures as text, then one bar chart per question answered with buttons."""
    tr = context.tr
    results = await _service(context).results(survey_id)
    if results is None:
        return
    for text in views.results_texts(tr, results, context.services.clock.time()):
        await _send(context, chat_id, text)
    specs = views.charts(tr, results)
    images = [
        await asyncio.to_thread(
            bar_chart, spec.title, spec.labels, spec.values, annotations=spec.annotations
        )
        for spec in specs
    ]
    for start in range(0, len(images), 10):
        chunk = list(zip(specs[start : start + 10], images[start : start + 10], strict=True))
        if len(chunk) == 1:
            spec, image = chunk[0]
            await context.bot.send_photo(
                chat_id, image, caption=spec.caption, parse_mode=ParseMode.HTML
            )
        else:
            await context.bot.send_media_group(
                chat_id,
                [
                    InputMediaPhoto(
                        image,
                        caption=spec.caption,
                        parse_mode=ParseMode.HTML,
                        filename=f"{survey_id}-{index}.png",
                    )
                    for index, (spec, image) in enumerate(chunk, start=start + 1)
                ],
            )


async def send_export(context: BotContext, chat_id: int, survey: Survey) -> None:
    services = context.services
    default = services.catalogs.get(services.city.default_language)
    data = await _service(context).export_csv(survey.id, default)
    if data is None:
        return
    day = datetime.fromtimestamp(services.clock.time(), UTC).date().isoformat()
    await context.bot.send_document(
        chat_id,
        data,
        filename=f"survey-{survey.id}-{day}.csv",
        caption=views.export_caption(context.tr, survey),
        parse_mode=ParseMode.HTML,
    )


async def admin_button(update: Update, context: BotContext) -> None:
    query = update.callback_query
    if query is None or query.data is None or query.message is None:
        return
    if not await _admin_only(update, context):
        return
    match = views.ADMIN_RE.match(query.data)
    service = _service(context)
    survey = await service.get(match.group(2)) if match else None
    if match is None or survey is None:
        await query.answer(common_views.stale_button(context.tr), show_alert=True)
        return
    operation = match.group(1)
    chat_id = query.message.chat.id
    await query.answer()
    if operation in ("open", "close"):
        changed = await service.set_open(survey.id, operation == "open")
        if changed is None:
            return
        view = await _admin_list(context)
        try:
            await context.bot.edit_message_text(
                view.text,
                chat_id=chat_id,
                message_id=query.message.message_id,
                parse_mode=ParseMode.HTML,
                reply_markup=view.keyboard,  # type: ignore[arg-type]
            )
        except TelegramError as error:
            log.info("could not refresh the survey list: %s", error)
        await _send(
            context,
            chat_id,
            views.status_changed(context.tr, changed, context.services.clock.time()),
        )
    elif operation == "res":
        await send_results(context, chat_id, survey.id)
    else:
        await send_export(context, chat_id, survey)


FEATURE = Feature(register, on_start)
