"""The monthly transparency digest residents get, and the admin's /digestnote screens."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from html import escape

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.config import City
from bot.i18n import Translator
from bot.services.stats import AreaFigures
from bot.services.transparency import MAX_NOTE, DigestContent, DigestSlot
from bot.storage.stats import DigestNote
from bot.views.common import View, emergency_notice
from bot.views.reports import neighborhood_name
from bot.views.stats import duration, month_name

EXCERPT = 120
BUTTON_RE = re.compile(
    r"^dn:(?:(?P<version>\d{1,9}):(?P<action>save|redo|cancel)"
    r"|(?P<op>w|rm|rmy|ov):(?P<month>\d{4}-\d{2})(?::(?P<language>[a-z]{2,3}(?:-[a-z0-9]{2,8})?))?)$"
)


# --------------------------------------------------------------------------- the digest


def _area_line(tr: Translator, name: str, figures: AreaFigures) -> str:
    received = tr.ngettext(
        "{count} concern received", "{count} concerns received", figures.received
    )
    resolved = tr.ngettext("{count} resolved", "{count} resolved", figures.resolved)
    if figures.median_response is not None:
        # Two sentences, not two plural forms: one response is not "half" of anything
        # (and some languages have a single plural form).
        time = duration(tr, figures.median_response)
        if figures.responded == 1:
            response = tr._("the only first response came within {time}", time=time)
        else:
            response = tr._("half of the first responses came within {time}", time=time)
    else:
        response = tr._("no first response to measure yet")
    return tr._(
        "<b>{area}</b>: {received}, {resolved}; {response}.",
        area=escape(name),
        received=received,
        resolved=resolved,
        response=response,
    )


def digest(tr: Translator, city: City, content: DigestContent) -> str:
    """One resident's monthly digest, in their language."""
    lines = [
        tr._("📊 <b>Your monthly update: {month}</b>", month=month_name(tr, content.month)),
        tr._("What happened to the concerns residents reported to the liaison team."),
        "",
    ]
    lines += [
        _area_line(tr, neighborhood_name(city, hood, tr.language), figures)
        for hood, figures in content.areas
    ]
    lines.append(_area_line(tr, tr._("Whole city"), content.citywide))
    if content.note:
        lines += ["", tr._("🗣 <b>You said, we did</b>"), escape(content.note)]
    lines += [
        "",
        tr._("Report a concern at any time with /report."),
        emergency_notice(tr, city),
        tr._("You get this update once a month because you asked for it; change that in /alerts."),
    ]
    return "\n".join(lines)


# --------------------------------------------------------------------------- /digestnote


def _when(tr: Translator, slot: DigestSlot) -> str:
    return tr.datetime(slot.at)


def _excerpt(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= EXCERPT else flat[: EXCERPT - 1] + "…"


def overview(
    tr: Translator,
    city: City,
    slot: DigestSlot,
    notes: Mapping[str, DigestNote],
    readers: int,
    *,
    head: str = "",
) -> View:
    """The note of the next digest in every language, with a button to write each."""
    month = month_name(tr, slot.month)
    lines = [head, ""] if head else []
    lines += [
        tr._("📝 <b>“You said, we did” for the {month} digest</b>", month=month),
        tr.ngettext(
            "It goes out on {moment} to {count} resident who asked for it.",
            "It goes out on {moment} to {count} residents who asked for it.",
            readers,
            moment=_when(tr, slot),
        ),
        "",
    ]
    fallback = notes.get(city.default_language) or next(iter(notes.values()), None)
    for code in city.languages:
        name = escape(tr.language_name(code))
        note = notes.get(code)
        if note is not None:
            lines.append(
                tr._(
                    "<b>{language}</b>: “{excerpt}”",
                    language=name,
                    excerpt=escape(_excerpt(note.body)),
                )
            )
        elif fallback is not None:
            lines.append(
                tr._(
                    "<b>{language}</b>: not written; these residents get the note in {fallback}.",
                    language=name,
                    fallback=escape(tr.language_name(fallback.language)),
                )
            )
    if not notes:
        lines.append(tr._("No note yet: without one, the digest has the figures only."))
    lines += ["", tr._("Choose the language to write the note in:")]
    key = slot.key
    buttons = [
        InlineKeyboardButton(
            tr._("✍️ {language}", language=tr.language_name(code)),
            callback_data=f"dn:w:{key}:{code}",
        )
        for code in city.languages
    ]
    rows = [buttons[i : i + 2] for i in range(0, len(buttons), 2)]
    if notes:
        rows.append([InlineKeyboardButton(tr._("🗑 Remove the note"), callback_data=f"dn:rm:{key}")])
    return View("\n".join(lines), InlineKeyboardMarkup(rows))


def prompt(tr: Translator, slot: DigestSlot, language: str) -> str:
    return "\n".join(
        (
            tr._(
                "✍️ Send the note for the {month} digest in {language} as your next message:"
                " what residents told you, and what the team did about it.",
                month=month_name(tr, slot.month),
                language=escape(tr.language_name(language)),
            ),
            tr._(
                "Up to {limit} characters, plain text. /cancel stops without changing anything.",
                limit=tr.number(MAX_NOTE),
            ),
        )
    )


def preview(tr: Translator, slot: DigestSlot, language: str, sample: str, version: int) -> View:
    head = tr._(
        "👁 <b>Preview</b> for residents who read {language} and follow no neighborhood. The"
        " figures are those so far; they are final when the digest goes out on {moment}.",
        language=escape(tr.language_name(language)),
        moment=_when(tr, slot),
    )
    keyboard = InlineKeyboardMarkup(
        [
            [InlineKeyboardButton(tr._("✅ Save the note"), callback_data=f"dn:{version}:save")],
            [
                InlineKeyboardButton(tr._("✍️ Write it again"), callback_data=f"dn:{version}:redo"),
                InlineKeyboardButton(tr._("✖ Cancel"), callback_data=f"dn:{version}:cancel"),
            ],
        ]
    )
    return View(f"{head}\n\n— — —\n\n{sample}", keyboard)


def saved(tr: Translator, slot: DigestSlot, language: str) -> str:
    return tr._(
        "✅ Saved: residents who read {language} get this note with the {month} digest.",
        language=escape(tr.language_name(language)),
        month=month_name(tr, slot.month),
    )


def too_long(tr: Translator, length: int) -> str:
    return tr._(
        "That note is {length} characters long; please keep it under {limit} and send it again.",
        length=tr.number(length),
        limit=tr.number(MAX_NOTE),
    )


def text_only(tr: Translator) -> str:
    return tr._("Please send the note as a text message (or /cancel).")


def confirm_removal(tr: Translator, slot: DigestSlot) -> View:
    key = slot.key
    return View(
        tr._(
            "Remove the note of the {month} digest in every language?",
            month=month_name(tr, slot.month),
        ),
        InlineKeyboardMarkup(
            [
                [
                    InlineKeyboardButton(tr._("🗑 Yes, remove it"), callback_data=f"dn:rmy:{key}"),
                    InlineKeyboardButton(tr._("Keep it"), callback_data=f"dn:ov:{key}"),
                ]
            ]
        ),
    )


def removed(tr: Translator, slot: DigestSlot) -> str:
    return tr._("🗑 The note of the {month} digest was removed.", month=month_name(tr, slot.month))


def discarded(tr: Translator) -> str:
    return tr._("Nothing was saved.")


def already_sent(tr: Translator, moment: datetime) -> str:
    return tr._(
        "That digest already went out on {moment}; the note now belongs to the next one.",
        moment=tr.datetime(moment),
    )
