"""Periodic ticks for alerts: reminders, the weekly digest, scheduled broadcasts, progress.

They hold no state: each tick reads the database through the services, so a restart
rebuilds nothing and a missed tick is caught up by the next one.
"""

from __future__ import annotations

from typing import Any

from telegram.ext import JobQueue

from bot.context import BotContext

ALERTS_TICK = "alerts-tick"
BROADCAST_PROGRESS = "broadcast-progress"
ALERTS_INTERVAL = 30.0  # reminders are due to the minute; a half-minute tick is plenty
PROGRESS_INTERVAL = 3.0  # the admin's progress message is edited at most this often


async def alerts_tick(context: BotContext) -> None:
    """Queue due reminders, the weekly digest when it is time, and due broadcasts."""
    services = context.services
    queued = await services.alerts.plan_reminders()
    queued += await services.alerts.plan_digest()
    started = await services.broadcasts.start_due()
    if queued or started:
        services.sender.wake()


async def broadcast_progress(context: BotContext) -> None:
    """Edit running broadcasts' progress messages and post final reports."""
    services = context.services
    if await services.broadcasts.refresh_progress():
        services.sender.wake()


def schedule(job_queue: JobQueue[Any]) -> None:
    """Start the ticks under fixed names (a restart replaces, never duplicates, them)."""
    for name, callback, interval in (
        (ALERTS_TICK, alerts_tick, ALERTS_INTERVAL),
        (BROADCAST_PROGRESS, broadcast_progress, PROGRESS_INTERVAL),
    ):
        for job in job_queue.get_jobs_by_name(name):
            job.schedule_removal()
        job_queue.run_repeating(callback, interval=interval, first=interval, name=name)
