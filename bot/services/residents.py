"""Residents: first contact, language choice, blocking."""

from __future__ import annotations

from bot.clock import Clock
from bot.config import City
from bot.storage.residents import Resident, ResidentRepository


class ResidentService:
    def __init__(self, residents: ResidentRepository, city: City, clock: Clock) -> None:
        self._residents = residents
        self._city = city
        self._clock = clock

    async def seen(self, *, user_id: int, chat_id: int, telegram_language: str | None) -> Resident:
        """Record contact; a new resident starts in Telegram's language when enabled."""
        language = self._city.language_for(telegram_language)
        base = (telegram_language or "").replace("_", "-").lower().split("-")[0]
        source = "telegram" if base in self._city.languages else "default"
        return await self._residents.touch(
            user_id=user_id,
            chat_id=chat_id,
            language=language,
            language_source=source,
            now=self._clock.time(),
        )

    async def choose_language(self, user_id: int, language: str) -> bool:
        """An explicit choice with /language; never overridden by detection."""
        if language not in self._city.languages:
            return False
        await self._residents.set_language(user_id, language, "chosen")
        return True

    async def accept_detected_language(self, user_id: int, language: str) -> bool:
        if language not in self._city.languages:
            return False
        await self._residents.set_language(user_id, language, "chosen")
        return True

    async def should_offer_language(self, resident: Resident, detected: str | None) -> bool:
        """Offer a one-tap switch once, when free text is confidently in another language."""
        if detected is None or detected == resident.language or resident.detect_offered:
            return False
        if resident.chose_language or detected not in self._city.languages:
            return False
        await self._residents.mark_detect_offered(resident.user_id)
        return True

    async def blocked(self, user_id: int) -> None:
        await self._residents.set_active(user_id, False)

    async def unblocked(self, user_id: int) -> None:
        await self._residents.set_active(user_id, True)

    async def get(self, user_id: int) -> Resident | None:
        return await self._residents.get(user_id)
