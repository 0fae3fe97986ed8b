"""The bot token and the survey hash secret never appear in logs, errors or exports.

The real process runs a full session at DEBUG level against the HTTP fake: a report and
the staff's answer, a survey, its results and CSV export, /privacy, /mydata and
/deletemydata, with Telegram errors and a dropped connection on the way (tracebacks in
the log). Then the command-line exports run. The test looks for the token, the token's
secret part (after the colon) and HASH_SECRET in the log, everything the bot sent to
Telegram, every document it sent and every export.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest

from bot.config import PROJECT_ROOT
from bot.storage import Database
from bot.testing import FakeTelegram, FakeTelegramServer, FakeUser
from tests.conftest import ADMIN_ID, TEST_TOKEN
from tests.e2e.test_crash import Bot, file_report, screen

pytestmark = pytest.mark.e2e

HASH_SECRET = "hash-secret-for-the-secrets-test-0123"
SECRETS = (TEST_TOKEN, TEST_TOKEN.partition(":")[2], HASH_SECRET)


@pytest.fixture
async def served() -> AsyncIterator[tuple[FakeTelegram, FakeTelegramServer]]:
    tg = FakeTelegram(token=TEST_TOKEN)
    server = FakeTelegramServer(tg)
    await server.start()
    try:
        yield tg, server
    finally:
        await server.stop()


async def do(
    tg: FakeTelegram,
    user: FakeUser,
    action: Awaitable[object],
    until: Callable[[], bool] = lambda: True,
) -> None:
    """Act, then wait until the bot answered (the screen changed, and `until` holds)."""
    before = screen(user)
    await action
    await tg.wait_for(lambda: screen(user) != before and until(), timeout=30, what="an answer")


def has_document(user: FakeUser) -> Callable[[], bool]:
    return lambda: any(m.document is not None for m in user.messages)


def shows(user: FakeUser, label: str) -> Callable[[], bool]:
    return lambda: bool(user.messages) and label in user.messages[-1].buttons


def cli(env: dict[str, str], *args: str) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "bot", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout + result.stderr


async def test_no_secret_in_logs_errors_or_exports(
    served: tuple[FakeTelegram, FakeTelegramServer], tmp_path: Path
) -> None:
    tg, server = served
    staff = tg.group("Liaison staff", forum=True)
    admin = tg.user("Ada", user_id=ADMIN_ID)
    alice, sam = tg.user("Alice", last_name="Walker"), tg.user("Sam")
    tg.add_member(staff, sam)
    bot = Bot(tg, server, tmp_path, staff.id, HASH_SECRET=HASH_SECRET, LOG_LEVEL="DEBUG")
    outputs = [
        cli(bot.env, "migrate"),
        cli(
            bot.env, "surveys", "publish", str(PROJECT_ROOT / "surveys" / "community-meeting.toml")
        ),
    ]
    documents: list[bytes] = []
    db = await Database.open(tmp_path / "bot.sqlite3")
    await bot.start()
    try:
        await do(tg, alice, alice.send("/start"))
        await do(tg, alice, alice.send("/privacy"))
        await file_report(tg, db, alice, "Loud music every night until 3am, corner house.")
        await tg.wait_for(lambda: len(staff.topics) == 1, timeout=60, what="the report's topic")
        (thread,) = staff.topics
        await tg.wait_for(
            lambda: len(staff.messages_in_topic(thread)) >= 1, timeout=60, what="the card"
        )
        # Telegram errors on the way: a refused message (the error handler logs a
        # traceback), a server error and a dropped connection (the outbox retries).
        tg.faults.add(method="sendMessage", chat_id=alice.id, kind="400", times=1)
        tg.faults.add(method="sendMessage", chat_id=alice.id, kind="500", times=1)
        tg.faults.add(method="sendMessage", chat_id=alice.id, kind="drop", times=1)
        await alice.send("/help")
        await do(tg, alice, sam.send_in(staff, "Which house is it?", thread_id=thread))
        card = staff.messages_in_topic(thread)[0]
        await sam.tap("👀 Acknowledge", message=card)
        await do(tg, alice, alice.send("/start sv_community-meeting"), shows(alice, "4"))
        answers = ("4", "No", "Translated handouts", "⬜ Housing", "✅ Done")
        for label, then in zip(answers, (*answers[1:], ""), strict=True):
            await do(tg, alice, alice.tap(label), shows(alice, then) if then else lambda: True)
        await do(tg, alice, alice.send("Thanks for the meeting"))
        await do(tg, admin, admin.send("/start"))
        await do(tg, admin, admin.send("/results community-meeting"))
        await do(tg, admin, admin.send("/export community-meeting"), has_document(admin))
        await do(tg, alice, alice.send("/mydata"), has_document(alice))
        for user in (admin, alice):
            documents += [m.document[1] for m in user.messages if m.document is not None]
        await do(tg, alice, alice.send("/deletemydata"))
        await do(tg, alice, alice.tap("🗑 Yes, delete my data"))
        await asyncio.wait_for(tg.settle(idle=1.0, timeout=60), timeout=90)
    finally:
        code = await bot.stop()
        await db.close()
    outputs += [
        cli(bot.env, "export", "reports", "--format", "csv", "--out", "-"),
        cli(bot.env, "export", "reports", "--format", "open311", "--out", "-"),
        cli(bot.env, "export", "survey", "community-meeting", "--out", "-"),
        cli(bot.env, "backup", str(tmp_path / "copy.sqlite3")),
    ]
    log = bot.log.read_text(encoding="utf-8")
    sent = [
        json.dumps(call.params, ensure_ascii=False, default=str)
        + json.dumps(call.result, ensure_ascii=False, default=str)
        for call in tg.calls
    ]
    assert code == 0, log[-3000:]
    assert len(documents) == 2  # the survey CSV and the resident's data
    assert '"level": "DEBUG"' in log and "error while handling update" in log
    assert "Traceback" in log  # tracebacks were logged, and scrubbed
    assert "[redacted]" in log  # PTB logs the API URL, which holds the token
    places = {
        "log": [log],
        "command-line output": outputs,
        "documents": [d.decode("utf-8", "replace") for d in documents],
        "calls to Telegram": sent,
    }
    for where, texts in places.items():
        for text in texts:
            for secret in SECRETS:
                assert secret not in text, f"a secret appeared in the {where}"
