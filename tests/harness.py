"""The real application wired to the in-process Telegram fake, for integration tests.

    async def test_start(harness: Harness) -> None:
        alice = harness.resident("Alice", language="es")
        await alice.send("/start")
        assert "911" in alice.last_message.text

Updates are processed one at a time, in the test's task, so a `send()` returns after
the bot has answered. Messages that go through the outbox are sent when the test calls
`deliver_outbox()`. Services use a `ManualClock` the test can move.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

from telegram import Update

from bot.app import build_application, start_services, stop_services
from bot.clock import ManualClock
from bot.config import Settings
from bot.context import SERVICES_KEY, BotApplication, Services
from bot.delivery import TelegramRateLimiter
from bot.testing import FakeChat, FakeRequest, FakeTelegram, FakeUser


class Harness:
    def __init__(
        self, settings: Settings, clock: ManualClock, tg: FakeTelegram | None = None
    ) -> None:
        self.tg = tg or FakeTelegram(token=settings.bot_token.reveal())
        assert settings.staff_chat_id is not None
        self.clock = clock
        self.staff_chat: FakeChat = self.tg.group(
            "Liaison staff", forum=True, chat_id=settings.staff_chat_id
        )
        self.settings = settings
        self.app: BotApplication | None = None
        self._admin: FakeUser | None = None

    # -- lifecycle ----------------------------------------------------------------------

    async def start(self, *, limiter: TelegramRateLimiter | None = None) -> None:
        app = build_application(
            self.settings,
            request=FakeRequest(self.tg),
            get_updates_request=FakeRequest(self.tg),
            clock=self.clock,
            limiter=limiter
            or TelegramRateLimiter(
                overall_per_second=None,
                private_burst=None,
                group_per_minute=None,
                pause_on_retry_after=False,  # the outbox defers rows on the test's clock
            ),
            run_sender=False,
        )
        await app.initialize()
        await start_services(app)
        await app.start()
        self.app = app
        self.tg.set_update_sink(self._process)

    async def _process(self, data: dict[str, Any]) -> None:
        assert self.app is not None
        await self.app.process_update(Update.de_json(data, self.app.bot))

    async def stop(self) -> None:
        if self.app is None:
            return
        app, self.app = self.app, None
        if app.running:
            await app.stop()
        await stop_services(app)
        await app.shutdown()

    async def restart(self, **settings_changes: Any) -> None:
        """Stop the bot and start a new one on the same database and the same Telegram."""
        await self.stop()
        if settings_changes:
            self.settings = replace(self.settings, **settings_changes)
        await self.start()

    # -- people -------------------------------------------------------------------------

    @property
    def services(self) -> Services:
        assert self.app is not None, "the harness is not started"
        services: Services = self.app.bot_data[SERVICES_KEY]
        return services

    def resident(self, name: str = "Alice", *, language: str = "en", **kwargs: Any) -> FakeUser:
        return self.tg.user(name, language=language, **kwargs)

    def staff_member(self, name: str = "Sam", *, status: str = "member", **kwargs: Any) -> FakeUser:
        user = self.tg.user(name, **kwargs)
        self.tg.add_member(self.staff_chat, user, status=status)
        return user

    @property
    def admin(self) -> FakeUser:
        if self._admin is None:
            admin_id = next(iter(sorted(self.settings.admin_ids)))
            self._admin = self.tg.user("Ada", last_name="Admin", user_id=admin_id)
        return self._admin

    # -- time and delivery ----------------------------------------------------------------

    def advance(self, seconds: float) -> None:
        self.clock.advance(timedelta(seconds=seconds))

    async def deliver_outbox(self, *, max_rounds: int = 200) -> int:
        """Send everything the outbox holds that is due, moving the clock past per-chat spacing."""
        total = 0
        for _ in range(max_rounds):
            sent = await self.services.sender.drain()
            total += sent
            due = await self.services.outbox.next_due_at()
            if due is None or due > self.clock.time() + 1.5:
                if not sent:
                    break
                continue
            self.advance(1.1)
        return total

    async def outbox_counts(self) -> dict[str, int]:
        return await self.services.outbox.counts()
