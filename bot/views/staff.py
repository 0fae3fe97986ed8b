"""What the liaison staff see: report cards, topic names, relayed messages, summaries.

Everything here is in the city's default language (one staff chat, one language), and
every piece of resident text is HTML-escaped. The reporter appears by name only when
they chose to share it; otherwise as "Anonymous resident #7F3A" (a keyed hash).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from html import escape
from typing import Any

from babel import Locale, UnknownLocaleError
from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.config import City
from bot.i18n import N_, Catalogs, Translator
from bot.services.reports import CODE_OF_STATUS
from bot.services.staff import (
    CANNOT_POST,
    NO_TOPIC_RIGHT,
    NOT_ADMIN,
    NOT_MEMBER,
    UNREACHABLE,
    StaffChatStatus,
)
from bot.storage.reports import OPEN_STATUSES, Report, StatusCounts
from bot.views.markup import markup_json
from bot.views.reports import category_name, neighborhood_name, status_label

STATUS_PREFIX = "rs"
TOPIC_NAME_LIMIT = 128
INTERNAL_PREFIX = "//"

STATUS_BUTTONS = (
    ("acknowledged", N_("👀 Acknowledge")),
    ("in_progress", N_("🔧 In progress")),
    ("resolved", N_("✅ Resolved")),
    ("not_actionable", N_("🚫 Not actionable")),
)
STATUS_ICONS = {
    "new": "🆕",
    "acknowledged": "👀",
    "in_progress": "🔧",
    "resolved": "✅",
    "not_actionable": "🚫",
}


def _when(moment: float) -> datetime:
    return datetime.fromtimestamp(moment, UTC)


def status_data(report_id: int, status: str) -> str:
    return f"{STATUS_PREFIX}:{report_id}:{CODE_OF_STATUS[status]}"


def reporter(tr: Translator, report: Report) -> str:
    """The reporter as staff may see them (escaped HTML)."""
    if report.anonymous or not report.reporter_name:
        return tr._("Anonymous resident #{tag}", tag=escape(report.pseudonym))
    if report.reporter_username:
        return tr._(
            "{name} (@{username})",
            name=escape(report.reporter_name),
            username=escape(report.reporter_username),
        )
    return escape(report.reporter_name)


def language_name(tr: Translator, code: str | None) -> str:
    if not code:
        return tr._("not recognised")
    try:
        name = Locale.parse(code.replace("-", "_")).get_display_name(tr.locale)
    except (UnknownLocaleError, ValueError):
        return code
    return name or code


def staff_keyboard(tr: Translator, report: Report) -> InlineKeyboardMarkup:
    buttons = [
        InlineKeyboardButton(
            ("• " if report.status == status else "") + tr._(label),
            callback_data=status_data(report.id, status),
        )
        for status, label in STATUS_BUTTONS
    ]
    return InlineKeyboardMarkup([buttons[:2], buttons[2:]])


def card(tr: Translator, city: City, report: Report) -> tuple[str, InlineKeyboardMarkup]:
    """The report card: everything staff need, and the status buttons."""
    category = escape(category_name(city, report.category, tr.language))
    lines = [
        f"{STATUS_ICONS.get(report.status, '🆕')} <b>{escape(report.reference)}</b> · {category}"
    ]
    if report.emergency_words:
        lines.append(
            tr._(
                "🚨 <b>Emergency words:</b> {words}. The resident was shown the {number} notice.",
                words=escape(tr.list(report.emergency_words)),
                number=escape(city.emergency_number),
            )
        )
    if report.neighborhood:
        lines.append(
            tr._(
                "🏘 Neighborhood: {name}",
                name=escape(neighborhood_name(city, report.neighborhood, tr.language)),
            )
        )
    if report.address:
        lines.append(tr._("🏠 Address or landmark: {address}", address=escape(report.address)))
    if report.has_location:
        lines.append(
            tr._(
                "📍 Location: {latitude}, {longitude} (map pin below)",
                latitude=f"{report.latitude:.5f}",
                longitude=f"{report.longitude:.5f}",
            )
        )
        if report.outside_area:
            lines.append(tr._("⚠️ Outside the city's area; the resident confirmed it."))
    lines.append(tr._("🕒 Filed: {when}", when=tr.datetime(_when(report.created_at))))
    lines.append(tr._("👤 Reporter: {reporter}", reporter=reporter(tr, report)))
    lines.append(
        tr._("🗣 Language of the text: {language}", language=language_name(tr, report.text_language))
    )
    attachments = []
    if report.photos:
        attachments.append(tr.ngettext("{count} photo", "{count} photos", len(report.photos)))
    if report.voice:
        attachments.append(tr._("a voice note"))
    if attachments:
        lines.append(tr._("📎 Attached below: {items}", items=tr.list(attachments)))
    lines += ["", f"<blockquote>{escape(report.description)}</blockquote>", ""]
    status = tr._("<b>Status:</b> {status}", status=status_label(tr, report.status))
    if report.status_by_name and report.status_at is not None:
        status = tr._(
            "<b>Status:</b> {status}, by {name}, {when}",
            status=status_label(tr, report.status),
            name=escape(report.status_by_name),
            when=tr.short_datetime(_when(report.status_at)),
        )
    lines.append(status)
    lines.append(
        "<i>"
        + (
            tr._(
                "Write in this topic to answer the resident; they will not see your name."
                " Start a message with // to keep it internal."
            )
            if report.uses_topic
            else tr._(
                "Reply to this card to answer the resident; they will not see your name."
                " Start a message with // to keep it internal."
            )
        )
        + "</i>"
    )
    return "\n".join(lines), staff_keyboard(tr, report)


def topic_name(tr: Translator, city: City, report: Report) -> str:
    name = "{icon} {reference} · {category}".format(
        icon=STATUS_ICONS.get(report.status, "🆕"),
        reference=report.reference,
        category=category_name(city, report.category, tr.language),
    )
    return name if len(name) <= TOPIC_NAME_LIMIT else name[: TOPIC_NAME_LIMIT - 1] + "…"


def _duration(tr: Translator, hours: float) -> str:
    if float(hours).is_integer():
        return tr.ngettext("{count} hour", "{count} hours", int(hours))
    minutes = round(hours * 60)
    return tr.ngettext("{count} minute", "{count} minutes", minutes)


def escalation(tr: Translator, city: City, report: Report) -> str:
    return tr._(
        "⏰ <b>{reference}</b> ({category}) has not been acknowledged after {duration}."
        " Please take a look and press Acknowledge on its card.",
        reference=escape(report.reference),
        category=escape(category_name(city, report.category, tr.language)),
        duration=_duration(tr, city.escalate_after_hours),
    )


def daily_summary(
    tr: Translator,
    city: City,
    counts: StatusCounts,
    reports: Sequence[Report],
    now: datetime,
) -> str:
    day = tr.date(now)
    if counts.open_total == 0:
        return tr._(
            "📊 <b>Open reports, {day}</b>\nNone. Every report has been handled. 🎉", day=day
        )
    lines = [tr._("📊 <b>Open reports, {day}</b>", day=day)]
    for status in OPEN_STATUSES:
        lines.append(
            tr._(
                "{status}: {count}",
                status=status_label(tr, status),
                count=tr.number(counts.counts.get(status, 0)),
            )
        )
    if reports:
        lines += ["", tr._("<b>Oldest open reports:</b>")]
        for report in reports:
            lines.append(
                tr._(
                    "• {reference} · {category} · {status} · filed {when}",
                    reference=escape(report.reference),
                    category=escape(category_name(city, report.category, tr.language)),
                    status=status_label(tr, report.status),
                    when=tr.short_datetime(_when(report.created_at)),
                )
            )
    return "\n".join(lines)


def from_resident(tr: Translator, report: Report, text: str) -> str:
    header = tr._(
        "💬 <b>{reporter}</b> wrote about {reference}:",
        reporter=reporter(tr, report),
        reference=escape(report.reference),
    )
    return header + ("\n\n" + escape(text) if text else "")


def staff_check(tr: Translator, statuses: Sequence[StaffChatStatus], titles: dict[int, str]) -> str:
    """/staffcheck: what the bot may do in each staff chat, naming any missing right."""
    if not statuses:
        return tr._(
            "❌ No staff chat is configured: set STAFF_CHAT_ID. Reports are stored, but nobody is told."
        )
    blocks = []
    for status in statuses:
        title = escape(titles.get(status.chat_id) or str(status.chat_id))
        lines = [f"<b>{title}</b>"]
        problems = status.problems
        for problem in problems:
            lines.append(problem_text(tr, problem, status))
        if not problems:
            lines.append(
                tr._("✅ The bot can post here and creates one topic per report.")
                if status.uses_topics
                else tr._(
                    "✅ The bot can post here; reports arrive as cards, answered by replying."
                )
            )
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)


def problem_text(tr: Translator, problem: str, status: StaffChatStatus) -> str:
    if problem == UNREACHABLE:
        return tr._(
            "❌ The bot cannot open this chat ({error}). Check STAFF_CHAT_ID and that the bot"
            " was added to the group.",
            error=escape(status.error or "?"),
        )
    if problem == NOT_MEMBER:
        return tr._("❌ The bot is not a member of this chat. Add it, so that reports arrive.")
    if problem == CANNOT_POST:
        return tr._(
            "❌ The bot may not send messages here (missing right: send messages). Reports"
            " are stored and will be delivered once it may."
        )
    if problem == NOT_ADMIN:
        return tr._(
            "⚠️ The bot is not an administrator. With privacy mode on it only sees replies to"
            " its own messages, so messages written in a report's topic may not reach the"
            " resident. Make the bot an administrator."
        )
    if problem == NO_TOPIC_RIGHT:
        return tr._(
            "⚠️ This group has topics, but the bot lacks the “Manage topics” right"
            " (can_manage_topics). Reports arrive as cards in General instead of one topic each."
        )
    return problem


class ReportTexts:
    """The texts `ReportService` puts in the outbox (its `ReportMessages`)."""

    def __init__(self, catalogs: Catalogs, city: City) -> None:
        self._catalogs = catalogs
        self._city = city

    @property
    def staff_tr(self) -> Translator:
        return self._catalogs.get(self._city.default_language)

    def topic_name(self, report: Report) -> str:
        return topic_name(self.staff_tr, self._city, report)

    def staff_card(self, report: Report) -> tuple[str, dict[str, Any]]:
        text, keyboard = card(self.staff_tr, self._city, report)
        return text, markup_json(keyboard)

    def staff_media_caption(self, report: Report) -> str:
        return "📎 " + escape(report.reference)

    def staff_escalation(self, report: Report) -> str:
        return escalation(self.staff_tr, self._city, report)

    def staff_summary(self, counts: StatusCounts, reports: Sequence[Report], now: datetime) -> str:
        return daily_summary(self.staff_tr, self._city, counts, reports, now)

    def staff_from_resident(self, report: Report, text: str) -> str:
        return from_resident(self.staff_tr, report, text)

    def resident_status(self, report: Report, language: str) -> str:
        return resident_status(self._catalogs.get(language), self._city, report)

    def resident_from_staff(self, report: Report, text: str, language: str) -> str:
        return resident_from_staff(self._catalogs.get(language), report, text)


_STATUS_NEWS = {
    "new": N_("Your report {reference} ({category}) has been reopened by the liaison team."),
    "acknowledged": N_(
        "👀 The liaison team has seen your report {reference} ({category}) and will look into it."
    ),
    "in_progress": N_("🔧 The liaison team is working on your report {reference} ({category})."),
    "resolved": N_(
        "✅ Your report {reference} ({category}) is marked as resolved. Thank you for helping"
        " your neighborhood!"
    ),
    "not_actionable": N_(
        "The liaison team reviewed your report {reference} ({category}) but cannot act on it."
    ),
}


def resident_status(tr: Translator, city: City, report: Report) -> str:
    news = tr._(
        _STATUS_NEWS.get(report.status, _STATUS_NEWS["new"]),
        reference=f"<b>{escape(report.reference)}</b>",
        category=escape(category_name(city, report.category, tr.language)),
    )
    return news + "\n\n<i>" + tr._("Reply to this message to write to the team.") + "</i>"


def resident_from_staff(tr: Translator, report: Report, text: str) -> str:
    header = tr._(
        "💬 <b>The community liaison team</b>, about your report {reference}:",
        reference=escape(report.reference),
    )
    body = "\n\n" + escape(text) if text else ""
    return header + body + "\n\n<i>" + tr._("Reply to this message to answer the team.") + "</i>"
