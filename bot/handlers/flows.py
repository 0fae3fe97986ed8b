"""Routing of private messages and deep links to the feature that owns them.

Features register here at import time of `bot.app`; the state of an open flow lives in
the `dialogs` table, so a restart continues where the resident was.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from telegram import Update

from bot.context import BotApplication, BotContext, Services
from bot.storage import Dialog

FlowHandler = Callable[[Update, BotContext, Dialog], Awaitable[None]]
StartHandler = Callable[[Update, BotContext, str], Awaitable[bool]]
MenuHandler = Callable[[Update, BotContext], Awaitable[None]]


class Router:
    def __init__(self) -> None:
        self.flows: dict[str, FlowHandler] = {}
        self.start_links: dict[str, StartHandler] = {}
        self.menu: dict[str, MenuHandler] = {}

    def flow(self, name: str, handler: FlowHandler) -> None:
        """`handler` receives every private message while a dialog of `name` is open."""
        self.flows[name] = handler

    def start_link(self, prefix: str, handler: StartHandler) -> None:
        """`/start <prefix><rest>` calls `handler(update, context, rest)`; False = invalid."""
        self.start_links[prefix] = handler

    def menu_action(self, action: str, handler: MenuHandler) -> None:
        self.menu[action] = handler


@dataclass(frozen=True, slots=True)
class Feature:
    """A feature module: handler registration, and what it starts with the services."""

    register: Callable[[BotApplication, Router], None]
    on_start: Callable[[BotApplication, Services], Awaitable[None]] | None = None
