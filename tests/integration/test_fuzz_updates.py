"""Property-based fuzzing of incoming updates through the whole application.

Random texts, entities, media, chat types, callback data (mutations of real buttons and
pure noise) and out-of-order or repeated update ids: the bot must never raise an
unhandled exception, and the database must stay consistent.
"""

from __future__ import annotations

import contextlib
import logging
import os
import random
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.harness import Harness
from tests.integration.test_faults import record_figures

EXAMPLES = 1500 if os.environ.get("SOAK") else 250

COMMANDS = [
    "/start", "/help", "/cancel", "/language", "/report", "/myreports", "/alerts", "/events",
    "/stop", "/survey", "/surveys", "/resources", "/officers", "/privacy", "/mydata",
    "/deletemydata", "/newevent", "/myevents", "/broadcast", "/results", "/export", "/stats",
    "/staffcheck", "/digestnote", "/start nb_main-south", "/start ev_1", "/start sv_x", "/nonsense",
]  # fmt: skip

texts = st.one_of(
    st.text(max_size=300),
    st.text(alphabet=st.characters(codec="utf-8"), min_size=1, max_size=4096),
    st.sampled_from(COMMANDS),
    st.builds(lambda c, t: f"{c} {t}", st.sampled_from(COMMANDS), st.text(max_size=80)),
    st.sampled_from(
        ["<b>bold</b> & <a href='x'>", "R-2026-000001", "Pistola! fuego", "🔥" * 50, "\x00\x1b[31m"]
    ),
)

media = st.sampled_from(
    ["text", "photo", "sticker", "location", "contact", "voice", "document", "video", "poll"]
)
chat_kinds = st.sampled_from(
    ["private", "private", "private", "staff", "staff_topic", "other_group"]
)
noise_data = st.one_of(
    st.text(max_size=64), st.binary(max_size=64).map(lambda b: b.decode("latin-1"))
)


@st.composite
def actions(draw: st.DrawFn) -> dict[str, Any]:
    return {
        "who": draw(st.integers(0, 3)),
        "kind": draw(
            st.sampled_from(["message", "message", "message", "callback", "edit", "raw_id"])
        ),
        "chat": draw(chat_kinds),
        "media": draw(media),
        "text": draw(texts),
        "mutate": draw(st.sampled_from(["keep", "digits", "truncate", "append", "noise"])),
        "noise": draw(noise_data),
        "update_id": draw(st.integers(-5, 10**6)),
        "seed": draw(st.integers(0, 2**16)),
    }


def collect_examples() -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []

    @settings(
        max_examples=EXAMPLES,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(actions())
    def collect(action: dict[str, Any]) -> None:
        found.append(action)

    collect()
    return found


def mutate(data: str, how: str, noise: str, rng: random.Random) -> str:
    if how == "digits":
        return "".join(str(rng.randint(0, 9)) if ch.isdigit() else ch for ch in data)
    if how == "truncate":
        return data[: rng.randint(0, len(data))]
    if how == "append":
        return (data + noise)[:64]
    if how == "noise":
        return noise
    return data


async def act(harness: Harness, people: list[Any], action: dict[str, Any]) -> None:
    rng = random.Random(action["seed"])
    user = people[action["who"]]
    chat = action["chat"]
    target = (
        None
        if chat == "private"
        else (harness.staff_chat if chat.startswith("staff") else people[-1])
    )
    thread = next(iter(harness.staff_chat.topics), None) if chat == "staff_topic" else None
    if action["kind"] == "callback":
        pool = [m for m in (target or user.chat).messages if m.from_bot and m.reply_markup]
        if not pool:
            return
        message = rng.choice(pool)
        labels = [label for label in message.buttons if message.inline_button(label) is not None]
        if not labels:
            return
        data = message.callback_data(rng.choice(labels))
        await harness.tg.press_callback(
            user, message, mutate(data, action["mutate"], action["noise"], rng)
        )
        return
    if action["kind"] == "edit":
        mine = [m for m in user.chat.messages if not m.from_bot and m.text]
        if mine:
            await user.edit(rng.choice(mine), action["text"][:4096] or "x")
        return
    if action["kind"] == "raw_id":
        text = action["text"][:4096] or "x"
        update = {
            "update_id": action["update_id"],
            "message": {
                "message_id": rng.randint(1, 10**6),
                "date": int(harness.clock.time()),
                "chat": user.chat.to_json(),
                "from": user.to_json(),
                "text": text,
            },
        }
        await harness.tg.push_raw_update(update)
        return
    where: dict[str, Any] = {} if target is None else {"in_chat": target}
    kind, text = action["media"], action["text"][:4096] or "x"
    if kind == "text":
        if target is None:
            await user.send(text)
        else:
            await user.send_in(target, text, thread_id=thread)
    elif kind == "photo":
        await user.send_photo(caption=text[:1024], **where)
    elif kind == "location":
        await user.share_location(rng.uniform(-90, 90), rng.uniform(-180, 180), **where)
    elif kind == "document":
        await user.send_document("file.bin", b"\x00\x01", **where)
    elif kind in ("sticker", "contact", "voice", "video", "poll"):
        method = getattr(user, f"send_{kind}")
        await (
            method(in_chat=target)
            if target is not None and kind in ("sticker", "video", "contact", "poll")
            else method()
        )


@pytest.mark.slow
async def test_random_updates_never_crash_the_bot(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    people = [
        harness.resident("Ana", language="es"),
        harness.resident("Bob"),
        harness.staff_member("Sam"),
        harness.admin,
    ]
    people.append(harness.tg.group("Some other group", members=people[:2]))  # type: ignore[arg-type]
    examples = collect_examples()
    with caplog.at_level(logging.ERROR):
        for index, action in enumerate(examples):
            # The fake refuses what Telegram would not allow (e.g. posting where not a member).
            with contextlib.suppress(ValueError, LookupError):
                await act(harness, people, action)
            if index % 25 == 0:
                harness.advance(600)
                await harness.deliver_outbox()
    await harness.deliver_outbox()
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    record_figures(
        "fuzz",
        {
            "examples": len(examples),
            "updates": len(harness.tg.updates),
            "api_calls": len(harness.tg.calls),
            "reports_filed": await harness.services.db.fetchval("SELECT count(*) FROM reports"),
            "unhandled_errors": len(errors),
        },
    )
    assert errors == [], "\n".join(f"{r.name}: {r.getMessage()}" for r in errors[:5])
    assert await harness.services.db.integrity_check(quick=False) == "ok"
    assert await harness.services.db.fetchall("PRAGMA foreign_key_check") == []
    assert await half_written(harness) == []
    assert len(examples) == EXAMPLES
    assert len(harness.tg.updates) > EXAMPLES // 2  # most examples reached the bot


async def half_written(harness: Harness) -> list[str]:
    """Rows that only make sense with others that are missing (a write cut in half)."""
    db, problems = harness.services.db, []
    checks = {
        "report without its 'created' event": "SELECT reference FROM reports r WHERE"
        " (SELECT count(*) FROM report_events e WHERE e.report_id = r.id"
        "  AND e.kind = 'created') != 1",
        "report for a staff chat without its card in the outbox": "SELECT reference FROM"
        " reports r WHERE staff_chat_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM outbox o"
        "  WHERE o.idempotency_key = 'report:' || r.id || ':card')",
        "detached report that still names its resident": "SELECT reference FROM reports"
        " WHERE resident_chat_id = 0 AND (reporter_name IS NOT NULL OR photos != '[]')",
        "outbox row left sending": "SELECT idempotency_key FROM outbox WHERE status = 'sending'",
        "finished survey response without answers": "SELECT id FROM survey_responses s"
        " WHERE status = 'complete' AND NOT EXISTS (SELECT 1 FROM survey_answers a"
        "  WHERE a.response_id = s.id)",
    }
    for problem, sql in checks.items():
        problems += [f"{problem}: {row[0]}" for row in await db.fetchall(sql)]
    assert harness.app is not None
    flows = set(harness.app.bot_data["router"].flows)
    for row in await db.fetchall("SELECT chat_id, flow FROM dialogs"):
        if row[1] not in flows:
            problems.append(f"dialog of an unknown flow: {row[1]}")
    return problems
