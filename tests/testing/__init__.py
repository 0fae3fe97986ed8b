"""Tests of the Telegram fake (bot/testing)."""
