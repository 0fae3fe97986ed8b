"""resident-bot: a Telegram bot for community-liaison programs."""

__version__ = "0.1.0"
