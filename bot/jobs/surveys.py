"""Survey jobs: a periodic tick that sends follow-up surveys after events end.

The due times live in the database (events and their end, which surveys follow which
kinds of event, what was already dispatched); the tick only asks the service.
"""

from __future__ import annotations

import logging

from bot.context import BotContext

log = logging.getLogger(__name__)


async def dispatch_post_event_surveys(context: BotContext) -> None:
    services = context.services
    invited = await services.surveys.dispatch_due()
    if invited:
        log.info("post-event surveys: %d invitations queued", invited)
        services.sender.wake()
