"""The nightly privacy job: retention of closed reports, abandoned conversations.

Nothing here has a due time of its own: each night the service reads which closed
reports passed `retention_days`, so a night missed while the bot was down is caught up
by the next one.
"""

from __future__ import annotations

import logging
from datetime import time
from typing import Any

from telegram.ext import JobQueue

from bot.config import City
from bot.context import BotContext

log = logging.getLogger(__name__)

NIGHTLY_JOB = "privacy-nightly"
NIGHTLY_AT = time(3, 30)  # city time, when the bot is quietest


async def nightly(context: BotContext) -> None:
    result = await context.services.privacy.nightly()
    log.info(
        "privacy nightly: %d reports past retention, %d abandoned conversations",
        result.reports,
        result.dialogs,
    )


def schedule(job_queue: JobQueue[Any], city: City) -> None:
    """Run `nightly` every night (a deterministic name: a restart replaces, never adds)."""
    for job in job_queue.get_jobs_by_name(NIGHTLY_JOB):
        job.schedule_removal()
    job_queue.run_daily(nightly, time=NIGHTLY_AT.replace(tzinfo=city.timezone), name=NIGHTLY_JOB)
