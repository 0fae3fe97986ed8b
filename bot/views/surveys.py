"""Survey texts and keyboards: the list, each question, refusals, thanks, admin results.

Survey content (title, intro, questions, options) comes from the survey file in the
reader's language; everything around it ("Question 2 of 5", Back, Skip, Done, thanks,
errors) goes through the translator. Survey content is escaped like any other text.

Callback data (all well under Telegram's 64 bytes):

* `sv:<version>:<action>[:<arg>]` - a button under the current question; `version` is the
  survey dialog's version, so a button from an earlier question is refused. Actions:
  `a` answer (rating 1-5, `y`/`n`, option index), `t` tick an option, `d` done,
  `s` skip, `b` back, `k` keep the earlier answer.
* `svs:<survey id>[:<event id>]` - start or continue a survey (lists, invitations).
* `sva:<open|close|res|csv>:<survey id>` - admin controls.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from html import escape
from typing import Any

from babel import Locale
from babel.numbers import format_percent
from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.i18n import Translator
from bot.services.survey_definitions import (
    MULTIPLE,
    RATING,
    RATING_VALUES,
    SINGLE,
    TEXT,
    YES_NO,
    Question,
)
from bot.services.surveys import (
    Answered,
    Asking,
    Available,
    Breakdown,
    Finished,
    QuestionResult,
    Refusal,
    Refused,
    Survey,
    SurveyResults,
    SurveyState,
    SurveySummary,
)
from bot.views.common import View

ANSWER_RE = re.compile(r"^sv:(\d{1,9}):([atdsbk])(?::([0-9a-z]{1,2}))?$")
START_RE = re.compile(r"^svs:([a-z0-9][a-z0-9_-]{0,30})(?::(\d{1,15}))?$")
ADMIN_RE = re.compile(r"^sva:(open|close|res|csv):([a-z0-9][a-z0-9_-]{0,30})$")
START_PREFIX = "sv_"
MESSAGE_LIMIT = 4000
CAPTION_LIMIT = 1000
MAX_TEXTS_SHOWN = 40


@dataclass(frozen=True, slots=True)
class ChartSpec:
    title: str
    labels: list[str]
    values: list[int]
    annotations: list[str]
    caption: str


def _content_language(tr: Translator) -> str:
    return tr.language


def title_of(tr: Translator, survey: Survey) -> str:
    return escape(survey.definition.title(_content_language(tr)))


def question_text(tr: Translator, survey: Survey, question: Question) -> str:
    return escape(question.text(_content_language(tr), survey.definition.default_language))


def option_label(tr: Translator, survey: Survey, question: Question, key: str) -> str:
    """The visible label of an answer key (not escaped)."""
    if question.type == YES_NO:
        return tr._("Yes") if key == "yes" else tr._("No")
    if question.type == RATING:
        return str(key)
    option = question.option(key)
    if option is None:
        return key
    return option.label(_content_language(tr), survey.definition.default_language)


def answer_label(tr: Translator, survey: Survey, question: Question, value: Any) -> str:
    """A stored answer as the reader sees it (not escaped)."""
    if value is None:
        return tr._("Skipped")
    if question.type == TEXT:
        return str(value)
    items = value if isinstance(value, list) else [value]
    return tr.list(option_label(tr, survey, question, str(item)) for item in items)


def _button(text: str, data: str) -> InlineKeyboardButton:
    return InlineKeyboardButton(text, callback_data=data)


def _moment(tr: Translator, timestamp: float) -> str:
    return tr.date(datetime.fromtimestamp(timestamp, UTC))


# --------------------------------------------------------------------------- residents


def start_data(survey_id: str, event_id: int | None = None) -> str:
    return f"svs:{survey_id}" if event_id is None else f"svs:{survey_id}:{event_id}"


def survey_list(tr: Translator, items: Sequence[Available]) -> View:
    if not items:
        return View(
            tr._(
                "There are no surveys for you right now. Thank you for checking! We will"
                " let you know when there is one."
            )
        )
    lines = [tr._("<b>Surveys for you</b>"), ""]
    buttons = []
    for item in items:
        title = title_of(tr, item.survey)
        if item.in_progress:
            lines.append(tr._("▶️ {title} (you started it)", title=title))
            label = tr._("Continue: {title}", title=item.survey.definition.title(tr.language))
        else:
            lines.append(f"• {title}")
            label = item.survey.definition.title(tr.language)
        buttons.append([_button(label[:60], start_data(item.survey.id, item.event_id))])
    lines += ["", tr._("Tap a survey to answer it. It only takes a minute or two.")]
    return View("\n".join(lines), InlineKeyboardMarkup(buttons))


def intro(tr: Translator, asking: Asking) -> str:
    survey = asking.survey
    parts = [f"💬 <b>{title_of(tr, survey)}</b>"]
    text = survey.definition.intro(_content_language(tr))
    if text:
        parts.append(escape(text))
    parts.append(
        tr.ngettext(
            "{count} question. You can stop at any time: your answers are saved and /survey"
            " continues where you stopped.",
            "{count} questions. You can stop at any time: your answers are saved and /survey"
            " continues where you stopped.",
            asking.total,
        )
    )
    if survey.anonymous:
        parts.append(
            tr._(
                "🔒 This survey is anonymous: your answers are not linked to your name or account."
            )
        )
    else:
        parts.append(
            tr._(
                "ℹ️ Your answers are linked to your Telegram account, so the team can follow up"
                " with you."
            )
        )
    return "\n\n".join(parts)


def welcome_back(tr: Translator, asking: Asking) -> str:
    return tr._(
        "Welcome back to “{title}”. Let's continue where you stopped.",
        title=title_of(tr, asking.survey),
    )


def _hint(tr: Translator, question: Question) -> str:
    if question.type == RATING:
        return tr._("1 = very poor, 5 = excellent")
    if question.type == MULTIPLE:
        return tr._("Choose all that apply, then press Done.")
    if question.type == TEXT:
        return tr.ngettext(
            "Type your answer (up to {count} character).",
            "Type your answer (up to {count} characters).",
            question.max_length,
        )
    return ""


def question_view(tr: Translator, asking: Asking) -> View:
    survey, question = asking.survey, asking.question
    lines = [
        "<b>"
        + tr._(
            "Question {position} of {total}",
            position=tr.number(asking.position),
            total=tr.number(asking.total),
        )
        + "</b>",
        question_text(tr, survey, question),
    ]
    hint = _hint(tr, question)
    if hint:
        lines.append(f"<i>{hint}</i>")
    previous = asking.previous
    if previous is not None and question.type != MULTIPLE:
        value = None if previous.skipped else previous.value
        lines += [
            "",
            tr._(
                "Your earlier answer: {answer}",
                answer=escape(answer_label(tr, survey, question, value)),
            ),
        ]
    return View("\n".join(lines), question_keyboard(tr, asking))


def question_keyboard(tr: Translator, asking: Asking) -> InlineKeyboardMarkup:
    survey, question, version = asking.survey, asking.question, asking.version
    earlier = asking.previous.value if asking.previous and not asking.previous.skipped else None

    def data(action: str, arg: str = "") -> str:
        return f"sv:{version}:{action}" + (f":{arg}" if arg else "")

    def mark(chosen: bool, label: str) -> str:
        return f"✓ {label}" if chosen else label

    rows: list[list[InlineKeyboardButton]] = []
    if question.type == RATING:
        rows.append([_button(mark(earlier == v, str(v)), data("a", str(v))) for v in RATING_VALUES])
    elif question.type == YES_NO:
        rows.append(
            [
                _button(mark(earlier == "yes", tr._("Yes")), data("a", "y")),
                _button(mark(earlier == "no", tr._("No")), data("a", "n")),
            ]
        )
    elif question.type == SINGLE:
        for index, option in enumerate(question.options):
            label = option_label(tr, survey, question, option.id)
            rows.append([_button(mark(earlier == option.id, label), data("a", str(index)))])
    elif question.type == MULTIPLE:
        for index, option in enumerate(question.options):
            box = "☑️" if option.id in asking.draft else "⬜"
            label = option_label(tr, survey, question, option.id)
            rows.append([_button(f"{box} {label}", data("t", str(index)))])
        rows.append([_button(tr._("✅ Done"), data("d"))])
    elif question.type == TEXT and asking.previous is not None and not asking.previous.skipped:
        rows.append([_button(tr._("Keep my earlier answer"), data("k"))])
    navigation = []
    if asking.can_go_back:
        navigation.append(_button(tr._("◀️ Back"), data("b")))
    if question.skippable:
        navigation.append(_button(tr._("Skip ▶️"), data("s")))
    if navigation:
        rows.append(navigation)
    return InlineKeyboardMarkup(rows)


def answered(tr: Translator, survey: Survey, answer: Answered) -> str:
    """The question message once answered with a button: the question and the answer."""
    question = answer.question
    shown = tr._("Skipped") if answer.skipped else answer_label(tr, survey, question, answer.value)
    return "\n".join(
        (
            question_text(tr, survey, question),
            "",
            ("⏭ " if answer.skipped else "✔️ ") + escape(shown),
        )
    )


def finished(tr: Translator, done: Finished) -> str:
    parts = [tr._("🙏 Thank you! Your answers were saved.")]
    if done.survey.anonymous:
        parts.append(tr._("They are anonymous: nobody can see who gave them."))
    if done.more:
        parts.append(
            tr.ngettext(
                "There is {count} more survey for you: /survey",
                "There are {count} more surveys for you: /survey",
                done.more,
            )
        )
    return "\n\n".join(parts)


def paused(tr: Translator) -> str:
    return tr._("Your survey is paused. Type /survey to continue it where you stopped.")


def refusal(tr: Translator, refused: Refused) -> str:
    """Why an action was refused, kindly; nothing was changed."""
    survey = refused.survey
    title = title_of(tr, survey) if survey is not None else ""
    reason = refused.reason
    if reason is Refusal.UNKNOWN:
        return tr._("I could not find that survey. Type /survey to see the surveys open for you.")
    if reason is Refusal.CLOSED:
        return tr._(
            "The survey “{title}” is closed now. Thank you! Any answers you already gave are kept.",
            title=title,
        )
    if reason is Refusal.SCHEDULED:
        assert survey is not None and survey.definition.opens_at is not None
        return tr._(
            "The survey “{title}” opens on {date}. Please come back then.",
            title=title,
            date=_moment(tr, survey.definition.opens_at),
        )
    if reason is Refusal.ENDED:
        assert survey is not None and survey.definition.closes_at is not None
        return tr._(
            "The survey “{title}” ended on {date}. Thank you! Any answers you already gave are"
            " kept.",
            title=title,
            date=_moment(tr, survey.definition.closes_at - 1),
        )
    if reason is Refusal.ALREADY_ANSWERED:
        return tr._(
            "You have already answered “{title}”. Thank you! Each person answers once.",
            title=title,
        )
    if reason is Refusal.BUSY:
        return tr._(
            "You are in the middle of something else. Finish it, or type /cancel, then start"
            " the survey again."
        )
    if reason is Refusal.TOO_LONG:
        return tr._(
            "Your answer is too long: {length} characters, and the limit is {limit}. Please"
            " shorten it and send it again. Nothing was saved yet.",
            length=tr.number(refused.length),
            limit=tr.number(refused.limit),
        )
    if reason is Refusal.EMPTY:
        return tr._("Please type your answer, or use the buttons under the question.")
    if reason is Refusal.CHOOSE_ONE:
        return tr._("Choose at least one option, then press Done.")
    if reason is Refusal.NOT_SKIPPABLE:
        return tr._("This question needs an answer.")
    if reason is Refusal.USE_BUTTONS:
        return tr._("Please answer with the buttons under the question.")
    if reason is Refusal.TEXT_ONLY:
        return tr._("Please type your answer as text.")
    return tr._(
        "That button is from an earlier question and no longer works. Please answer the latest"
        " question."
    )


def _folded(text: str) -> str:
    """Case- and accent-insensitive form, so a typed "si" matches the button "Sí"."""
    decomposed = unicodedata.normalize("NFKD", text.strip().casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def typed_answer(tr: Translator, english: Translator, asking: Asking, text: str) -> str | None:
    """A typed reply that clearly means one of the buttons: "4", "yes", an option's label."""
    question = asking.question
    typed = _folded(text)
    if question.type == RATING:
        return typed if typed in {str(v) for v in RATING_VALUES} else None
    if question.type == YES_NO:
        for translator in (tr, english):
            if typed == _folded(translator._("Yes")):
                return "y"
            if typed == _folded(translator._("No")):
                return "n"
        return None
    if question.type == SINGLE:
        for index, option in enumerate(question.options):
            labels = {_folded(label) for label in option.labels.values()}
            if typed in labels:
                return str(index)
    return None


def invitation(
    tr: Translator, survey: Survey, event_title: str, event_id: int | None
) -> dict[str, Any]:
    """`sendMessage` parameters (without chat_id) of a post-event invitation."""
    title = title_of(tr, survey)
    if event_title:
        text = tr._(
            "👋 Thank you for coming to “{event}”! Tell us how it went: “{title}”.",
            event=escape(event_title),
            title=title,
        )
    else:
        text = tr._("👋 Thank you for coming! Tell us how it went: “{title}”.", title=title)
    note = (
        tr._("It takes a minute or two, and it is anonymous.")
        if survey.anonymous
        else tr._("It takes a minute or two.")
    )
    keyboard = InlineKeyboardMarkup(
        [[_button(tr._("💬 Answer the survey"), start_data(survey.id, event_id))]]
    )
    return {
        "text": f"{text}\n\n{note}",
        "parse_mode": "HTML",
        "reply_markup": keyboard.to_dict(),
    }


# --------------------------------------------------------------------------- admins


def state_label(tr: Translator, survey: Survey, now: float) -> str:
    state = survey.state(now)
    if state is SurveyState.OPEN:
        return tr._("🟢 open")
    if state is SurveyState.CLOSED:
        return tr._("⚪ closed")
    if state is SurveyState.SCHEDULED:
        assert survey.definition.opens_at is not None
        return tr._("🕒 opens {date}", date=_moment(tr, survey.definition.opens_at))
    assert survey.definition.closes_at is not None
    return tr._("⚪ ended {date}", date=_moment(tr, survey.definition.closes_at - 1))


def _kind_label(tr: Translator, survey: Survey) -> str:
    return tr._("anonymous") if survey.anonymous else tr._("named")


def admin_list(
    tr: Translator, summaries: Sequence[SurveySummary], now: float, bot_username: str
) -> View:
    if not summaries:
        return View(
            tr._(
                "No surveys are published yet. Write one under surveys/ and run"
                " <code>resident-bot surveys publish FILE</code>."
            )
        )
    lines = [tr._("<b>Surveys</b>"), ""]
    rows: list[list[InlineKeyboardButton]] = []
    for summary in summaries:
        survey = summary.survey
        lines.append(f"<b>{title_of(tr, survey)}</b> (<code>{escape(survey.id)}</code>)")
        lines.append(
            " · ".join(
                (
                    state_label(tr, survey, now),
                    _kind_label(tr, survey),
                    tr.ngettext("{count} answered", "{count} answered", summary.counts.complete),
                    tr.ngettext(
                        "{count} unfinished", "{count} unfinished", summary.counts.in_progress
                    ),
                )
            )
        )
        if bot_username:
            lines.append(escape(f"https://t.me/{bot_username}?start={START_PREFIX}{survey.id}"))
        lines.append("")
        toggle = (
            _button(tr._("Close {id}", id=survey.id), f"sva:close:{survey.id}")
            if survey.status == "open"
            else _button(tr._("Open {id}", id=survey.id), f"sva:open:{survey.id}")
        )
        rows.append(
            [
                toggle,
                _button(tr._("📊 Results"), f"sva:res:{survey.id}"),
                _button(tr._("📄 CSV"), f"sva:csv:{survey.id}"),
            ]
        )
    return View("\n".join(lines).strip(), InlineKeyboardMarkup(rows))


def status_changed(tr: Translator, survey: Survey, now: float) -> str:
    title = title_of(tr, survey)
    state = survey.state(now)
    if survey.status == "closed":
        return tr._(
            "“{title}” is closed. Nobody can answer it now; the answers so far are kept.",
            title=title,
        )
    if state is SurveyState.OPEN:
        return tr._("“{title}” is open again.", title=title)
    return tr._(
        "“{title}” is open, but outside its dates ({state}). Change opens/closes in its file"
        " and publish it again.",
        title=title,
        state=state_label(tr, survey, now),
    )


def unknown_survey(tr: Translator, survey_id: str, known: Sequence[str]) -> str:
    text = tr._("There is no survey “{id}”.", id=escape(survey_id))
    if known:
        text += "\n" + tr._("Surveys: {ids}", ids=escape(tr.list(known)))
    return text


def command_usage(tr: Translator, command: str, known: Sequence[str]) -> str:
    text = tr._("Which survey? Write <code>/{command} survey-id</code>.", command=command)
    if known:
        text += "\n" + tr._("Surveys: {ids}", ids=escape(tr.list(known)))
    return text


def _percent(tr: Translator, share: float) -> str:
    return str(format_percent(share, locale=tr.locale))


def _mean(tr: Translator, mean: float) -> str:
    return tr.number(round(mean, 2))


def language_label(tr: Translator, code: str | None) -> str:
    """A language's name in the reader's language ("Spanish" for an English reader)."""
    if not code:
        return tr._("language unknown")
    try:
        name = Locale.parse(code.replace("-", "_")).get_display_name(tr.locale) or code
    except (ValueError, TypeError):
        return code
    return name[:1].upper() + name[1:]


def _counts_line(tr: Translator, survey: Survey, question: Question, breakdown: Breakdown) -> str:
    return ", ".join(
        f"{escape(option_label(tr, survey, question, c.key))} {tr.number(c.count)}"
        f" ({_percent(tr, c.share)})"
        for c in breakdown.counts
    )


def _question_block(
    tr: Translator, survey: Survey, number: int, result: QuestionResult, *, by_language: bool
) -> str:
    question = result.question
    lines = [f"<b>{number}. {question_text(tr, survey, question)}</b>"]
    lines.append(
        tr._(
            "Answers: {answered} · skipped: {skipped}",
            answered=tr.number(result.answered),
            skipped=tr.number(result.skipped),
        )
    )
    if question.type == TEXT:
        for text_answer in result.texts[:MAX_TEXTS_SHOWN]:
            lines.append(
                f"• “{escape(text_answer.text)}” — {escape(language_label(tr, text_answer.language))}"
            )
        hidden = len(result.texts) - MAX_TEXTS_SHOWN
        if hidden > 0:
            lines.append(
                tr.ngettext(
                    "… and {count} more in /export {id}",
                    "… and {count} more in /export {id}",
                    hidden,
                    id=escape(survey.id),
                )
            )
        return "\n".join(lines)
    if not result.answered:
        return "\n".join(lines)
    if result.mean is not None:
        lines.append(tr._("Average: {mean} out of 5", mean=_mean(tr, result.mean)))
    for count in result.counts:
        label = option_label(tr, survey, question, count.key)
        if question.type == RATING:
            label = f"{label} ★"
        lines.append(f"{escape(label)} — {tr.number(count.count)} ({_percent(tr, count.share)})")
    if by_language and result.by_language:
        lines.append(tr._("By language:"))
        for code, breakdown in result.by_language.items():
            if question.type == RATING and breakdown.mean is not None:
                detail = tr.ngettext(
                    "average {mean} ({count} answer)",
                    "average {mean} ({count} answers)",
                    breakdown.answered,
                    mean=_mean(tr, breakdown.mean),
                )
            else:
                detail = _counts_line(tr, survey, question, breakdown)
            lines.append(f"  {escape(language_label(tr, code))}: {detail}")
    return "\n".join(lines)


def results_texts(tr: Translator, results: SurveyResults, now: float) -> list[str]:
    """The results as messages of at most ~4000 characters."""
    survey = results.survey
    head = [
        f"📊 <b>{title_of(tr, survey)}</b> (<code>{escape(survey.id)}</code>)",
        f"{state_label(tr, survey, now)} · {_kind_label(tr, survey)}",
        tr._(
            "Responses: {total} ({complete} complete, {partial} unfinished)",
            total=tr.number(results.responses),
            complete=tr.number(results.complete),
            partial=tr.number(results.partial),
        ),
    ]
    if results.response_rate is not None:
        head.append(
            tr._(
                "Invited after events: {invited} · response rate: {rate}",
                invited=tr.number(results.invited),
                rate=_percent(tr, results.response_rate),
            )
        )
    else:
        head.append(tr._("No invitations were sent, so there is no response rate."))
    if results.completion_rate is not None:
        head.append(tr._("Completion rate: {rate}", rate=_percent(tr, results.completion_rate)))
    if results.languages:
        head.append(
            tr._(
                "Languages: {languages}",
                languages=" · ".join(
                    f"{escape(language_label(tr, code))} {tr.number(count)}"
                    for code, count in results.languages.items()
                ),
            )
        )
    blocks = ["\n".join(head)]
    blocks += [
        _question_block(tr, survey, number, result, by_language=len(results.languages) > 1)
        for number, result in enumerate(results.questions, start=1)
    ]
    return _pack(blocks)


def _pack(blocks: Sequence[str]) -> list[str]:
    messages: list[str] = []
    current = ""
    for block in blocks:
        pieces = [block] if len(block) <= MESSAGE_LIMIT else _split_lines(block)
        for piece in pieces:
            if current and len(current) + 2 + len(piece) > MESSAGE_LIMIT:
                messages.append(current)
                current = piece
            else:
                current = f"{current}\n\n{piece}" if current else piece
    if current:
        messages.append(current)
    return messages


def _split_lines(block: str) -> list[str]:
    pieces: list[str] = []
    current = ""
    for line in block.split("\n"):
        line = line[:MESSAGE_LIMIT]
        if current and len(current) + 1 + len(line) > MESSAGE_LIMIT:
            pieces.append(current)
            current = line
        else:
            current = f"{current}\n{line}" if current else line
    if current:
        pieces.append(current)
    return pieces


def charts(tr: Translator, results: SurveyResults) -> list[ChartSpec]:
    """One bar chart per question answered with buttons that has answers."""
    survey = results.survey
    specs = []
    for number, result in enumerate(results.questions, start=1):
        question = result.question
        if not question.closed or not result.answered:
            continue
        text = question.text(tr.language, survey.definition.default_language)
        labels = [option_label(tr, survey, question, c.key) for c in result.counts]
        if question.type == RATING:
            labels = [f"{label} ★" for label in labels]
        title = f"{number}. {text}"
        caption = tr.ngettext(
            "{title} — {count} answer",
            "{title} — {count} answers",
            result.answered,
            title=escape(title),
        )
        specs.append(
            ChartSpec(
                title=title,
                labels=labels,
                values=[c.count for c in result.counts],
                annotations=[
                    f"{tr.number(c.count)} ({_percent(tr, c.share)})" for c in result.counts
                ],
                caption=caption[:CAPTION_LIMIT],
            )
        )
    return specs


def not_in_private(tr: Translator) -> str:
    return tr._("Please use this command in a private chat with me.")


def export_caption(tr: Translator, survey: Survey) -> str:
    return tr._(
        "Responses to “{title}” (CSV, UTF-8). Open it in a spreadsheet.",
        title=title_of(tr, survey),
    )
