"""The monthly transparency digest tick.

It holds no state: each tick asks the service whether a digest is due (the months already
sent are in the database), so a restart rebuilds nothing and a missed tick is caught up.
"""

from __future__ import annotations

from typing import Any

from telegram.ext import JobQueue

from bot.context import BotContext

DIGEST_JOB = "transparency-monthly-digest"
TICK_SECONDS = 60.0


async def monthly_digest(context: BotContext) -> None:
    """Queue the monthly digest for every resident who opted in, once, when it is due."""
    service = context.services.stats.transparency
    if service is not None:
        await service.plan_monthly_digest()


def schedule(job_queue: JobQueue[Any]) -> None:
    """Start the tick under a fixed name (a restart replaces, never duplicates, it)."""
    for job in job_queue.get_jobs_by_name(DIGEST_JOB):
        job.schedule_removal()
    job_queue.run_repeating(monthly_digest, interval=TICK_SECONDS, first=45, name=DIGEST_JOB)
