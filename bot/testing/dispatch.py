"""One Bot API request through the fake: token, method, faults, limits, call log."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from bot.testing.errors import ApiError, bad_request, not_found, unauthorized
from bot.testing.faults import Fault
from bot.testing.limits import SEND_METHODS
from bot.testing.objects import JSON, FakeChat, json_copy
from bot.testing.params import Params
from bot.testing.records import Call, UploadedFile
from bot.testing.registry import METHODS, canonical_name, is_real_api_method

if TYPE_CHECKING:
    from bot.testing.model import FakeTelegram


@dataclass
class Outcome:
    """What a transport must do with one request: answer, or fail at the network level."""

    status: int
    body: JSON | None
    network: str | None = None  # "drop" or "timeout"
    hold: float = 0.0  # HTTP mode: how long to hold back a lost ("timeout") answer


async def handle(
    tg: FakeTelegram,
    method: str,
    params: Mapping[str, Any],
    files: Mapping[str, UploadedFile] | None,
    *,
    token: str,
    read_timeout: float | None,
) -> Outcome:
    """Process one request the way Telegram would, with injected faults and flood limits."""
    name = canonical_name(method) or method
    p = Params(params, files)
    if token != tg.token:
        prefix = token.split(":", 1)[0]
        error = unauthorized() if ":" in token and prefix.isdigit() else not_found()
        return _fail(tg, name, p, None, error)
    if name not in METHODS:
        if is_real_api_method(method):
            error = bad_request(f"method {method} is not implemented by the fake Telegram")
            return _fail(tg, name, p, None, error)
        return _fail(tg, name, p, None, not_found())
    chat_id = _chat_id_of(tg, p)
    fault = tg.faults.match(name, chat_id)
    polling = name == "getUpdates"
    if not polling:
        tg.queue.requests_in_flight += 1
    try:
        if fault is not None:
            return await _with_fault(tg, name, p, chat_id, fault, read_timeout)
        return await _process(tg, name, p, chat_id)
    finally:
        if not polling:
            tg.queue.requests_in_flight -= 1
            tg.queue.touch()


async def _with_fault(
    tg: FakeTelegram,
    name: str,
    p: Params,
    chat_id: int | None,
    fault: Fault,
    read_timeout: float | None,
) -> Outcome:
    tg.stats.faults[fault.kind] += 1
    if fault.kind == "drop":
        tg.stats.calls[name] += 1
        tg.stats.errors["drop"] += 1
        _log(tg, name, p, chat_id, ok=False, fault="drop")
        return Outcome(0, None, network="drop")
    error = fault.error()
    if error is not None:
        return _fail(tg, name, p, chat_id, error, fault=fault.kind)
    if fault.kind == "delay":
        late = read_timeout is not None and fault.delay > read_timeout
        await asyncio.sleep(read_timeout if late and read_timeout is not None else fault.delay)
        outcome = await _process(tg, name, p, chat_id, fault="delay")
        if not late:
            return outcome
    else:  # "timeout": processed, answer lost
        await _process(tg, name, p, chat_id, fault="timeout")
    tg.stats.errors["timeout"] += 1
    return Outcome(0, None, network="timeout", hold=fault.delay or 30.0)


async def _process(
    tg: FakeTelegram, name: str, p: Params, chat_id: int | None, *, fault: str | None = None
) -> Outcome:
    chat: FakeChat | None = tg.chats.get(chat_id) if chat_id is not None else None
    count = _send_count(name, p)
    if tg.enforce_limits and chat is not None and count:
        breaches = tg.meter.check(chat_id=chat.id, chat_type=chat.type, at=tg.clock(), count=count)
        if breaches:
            tg.stats.rate_limited += 1
            retry_after = max(breach.retry_after for breach in breaches)
            error = ApiError(
                429, f"Too Many Requests: retry after {retry_after}", retry_after=retry_after
            )
            return _fail(tg, name, p, chat_id, error, limited=True)
    try:
        result = await METHODS[name](tg, p)
    except ApiError as error:
        return _fail(tg, name, p, chat_id, error, fault=fault)
    tg.stats.calls[name] += 1
    if chat is not None and count:
        tg.meter.record(chat_id=chat.id, chat_type=chat.type, at=tg.clock(), count=count)
    _log(tg, name, p, chat_id, ok=True, result=result, fault=fault)
    return Outcome(200, {"ok": True, "result": result})


def _send_count(name: str, p: Params) -> int:
    if name not in SEND_METHODS:
        return 0
    if name == "sendMediaGroup":
        media = p.get_json("media")
        return len(media) if isinstance(media, list) else 1
    return 1


def _chat_id_of(tg: FakeTelegram, p: Params) -> int | None:
    if "chat_id" not in p:
        return None
    try:
        chat_id = p.chat_id()
    except ApiError:
        return None
    if isinstance(chat_id, int):
        return chat_id
    name = chat_id.lstrip("@").lower()
    for chat in tg.chats.values():
        if (chat.username or "").lower() == name:
            return chat.id
    return None


def _fail(
    tg: FakeTelegram,
    name: str,
    p: Params,
    chat_id: int | None,
    error: ApiError,
    *,
    fault: str | None = None,
    limited: bool = False,
) -> Outcome:
    tg.stats.calls[name] += 1
    tg.stats.errors[str(error.code)] += 1
    _log(
        tg,
        name,
        p,
        chat_id,
        ok=False,
        error_code=error.code,
        description=error.description,
        fault=fault,
        limited=limited,
    )
    return Outcome(error.code, error.payload())


def _log(
    tg: FakeTelegram,
    name: str,
    p: Params,
    chat_id: int | None,
    *,
    ok: bool,
    result: Any = None,
    error_code: int | None = None,
    description: str | None = None,
    fault: str | None = None,
    limited: bool = False,
) -> None:
    tg.calls.append(
        Call(
            method=name,
            params=p.loggable(),
            at=tg.clock(),
            chat_id=chat_id,
            ok=ok,
            error_code=error_code,
            result=json_copy(result),
            description=description,
            fault=fault,
            limited=limited,
            files=dict(p.files),
        )
    )
