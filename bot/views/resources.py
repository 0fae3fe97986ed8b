"""Partner resources and community liaison officers, from the city configuration."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.config import City, Officer, Resource
from bot.i18n import N_, Translator
from bot.views.common import View

RESOURCE_CATEGORIES = {
    "mental-health": N_("Mental health and crisis"),
    "youth": N_("Youth programs"),
    "job-training": N_("Job training"),
    "victim-services": N_("Victim services"),
    "housing": N_("Housing"),
    "food": N_("Food assistance"),
    "legal": N_("Legal help"),
    "health": N_("Health care"),
}


def category_label(tr: Translator, category: str) -> str:
    label = RESOURCE_CATEGORIES.get(category)
    return tr._(label) if label else category.replace("-", " ").capitalize()


def resource_menu(tr: Translator, city: City) -> View:
    categories = list(dict.fromkeys(resource.category for resource in city.resources))
    if not categories:
        return View(tr._("There are no partner services listed yet."))
    buttons = [
        [InlineKeyboardButton(category_label(tr, c), callback_data=f"res:cat:{c}")]
        for c in categories
    ]
    if any(resource.neighborhoods for resource in city.resources):
        buttons.append(
            [InlineKeyboardButton(tr._("📍 Near me: by neighborhood"), callback_data="res:nbs")]
        )
    return View(
        tr._("🤝 Partner services that can help. Choose a topic:"),
        InlineKeyboardMarkup(buttons),
    )


def _resource(tr: Translator, city: City, resource: Resource) -> str:
    lines = [f"<b>{escape(resource.name(tr.language, city.default_language))}</b>"]
    description = resource.description.get(tr.language) or resource.description.get(
        city.default_language
    )
    if description:
        lines.append(escape(description))
    hours = resource.hours.get(tr.language) or resource.hours.get(city.default_language)
    if hours:
        lines.append(tr._("🕒 Hours: {hours}", hours=escape(hours)))
    if resource.phone:
        lines.append(tr._("📞 Phone: {phone}", phone=escape(resource.phone)))
    if resource.address:
        lines.append(tr._("📍 Address: {address}", address=escape(resource.address)))
    if resource.website:
        lines.append(escape(resource.website))
    if resource.neighborhoods:
        names = [n.name(tr.language) for n in city.neighborhoods if n.id in resource.neighborhoods]
        lines.append(tr._("Serves: {neighborhoods}", neighborhoods=escape(tr.list(names))))
    return "\n".join(lines)


def resources_in(tr: Translator, city: City, category: str) -> View:
    chosen = [r for r in city.resources if r.category == category]
    if not chosen:
        return View(tr._("There are no partner services listed yet."))
    # Citywide services first, then those for particular neighborhoods.
    chosen.sort(key=lambda r: (bool(r.neighborhoods), r.name(tr.language)))
    title = f"<b>{escape(category_label(tr, category))}</b>"
    body = "\n\n".join(_resource(tr, city, r) for r in chosen)
    return View(f"{title}\n\n{body}", InlineKeyboardMarkup([_back_to_topics(tr)]))


def _back_to_topics(tr: Translator) -> list[InlineKeyboardButton]:
    return [InlineKeyboardButton(tr._("⬅️ All topics"), callback_data="res:menu")]


def resources_near(tr: Translator, city: City, neighborhood_id: str) -> View:
    """Services for one neighborhood (and those for the whole city), by topic."""
    neighborhood = city.neighborhood(neighborhood_id)
    if neighborhood is None:
        return View(tr._("That neighborhood is not in our list."))
    chosen = [
        r for r in city.resources if not r.neighborhoods or neighborhood_id in r.neighborhoods
    ]
    name = escape(neighborhood.name(tr.language, city.default_language))
    lines = [tr._("<b>Partner services for {neighborhood}</b>", neighborhood=name)]
    if not chosen:
        lines.append(tr._("There are no partner services listed yet."))
    for category in dict.fromkeys(r.category for r in chosen):
        here = [r for r in chosen if r.category == category]
        here.sort(key=lambda r: (not r.neighborhoods, r.name(tr.language)))  # local first
        lines += ["", f"<b>{escape(category_label(tr, category))}</b>"]
        lines += [_resource(tr, city, r) for r in here]
    back = InlineKeyboardMarkup(
        [
            [InlineKeyboardButton(tr._("⬅️ Other neighborhoods"), callback_data="res:nbs")],
            _back_to_topics(tr),
        ]
    )
    return View("\n".join(lines), back)


def neighborhood_picker(
    tr: Translator,
    city: City,
    *,
    prefix: str,
    prompt: str,
    first: Sequence[str] = (),
    extra: Sequence[list[InlineKeyboardButton]] = (),
) -> View:
    """Neighborhood buttons; those in `first` (the resident's own) lead, marked 📍."""
    ordered = sorted(city.neighborhoods, key=lambda n: n.id not in first)
    buttons = [
        InlineKeyboardButton(
            ("📍 " if n.id in first else "") + n.name(tr.language, city.default_language),
            callback_data=f"{prefix}:{n.id}",
        )
        for n in ordered
    ]
    rows = [buttons[i : i + 2] for i in range(0, len(buttons), 2)]
    return View(prompt, InlineKeyboardMarkup([*rows, *extra]))


def resources_neighborhoods(tr: Translator, city: City, followed: Sequence[str] = ()) -> View:
    return neighborhood_picker(
        tr,
        city,
        prefix="res:nb",
        prompt=tr._("📍 Which neighborhood should the services be near?"),
        first=followed,
        extra=[_back_to_topics(tr)],
    )


def officers_prompt(tr: Translator, city: City, followed: Sequence[str] = ()) -> View:
    return neighborhood_picker(
        tr,
        city,
        prefix="off:nb",
        prompt=tr._("👮 Which neighborhood do you live in or care about?"),
        first=followed,
    )


def _officer(tr: Translator, city: City, officer: Officer) -> str:
    lines = [f"<b>{escape(officer.name(tr.language, city.default_language))}</b>"]
    if officer.languages:
        spoken = tr.list(tr.language_name(code) for code in officer.languages)
        lines.append(tr._("🗣 Speaks: {languages}", languages=escape(spoken)))
    hours = officer.office_hours.get(tr.language) or officer.office_hours.get(city.default_language)
    if hours:
        lines.append(tr._("🕒 Office hours: {hours}", hours=escape(hours)))
    if officer.phone:
        lines.append(tr._("📞 Phone: {phone}", phone=escape(officer.phone)))
    return "\n".join(lines)


def officers_for(
    tr: Translator, city: City, neighborhood_id: str
) -> tuple[View, Sequence[Officer]]:
    neighborhood = city.neighborhood(neighborhood_id)
    if neighborhood is None:
        return View(tr._("That neighborhood is not in our list.")), ()
    officers = [o for o in city.officers if neighborhood_id in o.neighborhoods]
    name = escape(neighborhood.name(tr.language, city.default_language))
    other = InlineKeyboardMarkup(
        [[InlineKeyboardButton(tr._("⬅️ Other neighborhoods"), callback_data="off:list")]]
    )
    if not officers:
        text = tr._(
            "No liaison officer is listed for {neighborhood} yet. You can still report a concern with /report.",
            neighborhood=name,
        )
        return View(text, other), ()
    header = tr._("Community liaison officers for {neighborhood}:", neighborhood=name)
    body = "\n\n".join(_officer(tr, city, o) for o in officers)
    return View(f"{header}\n\n{body}", other), officers
