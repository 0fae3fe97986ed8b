"""The fake served over HTTP on 127.0.0.1, usable as PTB's ``base_url``."""

from __future__ import annotations

import asyncio
import json
from types import TracebackType
from typing import TYPE_CHECKING, Any

from aiohttp import web

from bot.testing import media
from bot.testing.records import UploadedFile
from bot.testing.transport import NOT_FOUND_BODY

if TYPE_CHECKING:
    from bot.testing.model import FakeTelegram

_LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


class FakeTelegramServer:
    """Serve ``/bot<token>/<method>`` (GET/POST: query, JSON, form, multipart) and files.

    Network faults over HTTP: "drop" closes the connection without an answer; "timeout"
    processes the request, holds the answer for the fault's ``delay`` (default 30 s) so
    the client's read timeout fires, then closes the connection.
    """

    def __init__(self, tg: FakeTelegram, host: str = "127.0.0.1", port: int = 0) -> None:
        if host not in _LOCAL_HOSTS:
            raise ValueError("the fake Telegram server only binds to the loopback interface")
        self.tg = tg
        self.host = host
        self.port = port
        self._runner: web.AppRunner | None = None

    @property
    def base_url(self) -> str:
        """PTB ``base_url`` (the token is appended by PTB)."""
        return f"http://{self.host}:{self.port}/bot"

    @property
    def base_file_url(self) -> str:
        """PTB ``base_file_url``."""
        return f"http://{self.host}:{self.port}/file/bot"

    async def start(self) -> None:
        """Bind and start serving; ``port=0`` picks a free port."""
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._api)
        app.router.add_get("/file/bot{token}/{path:.+}", self._file)
        self._runner = web.AppRunner(
            app, access_log=None, handler_cancellation=True, shutdown_timeout=1.0
        )
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        self.port = int(self._runner.addresses[0][1])

    async def stop(self) -> None:
        """Stop serving and close every connection."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeTelegramServer:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.stop()

    async def _params(self, request: web.Request) -> tuple[dict[str, Any], dict[str, UploadedFile]]:
        params: dict[str, Any] = dict(request.query)
        files: dict[str, UploadedFile] = {}
        if request.method != "POST" or not request.body_exists:
            return params, files
        if request.content_type == "application/json":
            body = await request.json()
            if isinstance(body, dict):
                params.update(body)
            return params, files
        form = await request.post()
        for name, value in form.items():
            if isinstance(value, web.FileField):
                files[name] = UploadedFile(value.filename, value.file.read(), value.content_type)
            else:
                params[name] = value
        return params, files

    async def _api(self, request: web.Request) -> web.StreamResponse:
        try:
            params, files = await self._params(request)
        except ValueError:
            body = {"ok": False, "error_code": 400, "description": "Bad Request: invalid JSON"}
            return web.json_response(body, status=400)
        outcome = await self.tg.handle(
            request.match_info["method"],
            params,
            files,
            token=request.match_info["token"],
        )
        if outcome.network is not None:
            if outcome.network == "timeout":
                await asyncio.sleep(outcome.hold)
            _hang_up(request)
            return web.Response(status=444)
        return web.Response(
            status=outcome.status,
            body=json.dumps(outcome.body).encode("utf-8"),
            content_type="application/json",
        )

    async def _file(self, request: web.Request) -> web.Response:
        stored = None
        if request.match_info["token"] == self.tg.token:
            stored = media.find_by_path(self.tg, request.match_info["path"])
        if stored is None:
            return web.Response(status=404, body=NOT_FOUND_BODY, content_type="application/json")
        return web.Response(
            body=stored.data, content_type=stored.mime_type or "application/octet-stream"
        )


def _hang_up(request: web.Request) -> None:
    """Close the connection without sending an answer."""
    transport = request.transport
    if transport is not None:
        transport.abort()
