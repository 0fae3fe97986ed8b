"""The real bot process against the Telegram fake served over HTTP."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.testing import FakeTelegram, FakeTelegramServer
from tests.conftest import ADMIN_ID, TEST_TOKEN

pytestmark = pytest.mark.e2e


@pytest.fixture
async def served() -> AsyncIterator[tuple[FakeTelegram, FakeTelegramServer]]:
    tg = FakeTelegram(token=TEST_TOKEN)
    server = FakeTelegramServer(tg)
    await server.start()
    try:
        yield tg, server
    finally:
        await server.stop()


async def start_bot(
    tg: FakeTelegram, server: FakeTelegramServer, tmp_path: Path, staff_chat_id: int
) -> asyncio.subprocess.Process:
    env = {
        **os.environ,
        "BOT_TOKEN": TEST_TOKEN,
        "TELEGRAM_API_URL": server.base_url.removesuffix("/bot"),
        "STAFF_CHAT_ID": str(staff_chat_id),
        "ADMIN_IDS": str(ADMIN_ID),
        "DATABASE_PATH": str(tmp_path / "bot.sqlite3"),
        "LOG_LEVEL": "INFO",
    }
    log = (tmp_path / "bot.log").open("wb")
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "run", env=env, stdout=log, stderr=log
    )
    for _ in range(300):
        # deleteWebhook comes right before polling starts (a getUpdates call is only
        # logged once its long poll ends).
        if any(call.method in ("deleteWebhook", "getUpdates") for call in tg.calls):
            return process
        if process.returncode is not None:
            break
        await asyncio.sleep(0.1)
    raise AssertionError("the bot did not start polling:\n" + (tmp_path / "bot.log").read_text())


async def test_start_language_switch_and_help_in_the_real_process(
    served: tuple[FakeTelegram, FakeTelegramServer], tmp_path: Path
) -> None:
    tg, server = served
    staff = tg.group("Liaison staff", forum=True)
    process = await start_bot(tg, server, tmp_path, staff.id)
    try:
        alice = tg.user("Alice", language="en")
        await alice.send("/start")
        await alice.wait_for_messages(1, timeout=20)
        assert "not for emergencies" in alice.last_message.text
        await alice.send("/language")
        await alice.wait_for_messages(2, timeout=20)
        await alice.tap("Español")
        await alice.wait_for_messages(3, timeout=20)  # the picker is edited, a new menu sent
        await alice.send("/help")
        await alice.wait_for_messages(4, timeout=20)
        assert "Cómo funciona este bot" in alice.last_message.text
    finally:
        process.send_signal(signal.SIGTERM)
        code = await asyncio.wait_for(process.wait(), timeout=30)
    log = (tmp_path / "bot.log").read_text()
    assert code == 0, log
    assert TEST_TOKEN not in log
    assert '"level": "INFO"' in log  # structured JSON lines
