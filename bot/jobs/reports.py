"""Report ticks: re-announce unacknowledged reports, post the daily summary.

Both are periodic ticks that read the database (due times live there), so nothing is
lost across a restart and a tick missed while the bot was down is simply caught up.
"""

from __future__ import annotations

from typing import Any

from telegram.ext import JobQueue

from bot.context import BotContext

TICK_SECONDS = 60.0
ESCALATION_JOB = "reports-escalation"
SUMMARY_JOB = "reports-daily-summary"


async def escalate(context: BotContext) -> None:
    await context.services.reports.escalate_overdue()


async def daily_summary(context: BotContext) -> None:
    await context.services.reports.post_daily_summary()


def schedule(job_queue: JobQueue[Any]) -> None:
    """Start the ticks once (deterministic names; a second call changes nothing)."""
    if not job_queue.get_jobs_by_name(ESCALATION_JOB):
        job_queue.run_repeating(escalate, interval=TICK_SECONDS, first=20, name=ESCALATION_JOB)
    if not job_queue.get_jobs_by_name(SUMMARY_JOB):
        job_queue.run_repeating(daily_summary, interval=TICK_SECONDS, first=30, name=SUMMARY_JOB)
