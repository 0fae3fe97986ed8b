"""Event cards, lists, RSVP answers, the admin's event views, and event notices."""

from __future__ import annotations

from collections.abc import Container, Sequence
from datetime import UTC, datetime
from html import escape

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.config import City
from bot.i18n import N_, Translator
from bot.services import calendar
from bot.services import events as service
from bot.services.events import Outgoing, RsvpResult
from bot.storage.events import EVENT_TYPES, Event, Rsvp, RsvpCounts
from bot.views.common import View

EVENT_TYPE_LABELS = {
    "meeting": N_("Community meeting"),
    "workshop": N_("Workshop"),
    "youth": N_("Youth program"),
    "community": N_("Community event"),
}
EVENT_TYPE_ICONS = {"meeting": "🏛", "workshop": "🛠", "youth": "🧒", "community": "🎉"}
GOING = N_("✅ Going")
MAYBE = N_("🤔 Maybe")
CANT_GO = N_("🚫 Can't go")
ADD_TO_CALENDAR = N_("📆 Add to calendar")
DIRECTIONS = N_("🗺 Directions")
DETAILS = N_("📅 Details")
UNSUBSCRIBE = N_("🔕 Unsubscribe")
SHOW_ALL = N_("Show all events")
SHOW_MINE = N_("Only what I follow")
CHOOSE_ALERTS = N_("🔔 Choose alerts")
LIST_LIMIT = 10


def moment(timestamp: float) -> datetime:
    return datetime.fromtimestamp(timestamp, UTC)


def type_label(tr: Translator, event_type: str) -> str:
    return tr._(EVENT_TYPE_LABELS.get(event_type, EVENT_TYPE_LABELS["community"]))


def icon(event: Event) -> str:
    return EVENT_TYPE_ICONS.get(event.event_type, "📅")


def title(tr: Translator, city: City, event: Event) -> str:
    """The event's title in the reader's language (else the default), HTML-escaped."""
    return escape(event.title(tr.language, city.default_language))


def when(tr: Translator, event: Event) -> str:
    """'Tuesday, December 8, 6:30 PM – 8:30 PM' in the reader's language and city time."""
    start, end = moment(event.starts_at), moment(event.ends_at)
    if tr.local(start).date() == tr.local(end).date():
        return tr._("{start} – {end}", start=tr.datetime(start), end=tr.time(end))
    return tr._("{start} – {end}", start=tr.datetime(start), end=tr.datetime(end))


def areas(tr: Translator, city: City, event: Event) -> str:
    if event.citywide:
        return tr._("Citywide")
    names = [
        hood.name(tr.language, city.default_language)
        for hood_id in event.neighborhoods
        if (hood := city.neighborhood(hood_id)) is not None
    ]
    return escape(tr.list(names)) if names else ""


def place(event: Event) -> str:
    return escape(event.place)


def details(tr: Translator, city: City, event: Event, *, description: bool = True) -> list[str]:
    """The lines every event message shares: title, type and area, time, place."""
    lines = [
        f"{icon(event)} <b>{title(tr, city, event)}</b>",
        tr._(
            "{type} · {areas}", type=type_label(tr, event.event_type), areas=areas(tr, city, event)
        ),
        tr._("🗓 {when}", when=when(tr, event)),
    ]
    if event.place:
        lines.append(tr._("📍 {place}", place=place(event)))
    elif event.has_pin:
        lines.append(tr._("📍 See the map pin (Directions)"))
    text = event.description(tr.language, city.default_language)
    if description and text:
        lines += ["", escape(text)]
    return lines


def capacity_line(tr: Translator, event: Event, counts: RsvpCounts) -> str | None:
    if event.capacity is None:
        return None
    if counts.going >= event.capacity:
        return tr.ngettext(
            "👥 Full ({count} place). Tap Going to join the waitlist.",
            "👥 Full ({count} places). Tap Going to join the waitlist.",
            event.capacity,
        )
    return tr.ngettext(
        "👥 {taken} of {count} place taken",
        "👥 {taken} of {count} places taken",
        event.capacity,
        taken=tr.number(counts.going),
    )


def answer_line(tr: Translator, rsvp: Rsvp | None, position: int) -> str | None:
    if rsvp is None:
        return None
    if rsvp.answer == "going" and rsvp.waitlisted:
        return tr._(
            "⏳ You are number {position} on the waitlist. We will tell you if a place opens up.",
            position=tr.number(position),
        )
    if rsvp.answer == "going":
        return tr._("✅ You are going.")
    if rsvp.answer == "maybe":
        return tr._("🤔 You said maybe.")
    return tr._("🚫 You said you can't go.")


def _cb(*parts: object) -> str:
    data = ":".join(str(part) for part in parts)
    assert len(data.encode()) <= 64, data
    return data


def rsvp_buttons(tr: Translator, event: Event) -> list[list[InlineKeyboardButton]]:
    return [
        [
            InlineKeyboardButton(tr._(GOING), callback_data=_cb("ev", "r", event.id, "going")),
            InlineKeyboardButton(tr._(MAYBE), callback_data=_cb("ev", "r", event.id, "maybe")),
            InlineKeyboardButton(tr._(CANT_GO), callback_data=_cb("ev", "r", event.id, "no")),
        ]
    ]


def tool_buttons(tr: Translator, event: Event) -> list[InlineKeyboardButton]:
    row = [InlineKeyboardButton(tr._(ADD_TO_CALENDAR), callback_data=_cb("ev", "ics", event.id))]
    if event.has_pin:
        row.append(InlineKeyboardButton(tr._(DIRECTIONS), callback_data=_cb("ev", "map", event.id)))
    return row


def unsubscribe_button(tr: Translator) -> InlineKeyboardButton:
    return InlineKeyboardButton(tr._(UNSUBSCRIBE), callback_data="al:unsub")


def card(
    tr: Translator,
    city: City,
    event: Event,
    *,
    counts: RsvpCounts,
    rsvp: Rsvp | None,
    position: int,
    now: float,
) -> View:
    """The event as a resident sees it, with the answer buttons while they make sense."""
    lines = details(tr, city, event)
    if event.cancelled:
        lines.insert(0, tr._("❌ <b>This event was cancelled.</b>"))
        return View("\n".join(lines))
    if event.ends_at <= now:
        lines.insert(0, tr._("This event is over."))
        return View("\n".join(lines))
    extra = [
        line for line in (capacity_line(tr, event, counts), answer_line(tr, rsvp, position)) if line
    ]
    if extra:
        lines += ["", *extra]
    rows = rsvp_buttons(tr, event) if event.starts_at > now else []
    rows.append(tool_buttons(tr, event))
    return View("\n".join(lines), InlineKeyboardMarkup(rows))


def rsvp_answer(tr: Translator, result: RsvpResult) -> str:
    """The short toast after an answer button."""
    if result.outcome == service.NOT_FOUND:
        return tr._("Sorry, I can't find that event any more.")
    if result.outcome == service.CANCELLED:
        return tr._("This event was cancelled.")
    if result.outcome == "closed":
        return tr._("This event has already started.")
    if result.outcome == "waitlisted" or (
        result.outcome == "unchanged" and result.rsvp is not None and result.rsvp.waitlisted
    ):
        return tr._(
            "The event is full. You are number {position} on the waitlist; we will tell you if a"
            " place opens up.",
            position=tr.number(result.position),
        )
    answer = result.rsvp.answer if result.rsvp else ""
    if answer == "going":
        return tr._("See you there! You will get a reminder before it starts.")
    if answer == "maybe":
        return tr._("Noted: maybe. You will get a reminder before it starts.")
    return tr._("Thanks for letting us know.")


def event_list(
    tr: Translator,
    city: City,
    events: Sequence[Event],
    *,
    show_all: bool,
    subscribed: bool,
) -> View:
    """The /events list: one line per event and a button to open each."""
    if show_all or not subscribed:
        header = tr._("📅 <b>All upcoming events</b>")
    else:
        header = tr._("📅 <b>Upcoming events in the neighborhoods you follow</b>")
    rows: list[list[InlineKeyboardButton]] = []
    if not events:
        empty = (
            tr._("There are no upcoming events right now. We will let you know when there are.")
            if show_all or not subscribed
            else tr._("There are no upcoming events in the neighborhoods you follow.")
        )
        lines = [header, "", empty]
    else:
        lines = [header, ""]
        for event in events[:LIST_LIMIT]:
            lines.append(
                tr._(
                    "{icon} <b>{title}</b>\n      {when}",
                    icon=icon(event),
                    title=title(tr, city, event),
                    when=tr.datetime(moment(event.starts_at)),
                )
                + (f"\n      📍 {place(event)}" if event.place else "")
            )
            label = tr._(
                "{icon} {title} · {date}",
                icon=icon(event),
                title=_short(event.title(tr.language, city.default_language), 28),
                date=tr.short_datetime(moment(event.starts_at)),
            )
            rows.append([InlineKeyboardButton(label, callback_data=_cb("ev", "o", event.id))])
        lines += ["", tr._("Tap an event to see the details and answer.")]
    if subscribed:
        toggle = (
            InlineKeyboardButton(tr._(SHOW_MINE), callback_data="ev:l:mine")
            if show_all
            else InlineKeyboardButton(tr._(SHOW_ALL), callback_data="ev:l:all")
        )
        rows.append([toggle])
    else:
        lines += ["", tr._("Follow your neighborhood with /alerts to hear about new events.")]
        rows.append([InlineKeyboardButton(tr._(CHOOSE_ALERTS), callback_data="al:menu")])
    return View("\n".join(lines), InlineKeyboardMarkup(rows))


def _short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def event_not_found(tr: Translator) -> str:
    return tr._(
        "Sorry, I can't find that event. It may have been removed. Type /events to see what is"
        " coming up."
    )


def ics_caption(tr: Translator, city: City, event: Event) -> str:
    return tr._(
        "📆 Open this file to add <b>{title}</b> to your calendar.",
        title=title(tr, city, event),
    )


def no_pin(tr: Translator) -> str:
    return tr._("This event has no map pin. The place is written on the event card.")


# --------------------------------------------------------------------------- notices


class EventMessages:
    """The `EventRenderer` for the outbox: announcements, notices, reminders, digests."""

    def __init__(self, city: City) -> None:
        self._city = city

    def _markup(self, rows: list[list[InlineKeyboardButton]]) -> dict[str, object]:
        return InlineKeyboardMarkup(rows).to_dict()

    def announcement(self, tr: Translator, event: Event) -> Outgoing:
        lines = [tr._("📣 <b>New event</b>"), "", *details(tr, self._city, event)]
        if event.capacity is not None:
            lines += [
                "",
                tr.ngettext(
                    "👥 Limited to {count} place.", "👥 Limited to {count} places.", event.capacity
                ),
            ]
        rows = rsvp_buttons(tr, event)
        rows.append(tool_buttons(tr, event))
        rows.append([unsubscribe_button(tr)])
        return Outgoing("\n".join(lines), self._markup(rows))

    def changed(self, tr: Translator, event: Event, before: Event) -> Outgoing:
        lines = [tr._("✏️ <b>An event you follow has changed</b>"), ""]
        lines += details(tr, self._city, event, description=False)
        if (before.starts_at, before.ends_at) != (event.starts_at, event.ends_at):
            lines += ["", tr._("New time. It was: {when}", when=when(tr, before))]
        if (before.place, before.latitude, before.longitude) != (
            event.place,
            event.latitude,
            event.longitude,
        ):
            lines += ["", tr._("New place. It was: {place}", place=place(before) or "—")]
        rows = rsvp_buttons(tr, event)
        rows.append(tool_buttons(tr, event))
        rows.append([unsubscribe_button(tr)])
        return Outgoing("\n".join(lines), self._markup(rows))

    def cancelled(self, tr: Translator, event: Event) -> Outgoing:
        text = tr._(
            "❌ <b>Cancelled:</b> {title} ({when}) will not take place. We are sorry for the"
            " change of plans.",
            title=title(tr, self._city, event),
            when=when(tr, event),
        )
        return Outgoing(text, self._markup([[unsubscribe_button(tr)]]))

    def promoted(self, tr: Translator, event: Event) -> Outgoing:
        lines = [
            tr._(
                "🎉 A place opened up: you are now going to <b>{title}</b>! If you can't make it"
                " after all, tap Can't go so that someone else can have the place.",
                title=title(tr, self._city, event),
            ),
            "",
            tr._("🗓 {when}", when=when(tr, event)),
        ]
        if event.place:
            lines.append(tr._("📍 {place}", place=place(event)))
        rows = rsvp_buttons(tr, event)
        rows.append(tool_buttons(tr, event))
        return Outgoing("\n".join(lines), self._markup(rows))

    def attendee_message(self, tr: Translator, event: Event, text_html: str) -> Outgoing:
        header = tr._(
            "✉️ <b>Message about {title}</b> ({when})",
            title=title(tr, self._city, event),
            when=tr.short_datetime(moment(event.starts_at)),
        )
        rows = [[InlineKeyboardButton(tr._(DETAILS), callback_data=_cb("ev", "o", event.id))]]
        return Outgoing(f"{header}\n\n{text_html}", self._markup(rows))

    def reminder(self, tr: Translator, event: Event) -> Outgoing:
        lines = [
            tr._(
                "⏰ <b>Reminder:</b> {title} starts {when}.",
                title=title(tr, self._city, event),
                when=tr.datetime(moment(event.starts_at)),
            )
        ]
        if event.place:
            lines.append(tr._("📍 {place}", place=place(event)))
        rows = [
            [
                InlineKeyboardButton(tr._(DETAILS), callback_data=_cb("ev", "o", event.id)),
                *tool_buttons(tr, event),
            ],
            [unsubscribe_button(tr)],
        ]
        return Outgoing("\n".join(lines), self._markup(rows))

    def digest(self, tr: Translator, events: Sequence[Event]) -> Outgoing:
        lines = [tr._("🗓 <b>Your week ahead</b>"), ""]
        for event in events:
            lines.append(
                tr._(
                    "{icon} <b>{title}</b> — {when}",
                    icon=icon(event),
                    title=title(tr, self._city, event),
                    when=tr.datetime(moment(event.starts_at)),
                )
                + (f"\n      📍 {place(event)}" if event.place else "")
            )
        rows = [
            [
                InlineKeyboardButton(
                    tr._(
                        "{icon} {title}",
                        icon=icon(event),
                        title=_short(event.title(tr.language, self._city.default_language), 30),
                    ),
                    callback_data=_cb("ev", "o", event.id),
                )
            ]
            for event in events[:LIST_LIMIT]
        ]
        rows.append([unsubscribe_button(tr)])
        return Outgoing("\n".join(lines), self._markup(rows))


# --------------------------------------------------------------------------- admins

NO_LIMIT = N_("No limit")
SKIP = N_("Skip")
CONTINUE = N_("Continue →")
PUBLISH = N_("📣 Publish")
CANCEL = N_("✖ Cancel")
CITYWIDE_LABEL = N_("🏙 Citywide")


def ask_type(tr: Translator, version: int) -> View:
    buttons = [
        InlineKeyboardButton(
            f"{EVENT_TYPE_ICONS[kind]} {tr._(EVENT_TYPE_LABELS[kind])}",
            callback_data=_cb("ne", version, "type", kind),
        )
        for kind in EVENT_TYPES
    ]
    rows = [buttons[i : i + 2] for i in range(0, len(buttons), 2)]
    text = tr._(
        "🗓 <b>New event</b> (step 1 of 7)\n\nWhat kind of event is it? /cancel stops at any"
        " time; nothing is published before you confirm."
    )
    return View(text, InlineKeyboardMarkup(rows))


def ask_title(tr: Translator, language_name: str) -> str:
    return tr._(
        "Step 2 of 7: the <b>title</b> in {language} (up to {limit} characters).",
        language=escape(language_name),
        limit=tr.number(service.MAX_TITLE),
    )


def ask_description(tr: Translator, language_name: str, version: int, prefix: str = "ne") -> View:
    text = tr._(
        "Now a short <b>description</b> in {language}: what it is about, who it is for."
        " Or tap Skip.",
        language=escape(language_name),
    )
    keyboard = InlineKeyboardMarkup(
        [[InlineKeyboardButton(tr._(SKIP), callback_data=_cb(prefix, version, "skip"))]]
    )
    return View(text, keyboard)


def translations(tr: Translator, city: City, titles: dict[str, str], version: int) -> View:
    have = [tr.language_name(code) for code in city.languages if code in titles]
    text = tr._(
        "Title and description so far in: {languages}. Residents see their language, or {default}."
        " Add another language?",
        languages=escape(tr.list(have)),
        default=escape(tr.language_name(city.default_language)),
    )
    return View(text, more_languages_keyboard(tr, city, titles, "ne", version))


def more_languages_keyboard(
    tr: Translator, city: City, written: Container[str], prefix: str, version: int
) -> InlineKeyboardMarkup:
    """➕ each enabled language not written yet, then Continue."""
    rows = [
        [
            InlineKeyboardButton(
                tr._("➕ {language}", language=tr.language_name(code)),
                callback_data=_cb(prefix, version, "lang", code),
            )
        ]
        for code in city.languages
        if code not in written
    ]
    rows.append([InlineKeyboardButton(tr._(CONTINUE), callback_data=_cb(prefix, version, "next"))])
    return InlineKeyboardMarkup(rows)


def ask_translated_title(tr: Translator, language_name: str) -> str:
    return tr._("The title in {language}:", language=escape(language_name))


def area_picker(
    tr: Translator, city: City, chosen: list[str], citywide: bool, version: int
) -> View:
    text = tr._(
        "Step 3 of 7: <b>where</b>? Choose one or more neighborhoods, or Citywide, then"
        " Continue. Residents who follow them will be told."
    )
    buttons = [
        InlineKeyboardButton(
            ("✅ " if n.id in chosen else "⬜ ") + n.name(tr.language, city.default_language),
            callback_data=_cb("ne", version, "area", n.id),
        )
        for n in city.neighborhoods
    ]
    rows = [buttons[i : i + 2] for i in range(0, len(buttons), 2)]
    rows.append(
        [
            InlineKeyboardButton(
                ("✅ " if citywide else "⬜ ") + tr._(CITYWIDE_LABEL),
                callback_data=_cb("ne", version, "area", "*"),
            )
        ]
    )
    rows.append([InlineKeyboardButton(tr._(CONTINUE), callback_data=_cb("ne", version, "next"))])
    return View(text, InlineKeyboardMarkup(rows))


def ask_start(tr: Translator, *, step: bool = True) -> str:
    text = tr._(
        "<b>When does it start?</b> For example 2026-12-08 18:30, 12/8 6:30pm, Dec 8 6:30 pm or"
        " tomorrow 18:00 (city time)."
    )
    return tr._("Step 4 of 7: {question}", question=text) if step else text


def ask_end(tr: Translator, start: float, version: int, prefix: str = "ne") -> View:
    text = tr._(
        "Starts {start}. <b>When does it end?</b> A time (20:30), a length (2h, 90 min) or a"
        " date and time.",
        start=tr.datetime(moment(start)),
    )
    keyboard = InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(tr._("1 hour"), callback_data=_cb(prefix, version, "len", 60)),
                InlineKeyboardButton(
                    tr._("2 hours"), callback_data=_cb(prefix, version, "len", 120)
                ),
            ]
        ]
    )
    return View(text, keyboard)


def ask_place(tr: Translator, *, step: bool = True) -> str:
    text = tr._("<b>Where?</b> Send the address or place name, or a location pin (📎 → Location).")
    return tr._("Step 5 of 7: {question}", question=text) if step else text


def ask_pin(tr: Translator, version: int, prefix: str = "ne") -> View:
    text = tr._(
        "Add a map pin too, so residents can get directions? Send a location (📎 → Location),"
        " or tap Skip."
    )
    keyboard = InlineKeyboardMarkup(
        [[InlineKeyboardButton(tr._(SKIP), callback_data=_cb(prefix, version, "skip"))]]
    )
    return View(text, keyboard)


def ask_place_name(tr: Translator, version: int, prefix: str = "ne") -> View:
    text = tr._("Pin saved. Add the address or place name as text too, or tap Skip.")
    keyboard = InlineKeyboardMarkup(
        [[InlineKeyboardButton(tr._(SKIP), callback_data=_cb(prefix, version, "skip"))]]
    )
    return View(text, keyboard)


def ask_capacity(tr: Translator, version: int) -> View:
    text = tr._(
        "Step 6 of 7: <b>how many places?</b> Send a number; when it is full, residents join a"
        " waitlist. Or tap No limit."
    )
    keyboard = InlineKeyboardMarkup(
        [[InlineKeyboardButton(tr._(NO_LIMIT), callback_data=_cb("ne", version, "nolimit"))]]
    )
    return View(text, keyboard)


def preview(tr: Translator, city: City, event: Event, reach: int, version: int) -> View:
    lines = [tr._("Step 7 of 7: <b>preview</b>, as residents will see it:"), ""]
    lines += details(tr, city, event)
    if event.capacity is not None:
        lines += [
            "",
            tr.ngettext(
                "👥 Limited to {count} place.", "👥 Limited to {count} places.", event.capacity
            ),
        ]
    others = [tr.language_name(code) for code in event.titles if code != tr.language]
    if others:
        lines += ["", tr._("Also written in: {languages}", languages=escape(tr.list(others)))]
    lines += [
        "",
        tr.ngettext(
            "Publishing announces it to {count} resident who follows these areas.",
            "Publishing announces it to {count} residents who follow these areas.",
            reach,
        ),
    ]
    keyboard = InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(tr._(PUBLISH), callback_data=_cb("ne", version, "publish")),
                InlineKeyboardButton(tr._(CANCEL), callback_data=_cb("ne", version, "cancel")),
            ]
        ]
    )
    return View("\n".join(lines), keyboard)


def published(tr: Translator, city: City, event: Event, announced: int) -> str:
    return tr.ngettext(
        "📣 Published: <b>{title}</b> (event #{id}). Announced to {count} resident. Manage it"
        " with /myevents.",
        "📣 Published: <b>{title}</b> (event #{id}). Announced to {count} residents. Manage it"
        " with /myevents.",
        announced,
        title=title(tr, city, event),
        id=event.id,
    )


def choose_with_buttons(tr: Translator) -> str:
    return tr._("Please choose with the buttons above.")


def need_text(tr: Translator) -> str:
    return tr._("Please send text here.")


def need_location(tr: Translator) -> str:
    return tr._("Please send a location pin (📎 → Location), or tap Skip.")


def discarded(tr: Translator) -> str:
    return tr._("Discarded. Nothing was published.")


def edit_time_saved(tr: Translator, city: City, event: Event, notified: int) -> str:
    return tr.ngettext(
        "Saved: <b>{title}</b> now starts {when}. {count} resident is being told, and the"
        " reminders follow the new time.",
        "Saved: <b>{title}</b> now starts {when}. {count} residents are being told, and the"
        " reminders follow the new time.",
        notified,
        title=title(tr, city, event),
        when=tr.datetime(moment(event.starts_at)),
    )


def edit_place_saved(tr: Translator, city: City, event: Event, notified: int) -> str:
    return tr.ngettext(
        "Saved: <b>{title}</b> is now at {place}. {count} resident is being told.",
        "Saved: <b>{title}</b> is now at {place}. {count} residents are being told.",
        notified,
        title=title(tr, city, event),
        place=place(event) or tr._("the map pin"),
    )


def confirm_change(tr: Translator, summary: str, reach: int, version: int) -> View:
    text = "\n".join(
        [
            summary,
            "",
            tr.ngettext(
                "Saving tells {count} resident (followers and everyone who answered).",
                "Saving tells {count} residents (followers and everyone who answered).",
                reach,
            ),
        ]
    )
    keyboard = InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    tr._("💾 Save and notify"), callback_data=_cb("ee", version, "save")
                ),
                InlineKeyboardButton(tr._(CANCEL), callback_data=_cb("ee", version, "cancel")),
            ]
        ]
    )
    return View(text, keyboard)


def new_time_summary(
    tr: Translator, city: City, event: Event, starts_at: float, ends_at: float
) -> str:
    return tr._(
        "<b>{title}</b>\nNew time: {start} – {end}",
        title=title(tr, city, event),
        start=tr.datetime(moment(starts_at)),
        end=tr.datetime(moment(ends_at)),
    )


def new_place_summary(tr: Translator, city: City, event: Event, new_place: str, pin: bool) -> str:
    where = escape(new_place) if new_place else tr._("the map pin")
    text = tr._("<b>{title}</b>\nNew place: {place}", title=title(tr, city, event), place=where)
    if pin:
        text += "\n" + tr._("(with a map pin)")
    return text


def ask_attendee_message(tr: Translator, city: City, event: Event, reach: int) -> str:
    return tr.ngettext(
        "✉️ Write the message for the {count} resident who answered Going or Maybe to <b>{title}</b>.",
        "✉️ Write the message for the {count} residents who answered Going or Maybe to <b>{title}</b>.",
        reach,
        title=title(tr, city, event),
    )


def confirm_attendee_message(tr: Translator, reach: int, version: int) -> View:
    text = tr.ngettext("Send this to {count} resident?", "Send this to {count} residents?", reach)
    keyboard = InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(tr._("✉️ Send"), callback_data=_cb("ee", version, "send")),
                InlineKeyboardButton(tr._(CANCEL), callback_data=_cb("ee", version, "cancel")),
            ]
        ]
    )
    return View(text, keyboard)


def attendee_message_sent(tr: Translator, count: int) -> str:
    return tr.ngettext("Sent to {count} resident.", "Sent to {count} residents.", count)


def cancel_question(tr: Translator, city: City, event: Event, reach: int) -> View:
    text = tr.ngettext(
        "Cancel <b>{title}</b> ({when})? {count} resident will be told, and its reminders are"
        " dropped.",
        "Cancel <b>{title}</b> ({when})? {count} residents will be told, and its reminders are"
        " dropped.",
        reach,
        title=title(tr, city, event),
        when=tr.short_datetime(moment(event.starts_at)),
    )
    keyboard = InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    tr._("❌ Yes, cancel it"), callback_data=_cb("me", "cy", event.id)
                ),
                InlineKeyboardButton(tr._("Keep it"), callback_data="me:keep"),
            ]
        ]
    )
    return View(text, keyboard)


def cancelled_done(tr: Translator, city: City, event: Event, notified: int) -> str:
    return tr.ngettext(
        "❌ <b>{title}</b> is cancelled. {count} resident is being told.",
        "❌ <b>{title}</b> is cancelled. {count} residents are being told.",
        notified,
        title=title(tr, city, event),
    )


def refusal(tr: Translator, reason: str) -> str:
    """A kind sentence for why an event (or a change) was refused."""
    texts = {
        calendar.UNREADABLE: tr._(
            "I could not read that date and time. Please write it like 2026-12-08 18:30,"
            " 12/8 6:30pm, Dec 8 6:30 pm or tomorrow 18:00."
        ),
        calendar.PAST: tr._("That time is in the past. Please give a time in the future."),
        calendar.TOO_FAR: tr._("That is more than two years away. Please check the year."),
        calendar.END_BEFORE_START: tr._(
            "The end must be after the start. Please give a later end time, or a length like 2h."
        ),
        calendar.TOO_LONG: tr._("An event can last at most 14 days. Please check the end."),
        service.NO_TITLE: tr._("The event needs a title."),
        service.TITLE_TOO_LONG: tr.ngettext(
            "The title is too long: please keep it under {count} character.",
            "The title is too long: please keep it under {count} characters.",
            service.MAX_TITLE,
        ),
        service.DESCRIPTION_TOO_LONG: tr.ngettext(
            "The description is too long: please keep it under {count} character.",
            "The description is too long: please keep it under {count} characters.",
            service.MAX_DESCRIPTION,
        ),
        service.NO_AREA: tr._("Choose at least one neighborhood, or Citywide."),
        service.UNKNOWN_AREA: tr._("One of the neighborhoods is not in the city's list."),
        service.BAD_CAPACITY: tr._(
            "The capacity must be a whole number of at least 1 (or tap No limit)."
        ),
        service.UNKNOWN_TYPE: tr._("Choose the kind of event with the buttons."),
        service.PLACE_TOO_LONG: tr.ngettext(
            "The place is too long: please keep it under {count} character.",
            "The place is too long: please keep it under {count} characters.",
            service.MAX_PLACE,
        ),
        service.NO_PLACE: tr._("The event needs a place: send an address or a location pin."),
        service.NOT_FOUND: tr._("That event does not exist any more."),
        service.CANCELLED: tr._("That event was cancelled already."),
        service.STARTED: tr._("That event has already started, so it can't be changed."),
    }
    return texts.get(reason, texts[calendar.UNREADABLE])


def admin_event(tr: Translator, city: City, event: Event, counts: RsvpCounts) -> View:
    """One event in /myevents: details, RSVP counts and the admin's buttons."""
    lines = details(tr, city, event, description=False)
    lines.insert(1, tr._("Event #{id}", id=event.id))
    going = (
        tr._(
            "Going {going} of {capacity}",
            going=tr.number(counts.going),
            capacity=tr.number(event.capacity),
        )
        if event.capacity is not None
        else tr._("Going {going}", going=tr.number(counts.going))
    )
    lines += [
        "",
        tr._(
            "👥 {going} · Maybe {maybe} · Waitlist {waitlist} · Can't go {no}",
            going=going,
            maybe=tr.number(counts.maybe),
            waitlist=tr.number(counts.waitlist),
            no=tr.number(counts.no),
        ),
    ]
    rows = [
        [
            InlineKeyboardButton(tr._("🕒 Change time"), callback_data=_cb("me", "t", event.id)),
            InlineKeyboardButton(tr._("📍 Change place"), callback_data=_cb("me", "p", event.id)),
        ],
        [
            InlineKeyboardButton(
                tr._("✉️ Message attendees"), callback_data=_cb("me", "m", event.id)
            ),
            InlineKeyboardButton(tr._("❌ Cancel event"), callback_data=_cb("me", "c", event.id)),
        ],
    ]
    return View("\n".join(lines), InlineKeyboardMarkup(rows))


def no_admin_events(tr: Translator) -> str:
    return tr._("There are no upcoming events. Create one with /newevent.")


def cancelled_kept(tr: Translator) -> str:
    return tr._("Kept: the event was not cancelled.")


def change_discarded(tr: Translator) -> str:
    return tr._("Discarded. Nothing was changed or sent.")
