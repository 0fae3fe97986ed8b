"""Texts and keyboards every resident sees: welcome, help, menu, language, hints."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

from telegram import (
    BotCommand,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    ReplyKeyboardMarkup,
)

from bot.config import City
from bot.i18n import N_, Translator
from bot.views.markup import in_pairs, reply_keyboard


@dataclass(frozen=True, slots=True)
class View:
    """A rendered message: HTML text and an optional keyboard."""

    text: str
    keyboard: InlineKeyboardMarkup | ReplyKeyboardMarkup | None = None

    @property
    def inline(self) -> InlineKeyboardMarkup | None:
        """The keyboard when it is inline (what a message edit accepts)."""
        return self.keyboard if isinstance(self.keyboard, InlineKeyboardMarkup) else None


# Main-menu buttons: (action, label). Labels are matched back in every language.
MENU = (
    ("report", N_("📝 Report a concern")),
    ("myreports", N_("🗂 My reports")),
    ("events", N_("📅 Events")),
    ("alerts", N_("🔔 Alerts")),
    ("survey", N_("💬 Surveys")),
    ("resources", N_("🤝 Help and resources")),
    ("language", N_("🌐 Language")),
    ("help", N_("ℹ️ Help")),
)

# Resident commands with their menu descriptions, shown by Telegram per language.
RESIDENT_COMMANDS = (
    ("start", N_("Start and main menu")),
    ("report", N_("Report a non-emergency concern")),
    ("myreports", N_("Your reports and their status")),
    ("events", N_("Upcoming community meetings")),
    ("alerts", N_("Choose which alerts you get")),
    ("stop", N_("Stop all alerts")),
    ("survey", N_("Give feedback")),
    ("resources", N_("Partner services and help lines")),
    ("officers", N_("Your community liaison officers")),
    ("language", N_("Change language")),
    ("privacy", N_("What we store and your choices")),
    ("help", N_("How this bot works")),
    ("cancel", N_("Stop what you are doing")),
)


def emergency_notice(tr: Translator, city: City) -> str:
    return tr._(
        "🚨 This bot is <b>not for emergencies</b>. If someone is in danger or a crime is"
        " happening now, call <b>{number}</b>.",
        number=escape(city.emergency_number),
    )


def main_menu(tr: Translator, actions: Sequence[str] | None = None) -> ReplyKeyboardMarkup:
    labels = [tr._(label) for action, label in MENU if actions is None or action in actions]
    return reply_keyboard(in_pairs(labels), persistent=True)


def menu_action(text: str, translators: Sequence[Translator]) -> str | None:
    """Which main-menu button `text` is, in any enabled language."""
    stripped = text.strip()
    for tr in translators:
        for action, label in MENU:
            if stripped == tr._(label):
                return action
    return None


def welcome(
    tr: Translator, city: City, first_name: str, actions: Sequence[str] | None = None
) -> View:
    text = "\n\n".join(
        (
            tr._(
                "👋 Hello, {name}! This is the {city} community liaison team's bot.",
                name=escape(first_name),
                city=escape(city.name),
            ),
            tr._(
                "You can report a non-emergency concern (anonymously if you prefer), hear about"
                " neighborhood meetings, and tell us how we are doing, in your language."
            ),
            emergency_notice(tr, city),
            tr._("Choose from the menu below, or type /help."),
        )
    )
    return View(text, main_menu(tr, actions))


def help_text(tr: Translator, city: City, *, is_admin: bool, is_staff: bool) -> View:
    lines = [tr._("<b>How this bot works</b>"), ""]
    for command, description in RESIDENT_COMMANDS:
        lines.append(f"/{command} — {tr._(description)}")
    if is_admin:
        lines += ["", tr._("<b>Admin commands</b>")]
        lines += [f"/{command} — {tr._(description)}" for command, description in ADMIN_COMMANDS]
    if is_staff:
        lines += ["", tr._("<b>Staff commands</b>")]
        lines += [f"/{command} — {tr._(description)}" for command, description in STAFF_COMMANDS]
    lines += ["", emergency_notice(tr, city)]
    return View("\n".join(lines))


ADMIN_COMMANDS = (
    ("newevent", N_("Create an event")),
    ("myevents", N_("Manage upcoming events")),
    ("broadcast", N_("Send a message to residents")),
    ("surveys", N_("List, open and close surveys")),
    ("results", N_("Survey results")),
    ("export", N_("Export survey answers as a spreadsheet (CSV)")),
    ("stats", N_("Statistics")),
    ("digestnote", N_("Write the monthly digest's “you said, we did” note")),
)

STAFF_COMMANDS = (
    ("staffcheck", N_("Check the bot's rights in this chat")),
    ("stats", N_("Statistics")),
)


def bot_commands(tr: Translator, commands: Sequence[tuple[str, str]]) -> list[BotCommand]:
    return [BotCommand(command, tr._(description)) for command, description in commands]


def language_picker(tr: Translator, languages: Sequence[str], current: str) -> View:
    buttons = [
        InlineKeyboardButton(
            ("✓ " if code == current else "") + tr.language_name(code),
            callback_data=f"lang:set:{code}",
        )
        for code in languages
    ]
    rows = [buttons[i : i + 2] for i in range(0, len(buttons), 2)]
    return View(tr._("Choose your language:"), InlineKeyboardMarkup(rows))


def language_changed(tr: Translator) -> str:
    return tr._("Done! I will write to you in {language} from now on.", language=tr.language_name())


def language_offer(tr: Translator, detected: str, detected_tr: Translator) -> View:
    """Offer, in the detected language, to switch to it (asked once, never forced)."""
    text = detected_tr._(
        "It looks like you write in {language}. Should I use it?",
        language=detected_tr.language_name(),
    )
    keyboard = InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    detected_tr._("Yes, switch"), callback_data=f"lang:set:{detected}"
                ),
                InlineKeyboardButton(
                    tr._("No, keep {language}", language=tr.language_name()),
                    callback_data="lang:keep",
                ),
            ]
        ]
    )
    return View(text, keyboard)


def stray_text_hint(tr: Translator) -> str:
    return tr._(
        "I did not understand that. Choose from the menu below, or type /help to see what I can do."
    )


def unknown_command(tr: Translator) -> str:
    return tr._("I don't know that command. Type /help to see what I can do.")


def unsupported_message(tr: Translator) -> str:
    return tr._("I can only read text here. Choose from the menu below, or type /help.")


def too_long(tr: Translator, limit: int) -> str:
    return tr._(
        "That message is too long. Please keep it under {limit} characters.", limit=tr.number(limit)
    )


def cancelled(tr: Translator) -> str:
    return tr._("Cancelled. What would you like to do next?")


def nothing_to_cancel(tr: Translator) -> str:
    return tr._("There is nothing to cancel. Choose from the menu below.")


def unknown_start_link(tr: Translator) -> str:
    return tr._(
        "That link is not valid any more, but you are in the right place. Here is the main menu."
    )


def stale_button(tr: Translator) -> str:
    return tr._("That button is from an earlier message and no longer works.")


def apology(tr: Translator) -> str:
    return tr._("Sorry, something went wrong on our side. Please try again in a moment.")


def not_allowed(tr: Translator) -> str:
    return tr._("Sorry, only the program's admins can do that.")
