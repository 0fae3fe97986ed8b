"""Broadcasts: plan one delivery per resident in one transaction, report live, cancel.

Planning builds the outbox rows in Python (one rendering and one JSON encoding per
language) and inserts them with one `executemany`, so 100,000 residents take about a
second; the outbox sender then delivers them within Telegram's limits. Progress is read
from the outbox (batch `broadcast:<id>`) and shown by editing the admin's progress
message, through the outbox.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

from bot.clock import Clock
from bot.config import City
from bot.i18n import Catalogs, Translator
from bot.services.events import Outgoing, RenderCache, each, enqueue_bulk
from bot.storage.broadcasts import (
    Audience,
    Broadcast,
    BroadcastRepository,
    DeliveryCounts,
    NewBroadcast,
)
from bot.storage.db import Database, Transaction
from bot.storage.events import cancel_outbox_batches_in, claim_dialog_in
from bot.storage.outbox import (
    PRIORITY_BULK,
    PRIORITY_STAFF,
    OutboxItem,
    OutboxRepository,
)
from bot.storage.subscriptions import SubscriptionRepository

log = logging.getLogger(__name__)

MAX_TEXT = 3500  # leaves room for the footer within Telegram's 4096
MAX_CAPTION = 900  # Telegram allows 1024 for a photo caption
FLOW = "broadcast"
PLAN_PAGE = 10_000


class BroadcastRenderer(Protocol):
    """Broadcast messages and the admin's progress view (implemented in bot.views)."""

    def broadcast(self, tr: Translator, text_html: str, photo: str | None) -> Outgoing: ...

    def progress(
        self, tr: Translator, broadcast: Broadcast, counts: DeliveryCounts, *, final: bool
    ) -> Outgoing: ...

    def report(self, tr: Translator, broadcast: Broadcast, counts: DeliveryCounts) -> Outgoing: ...


@dataclass(frozen=True, slots=True)
class Created:
    broadcast: Broadcast
    planned: int


class AlreadyConfirmed(Exception):
    """The broadcast was confirmed before (a second tap on Confirm)."""


class BroadcastService:
    def __init__(
        self,
        *,
        db: Database,
        broadcasts: BroadcastRepository,
        subscriptions: SubscriptionRepository,
        city: City,
        catalogs: Catalogs,
        clock: Clock,
        renderer: BroadcastRenderer,
    ) -> None:
        self._db = db
        self._broadcasts = broadcasts
        self._subscriptions = subscriptions
        self._city = city
        self._catalogs = catalogs
        self._clock = clock
        self._renderer = renderer

    def clean_audience(self, neighborhoods: list[str], languages: list[str]) -> Audience:
        """Drop ids the city does not know (a stale dialog after a config change)."""
        return Audience(
            tuple(sorted({n for n in neighborhoods if self._city.neighborhood(n)})),
            tuple(sorted({lang for lang in languages if lang in self._city.languages})),
        )

    async def audience_size(self, audience: Audience) -> int:
        return await self._subscriptions.broadcast_audience_count(
            audience.neighborhoods, audience.languages
        )

    async def get(self, broadcast_id: int) -> Broadcast | None:
        return await self._broadcasts.get(broadcast_id)

    async def scheduled(self) -> list[Broadcast]:
        return await self._broadcasts.scheduled()

    async def counts(self, broadcast: Broadcast) -> DeliveryCounts:
        return await self._broadcasts.delivery_counts(broadcast.batch)

    async def create(
        self, new: NewBroadcast, *, dialog_chat_id: int, dialog_version: int
    ) -> Created:
        """Confirm a composed broadcast: plan it now, or store it for its scheduled time.

        The composing dialog is closed in the same transaction, so a second tap on
        Confirm raises `AlreadyConfirmed` and sends nothing.
        """
        now = self._clock.time()
        async with self._db.transaction() as tx:
            if not await claim_dialog_in(tx, dialog_chat_id, FLOW, dialog_version):
                raise AlreadyConfirmed
            broadcast_id = await self._broadcasts.insert_in(tx, new, "scheduled", now)
            planned = await self._plan_in(tx, broadcast_id, now) if new.send_at <= now else 0
            broadcast = await self._broadcasts.get_in(tx, broadcast_id)
        assert broadcast is not None
        log.info("broadcast %s confirmed: %d deliveries planned", broadcast.id, planned)
        return Created(broadcast, planned)

    async def _plan_in(self, tx: Transaction, broadcast_id: int, now: float) -> int:
        broadcast = await self._broadcasts.get_in(tx, broadcast_id)
        if broadcast is None or broadcast.status != "scheduled":
            return 0
        default = self._city.default_language

        def render(tr: Translator) -> Outgoing:
            return self._renderer.broadcast(
                tr, broadcast.text(tr.language, default), broadcast.photo_file_id
            )

        cache = RenderCache(self._catalogs, render, default)
        planned, after = 0, 0
        while True:  # a page of residents at a time keeps memory flat for 100,000
            page = await self._subscriptions.broadcast_audience_in(
                tx,
                broadcast.audience.neighborhoods,
                broadcast.audience.languages,
                after_user_id=after,
                limit=PLAN_PAGE,
            )
            if not page:
                break
            planned += await enqueue_bulk(
                tx,
                each(page, cache),
                key=f"broadcast:{broadcast.id}",
                now=now,
                priority=PRIORITY_BULK,
                batch=broadcast.batch,
                kind="broadcast",
            )
            after = page[-1].user_id
        await self._broadcasts.mark_sending_in(tx, broadcast.id, planned, now)
        return planned

    async def start_due(self) -> list[int]:
        """Plan the scheduled broadcasts whose time has come; return their ids."""
        now = self._clock.time()
        started = []
        for broadcast_id in await self._broadcasts.due(now):
            async with self._db.transaction() as tx:
                planned = await self._plan_in(tx, broadcast_id, now)
            log.info("scheduled broadcast %s started: %d deliveries", broadcast_id, planned)
            started.append(broadcast_id)
        return started

    async def cancel(self, broadcast_id: int) -> Broadcast | None:
        """Stop a scheduled or running broadcast; deliveries not yet sent are dropped."""
        now = self._clock.time()
        async with self._db.transaction() as tx:
            changed = await self._broadcasts.set_status_in(
                tx, broadcast_id, "cancelled", now, only_from=("scheduled", "sending")
            )
            if not changed:
                return None
            dropped = await cancel_outbox_batches_in(tx, [f"broadcast:{broadcast_id}"], now)
        log.info("broadcast %s cancelled, %d deliveries dropped", broadcast_id, dropped)
        return await self._broadcasts.get(broadcast_id)

    async def refresh_progress(self) -> int:
        """Edit each running broadcast's progress message when its counts changed, and post
        the final report once nothing is left to send. Return the messages queued."""
        queued = 0
        for broadcast in await self._broadcasts.unreported():
            counts = await self._broadcasts.delivery_counts(broadcast.batch)
            final = broadcast.status == "cancelled" or (
                broadcast.status in ("sending", "done") and counts.finished
            )
            if not final and counts.as_dict() == broadcast.progress_shown:
                continue
            queued += await self._show_progress(broadcast, counts, final=final)
        return queued

    async def _show_progress(
        self, broadcast: Broadcast, counts: DeliveryCounts, *, final: bool
    ) -> int:
        now = self._clock.time()
        tr = self._catalogs.get(broadcast.admin_language)
        queued = 0
        async with self._db.transaction() as tx:
            if final and broadcast.status == "sending":
                await self._broadcasts.set_status_in(
                    tx, broadcast.id, "done", now, only_from=("sending",)
                )
            current = await self._broadcasts.get_in(tx, broadcast.id)
            assert current is not None
            seq = await self._broadcasts.record_progress_in(
                tx, broadcast.id, counts.as_dict(), reported=final
            )
            chat = current.admin_chat_id
            if current.progress_message_id is not None:
                method, params = self._renderer.progress(tr, current, counts, final=final).edit(
                    chat, current.progress_message_id
                )
                await OutboxRepository.enqueue_in(
                    tx,
                    OutboxItem(
                        key=f"bprogress:{broadcast.id}:{seq}",
                        chat_id=chat,
                        method=method,
                        params=params,
                        not_before=now,
                        priority=PRIORITY_STAFF,
                        kind="broadcast-progress",
                    ),
                    now,
                )
                queued += 1
            if final:
                method, params = self._renderer.report(tr, current, counts).call(chat)
                await OutboxRepository.enqueue_in(
                    tx,
                    OutboxItem(
                        key=f"breport:{broadcast.id}",
                        chat_id=chat,
                        method=method,
                        params=params,
                        not_before=now,
                        priority=PRIORITY_STAFF,
                        kind="broadcast-report",
                    ),
                    now,
                )
                queued += 1
        return queued


def texts_fit(texts: Mapping[str, str], *, photo: bool) -> bool:
    limit = MAX_CAPTION if photo else MAX_TEXT
    return all(len(text) <= limit for text in texts.values())
