"""An in-memory, Telegram-shaped model of the Bot API for tests and the sandbox.

Typical use::

    tg = FakeTelegram()
    app = application_builder(tg).build()
    ...register handlers...
    async with run_application(app, tg):
        alice = tg.user("Alice", language="es")
        await alice.send("/start")
        assert "Hola" in alice.last_message.text
"""

from bot.testing.dispatch import Outcome
from bot.testing.errors import ApiError
from bot.testing.faults import Fault, FaultInjector
from bot.testing.formatting import FormattedText, format_text
from bot.testing.harness import (
    RunningApplication,
    application_builder,
    fake_bot,
    run_application,
)
from bot.testing.limits import SEND_METHODS, FloodMeter, flood_violations
from bot.testing.model import FakeTelegram
from bot.testing.objects import BotRights, FakeChat, FakeMessage, ForumTopic
from bot.testing.records import (
    Call,
    CallbackQueryRecord,
    Stats,
    StoredFile,
    UploadedFile,
    Violation,
)
from bot.testing.server import FakeTelegramServer
from bot.testing.transport import FakeRequest
from bot.testing.users import FakeUser

__all__ = [
    "SEND_METHODS",
    "ApiError",
    "BotRights",
    "Call",
    "CallbackQueryRecord",
    "FakeChat",
    "FakeMessage",
    "FakeRequest",
    "FakeTelegram",
    "FakeTelegramServer",
    "FakeUser",
    "Fault",
    "FaultInjector",
    "FloodMeter",
    "FormattedText",
    "ForumTopic",
    "Outcome",
    "RunningApplication",
    "Stats",
    "StoredFile",
    "UploadedFile",
    "Violation",
    "application_builder",
    "fake_bot",
    "flood_violations",
    "format_text",
    "run_application",
]
