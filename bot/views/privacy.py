"""What residents see about their data (/privacy, /mydata, /deletemydata), and the
staff-chat notices about reports whose resident left."""

from __future__ import annotations

import re
from html import escape
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.config import City
from bot.i18n import Catalogs, Translator
from bot.services.privacy import KEEP_DAYS, Erased, Holdings
from bot.storage.reports import Report
from bot.views.common import View
from bot.views.staff import card

PREFIX = "pv"
EXPORT = f"{PREFIX}:export"
DELETE = f"{PREFIX}:delete"
# How long `bot.app` keeps the outbox's settled rows (its OUTBOX_KEEP_DAYS; a test
# keeps the two equal).
DELIVERY_LOG_DAYS = 90
BUTTON_RE = re.compile(
    r"^pv:(?:(?P<simple>export|delete)|(?P<version>[1-9]\d{0,8}):(?P<answer>yes|no))$"
)


def privacy(tr: Translator, city: City) -> View:
    """/privacy: what is stored, who sees it, for how long, and the resident's choices."""
    lines = [
        tr._("🔒 <b>Your data and this bot</b>"),
        "",
        tr._("<b>What we store</b>"),
        "• "
        + tr._(
            "Your Telegram user id, your language, and when you first and last used the bot."
            " Never your phone number."
        ),
        "• " + tr._("Your alert choices, your answers to events, and the event links you opened."),
        "• "
        + tr._(
            "Your reports: what you wrote, the place, any photos or voice note, their status"
            " and the messages about them. Your Telegram name only if you chose to share it."
        ),
        "• "
        + tr._(
            "Your survey answers. Answers to anonymous surveys are not linked to you; a named"
            " survey says so before it starts."
        ),
        "",
        tr._("<b>Who sees it</b>"),
        "• "
        + tr._(
            "The liaison staff see your reports in their group, with your name only if you"
            " shared it. They answer through the bot and never see your Telegram account."
        ),
        "• "
        + tr._(
            "Admins see totals and survey results. Statistics and open-data exports never"
            " say who you are. We do not sell or give your data to anyone."
        ),
        "",
        tr._("<b>For how long</b>"),
        "• " + tr._("Your profile and choices: until you delete them."),
        "• "
        + tr.ngettext(
            "Your link to a report, your name, photos, voice note and the messages about it:"
            " {count} day after the report is closed. What, where and when stay for"
            " statistics, without any link to you.",
            "Your link to a report, your name, photos, voice note and the messages about it:"
            " {count} days after the report is closed. What, where and when stay for"
            " statistics, without any link to you.",
            city.retention_days,
        ),
        "• " + tr._("Unfinished conversations: {days} days.", days=tr.number(KEEP_DAYS)),
        "• "
        + tr._(
            "The bot's record of the messages it sent you: {days} days.",
            days=tr.number(DELIVERY_LOG_DAYS),
        ),
        "",
        tr._("<b>Your choices</b>"),
        "/mydata — " + tr._("get a copy of everything we hold about you"),
        "/deletemydata — " + tr._("delete your data"),
        "/stop — " + tr._("stop all alerts"),
        "",
        tr._(
            "Telegram keeps your chat with the bot on your phone; you can delete it there"
            " at any time."
        ),
    ]
    keyboard = InlineKeyboardMarkup(
        [
            [InlineKeyboardButton(tr._("📦 Get my data"), callback_data=EXPORT)],
            [InlineKeyboardButton(tr._("🗑 Delete my data"), callback_data=DELETE)],
        ]
    )
    return View("\n".join(lines), keyboard)


def mydata_caption(tr: Translator) -> str:
    return tr._(
        "📦 Everything this bot holds about you, as a file you can open with any text"
        " editor. Keep it private."
    )


def delete_question(tr: Translator, holdings: Holdings, version: int) -> View:
    """The confirmation, with buttons bound to the dialog's version."""
    lines = [
        tr._("🗑 <b>Delete your data?</b>"),
        "",
        tr._(
            "This deletes your profile, your alert choices, your answers to events and the"
            " link between you and your survey answers."
        ),
    ]
    if holdings.reports:
        lines += [
            "",
            tr.ngettext(
                "Your report stays for the program's statistics, but without your account,"
                " name, photos or voice note.",
                "Your {count} reports stay for the program's statistics, but without your"
                " account, name, photos or voice notes.",
                holdings.reports,
            ),
        ]
    if holdings.open_reports:
        lines.append(
            tr.ngettext(
                "It is still open: the liaison team will be told, and will no longer be able"
                " to reply to you about it.",
                "{count} of them are still open: the liaison team will be told, and will no"
                " longer be able to reply to you about them.",
                holdings.open_reports,
            )
        )
    lines += [
        "",
        tr._("This cannot be undone. You can keep using the bot afterwards, as a new user."),
    ]
    keyboard = InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    tr._("🗑 Yes, delete my data"), callback_data=f"{PREFIX}:{version}:yes"
                )
            ],
            [InlineKeyboardButton(tr._("Keep my data"), callback_data=f"{PREFIX}:{version}:no")],
        ]
    )
    return View("\n".join(lines), keyboard)


def deleted(tr: Translator, erased: Erased) -> str:
    text = tr._("✅ Your personal data has been deleted.")
    if erased.reports:
        text += " " + tr.ngettext(
            "Your report remains only as an anonymous record.",
            "Your {count} reports remain only as anonymous records.",
            erased.reports,
        )
    return text + "\n\n" + tr._("If you write to the bot again, it will treat you as a new user.")


def kept(tr: Translator) -> str:
    return tr._("Nothing was deleted. Your data is as it was.")


def use_buttons(tr: Translator) -> str:
    return tr._("Please answer with the buttons above: delete your data, or keep it.")


# --------------------------------------------------------------------------- staff chat


def resident_left(tr: Translator, report: Report, *, media_removed: bool) -> str:
    text = "🚪 <b>{reference}</b>: {notice}".format(
        reference=escape(report.reference),
        notice=tr._("The resident has deleted their data; replies can no longer reach them."),
    )
    if media_removed:
        text += "\n" + tr._(
            "Their photos and voice notes were removed from this chat where Telegram allowed"
            " it (within 48 hours of posting); please delete any that remain."
        )
    return text


def unreachable(tr: Translator, report: Report) -> str:
    """A staff member answered a report whose resident is no longer linked to it."""
    return tr._(
        "Replies can no longer reach the resident of {reference}: their personal data was"
        " removed (deleted by them, or after the retention period). Nothing was sent.",
        reference=f"<b>{escape(report.reference)}</b>",
    )


class PrivacyTexts:
    """The staff-chat texts `PrivacyService` puts in the outbox (its `PrivacyMessages`)."""

    def __init__(self, catalogs: Catalogs, city: City) -> None:
        self._catalogs = catalogs
        self._city = city

    @property
    def staff_tr(self) -> Translator:
        return self._catalogs.get(self._city.default_language)

    def staff_card(self, report: Report) -> tuple[str, dict[str, Any]]:
        text, keyboard = card(self.staff_tr, self._city, report)
        return text, keyboard.to_dict()

    def resident_left(self, report: Report, *, media_removed: bool) -> str:
        return resident_left(self.staff_tr, report, media_removed=media_removed)
