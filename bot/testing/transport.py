"""An in-process ``telegram.request.BaseRequest`` that talks to a ``FakeTelegram``."""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, unquote, urlsplit

from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData

from bot.testing import media
from bot.testing.records import UploadedFile

if TYPE_CHECKING:
    from telegram._utils.types import ODVInput

    from bot.testing.model import FakeTelegram

_API_PATH = re.compile(r"/bot(?P<token>[^/]+)/(?P<method>[^/]+)/?$")
_FILE_PATH = re.compile(r"/file/bot(?P<token>[^/]+)/(?P<path>.+)$")
NOT_FOUND_BODY = b'{"ok":false,"error_code":404,"description":"Not Found"}'


def _read(content: Any) -> bytes:
    if isinstance(content, bytes):
        return content
    data = content.read()
    return data if isinstance(data, bytes) else bytes(data)


def request_files(request_data: RequestData | None) -> dict[str, UploadedFile]:
    """Extract the multipart file parts PTB would upload."""
    if request_data is None or not request_data.contains_files:
        return {}
    files: dict[str, UploadedFile] = {}
    for name, field in request_data.multipart_data.items():
        filename, content, mime_type = field[0], field[1], field[2]
        files[name] = UploadedFile(str(filename or name), _read(content), str(mime_type))
    return files


class FakeRequest(BaseRequest):
    """Serve PTB's requests from a ``FakeTelegram`` without any network.

    Answers are exactly the ``(status, body)`` Telegram would send, so PTB's own error
    mapping (``BadRequest``, ``Forbidden``, ``RetryAfter``, ...) applies. Injected "drop"
    faults raise ``NetworkError`` and lost answers ("timeout") raise ``TimedOut``.
    """

    def __init__(self, tg: FakeTelegram, *, read_timeout: float | None = 5.0) -> None:
        self.tg = tg
        self._read_timeout = read_timeout

    @property
    def read_timeout(self) -> float | None:
        """The default read timeout (only matters for "delay" faults)."""
        return self._read_timeout

    async def initialize(self) -> None:
        """Nothing to set up: there is no connection pool."""

    async def shutdown(self) -> None:
        """Nothing to tear down."""

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        write_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        connect_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        pool_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        """Route one request to the fake and return Telegram's answer."""
        # The client's side: PTB's own encoding of the parameters and files, as an HTTP
        # transport reads them. Everything after it is Telegram's side (`serve`).
        params = request_data.json_parameters if request_data is not None else {}
        files = request_files(request_data)
        timeout = read_timeout if isinstance(read_timeout, float | int) else self._read_timeout
        if read_timeout is None:
            timeout = None
        return await self.serve(url, params, files, read_timeout=timeout)

    async def serve(
        self,
        url: str,
        params: dict[str, Any],
        files: dict[str, UploadedFile],
        *,
        read_timeout: float | None,
    ) -> tuple[int, bytes]:
        """Telegram's side of one call: route it, answer it, encode the answer."""
        parts = urlsplit(url)
        file_match = _FILE_PATH.search(parts.path)
        if file_match:
            return self._download(unquote(file_match["token"]), unquote(file_match["path"]))
        api_match = _API_PATH.search(parts.path)
        if not api_match:
            return 404, NOT_FOUND_BODY
        if parts.query:
            params = {**dict(parse_qsl(parts.query)), **params}
        outcome = await self.tg.handle(
            api_match["method"],
            params,
            files,
            token=unquote(api_match["token"]),
            read_timeout=read_timeout,
        )
        if outcome.network == "drop":
            raise NetworkError("fake Telegram: the request was dropped before reaching Telegram")
        if outcome.network == "timeout":
            raise TimedOut("fake Telegram: the request was processed but the answer was lost")
        return outcome.status, json.dumps(outcome.body).encode("utf-8")

    def _download(self, token: str, path: str) -> tuple[int, bytes]:
        if token != self.tg.token:
            return 404, NOT_FOUND_BODY
        stored = media.find_by_path(self.tg, path)
        if stored is None:
            return 404, NOT_FOUND_BODY
        return 200, stored.data
