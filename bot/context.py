"""The typed handler context and the services it carries."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from telegram.ext import Application, CallbackContext, ExtBot

from bot.clock import Clock
from bot.config import City, Settings
from bot.delivery import OutboxSender, TelegramRateLimiter
from bot.i18n import Catalogs, Translator
from bot.services.alerts import AlertService
from bot.services.broadcasts import BroadcastService
from bot.services.events import EventService
from bot.services.privacy import PrivacyService
from bot.services.reports import ReportService
from bot.services.residents import ResidentService
from bot.services.staff import StaffService
from bot.services.stats import StatsService
from bot.services.surveys import SurveyService
from bot.storage import Database, DialogRepository, OutboxRepository, Resident, UpdateLog

SERVICES_KEY = "services"


@dataclass
class Services:
    """Everything long-lived, created once in `post_init` and closed at shutdown."""

    settings: Settings
    city: City
    clock: Clock
    db: Database
    catalogs: Catalogs
    residents: ResidentService
    dialogs: DialogRepository
    outbox: OutboxRepository
    updates: UpdateLog
    sender: OutboxSender
    limiter: TelegramRateLimiter | None
    # Feature services, set by each feature's `on_start` (see `bot.app.FEATURES`).
    reports: ReportService = None  # type: ignore[assignment]
    staff: StaffService = None  # type: ignore[assignment]
    events: EventService = None  # type: ignore[assignment]
    alerts: AlertService = None  # type: ignore[assignment]
    broadcasts: BroadcastService = None  # type: ignore[assignment]
    surveys: SurveyService = None  # type: ignore[assignment]
    stats: StatsService = None  # type: ignore[assignment]
    privacy: PrivacyService = None  # type: ignore[assignment]

    def is_admin(self, user_id: int | None) -> bool:
        return user_id is not None and user_id in self.settings.admin_ids

    def is_staff_chat(self, chat_id: int | None) -> bool:
        return chat_id is not None and chat_id == self.settings.staff_chat_id


class BotContext(CallbackContext[ExtBot[None], dict[Any, Any], dict[Any, Any], dict[Any, Any]]):
    """Handler context with typed access to the services and the current resident."""

    _resident: Resident | None = None
    _translator: Translator | None = None

    @property
    def services(self) -> Services:
        services: Services = self.application.bot_data[SERVICES_KEY]
        return services

    @property
    def resident(self) -> Resident | None:
        return self._resident

    @resident.setter
    def resident(self, value: Resident | None) -> None:
        self._resident = value
        self._translator = None

    @property
    def tr(self) -> Translator:
        """The translator for whoever this update came from."""
        if self._translator is None:
            language = self._resident.language if self._resident else None
            self._translator = self.services.catalogs.get(
                language or self.services.city.default_language
            )
        return self._translator

    @tr.setter
    def tr(self, value: Translator) -> None:
        self._translator = value


BotApplication = Application[
    ExtBot[None], BotContext, dict[Any, Any], dict[Any, Any], dict[Any, Any], Any
]
