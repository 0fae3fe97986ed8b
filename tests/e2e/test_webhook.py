"""Webhook mode: Telegram's secret-token header is checked; updates are processed."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import sys
from pathlib import Path

import aiohttp
import pytest

from bot.testing import FakeTelegram, FakeTelegramServer
from tests.conftest import TEST_TOKEN

pytestmark = pytest.mark.e2e
SECRET = "webhook-secret_123"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


async def test_webhook_checks_the_secret_and_answers(tmp_path: Path) -> None:
    tg = FakeTelegram(token=TEST_TOKEN)
    staff = tg.group("Liaison staff", forum=True)
    alice = tg.user("Alice")
    port = free_port()
    async with FakeTelegramServer(tg) as server:
        env = {
            **os.environ,
            "BOT_TOKEN": TEST_TOKEN,
            "TELEGRAM_API_URL": server.base_url.removesuffix("/bot"),
            "STAFF_CHAT_ID": str(staff.id),
            "DATABASE_PATH": str(tmp_path / "bot.sqlite3"),
            "WEBHOOK_URL": "https://bot.example.org/hook",
            "WEBHOOK_SECRET": SECRET,
            "WEBHOOK_LISTEN": "127.0.0.1",
            "WEBHOOK_PORT": str(port),
        }
        log = (tmp_path / "bot.log").open("wb")
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "run", env=env, stdout=log, stderr=log
        )
        try:
            await tg.wait_for(
                lambda: bool(tg.calls_to("setWebhook")), timeout=30, what="setWebhook"
            )
            registered = tg.calls_to("setWebhook")[-1].params
            assert registered["url"] == "https://bot.example.org/hook/telegram"
            assert registered["secret_token"] == SECRET
            update = {
                "update_id": 1,
                "message": {
                    "message_id": 1,
                    "date": 1767225600,
                    "chat": alice.chat.to_json(),
                    "from": alice.to_json(),
                    "text": "/start",
                    "entities": [{"type": "bot_command", "offset": 0, "length": 6}],
                },
            }
            url = f"http://127.0.0.1:{port}/telegram"
            async with aiohttp.ClientSession() as session:
                for _ in range(100):
                    try:
                        async with session.post(
                            url,
                            data=json.dumps(update),
                            headers={"X-Telegram-Bot-Api-Secret-Token": "wrong"},
                        ) as wrong:
                            assert wrong.status == 403
                        break
                    except aiohttp.ClientConnectionError:
                        await asyncio.sleep(0.1)
                async with session.post(
                    url,
                    data=json.dumps(update),
                    headers={
                        "X-Telegram-Bot-Api-Secret-Token": SECRET,
                        "Content-Type": "application/json",
                    },
                ) as right:
                    assert right.status == 200
            await alice.wait_for_messages(1, timeout=20)
            assert "not for emergencies" in alice.last_message.text
        finally:
            process.send_signal(signal.SIGTERM)
            await asyncio.wait_for(process.wait(), timeout=30)
    assert len(alice.messages) == 1  # the update with the wrong secret did nothing
    assert SECRET not in (tmp_path / "bot.log").read_text()
