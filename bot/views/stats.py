"""/stats for staff and admins: the figures as text (readable without the images) and the
bar charts that go with them."""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from html import escape

from babel.dates import format_skeleton
from babel.numbers import format_percent
from babel.units import format_unit

from bot.config import City
from bot.i18n import N_, Catalogs, Translator
from bot.services.stats import (
    NO_NEIGHBORHOOD,
    BadPeriod,
    DurationStats,
    Hotspot,
    Period,
    PeriodKind,
    PeriodProblem,
    Statistics,
    completion_rate,
    response_rate,
)
from bot.storage.stats import CITYWIDE
from bot.views.reports import category_name, neighborhood_name, status_label

MESSAGE_LIMIT = 4096
CAPTION_LIMIT = 1024
HOTSPOT_LINES = 10
EVENT_LINES = 5
SURVEY_LINES = 8
HOUR = 3600.0
DAY = 86400.0

AGE_LABELS = {
    (0, 1): N_("under 1 day"),
    (1, 3): N_("1–3 days"),
    (3, 7): N_("3–7 days"),
    (7, 30): N_("7–30 days"),
    (30, None): N_("over 30 days"),
}


@dataclass(frozen=True, slots=True)
class ChartSpec:
    """One bar chart: drawn by `bot.services.charts.bar_chart`, sent with `caption`."""

    title: str
    labels: list[str]
    values: list[int]
    annotations: list[str]
    caption: str


# --------------------------------------------------------------------------- formatting


def _at(moment: float) -> datetime:
    return datetime.fromtimestamp(moment, UTC)


def percent(tr: Translator, share: float) -> str:
    return str(format_percent(share, locale=tr.locale))


def _unit(tr: Translator, value: float, unit: str) -> str:
    """A localized amount of a unit; babel lacks some short forms, so fall back."""
    for length in ("short", "long"):
        text = str(format_unit(value, unit, length=length, locale=tr.locale))
        if "duration-" not in text:
            return text
    return tr.number(value)


def duration(tr: Translator, seconds: float) -> str:
    """'45 min', '3.5 hr', '2.5 days': minutes under an hour, hours under two days."""
    if seconds < HOUR:
        return _unit(tr, max(round(seconds / 60), 1), "duration-minute")
    if seconds < 2 * DAY:
        hours = round(seconds / HOUR, 1)
        return _unit(tr, int(hours) if hours.is_integer() else hours, "duration-hour")
    days = round(seconds / DAY, 1)
    return _unit(tr, int(days) if days.is_integer() else days, "duration-day")


def month_name(tr: Translator, first_day: date) -> str:
    """'October 2026' / 'octubre de 2026'."""
    return str(format_skeleton("yMMMM", first_day, locale=tr.locale))


def period_label(tr: Translator, period: Period) -> str:
    if period.kind is PeriodKind.ALL:
        return tr._("all time")
    if period.kind is PeriodKind.DAYS:
        assert period.start is not None
        return tr.ngettext(
            "the last day ({start} – {end})",
            "the last {count} days ({start} – {end})",
            period.days,
            start=tr.date(_at(period.start)),
            end=tr.date(_at(period.end)),
        )
    assert period.first_day is not None
    name = (
        month_name(tr, period.first_day)
        if period.kind is PeriodKind.MONTH
        else str(period.first_day.year)
    )
    return tr._("{period} (so far)", period=name) if period.partial else name


def _area_name(tr: Translator, city: City, area: str) -> str:
    if area == CITYWIDE:
        return tr._("Citywide events")
    if area == NO_NEIGHBORHOOD:
        return tr._("Neighborhood not given")
    return neighborhood_name(city, area, tr.language)


def _language(tr: Translator, code: str) -> str:
    try:
        return tr.language_name(code)
    except ValueError:
        return code


def _split(lines: Sequence[str], limit: int = MESSAGE_LIMIT) -> list[str]:
    """Join sections into as few messages as fit, never splitting a section if it fits."""
    messages: list[str] = []
    current = ""
    for block in lines:
        candidate = f"{current}\n\n{block}" if current else block
        if len(candidate) <= limit:
            current = candidate
            continue
        if current:
            messages.append(current)
        while len(block) > limit:
            cut = block.rfind("\n", 0, limit)
            cut = cut if cut > 0 else limit
            messages.append(block[:cut])
            block = block[cut:].lstrip("\n")
        current = block
    if current:
        messages.append(current)
    return messages


# --------------------------------------------------------------------------- sections


def _times(tr: Translator, label: str, stats: DurationStats, none_yet: str) -> str:
    if not stats.count or stats.median is None or stats.p90 is None:
        return f"{label} {none_yet}"
    return (
        label
        + " "
        + tr.ngettext(
            "median {median}, 90% within {p90} ({count} report)",
            "median {median}, 90% within {p90} ({count} reports)",
            stats.count,
            median=duration(tr, stats.median),
            p90=duration(tr, stats.p90),
        )
    )


def reports_section(tr: Translator, city: City, stats: Statistics) -> str:
    reports = stats.reports
    lines = [
        tr.ngettext(
            "📝 <b>{count} report filed</b>",
            "📝 <b>{count} reports filed</b>",
            reports.total,
        )
    ]
    if not reports.total:
        return "\n".join(lines)
    lines.append(
        " · ".join(
            f"{status_label(tr, status)} {tr.number(count)}"
            for status, count in reports.by_status
            if count
        )
    )
    lines += ["", tr._("<b>By category</b>")]
    lines += [
        f"• {escape(category_name(city, category, tr.language))}: {tr.number(count)}"
        for category, count in reports.by_category
    ]
    lines += ["", tr._("<b>By neighborhood</b>")]
    lines += [
        f"• {escape(_area_name(tr, city, hood))}: {tr.number(count)}"
        for hood, count in reports.by_neighborhood
    ]
    lines += [
        "",
        tr._("⏱ <b>Response times</b>"),
        _times(
            tr,
            tr._("First response (acknowledged):"),
            reports.acknowledge,
            tr._("none acknowledged yet"),
        ),
        _times(tr, tr._("Resolved:"), reports.resolve, tr._("none resolved yet")),
    ]
    if reports.waiting:
        lines.append(
            tr.ngettext(
                "{count} report of this period is still waiting for a first response.",
                "{count} reports of this period are still waiting for a first response.",
                reports.waiting,
            )
        )
    return "\n".join(lines)


def open_section(tr: Translator, stats: Statistics) -> str:
    ages = stats.open_ages
    head = tr.ngettext(
        "📂 <b>{count} report open now</b>, by age",
        "📂 <b>{count} reports open now</b>, by age",
        ages.total,
    )
    if not ages.total:
        return tr._("📂 <b>No report is open now.</b>")
    parts = [f"{tr._(AGE_LABELS[bucket])}: {tr.number(count)}" for bucket, count in ages.buckets]
    lines = [head, " · ".join(parts)]
    if ages.oldest is not None:
        lines.append(tr._("The oldest was filed {age} ago.", age=duration(tr, ages.oldest)))
    return "\n".join(lines)


def _change(tr: Translator, now: int, before: int) -> str:
    rise = now - before
    sign = "+" if rise > 0 else ("±" if rise == 0 else "−")
    return tr._(
        "{now} (before: {before}, {change})",
        now=tr.number(now),
        before=tr.number(before),
        change=f"{sign}{tr.number(abs(rise))}",
    )


def hotspot_line(tr: Translator, city: City, spot: Hotspot) -> str:
    where = escape(_area_name(tr, city, spot.neighborhood))
    what = escape(category_name(city, spot.category, tr.language))
    return tr._(
        "• <b>{neighborhood} · {category}</b>: 30 days {short}; 90 days {long}",
        neighborhood=where,
        category=what,
        short=_change(tr, spot.last_30, spot.previous_30),
        long=_change(tr, spot.last_90, spot.previous_90),
    )


def hotspots_section(tr: Translator, city: City, stats: Statistics) -> str:
    lines = [
        tr._("🔥 <b>Hotspots</b>"),
        tr._(
            "Reports per neighborhood and category in the last 30 and 90 days, against the"
            " period before; highest rises first."
        ),
    ]
    if not stats.hotspots:
        lines.append(tr._("No reports in the last 90 days."))
        return "\n".join(lines)
    lines += [hotspot_line(tr, city, spot) for spot in stats.hotspots[:HOTSPOT_LINES]]
    hidden = len(stats.hotspots) - HOTSPOT_LINES
    if hidden > 0:
        lines.append(tr.ngettext("… and {count} more.", "… and {count} more.", hidden))
    return "\n".join(lines)


def subscribers_section(tr: Translator, city: City, stats: Statistics) -> str:
    subs = stats.subscribers
    # Each figure is its own plural message, so every number agrees with its own words.
    residents = tr.ngettext(
        "{count} active resident", "{count} active residents", subs.active_residents
    )
    following = tr.ngettext(
        "{count} follows a neighborhood or citywide events",
        "{count} follow a neighborhood or citywide events",
        subs.subscribers,
    )
    readers = tr.ngettext(
        "{count} gets the monthly digest", "{count} get the monthly digest", subs.digest_readers
    )
    lines = [
        tr._("👥 <b>Residents</b>"),
        tr._(
            "{residents}; {following}; {readers}.",
            residents=residents,
            following=following,
            readers=readers,
        ),
    ]
    if subs.by_language:
        lines.append(
            tr._(
                "Followers by language: {languages}",
                languages=escape(
                    " · ".join(
                        f"{_language(tr, code)} {tr.number(count)}"
                        for code, count in subs.by_language
                    )
                ),
            )
        )
    for area, count in subs.by_area:
        languages = subs.by_area_language.get(area, {})
        split = ", ".join(f"{_language(tr, c)} {tr.number(n)}" for c, n in languages.items())
        lines.append(
            f"• {escape(_area_name(tr, city, area))}: {tr.number(count)} ({escape(split)})"
        )
    return "\n".join(lines)


def events_section(tr: Translator, city: City, stats: Statistics) -> str:
    events = stats.events
    lines = [
        tr.ngettext(
            "📅 <b>{count} event</b>",
            "📅 <b>{count} events</b>",
            events.held,
        )
    ]
    if events.cancelled:
        lines[0] += " " + tr.ngettext(
            "({count} more cancelled)", "({count} more cancelled)", events.cancelled
        )
    if not events.held:
        return "\n".join(lines)
    lines.append(
        tr._(
            "Answers: {going} going, {maybe} maybe, {no} can't go, {waitlist} on a waiting list.",
            going=tr.number(events.going),
            maybe=tr.number(events.maybe),
            no=tr.number(events.declined),
            waitlist=tr.number(events.waitlist),
        )
    )
    if events.fill_rate is not None:
        lines.append(
            tr._(
                "Places taken at events with a capacity: {share}.",
                share=percent(tr, events.fill_rate),
            )
        )
    for event in events.top[:EVENT_LINES]:
        lines.append(
            tr._(
                "• {title} ({date}): {going} going, {maybe} maybe",
                title=escape(event.title(tr.language, city.default_language)),
                date=tr.date(_at(event.starts_at)),
                going=tr.number(event.going),
                maybe=tr.number(event.maybe),
            )
        )
    return "\n".join(lines)


def surveys_section(tr: Translator, city: City, stats: Statistics) -> str:
    lines = [tr._("💬 <b>Surveys</b>")]
    if not stats.surveys:
        lines.append(tr._("No survey responses in this period."))
        return "\n".join(lines)
    for survey in stats.surveys[:SURVEY_LINES]:
        title = escape(survey.title(tr.language, city.default_language))
        completed = completion_rate(survey)
        line = tr._(
            "• {title}: {started} started, {complete} finished",
            title=title,
            started=tr.number(survey.started),
            complete=tr.number(survey.complete),
        )
        if completed is not None:
            line += " " + tr._("({share} of those started)", share=percent(tr, completed))
        rate = response_rate(survey)
        if rate is not None:
            line += "; " + tr._(
                "{invited} invited after events, response rate {share}",
                invited=tr.number(survey.invited),
                share=percent(tr, rate),
            )
        lines.append(line)
    return "\n".join(lines)


def stats_texts(tr: Translator, city: City, stats: Statistics) -> list[str]:
    """The whole statistics as HTML messages (each under Telegram's limit)."""
    head = "\n".join(
        (
            tr._("📊 <b>Statistics: {period}</b>", period=escape(period_label(tr, stats.period))),
            tr._("As of {moment}.", moment=tr.datetime(_at(stats.generated_at))),
        )
    )
    sections = [
        head,
        reports_section(tr, city, stats),
        open_section(tr, stats),
        hotspots_section(tr, city, stats),
        subscribers_section(tr, city, stats),
        events_section(tr, city, stats),
        surveys_section(tr, city, stats),
    ]
    return _split(sections)


# --------------------------------------------------------------------------- charts


def chart_translator(tr: Translator, catalogs: Catalogs, city: City) -> Translator:
    """The language of chart labels: matplotlib cannot join or order right-to-left
    scripts, so charts for an Arabic reader use the city's default language (or English)."""
    if not tr.rtl:
        return tr
    default = catalogs.get(city.default_language)
    return default if not default.rtl else catalogs.get("en")


def chart_text(text: str) -> str:
    """Text for a chart: no emoji or invisible marks (the chart font has no glyphs)."""
    kept = (
        ch
        for ch in text
        if unicodedata.category(ch) not in ("So", "Sk", "Cf", "Cs", "Co")
        and ch not in "\ufe0e\ufe0f"
    )
    return " ".join("".join(kept).split())


def _spec(tr: Translator, title: str, rows: Sequence[tuple[str, int]], caption: str) -> ChartSpec:
    return ChartSpec(
        title=chart_text(title),
        labels=[chart_text(label) for label, _ in rows],
        values=[value for _, value in rows],
        annotations=[tr.number(value) for _, value in rows],
        caption=caption[:CAPTION_LIMIT],
    )


def stats_charts(
    tr: Translator, city: City, stats: Statistics, *, caption_tr: Translator | None = None
) -> list[ChartSpec]:
    """Bar charts where a picture reads faster than the text: each only with data.

    `tr` writes the chart (see `chart_translator`), `caption_tr` the captions.
    """
    ctr = caption_tr or tr
    period = escape(period_label(ctr, stats.period))
    reports = stats.reports
    specs: list[ChartSpec] = []
    if reports.total:
        specs.append(
            _spec(
                tr,
                tr._("Reports by status"),
                [(status_label(tr, s), n) for s, n in reports.by_status],
                ctr._("Reports by status, {period}", period=period),
            )
        )
        specs.append(
            _spec(
                tr,
                tr._("Reports by category"),
                [(category_name(city, c, tr.language), n) for c, n in reports.by_category],
                ctr._("Reports by category, {period}", period=period),
            )
        )
        specs.append(
            _spec(
                tr,
                tr._("Reports by neighborhood"),
                [(_area_name(tr, city, h), n) for h, n in reports.by_neighborhood],
                ctr._("Reports by neighborhood, {period}", period=period),
            )
        )
    if stats.open_ages.total:
        specs.append(
            _spec(
                tr,
                tr._("Open reports by age"),
                [(tr._(AGE_LABELS[bucket]), n) for bucket, n in stats.open_ages.buckets],
                ctr._("Open reports by age, now"),
            )
        )
    rising = [spot for spot in stats.hotspots if spot.rise_30 > 0][:HOTSPOT_LINES]
    if rising:
        specs.append(
            ChartSpec(
                title=chart_text(tr._("Rise in reports: last 30 days against the 30 before")),
                labels=[
                    chart_text(
                        f"{_area_name(tr, city, s.neighborhood)} · "
                        f"{category_name(city, s.category, tr.language)}"
                    )
                    for s in rising
                ],
                values=[s.rise_30 for s in rising],
                annotations=[
                    f"+{tr.number(s.rise_30)} ({tr.number(s.previous_30)} → {tr.number(s.last_30)})"
                    for s in rising
                ],
                caption=ctr._("Hotspots: the highest rises of the last 30 days"),
            )
        )
    if stats.subscribers.by_area:
        specs.append(
            _spec(
                tr,
                tr._("Followers by neighborhood"),
                [(_area_name(tr, city, a), n) for a, n in stats.subscribers.by_area],
                ctr._("Followers by neighborhood, now"),
            )
        )
    return specs


# --------------------------------------------------------------------------- answers


def bad_period(tr: Translator, bad: BadPeriod, example_month: str) -> str:
    given = escape(bad.given[:40])
    if bad.problem is PeriodProblem.FUTURE:
        first = tr._("“{given}” has not started yet.", given=given)
    elif bad.problem is PeriodProblem.RANGE:
        first = tr._("Please choose between 1 and 3650 days, not “{given}”.", given=given)
    else:
        first = tr._("I can't read “{given}” as a period.", given=given)
    return "\n".join(
        (
            first,
            tr._(
                "Try /stats 7d, /stats 30d or /stats 90d (the last days), /stats {month}"
                " (a month), /stats {year} (a year) or /stats all. Without a period you get"
                " the last 30 days.",
                month=example_month,
                year=example_month[:4],
            ),
        )
    )


def not_allowed(tr: Translator) -> str:
    return tr._(
        "Statistics are for the liaison staff (in the staff chat) and the program's admins."
    )
