"""Command line: `resident-bot run | migrate | sandbox | backup FILE`."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from pathlib import Path

from bot.config import ConfigError, Settings, load_settings
from bot.logs import setup_logging

log = logging.getLogger("bot")


def _settings(*, require_token: bool) -> Settings:
    return load_settings(os.environ, require_token=require_token)


def _secrets(settings: Settings) -> list[str]:
    return [
        settings.bot_token.reveal(),
        settings.hash_secret.reveal(),
        settings.webhook_secret.reveal(),
    ]


def cmd_run(_: argparse.Namespace) -> int:
    settings = _settings(require_token=True)
    setup_logging(settings.log_level, _secrets(settings))
    from telegram import Update

    from bot.app import build_application

    application = build_application(settings)
    log.info(
        "starting: city=%s languages=%s staff_chat=%s api=%s",
        settings.city.name,
        ",".join(settings.city.languages),
        settings.staff_chat_id,
        settings.telegram_api_url,
    )
    if settings.webhook_url:
        application.run_webhook(
            listen=settings.webhook_listen,
            port=settings.webhook_port,
            url_path="telegram",
            webhook_url=settings.webhook_url.rstrip("/") + "/telegram",
            secret_token=settings.webhook_secret.reveal() or None,
            allowed_updates=Update.ALL_TYPES,
        )
    else:
        application.run_polling(allowed_updates=Update.ALL_TYPES, drop_pending_updates=False)
    return 0


def cmd_migrate(_: argparse.Namespace) -> int:
    settings = _settings(require_token=False)
    setup_logging(settings.log_level)
    from bot.storage import Database, migrate

    async def run() -> int:
        db = await Database.open(settings.database_path)
        try:
            applied = await migrate(db)
        finally:
            await db.close()
        names = ", ".join(f"{m.version:04d}_{m.name}" for m in applied) or "none (up to date)"
        print(f"migrations applied to {settings.database_path}: {names}")
        return 0

    return asyncio.run(run())


def cmd_backup(args: argparse.Namespace) -> int:
    settings = _settings(require_token=False)
    setup_logging(settings.log_level)
    from bot.storage import Database

    async def run() -> int:
        db = await Database.open(settings.database_path)
        try:
            await db.backup(Path(args.file))
        finally:
            await db.close()
        copy = await Database.open(Path(args.file))
        try:
            check = await copy.integrity_check(quick=False)
        finally:
            await copy.close()
        print(f"backup written to {args.file}: integrity_check {check}")
        return 0 if check == "ok" else 1

    return asyncio.run(run())


def cmd_sandbox(args: argparse.Namespace) -> int:
    from bot.sandbox import run_sandbox

    return run_sandbox(script=args.script)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="resident-bot", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser(
        "run", help="run the bot (long polling, or webhook when WEBHOOK_URL is set)"
    ).set_defaults(func=cmd_run)
    sub.add_parser("migrate", help="apply database migrations").set_defaults(func=cmd_migrate)
    sandbox = sub.add_parser("sandbox", help="chat with the bot locally, without Telegram")
    sandbox.add_argument("--script", help="read the chat from this file instead of the terminal")
    sandbox.set_defaults(func=cmd_sandbox)
    backup = sub.add_parser("backup", help="copy the live database to FILE and verify it")
    backup.add_argument("file")
    backup.set_defaults(func=cmd_backup)
    return parser


def main(argv: list[str] | None = None) -> int:
    # PTB 22 warns unless it may already give `retry_after` as a timedelta; we handle both.
    os.environ.setdefault("PTB_TIMEDELTA", "1")
    args = build_parser().parse_args(argv)
    try:
        code: int = args.func(args)
    except ConfigError as error:
        print(f"configuration error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    return code


if __name__ == "__main__":
    sys.exit(main())
