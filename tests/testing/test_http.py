"""The fake over HTTP: real PTB long polling, raw requests, file downloads, faults."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import aiohttp
import pytest
from telegram import Update
from telegram.ext import Application, ContextTypes, MessageHandler, filters

from bot.testing import FakeTelegram, FakeTelegramServer


@pytest.fixture
async def server(tg: FakeTelegram) -> AsyncIterator[FakeTelegramServer]:
    async with FakeTelegramServer(tg) as running:
        yield running


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.effective_message
    assert message is not None
    if message.photo:
        photo = await message.photo[-1].get_file()
        data = bytes(await photo.download_as_bytearray())
        await message.reply_document(data, filename="back.jpg", caption=f"{len(data)} bytes")
    else:
        await message.reply_text(f"echo: {message.text}")


async def test_real_long_polling_end_to_end(tg: FakeTelegram, server: FakeTelegramServer) -> None:
    app = (
        Application.builder()
        .token(tg.token)
        .base_url(server.base_url)
        .base_file_url(server.base_file_url)
        .build()
    )
    app.add_handler(MessageHandler(filters.TEXT | filters.PHOTO, echo))
    await app.initialize()
    await app.start()
    assert app.updater is not None
    await app.updater.start_polling(poll_interval=0, timeout=1)
    try:
        alice = tg.user("Alice")
        await alice.send("hello")
        assert (await alice.next_message(timeout=5)).text == "echo: hello"
        photo = await alice.send_photo("a pothole", data=b"\xff\xd8\xff fake jpeg \xff\xd9")
        answer = await alice.next_message(timeout=5)
        assert answer.document == ("back.jpg", b"\xff\xd8\xff fake jpeg \xff\xd9")
        assert photo.photo is not None
        await tg.settle(idle=0.1, timeout=5)
        assert tg.pending_updates == []
        methods = [c.method for c in tg.calls if c.method != "getUpdates"]
        assert methods == ["getMe", "deleteWebhook", "sendMessage", "getFile", "sendDocument"]
    finally:
        await app.updater.stop()
        await app.stop()
        await app.shutdown()


async def test_raw_requests_get_telegram_shaped_answers(
    tg: FakeTelegram, server: FakeTelegramServer, http: aiohttp.ClientSession
) -> None:
    alice = tg.user("Alice")
    url = f"{server.base_url}{tg.token}"
    async with http.get(f"{url}/getMe") as response:
        assert response.status == 200
        assert (await response.json())["result"]["username"] == tg.bot_username
    async with http.get(f"{server.base_url}123456:WRONG/getMe") as response:
        body = await response.json()
        assert (response.status, body) == (
            401,
            {"ok": False, "error_code": 401, "description": "Unauthorized"},
        )
    async with http.post(f"{url}/frobnicate") as response:
        assert response.status == 404 and (await response.json())["description"] == "Not Found"
    keyboard = {"inline_keyboard": [[{"text": "Go", "callback_data": "go"}]]}
    form = {"chat_id": str(alice.id), "text": "<b>form</b>", "parse_mode": "HTML",
            "reply_markup": json.dumps(keyboard)}  # fmt: skip
    async with http.post(f"{url}/sendMessage", data=form) as response:
        result = (await response.json())["result"]
        assert result["text"] == "form" and result["reply_markup"] == keyboard
    async with http.post(
        f"{url}/sendMessage", json={"chat_id": alice.id, "text": "1 < 2"}
    ) as response:
        assert response.status == 200  # no parse_mode: nothing to parse
    payload = {"chat_id": alice.id, "text": "1 < 2", "parse_mode": "HTML"}
    async with http.post(f"{url}/sendMessage", json=payload) as response:
        body = await response.json()
        assert response.status == 400 and body["ok"] is False
        assert body["description"].startswith("Bad Request: can't parse entities:")
    upload = aiohttp.FormData()
    upload.add_field("chat_id", str(alice.id))
    upload.add_field("document", b"col1,col2\n", filename="export.csv", content_type="text/csv")
    async with http.post(f"{url}/sendDocument", data=upload) as response:
        document = (await response.json())["result"]["document"]
    assert alice.last_message.document == ("export.csv", b"col1,col2\n")
    async with http.get(f"{url}/getFile", params={"file_id": document["file_id"]}) as response:
        path = (await response.json())["result"]["file_path"]
    async with http.get(f"{server.base_file_url}{tg.token}/{path}") as response:
        assert response.status == 200 and await response.read() == b"col1,col2\n"
    async with http.get(f"{server.base_file_url}{tg.token}/nope/none") as response:
        assert response.status == 404
    assert [m.text for m in alice.messages] == ["form", "1 < 2", ""]


async def test_raw_long_poll_over_http(
    tg: FakeTelegram, server: FakeTelegramServer, http: aiohttp.ClientSession
) -> None:
    alice = tg.user("Alice")
    url = f"{server.base_url}{tg.token}/getUpdates"

    async def poll(offset: int | None = None) -> list[dict[str, object]]:
        params = {"timeout": "5"} if offset is None else {"timeout": "5", "offset": str(offset)}
        async with http.get(url, params=params) as response:
            result: list[dict[str, object]] = (await response.json())["result"]
            return result

    waiting = asyncio.create_task(poll())
    await tg.wait_for(lambda: tg.queue.polling, timeout=3, what="the long poll to start")
    await alice.send("wake up")
    updates = await asyncio.wait_for(waiting, 3)
    assert [u["message"]["text"] for u in updates] == ["wake up"]  # type: ignore[index]
    next_offset = int(str(updates[-1]["update_id"])) + 1
    confirming = asyncio.create_task(poll(next_offset))
    await tg.wait_for(lambda: tg.queue.polling, timeout=3, what="the second long poll")
    assert tg.pending_updates == []  # the offset confirmed the first update
    await alice.send("again")
    assert len(await asyncio.wait_for(confirming, 3)) == 1


async def test_network_faults_over_http(
    tg: FakeTelegram, server: FakeTelegramServer, http: aiohttp.ClientSession
) -> None:
    alice = tg.user("Alice")
    url = f"{server.base_url}{tg.token}/sendMessage"
    tg.faults.add(method="sendMessage", kind="drop")
    with pytest.raises(aiohttp.ClientError):
        async with http.post(url, json={"chat_id": alice.id, "text": "dropped"}) as response:
            await response.read()
    assert alice.messages == []
    tg.faults.add(method="sendMessage", kind="timeout", delay=0.05)
    with pytest.raises(aiohttp.ClientError):
        async with http.post(url, json={"chat_id": alice.id, "text": "unanswered"}) as response:
            await response.read()
    assert [m.text for m in alice.messages] == ["unanswered"]
    tg.faults.add(method="sendMessage", kind="429", retry_after=3)
    async with http.post(url, json={"chat_id": alice.id, "text": "slow down"}) as response:
        body = await response.json()
    assert response.status == 429 and body["parameters"] == {"retry_after": 3}


def test_server_binds_only_to_loopback(tg: FakeTelegram) -> None:
    with pytest.raises(ValueError, match="loopback"):
        FakeTelegramServer(tg, host="0.0.0.0")
