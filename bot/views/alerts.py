"""The /alerts screen (what a resident follows), /stop, and neighborhood deep links."""

from __future__ import annotations

from html import escape

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.config import City
from bot.i18n import N_, Translator
from bot.storage.events import EVENT_TYPES
from bot.storage.subscriptions import CITYWIDE, AlertSettings
from bot.views.common import View
from bot.views.events import EVENT_TYPE_ICONS, EVENT_TYPE_LABELS

ON, OFF = "✅", "⬜"
PREF_LABELS = {
    "reminders": N_("⏰ Reminders before events"),
    "digest": N_("🗓 Weekly digest"),
    "broadcasts": N_("📣 Announcements"),
    "transparency": N_("📊 Monthly update on concerns"),
}
STOP_ALL = N_("🔕 Stop everything")
YES_STOP = N_("🔕 Yes, stop everything")
CHOOSE_INSTEAD = N_("⚙️ Let me choose instead")


def area_name(tr: Translator, city: City, area: str) -> str:
    if area == CITYWIDE:
        return tr._("Citywide events")
    hood = city.neighborhood(area)
    return hood.name(tr.language, city.default_language) if hood else area


def _mark(on: bool) -> str:
    return ON if on else OFF


def summary(tr: Translator, city: City, settings: AlertSettings) -> list[str]:
    """The current choice in words, so it is always visible above the buttons."""
    followed = [area_name(tr, city, n.id) for n in city.neighborhoods if n.id in settings.areas]
    if CITYWIDE in settings.areas:
        followed.append(area_name(tr, city, CITYWIDE))
    lines = [
        tr._("<b>You follow:</b> {areas}", areas=escape(tr.list(followed)))
        if followed
        else tr._("<b>You follow:</b> no neighborhood yet")
    ]
    kinds = [
        tr._(EVENT_TYPE_LABELS[kind]) for kind in EVENT_TYPES if kind not in settings.muted_types
    ]
    if len(kinds) == len(EVENT_TYPES):
        lines.append(tr._("<b>Event types:</b> all"))
    elif kinds:
        lines.append(tr._("<b>Event types:</b> {types}", types=escape(tr.list(kinds))))
    else:
        lines.append(tr._("<b>Event types:</b> none"))
    switches = [
        f"{_mark(getattr(settings, name))} {tr._(label)}" for name, label in PREF_LABELS.items()
    ]
    lines.append(" · ".join(switches))
    return lines


def alerts_screen(tr: Translator, city: City, settings: AlertSettings) -> View:
    lines = [
        tr._("🔔 <b>Your alerts</b>"),
        "",
        *summary(tr, city, settings),
        "",
        tr._(
            "Tap a button to turn it on or off. A neighborhood's events reach its followers;"
            " citywide events reach everyone who follows any area."
        ),
    ]
    hood_buttons = [
        InlineKeyboardButton(
            f"{_mark(n.id in settings.areas)} {n.name(tr.language, city.default_language)}",
            callback_data=f"al:a:{n.id}:{0 if n.id in settings.areas else 1}",
        )
        for n in city.neighborhoods
    ]
    rows = [hood_buttons[i : i + 2] for i in range(0, len(hood_buttons), 2)]
    citywide = CITYWIDE in settings.areas
    rows.append(
        [
            InlineKeyboardButton(
                f"{_mark(citywide)} 🏙 {tr._('Citywide')}",
                callback_data=f"al:a:{CITYWIDE}:{0 if citywide else 1}",
            )
        ]
    )
    type_buttons = [
        InlineKeyboardButton(
            f"{_mark(kind not in settings.muted_types)} {EVENT_TYPE_ICONS[kind]}"
            f" {tr._(EVENT_TYPE_LABELS[kind])}",
            callback_data=f"al:t:{kind}:{1 if kind in settings.muted_types else 0}",
        )
        for kind in EVENT_TYPES
    ]
    rows += [type_buttons[i : i + 2] for i in range(0, len(type_buttons), 2)]
    rows += [
        [
            InlineKeyboardButton(
                f"{_mark(getattr(settings, name))} {tr._(label)}",
                callback_data=f"al:p:{name}:{0 if getattr(settings, name) else 1}",
            )
        ]
        for name, label in PREF_LABELS.items()
    ]
    rows.append([InlineKeyboardButton(tr._(STOP_ALL), callback_data="al:stop")])
    return View("\n".join(lines), InlineKeyboardMarkup(rows))


def stop_question(tr: Translator) -> View:
    text = tr._(
        "Stop all alerts? You will no longer get event announcements, reminders, the weekly"
        " digest or announcements from the team. If a meeting you said you are going to"
        " changes or is cancelled, we will still tell you."
    )
    keyboard = InlineKeyboardMarkup(
        [
            [InlineKeyboardButton(tr._(YES_STOP), callback_data="al:stop:yes")],
            [InlineKeyboardButton(tr._(CHOOSE_INSTEAD), callback_data="al:menu")],
        ]
    )
    return View(text, keyboard)


def stopped(tr: Translator) -> str:
    return tr._(
        "Done: you will not get any more alerts. You can turn them back on at any time with"
        " /alerts."
    )


def subscribed(tr: Translator, city: City, neighborhood: str, *, already: bool) -> str:
    name = escape(area_name(tr, city, neighborhood))
    if already:
        return tr._("You already follow {neighborhood}.", neighborhood=name)
    return tr._(
        "✅ You now follow {neighborhood}. You will hear about meetings and events there.",
        neighborhood=name,
    )


def unknown_neighborhood(tr: Translator, given: str) -> str:
    return tr._(
        "I don't know a neighborhood called “{given}”, so nothing changed. Choose yours from"
        " the list below.",
        given=escape(given[:40]),
    )
