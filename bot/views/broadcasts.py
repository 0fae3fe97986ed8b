"""Composing a broadcast, the live progress message, the final report, the message itself."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from html import escape

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.config import City
from bot.i18n import N_, Translator
from bot.services.events import Outgoing
from bot.storage.broadcasts import Audience, Broadcast, DeliveryCounts
from bot.views.common import View
from bot.views.events import more_languages_keyboard, unsubscribe_button

SEND_NOW = N_("✅ Send now")
SCHEDULE = N_("🕒 Schedule for later")
CANCEL = N_("✖ Cancel")
CONTINUE = N_("Continue →")
EVERYONE = N_("Everyone")
CANCEL_BROADCAST = N_("✖ Cancel broadcast")
YES_CANCEL = N_("Yes, stop sending")


def _cb(*parts: object) -> str:
    data = ":".join(str(part) for part in parts)
    assert len(data.encode()) <= 64, data
    return data


def compose_prompt(tr: Translator, language_name: str) -> str:
    return tr._(
        "📣 <b>New broadcast</b>\n\nSend the message in {language}: text, or a photo with a"
        " caption. Formatting (bold, links) is kept. /cancel stops here.",
        language=escape(language_name),
    )


def version_prompt(tr: Translator, language_name: str) -> str:
    return tr._(
        "Send the {language} version of the message (text only; the photo is shared).",
        language=escape(language_name),
    )


def versions(tr: Translator, city: City, texts: Mapping[str, str], version: int) -> View:
    have = [tr.language_name(code) for code in city.languages if code in texts]
    text = tr._(
        "Versions so far: {languages}. Residents get their language's version, or the"
        " {default} one. Add another version?",
        languages=escape(tr.list(have)),
        default=escape(tr.language_name(city.default_language)),
    )
    return View(text, more_languages_keyboard(tr, city, texts, "bc", version))


def audience_text(tr: Translator, city: City, audience: Audience, reach: int) -> str:
    if audience.everyone:
        who = tr._("everyone who accepts announcements")
    else:
        areas = escape(
            tr.list(
                hood.name(tr.language, city.default_language)
                for hood_id in audience.neighborhoods
                if (hood := city.neighborhood(hood_id)) is not None
            )
        )
        languages = escape(tr.list(tr.language_name(c) for c in audience.languages))
        if audience.neighborhoods and audience.languages:
            # Both filters apply together: followers of these areas who use these languages.
            who = tr._("followers of {areas} who use {languages}", areas=areas, languages=languages)
        elif audience.neighborhoods:
            who = tr._("followers of {areas}", areas=areas)
        else:
            who = tr._("residents who use {languages}", languages=languages)
    return tr.ngettext(
        "Audience: {who}. It will reach {count} resident.",
        "Audience: {who}. It will reach {count} residents.",
        reach,
        who=who,
    )


def audience_picker(
    tr: Translator, city: City, audience: Audience, reach: int, version: int
) -> View:
    lines = [
        tr._("👥 <b>Who should get it?</b>"),
        "",
        audience_text(tr, city, audience, reach),
        "",
        tr._(
            "Choose neighborhoods and/or languages to narrow it down; with none chosen it goes"
            " to everyone."
        ),
    ]
    mark = "✅" if audience.everyone else "⬜"
    rows = [
        [InlineKeyboardButton(f"{mark} {tr._(EVERYONE)}", callback_data=_cb("bc", version, "all"))]
    ]
    hoods = [
        InlineKeyboardButton(
            ("✅ " if n.id in audience.neighborhoods else "⬜ ")
            + n.name(tr.language, city.default_language),
            callback_data=_cb("bc", version, "nb", n.id),
        )
        for n in city.neighborhoods
    ]
    rows += [hoods[i : i + 2] for i in range(0, len(hoods), 2)]
    if len(city.languages) > 1:
        rows.append(
            [
                InlineKeyboardButton(
                    ("✅ " if code in audience.languages else "⬜ ") + tr.language_name(code),
                    callback_data=_cb("bc", version, "lg", code),
                )
                for code in city.languages
            ]
        )
    rows.append([InlineKeyboardButton(tr._(CONTINUE), callback_data=_cb("bc", version, "next"))])
    return View("\n".join(lines), InlineKeyboardMarkup(rows))


def preview_header(tr: Translator, language_name: str) -> str:
    return tr._(
        "👀 Preview of the {language} version, exactly as residents will see it:",
        language=escape(language_name),
    )


def confirm(
    tr: Translator,
    city: City,
    audience: Audience,
    reach: int,
    version: int,
    *,
    send_at: float | None,
) -> View:
    lines = [audience_text(tr, city, audience, reach)]
    if send_at is not None:
        lines.append(
            tr._(
                "🕒 It will be sent on {when}.",
                when=tr.datetime(datetime.fromtimestamp(send_at, UTC)),
            )
        )
        rows = [
            [
                InlineKeyboardButton(
                    tr._("✅ Confirm schedule"), callback_data=_cb("bc", version, "send")
                )
            ],
            [InlineKeyboardButton(tr._(CANCEL), callback_data=_cb("bc", version, "cancel"))],
        ]
    else:
        lines.append(tr._("Send it now, or schedule it for later?"))
        rows = [
            [
                InlineKeyboardButton(tr._(SEND_NOW), callback_data=_cb("bc", version, "send")),
                InlineKeyboardButton(tr._(SCHEDULE), callback_data=_cb("bc", version, "schedule")),
            ],
            [InlineKeyboardButton(tr._(CANCEL), callback_data=_cb("bc", version, "cancel"))],
        ]
    return View("\n".join(lines), InlineKeyboardMarkup(rows))


def schedule_prompt(tr: Translator) -> str:
    return tr._(
        "When should it go out? For example 2026-12-08 18:30, Dec 8 6:30 pm or tomorrow 9:00."
    )


def nobody(tr: Translator) -> str:
    return tr._("Nobody matches that audience yet. Choose fewer filters, or Everyone.")


def too_long(tr: Translator, limit: int) -> str:
    return tr.ngettext(
        "That is too long for a broadcast: please keep it under {count} character.",
        "That is too long for a broadcast: please keep it under {count} characters.",
        limit,
    )


def need_text(tr: Translator) -> str:
    return tr._("Please send the message as text, or as a photo with a caption.")


def already_confirmed(tr: Translator) -> str:
    return tr._("This broadcast was already confirmed; it is not sent twice.")


def discarded(tr: Translator) -> str:
    return tr._("Broadcast discarded. Nothing was sent.")


def counts_line(tr: Translator, counts: DeliveryCounts) -> str:
    line = tr._(
        "Queued {queued} · Sent {sent} · Failed {failed} · Blocked {blocked}",
        queued=tr.number(counts.queued),
        sent=tr.number(counts.sent),
        failed=tr.number(counts.failed),
        blocked=tr.number(counts.blocked),
    )
    if counts.cancelled:
        line += " · " + tr._("Not sent {cancelled}", cancelled=tr.number(counts.cancelled))
    return line


def _duration(tr: Translator, broadcast: Broadcast) -> str:
    if broadcast.started_at is None or broadcast.finished_at is None:
        return ""
    seconds = max(0, round(broadcast.finished_at - broadcast.started_at))
    if seconds < 120:
        return tr.ngettext("{count} second", "{count} seconds", seconds)
    return tr.ngettext("{count} minute", "{count} minutes", round(seconds / 60))


class BroadcastMessages:
    """The `BroadcastRenderer`: the message residents get, and the admin's progress."""

    def __init__(self, city: City) -> None:
        self._city = city

    def broadcast(self, tr: Translator, text_html: str, photo: str | None) -> Outgoing:
        markup = InlineKeyboardMarkup([[unsubscribe_button(tr)]]).to_dict()
        return Outgoing(text_html, markup, photo)

    def progress(
        self, tr: Translator, broadcast: Broadcast, counts: DeliveryCounts, *, final: bool
    ) -> Outgoing:
        if broadcast.status == "scheduled":
            state = tr._(
                "🕒 Scheduled for {when}.",
                when=tr.datetime(datetime.fromtimestamp(broadcast.send_at, UTC)),
            )
        elif broadcast.status == "cancelled":
            state = tr._("✖ Cancelled.")
        elif final:
            state = tr._("✅ Finished.")
        else:
            state = tr._("📤 Sending…")
        lines = [
            tr._("📣 <b>Broadcast #{id}</b>", id=broadcast.id),
            state,
            counts_line(tr, counts),
        ]
        markup = None
        if not final:
            markup = InlineKeyboardMarkup(
                [
                    [
                        InlineKeyboardButton(
                            tr._(CANCEL_BROADCAST), callback_data=_cb("bx", broadcast.id)
                        )
                    ]
                ]
            ).to_dict()
        return Outgoing("\n".join(lines), markup)

    def report(self, tr: Translator, broadcast: Broadcast, counts: DeliveryCounts) -> Outgoing:
        if broadcast.status == "cancelled":
            head = tr._("📣 Broadcast #{id} was cancelled.", id=broadcast.id)
        else:
            head = tr._("📣 Broadcast #{id} is finished.", id=broadcast.id)
        lines = [
            f"<b>{head}</b>",
            tr.ngettext(
                "Planned for {count} resident.", "Planned for {count} residents.", broadcast.planned
            ),
            counts_line(tr, counts),
        ]
        took = _duration(tr, broadcast)
        if took:
            lines.append(tr._("Took {duration}.", duration=took))
        if counts.blocked:
            lines.append(tr._("Residents who blocked the bot are skipped from now on."))
        return Outgoing("\n".join(lines))


def progress_view(tr: Translator, city: City, broadcast: Broadcast, counts: DeliveryCounts) -> View:
    """The progress message right after Confirm (later edits come through the outbox)."""
    rendered = BroadcastMessages(city).progress(tr, broadcast, counts, final=False)
    keyboard = InlineKeyboardMarkup(
        [[InlineKeyboardButton(tr._(CANCEL_BROADCAST), callback_data=_cb("bx", broadcast.id))]]
    )
    return View(rendered.text, keyboard)


def cancel_question(tr: Translator, broadcast_id: int) -> View:
    text = tr._(
        "Stop broadcast #{id}? Messages already delivered stay; the rest are not sent.",
        id=broadcast_id,
    )
    keyboard = InlineKeyboardMarkup(
        [[InlineKeyboardButton(tr._(YES_CANCEL), callback_data=_cb("bxy", broadcast_id))]]
    )
    return View(text, keyboard)


def cancel_result(tr: Translator, broadcast_id: int, *, cancelled: bool) -> str:
    if cancelled:
        return tr._("Broadcast #{id} stopped. The final report follows.", id=broadcast_id)
    return tr._("Broadcast #{id} has already finished or was stopped.", id=broadcast_id)


def scheduled_list(tr: Translator, broadcasts: Sequence[Broadcast]) -> str:
    if not broadcasts:
        return ""
    lines = [tr._("<b>Scheduled broadcasts</b>")]
    for broadcast in broadcasts:
        lines.append(
            tr._(
                "#{id}: {when}",
                id=broadcast.id,
                when=tr.datetime(datetime.fromtimestamp(broadcast.send_at, UTC)),
            )
        )
    return "\n".join(lines)
