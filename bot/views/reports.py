"""What residents see of reports: the guided flow, /myreports, history, status updates."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from html import escape

from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    ReplyKeyboardMarkup,
)

from bot.config import City
from bot.i18n import N_, Translator
from bot.services.reports import MAX_PHOTOS, MAX_TEXT, MIN_TEXT, Draft
from bot.storage.reports import Report, ReportEvent
from bot.views.common import View, emergency_notice, main_menu
from bot.views.markup import Button, ButtonRows, in_pairs, inline_keyboard, reply_keyboard

FLOW_PREFIX = "rf"
HISTORY_PREFIX = "rh"
HISTORY_LIMIT = 20
EXCERPT = 300

STATUS_LABELS = {
    "new": N_("🆕 New"),
    "acknowledged": N_("👀 Acknowledged"),
    "in_progress": N_("🔧 In progress"),
    "resolved": N_("✅ Resolved"),
    "not_actionable": N_("🚫 Not actionable"),
}
CANCEL = N_("✖ Cancel")
SHARE_LOCATION = N_("📍 Share my location")
STEPS = 4


def status_label(tr: Translator, status: str) -> str:
    return tr._(STATUS_LABELS.get(status, STATUS_LABELS["new"]))


def when(moment: float) -> datetime:
    return datetime.fromtimestamp(moment, UTC)


def category_name(city: City, category_id: str, language: str) -> str:
    category = city.category(category_id)
    return category.name(language, city.default_language) if category else category_id


def neighborhood_name(city: City, neighborhood_id: str, language: str) -> str:
    neighborhood = city.neighborhood(neighborhood_id)
    return neighborhood.name(language, city.default_language) if neighborhood else neighborhood_id


def _data(version: int, *parts: str) -> str:
    return ":".join((FLOW_PREFIX, str(version), *parts))


def _cancel_button(tr: Translator, version: int) -> Button:
    return (tr._(CANCEL), _data(version, "cancel"))


def cancel_keyboard(tr: Translator) -> ReplyKeyboardMarkup:
    """A reply keyboard with only Cancel: replaces the main menu while a report is written."""
    return reply_keyboard(((tr._(CANCEL),),))


def is_cancel(text: str, translators: Sequence[Translator]) -> bool:
    stripped = text.strip()
    return any(stripped == tr._(CANCEL) for tr in translators)


def is_share_location(text: str, translators: Sequence[Translator]) -> bool:
    stripped = text.strip()
    return any(stripped == tr._(SHARE_LOCATION) for tr in translators)


# --------------------------------------------------------------------------- the flow


def intro(tr: Translator, city: City) -> View:
    text = "\n\n".join(
        (
            tr._("📝 <b>New report</b>. It takes four short steps; you can cancel at any time."),
            emergency_notice(tr, city),
        )
    )
    return View(text, cancel_keyboard(tr))


def step_header(tr: Translator, step: int) -> str:
    return tr._("<b>Step {step} of {total}</b>", step=tr.number(step), total=tr.number(STEPS))


def category_step(tr: Translator, city: City, version: int) -> View:
    rows = tuple(
        ((category.name(tr.language, city.default_language), _data(version, "cat", category.id)),)
        for category in city.categories
    )
    text = step_header(tr, 1) + "\n" + tr._("What is your concern about?")
    return View(text, inline_keyboard((*rows, (_cancel_button(tr, version),))))


def where_step(tr: Translator, city: City) -> View:
    names = [n.name(tr.language, city.default_language) for n in city.neighborhoods]
    rows = (*in_pairs(names), (tr._(CANCEL),))
    text = (
        step_header(tr, 2)
        + "\n"
        + tr._(
            "Where is it? Choose the neighborhood below, share your location, or type an"
            " address or a landmark (for example “corner of Main St and Hollis St”)."
        )
    )
    return View(text, reply_keyboard(rows, location=tr._(SHARE_LOCATION)))


def outside_area(tr: Translator, city: City, version: int) -> View:
    keyboard = inline_keyboard(
        (
            ((tr._("Yes, use this location"), _data(version, "loc", "yes")),),
            ((tr._("No, choose again"), _data(version, "loc", "no")),),
            (_cancel_button(tr, version),),
        )
    )
    text = tr._(
        "That location seems to be outside {city}. Is it right? The liaison team can only"
        " act within the city.",
        city=escape(city.name),
    )
    return View(text, keyboard)


def what_step(tr: Translator) -> View:
    text = (
        step_header(tr, 3)
        + "\n"
        + tr._(
            "What is happening? Describe it in your own words, in any language"
            " ({minimum} to {maximum} characters). You can also add up to {photos} photos"
            " or a voice note.",
            minimum=tr.number(MIN_TEXT),
            maximum=tr.number(MAX_TEXT),
            photos=tr.number(MAX_PHOTOS),
        )
    )
    return View(text, cancel_keyboard(tr))


def what_received(tr: Translator, draft: Draft, version: int) -> View:
    """After text or media: what we have, and Continue once the description is there."""
    lines = []
    attachments = attachments_line(tr, draft)
    if draft.text:
        lines.append(tr._("Got it."))
        if attachments:
            lines.append(attachments)
        lines.append(
            tr._(
                "You can add more text, photos or a voice note, or tap Continue.",
            )
        )
    else:
        if attachments:
            lines.append(attachments)
        lines.append(
            tr._(
                "Now please describe the problem in a few words (at least {minimum} characters).",
                minimum=tr.number(MIN_TEXT),
            )
        )
    rows: ButtonRows = ((_cancel_button(tr, version),),)
    if draft.text:
        rows = (((tr._("➡️ Continue"), _data(version, "next")),), *rows)
    return View("\n".join(lines), inline_keyboard(rows))


def attachments_line(tr: Translator, draft: Draft) -> str:
    parts = []
    if draft.photos:
        parts.append(tr.ngettext("{count} photo", "{count} photos", len(draft.photos)))
    if draft.voice:
        parts.append(tr._("a voice note"))
    if not parts:
        return ""
    return tr._("Attached: {items}.", items=tr.list(parts))


def text_too_short(tr: Translator) -> str:
    return tr._(
        "Please write a little more, so the team understands (at least {minimum} characters).",
        minimum=tr.number(MIN_TEXT),
    )


def text_too_long(tr: Translator, length: int) -> str:
    return tr._(
        "That is {length} characters; the limit is {maximum}. Please shorten it and send it"
        " again. Nothing you wrote before was lost.",
        length=tr.number(length),
        maximum=tr.number(MAX_TEXT),
    )


def photo_limit(tr: Translator) -> str:
    return tr._(
        "You can attach up to {count} photos; this one was not added.",
        count=tr.number(MAX_PHOTOS),
    )


def identity_step(
    tr: Translator, *, default_anonymous: bool, sensitive: bool, version: int
) -> View:
    buttons = [
        ((tr._("👤 Share my Telegram name"), _data(version, "anon", "0")),),
        ((tr._("🕶 Stay anonymous"), _data(version, "anon", "1")),),
    ]
    if default_anonymous:
        buttons.reverse()  # the default comes first
    buttons.append((_cancel_button(tr, version),))
    lines = [
        step_header(tr, 4),
        tr._(
            "May the liaison team see your Telegram name? If you stay anonymous, they can still"
            " answer you here, without ever learning who you are."
        ),
    ]
    if sensitive:
        lines.append(tr._("For this kind of concern we suggest staying anonymous."))
    return View("\n".join(lines), inline_keyboard(tuple(buttons)))


def place_text(tr: Translator, city: City, draft: Draft | Report) -> str:
    parts = []
    if draft.neighborhood:
        parts.append(escape(neighborhood_name(city, draft.neighborhood, tr.language)))
    if draft.address:
        parts.append("“" + escape(draft.address) + "”")
    if draft.latitude is not None:
        parts.append(tr._("📍 shared location"))
        if draft.outside_area:
            parts.append(tr._("(outside the city area)"))
    return " · ".join(parts) if parts else "—"


def summary(tr: Translator, city: City, draft: Draft, *, version: int) -> View:
    assert draft.category is not None
    anonymous = draft.anonymous if draft.anonymous is not None else True
    lines = [
        tr._("<b>Please check your report</b>"),
        "",
        tr._(
            "<b>Concern:</b> {category}",
            category=escape(category_name(city, draft.category, tr.language)),
        ),
        tr._("<b>Where:</b> {place}", place=place_text(tr, city, draft)),
        tr._("<b>What:</b> {text}", text=escape(draft.text)),
    ]
    attachments = attachments_line(tr, draft)
    if attachments:
        lines.append(attachments)
    lines.append(
        tr._("<b>Your name:</b> not shared, you stay anonymous")
        if anonymous
        else tr._("<b>Your name:</b> shared with the liaison team")
    )
    keyboard = inline_keyboard(
        (
            ((tr._("✅ Confirm and send"), _data(version, "ok")),),
            ((tr._("✏️ Edit"), _data(version, "edit")), _cancel_button(tr, version)),
        )
    )
    return View("\n".join(lines), keyboard)


def edit_picker(tr: Translator, version: int) -> View:
    keyboard = inline_keyboard(
        (
            (
                (tr._("Concern"), _data(version, "e", "cat")),
                (tr._("Place"), _data(version, "e", "place")),
            ),
            (
                (tr._("Description"), _data(version, "e", "what")),
                (tr._("Your name"), _data(version, "e", "id")),
            ),
            ((tr._("⬅️ Back to the summary"), _data(version, "back")),),
        )
    )
    return View(tr._("What would you like to change?"), keyboard)


def edit_description(tr: Translator) -> View:
    return View(
        tr._(
            "Send the new description; it replaces the old one. Your photos and voice note are kept."
        ),
        cancel_keyboard(tr),
    )


def chosen(tr: Translator, label: str, value: str) -> str:
    """What the pressed step message becomes once answered ('Concern: Noise ✓')."""
    return tr._("{label}: {value} ✓", label=label, value=value)


def use_buttons(tr: Translator) -> str:
    return tr._("Please use the buttons, or tap Cancel to stop.")


def where_hint(tr: Translator) -> str:
    return tr._(
        "Please choose a neighborhood, share your location, or type an address or landmark."
    )


def address_length(tr: Translator, minimum: int, maximum: int) -> str:
    return tr._(
        "Please type an address or landmark of {minimum} to {maximum} characters.",
        minimum=tr.number(minimum),
        maximum=tr.number(maximum),
    )


def what_hint(tr: Translator) -> str:
    return tr._(
        "I can take text, photos and a voice note here. Stickers, videos, files, contacts and"
        " polls cannot be attached; please describe the problem in words."
    )


def menu_during_flow(tr: Translator) -> str:
    return tr._("You are in the middle of a report. Finish it below, or tap Cancel to stop.")


def emergency_alert(tr: Translator, city: City) -> str:
    return tr._(
        "🚨 What you wrote may describe an emergency. If anyone is in danger right now,"
        " call <b>{number}</b> now: this bot is not watched around the clock. Your report will"
        " still be sent to the liaison team.",
        number=escape(city.emergency_number),
    )


def cancelled(tr: Translator, actions: Sequence[str] | None) -> View:
    return View(tr._("Cancelled. Nothing was sent."), main_menu(tr, actions))


def filed(tr: Translator, city: City, report: Report, actions: Sequence[str] | None) -> View:
    lines = [
        tr._(
            "✅ <b>Thank you! Your report {reference} was received.</b>",
            reference=escape(report.reference),
        ),
        "",
        tr._(
            "What happens next: the community liaison team reads every report. You will get a"
            " message here when its status changes, and the team may write to you here; reply"
            " to their message to answer them."
        ),
        tr._("You stayed anonymous: the team does not see your name.")
        if report.anonymous
        else tr._("The team will see your Telegram name."),
        tr._("See your reports at any time with /myreports."),
        "",
        emergency_notice(tr, city),
    ]
    return View("\n".join(lines), main_menu(tr, actions))


def rate_limited(tr: Translator, city: City, retry_at: float, now: float) -> str:
    moment = when(retry_at)
    same_day = tr.local(moment).date() == tr.local(when(now)).date()
    at = tr.time(moment) if same_day else tr.short_datetime(moment)
    return "\n\n".join(
        (
            tr.ngettext(
                "You have sent {count} report in the last hour, which is the most we can take"
                " from one person. You can send another one at {time}. Thank you for your"
                " patience.",
                "You have sent {count} reports in the last hour, which is the most we can take"
                " from one person. You can send another one at {time}. Thank you for your"
                " patience.",
                city.reports_per_hour,
                time=at,
            ),
            emergency_notice(tr, city),
        )
    )


def rate_limited_draft_kept(tr: Translator) -> str:
    return tr._("Your draft is kept: tap Confirm again after that time.")


def no_staff_chat_note(tr: Translator) -> str:
    return tr._("The liaison team will see it as soon as their chat is set up.")


# --------------------------------------------------------------------------- /myreports


def my_reports(tr: Translator, city: City, reports: Sequence[Report], total: int) -> View:
    if not reports:
        return View(
            tr._(
                "You have not sent any reports yet. Tap “📝 Report a concern” or type /report"
                " to send one."
            )
        )
    entries = []
    buttons = []
    for report in reports:
        entries.append(
            tr._(
                "<b>{reference}</b> · {category}\n{status} · updated {updated}",
                reference=escape(report.reference),
                category=escape(category_name(city, report.category, tr.language)),
                status=status_label(tr, report.status),
                updated=tr.short_datetime(when(report.updated_at)),
            )
        )
        buttons.append(
            [
                InlineKeyboardButton(
                    tr._("History of {reference}", reference=report.reference),
                    callback_data=f"{HISTORY_PREFIX}:{report.id}",
                )
            ]
        )
    if total > len(reports):
        entries.append(
            tr.ngettext(
                "… and {count} older report.", "… and {count} older reports.", total - len(reports)
            )
        )
    text = tr._("<b>Your reports</b>, newest first:") + "\n\n" + "\n\n".join(entries)
    return View(text, InlineKeyboardMarkup(buttons))


def _excerpt(text: str) -> str:
    return text if len(text) <= EXCERPT else text[: EXCERPT - 1] + "…"


def history(tr: Translator, city: City, report: Report, events: Sequence[ReportEvent]) -> View:
    lines = [
        tr._(
            "<b>{reference}</b> · {category}",
            reference=escape(report.reference),
            category=escape(category_name(city, report.category, tr.language)),
        ),
        tr._("<b>Where:</b> {place}", place=place_text(tr, city, report)),
        tr._("<b>What:</b> {text}", text=escape(_excerpt(report.description))),
        tr._("<b>Status:</b> {status}", status=status_label(tr, report.status)),
        "",
    ]
    shown = list(events)[-HISTORY_LIMIT:]
    for event in shown:
        stamp = tr.short_datetime(when(event.created_at))
        if event.kind == "created":
            entry = tr._("Received")
        elif event.kind == "status":
            entry = tr._("Status: {status}", status=status_label(tr, event.status or "new"))
        elif event.kind == "staff_message":
            entry = tr._("The liaison team wrote: {text}", text=escape(_excerpt(event.body or "")))
        elif event.kind == "resident_message":
            entry = tr._("You wrote: {text}", text=escape(_excerpt(event.body or "")))
        else:
            continue  # escalations are internal
        lines.append(f"• {stamp} — {entry}")
    keyboard = InlineKeyboardMarkup(
        [[InlineKeyboardButton(tr._("⬅️ All my reports"), callback_data=f"{HISTORY_PREFIX}:list")]]
    )
    return View("\n".join(lines), keyboard)


# --------------------------------------------------------------------------- relay


def relay_not_supported(tr: Translator) -> str:
    return tr._("I can pass on text, photos and voice notes to the liaison team.")


def relayed_to_staff(tr: Translator, reference: str) -> str:
    return tr._("✉️ Sent to the liaison team (report {reference}).", reference=escape(reference))


def relay_no_staff(tr: Translator) -> str:
    return tr._("Sorry, the liaison team cannot be reached right now. Please try again later.")
