"""Bot API methods about the bot itself: identity, updates, webhook, commands, files."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING
from urllib.parse import urlparse

from bot.testing import media
from bot.testing.errors import ApiError, bad_request
from bot.testing.objects import JSON
from bot.testing.params import Params
from bot.testing.registry import api_method

if TYPE_CHECKING:
    from bot.testing.model import FakeTelegram

_COMMAND = re.compile(r"^[a-z0-9_]{1,32}$")
_SCOPES = frozenset(
    {
        "default",
        "all_private_chats",
        "all_group_chats",
        "all_chat_administrators",
        "chat",
        "chat_administrators",
        "chat_member",
    }
)
_TEXT_LIMITS = {"name": 64, "description": 512, "short_description": 120}


@api_method("getMe")
async def get_me(tg: FakeTelegram, p: Params) -> JSON:
    return {
        **tg.bot_user,
        "can_join_groups": True,
        "can_read_all_group_messages": not tg.privacy_mode,
        "supports_inline_queries": False,
        "can_connect_to_business": False,
        "has_main_web_app": False,
    }


@api_method("logOut")
async def log_out(tg: FakeTelegram, p: Params) -> bool:
    return True


@api_method("close")
async def close(tg: FakeTelegram, p: Params) -> bool:
    return True


@api_method("getUpdates")
async def get_updates(tg: FakeTelegram, p: Params) -> list[JSON]:
    if tg.webhook is not None:
        raise ApiError(
            409,
            "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook "
            "to delete the webhook first",
        )
    allowed = p.get_json("allowed_updates", "allowed updates")
    if isinstance(allowed, list):
        tg.allowed_updates = [str(kind) for kind in allowed]
    limit = p.get_int("limit") or 100
    timeout = max(0, p.get_int("timeout") or 0)
    offset = p.get_int("offset")
    tg.queue.confirm(offset)
    return await tg.queue.long_poll(offset, max(1, min(limit, 100)), float(timeout))


@api_method("setWebhook")
async def set_webhook(tg: FakeTelegram, p: Params) -> bool:
    url = p.get_str("url") or ""
    if p.get_bool("drop_pending_updates"):
        tg.queue.drop_pending()
    if not url:
        tg.webhook = None
        return True
    parsed = urlparse(url)
    if parsed.scheme != "https" or not parsed.hostname:
        raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
    if parsed.port not in (None, 80, 88, 443, 8443):
        raise bad_request("bad webhook: Webhook can be set up only on ports 80, 88, 443 or 8443")
    allowed = p.get_json("allowed_updates", "allowed updates")
    if isinstance(allowed, list):
        tg.allowed_updates = [str(kind) for kind in allowed]
    tg.webhook = {
        "url": url,
        "max_connections": p.get_int("max_connections") or 40,
        "secret_token": p.get_str("secret_token"),
    }
    return True


@api_method("deleteWebhook")
async def delete_webhook(tg: FakeTelegram, p: Params) -> bool:
    tg.webhook = None
    if p.get_bool("drop_pending_updates"):
        tg.queue.drop_pending()
    return True


@api_method("getWebhookInfo")
async def get_webhook_info(tg: FakeTelegram, p: Params) -> JSON:
    info: JSON = {
        "url": tg.webhook["url"] if tg.webhook else "",
        "has_custom_certificate": False,
        "pending_update_count": len(tg.pending_updates),
    }
    if tg.webhook:
        info["max_connections"] = tg.webhook["max_connections"]
        if tg.allowed_updates:
            info["allowed_updates"] = list(tg.allowed_updates)
    return info


def _scope(tg: FakeTelegram, p: Params) -> str:
    scope = p.get_json("scope", "BotCommandScope")
    if scope is None:
        return tg.scope_key(None)
    if not isinstance(scope, dict) or scope.get("type") not in _SCOPES:
        raise bad_request("can't parse BotCommandScope JSON object")
    if scope["type"] in ("chat", "chat_administrators", "chat_member"):
        raw = scope.get("chat_id")
        if isinstance(raw, str) and raw.lstrip("-").isdigit():
            raw = int(raw)
        if not isinstance(raw, int | str):
            raise bad_request("chat not found")
        chat = tg.resolve_chat(raw)
        scope = {**scope, "chat_id": chat.id}
    return tg.scope_key(scope)


def _language(p: Params) -> str:
    language = p.get_str("language_code") or ""
    if language and not re.fullmatch(r"[a-z]{2}", language):
        raise bad_request("invalid language code specified")
    return language


@api_method("setMyCommands")
async def set_my_commands(tg: FakeTelegram, p: Params) -> bool:
    commands = p.get_json("commands", "commands")
    if not isinstance(commands, list):
        raise bad_request("can't parse commands JSON object")
    if len(commands) > 100:
        raise bad_request("too many commands specified")
    stored: list[JSON] = []
    for command in commands:
        if not isinstance(command, dict):
            raise bad_request("can't parse BotCommand JSON object")
        name = str(command.get("command", "")).lstrip("/")
        description = str(command.get("description", ""))
        if not _COMMAND.match(name):
            raise bad_request("BOT_COMMAND_INVALID")
        if not 1 <= len(description) <= 256:
            raise bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
        stored.append({"command": name, "description": description})
    key = (_scope(tg, p), _language(p))
    if stored:
        tg.bot_commands[key] = stored
    else:
        tg.bot_commands.pop(key, None)
    return True


@api_method("getMyCommands")
async def get_my_commands(tg: FakeTelegram, p: Params) -> list[JSON]:
    return list(tg.bot_commands.get((_scope(tg, p), _language(p)), []))


@api_method("deleteMyCommands")
async def delete_my_commands(tg: FakeTelegram, p: Params) -> bool:
    tg.bot_commands.pop((_scope(tg, p), _language(p)), None)
    return True


def _set_text(tg: FakeTelegram, p: Params, kind: str) -> bool:
    value = p.get_str(kind) or ""
    if len(value) > _TEXT_LIMITS[kind]:
        raise bad_request(f"bot {kind.replace('_', ' ')} is too long")
    key = (kind, _language(p))
    if value:
        tg.bot_texts[key] = value
    else:
        tg.bot_texts.pop(key, None)
    return True


@api_method("setMyName")
async def set_my_name(tg: FakeTelegram, p: Params) -> bool:
    return _set_text(tg, p, "name")


@api_method("getMyName")
async def get_my_name(tg: FakeTelegram, p: Params) -> JSON:
    return {"name": tg.bot_texts.get(("name", _language(p)), tg.bot_name)}


@api_method("setMyDescription")
async def set_my_description(tg: FakeTelegram, p: Params) -> bool:
    return _set_text(tg, p, "description")


@api_method("getMyDescription")
async def get_my_description(tg: FakeTelegram, p: Params) -> JSON:
    return {"description": tg.bot_texts.get(("description", _language(p)), "")}


@api_method("setMyShortDescription")
async def set_my_short_description(tg: FakeTelegram, p: Params) -> bool:
    return _set_text(tg, p, "short_description")


@api_method("getMyShortDescription")
async def get_my_short_description(tg: FakeTelegram, p: Params) -> JSON:
    return {"short_description": tg.bot_texts.get(("short_description", _language(p)), "")}


@api_method("getFile")
async def get_file(tg: FakeTelegram, p: Params) -> JSON:
    stored = tg.files.get(p.get_str("file_id") or "")
    if stored is None:
        raise bad_request("invalid file_id")
    return media.file_json(stored)
