"""Delivery: the outbox sender and the rate limiter."""

from bot.delivery.limiter import SEND_METHODS, TelegramRateLimiter, retry_seconds
from bot.delivery.sender import OutboxSender, SenderStats

__all__ = ["SEND_METHODS", "OutboxSender", "SenderStats", "TelegramRateLimiter", "retry_seconds"]
