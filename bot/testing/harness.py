"""Run a real PTB ``Application`` against the fake, in process."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from telegram import Bot, Update
from telegram.ext import Application, ApplicationBuilder, ContextTypes

from bot.testing.transport import FakeRequest

if TYPE_CHECKING:
    from bot.testing.model import FakeTelegram
    from bot.testing.objects import JSON

AnyApplication = Application[Any, Any, Any, Any, Any, Any]


def fake_bot(
    tg: FakeTelegram, *, token: str | None = None, read_timeout: float | None = 5.0
) -> Bot:
    """Return a PTB ``Bot`` whose every request (getUpdates included) goes to ``tg``."""
    return Bot(
        token or tg.token,
        request=FakeRequest(tg, read_timeout=read_timeout),
        get_updates_request=FakeRequest(tg, read_timeout=read_timeout),
    )


def application_builder(tg: FakeTelegram) -> ApplicationBuilder[Any, Any, Any, Any, Any, Any]:
    """Return an ``ApplicationBuilder`` wired to ``tg`` (token and both requests)."""
    return (
        Application.builder()
        .token(tg.token)
        .request(FakeRequest(tg))
        .get_updates_request(FakeRequest(tg))
    )


@dataclass
class RunningApplication:
    """A started application and the exceptions its handlers raised."""

    application: AnyApplication
    errors: list[BaseException] = field(default_factory=list)


@asynccontextmanager
async def run_application(
    application: AnyApplication, tg: FakeTelegram, *, raise_errors: bool = True
) -> AsyncIterator[RunningApplication]:
    """Initialize and start ``application``, deliver every update straight to it, stop on exit.

    Each user action then returns only after the application processed the update.
    Handler exceptions are collected in ``errors`` (an error handler is added for that);
    with ``raise_errors`` they are re-raised on exit unless the body itself failed.
    """
    running = RunningApplication(application)

    async def record(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        if context.error is not None:
            running.errors.append(context.error)

    async def deliver(data: JSON) -> None:
        await application.process_update(Update.de_json(data, application.bot))

    application.add_error_handler(record)
    await application.initialize()
    await application.start()
    tg.set_update_sink(deliver)
    failed = False
    try:
        yield running
    except BaseException as exc:
        failed = True
        if running.errors:
            exc.add_note(f"handler errors during the test: {running.errors!r}")
        raise
    finally:
        tg.set_update_sink(None)
        await application.stop()
        await application.shutdown()
        application.remove_error_handler(record)
    if raise_errors and running.errors and not failed:
        if len(running.errors) == 1:
            raise running.errors[0]
        raise BaseExceptionGroup("handlers raised", running.errors)
