"""Command line: `resident-bot run | migrate | sandbox | backup FILE | surveys | export | qr`."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from pathlib import Path
from typing import Any

from bot.config import ConfigError, Settings, load_settings
from bot.logs import setup_logging

log = logging.getLogger("bot")


def _settings(*, require_token: bool) -> Settings:
    return load_settings(os.environ, require_token=require_token)


def _secrets(settings: Settings) -> list[str]:
    token = settings.bot_token.reveal()
    return [
        token,
        token.partition(":")[2],  # the secret part alone (e.g. URL-quoted or split tokens)
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


def _check_survey(settings: Settings, file: str) -> Any:
    from bot.services.survey_definitions import load_survey_file

    city = settings.city
    result = load_survey_file(
        Path(file),
        languages=city.languages,
        default_language=city.default_language,
        timezone=city.timezone,
    )
    for line in result.report():
        print(line, file=sys.stderr)
    if not result.ok:
        print(f"{file}: {len(result.problems)} problem(s); nothing was published", file=sys.stderr)
        return None
    return result


def cmd_surveys_check(args: argparse.Namespace) -> int:
    settings = _settings(require_token=False)
    result = _check_survey(settings, args.file)
    if result is None:
        return 1
    survey = result.definition
    kind = "anonymous" if survey.anonymous else "named"
    print(
        f"{args.file}: OK: survey {survey.id!r}, {len(survey.questions)} questions, {kind},"
        f" languages {', '.join(settings.city.languages)}"
    )
    return 0


def cmd_surveys_publish(args: argparse.Namespace) -> int:
    settings = _settings(require_token=False)
    setup_logging(settings.log_level, _secrets(settings))
    result = _check_survey(settings, args.file)
    if result is None:
        return 1
    from bot.clock import SystemClock
    from bot.services.surveys import SurveyService
    from bot.storage import Database, migrate

    async def run() -> int:
        db = await Database.open(settings.database_path)
        try:
            await migrate(db)
            service = SurveyService.on_database(
                db, city=settings.city, clock=SystemClock(), secret=settings.hash_secret
            )
            published = await service.publish(result.definition, result.source)
        finally:
            await db.close()
        if published.refused:
            print(f"{args.file}: not published: {published.refused}", file=sys.stderr)
            return 1
        verb = "published" if published.created else "updated"
        status = published.survey.status
        print(f"survey {published.survey.id!r} {verb} in {settings.database_path} ({status})")
        return 0

    return asyncio.run(run())


def cmd_export_survey(args: argparse.Namespace) -> int:
    settings = _settings(require_token=False)
    setup_logging(settings.log_level, _secrets(settings))
    from bot.clock import SystemClock
    from bot.i18n import Catalogs
    from bot.services.surveys import SurveyService
    from bot.storage import Database

    async def run() -> bytes | None:
        db = await Database.open(settings.database_path)
        try:
            service = SurveyService.on_database(
                db, city=settings.city, clock=SystemClock(), secret=settings.hash_secret
            )
            catalogs = Catalogs(settings.city.languages, settings.city.timezone)
            return await service.export_csv(
                args.survey_id, catalogs.get(settings.city.default_language)
            )
        finally:
            await db.close()

    data = asyncio.run(run())
    if data is None:
        print(f"there is no survey {args.survey_id!r} in {settings.database_path}", file=sys.stderr)
        return 1
    if args.out == "-":
        sys.stdout.buffer.write(data)
    else:
        Path(args.out).write_bytes(data)
        print(f"survey {args.survey_id!r} exported to {args.out}")
    return 0


def cmd_export_reports(args: argparse.Namespace) -> int:
    """Reports as CSV or Open311 GeoReport v2 JSON (see bot.services.open311 for privacy)."""
    settings = _settings(require_token=False)
    setup_logging(settings.log_level, _secrets(settings))
    from bot.services import open311
    from bot.storage import Database
    from bot.storage.stats import StatsRepository

    try:
        since = open311.parse_since(args.since, settings.city.timezone) if args.since else None
    except ValueError as error:
        print(str(error), file=sys.stderr)
        return 2
    if args.media_base_url and not args.media_base_url.startswith(("https://", "http://")):
        print(
            "--media-base-url expects an http(s) URL, like https://example.org/photos",
            file=sys.stderr,
        )
        return 2
    if not settings.database_path.is_file():
        print(f"there is no database at {settings.database_path} (DATABASE_PATH)", file=sys.stderr)
        return 1

    async def run() -> bytes:
        db = await Database.open(settings.database_path)
        try:
            rows = await StatsRepository(db).export_rows(since)
        finally:
            await db.close()
        return open311.export(settings.city, rows, args.format, media_base_url=args.media_base_url)

    data = asyncio.run(run())
    if args.out == "-":
        sys.stdout.buffer.write(data)
        return 0
    out = Path(args.out)
    if not out.parent.is_dir():
        print(f"--out: the folder {str(out.parent)!r} does not exist", file=sys.stderr)
        return 2
    open311.write_atomically(out, data)
    print(f"reports exported to {out} ({args.format})")
    return 0


def _bot_username(settings: Settings) -> str:
    """BOT_USERNAME, or the username Telegram gives for BOT_TOKEN (getMe)."""
    username = os.environ.get("BOT_USERNAME", "").strip().lstrip("@")
    if username or not settings.bot_token:
        return username
    from telegram import Bot

    async def get_me() -> str:
        async with Bot(settings.bot_token.reveal(), base_url=settings.base_url) as bot:
            return bot.username

    return asyncio.run(get_me())


def cmd_qr(args: argparse.Namespace) -> int:
    """Write a PNG QR code of a neighborhood, event or survey deep link (for flyers)."""
    settings = _settings(require_token=False)
    from bot.services.qr import link_for, write_qr

    city = settings.city
    if args.kind == "nb" and city.neighborhood(args.id) is None:
        known = ", ".join(n.id for n in city.neighborhoods)
        print(f"unknown neighborhood {args.id!r}; the city has: {known}", file=sys.stderr)
        return 2
    if args.kind == "ev" and not (args.id.isdigit() and int(args.id) > 0):
        print(f"{args.id!r} is not an event number (see /myevents)", file=sys.stderr)
        return 2
    username = _bot_username(settings)
    if not username:
        print("set BOT_USERNAME (or BOT_TOKEN) so the link names the bot", file=sys.stderr)
        return 2
    try:
        link = link_for(username, args.kind, args.id)
    except ValueError as error:
        print(str(error), file=sys.stderr)
        return 2
    out = write_qr(link, Path(args.out or f"qr-{args.kind}-{args.id}.png"))
    print(f"{link}\nQR code written to {out}")
    return 0


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
    surveys = sub.add_parser("surveys", help="check and publish survey files")
    surveys_sub = surveys.add_subparsers(dest="action", required=True)
    check = surveys_sub.add_parser("check", help="validate a survey file, listing every problem")
    check.add_argument("file")
    check.set_defaults(func=cmd_surveys_check)
    publish = surveys_sub.add_parser("publish", help="validate a survey file and open it")
    publish.add_argument("file")
    publish.set_defaults(func=cmd_surveys_publish)
    export = sub.add_parser("export", help="export data as CSV (or Open311 JSON)")
    export_sub = export.add_subparsers(dest="kind", required=True)
    export_survey = export_sub.add_parser("survey", help="one survey's responses")
    export_survey.add_argument("survey_id")
    export_survey.add_argument("--out", required=True, help="the CSV file to write ('-': stdout)")
    export_survey.set_defaults(func=cmd_export_survey)
    export_reports = export_sub.add_parser(
        "reports", help="reports as CSV or Open311 GeoReport v2 JSON (no personal data)"
    )
    export_reports.add_argument(
        "--since", help="only reports filed on or after this city-time date (YYYY-MM-DD)"
    )
    export_reports.add_argument("--format", choices=("csv", "open311"), default="csv")
    export_reports.add_argument("--out", required=True, help="the file to write ('-': stdout)")
    export_reports.add_argument(
        "--media-base-url",
        default="",
        help="where you publish report photos as <reference>.jpg; never used for anonymous"
        " or sensitive reports (default: no media_url)",
    )
    export_reports.set_defaults(func=cmd_export_reports)
    qr = sub.add_parser("qr", help="write a QR code (PNG) of a deep link for flyers")
    qr.add_argument("kind", choices=("nb", "ev", "sv"), help="neighborhood, event or survey")
    qr.add_argument("id", help="the neighborhood id, event number or survey id")
    qr.add_argument("--out", help="the PNG file to write (default: qr-KIND-ID.png)")
    qr.set_defaults(func=cmd_qr)
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
