"""`resident-bot sandbox`: chat with the real bot in a terminal, without Telegram.

It serves the Telegram fake over HTTP on 127.0.0.1, starts the real bot process
against it (`TELEGRAM_API_URL`), and lets you type as a resident. Buttons are shown
numbered: type the number to press one. `/as staff`, `/as admin` and `/as resident`
switch persona; the staff persona sees the staff group. Ctrl-D quits and stops both.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from bot.testing import FakeChat, FakeMessage, FakeTelegram, FakeTelegramServer, FakeUser

HELP = """\
Sandbox: a local stand-in for Telegram on 127.0.0.1 and the real bot process.
  type a message        send it as the current persona
  a number (1, 2, ...)  press that button on the last message that has buttons
  /location LAT LON     share a location        /photo [caption]  send a photo
  /reply N TEXT         (staff) reply to staff-chat message N
  /as resident | /as staff | /as admin          switch persona
  /sandbox-help         this text               Ctrl-D            quit
"""


# Shaped like a real token so that the bot's own settings check accepts it.
SANDBOX_TOKEN = "123456:SANDBOX-local-token-not-for-telegram"


@dataclass
class _Persona:
    name: str
    user: FakeUser
    chat: FakeChat
    shown: dict[int, tuple[int, str]] = field(default_factory=dict)  # message id -> (edits, text)
    buttons: FakeMessage | None = None


class Sandbox:
    def __init__(self, out: TextIO, database: Path, language: str) -> None:
        self.out = out
        self.tg = FakeTelegram(token=SANDBOX_TOKEN)
        self.staff_chat = self.tg.group("Liaison staff", forum=True)
        resident = self.tg.user("Rosa", language=language, username="rosa_resident")
        staff = self.tg.user("Sam", last_name="Staff", username="sam_liaison")
        admin = self.tg.user("Alex", last_name="Admin", username="alex_admin")
        self.tg.add_member(self.staff_chat, staff, status="administrator")
        self.tg.add_member(self.staff_chat, admin, status="administrator")
        self.personas = {
            "resident": _Persona("resident", resident, resident.chat),
            "staff": _Persona("staff", staff, self.staff_chat),
            "admin": _Persona("admin", admin, admin.chat),
        }
        self.current = self.personas["resident"]
        self.database = database
        self.server = FakeTelegramServer(self.tg)
        self.process: asyncio.subprocess.Process | None = None

    def print(self, text: str = "") -> None:
        self.out.write(text + "\n")
        self.out.flush()

    def bot_env(self) -> dict[str, str]:
        admin = self.personas["admin"].user
        env = dict(os.environ)
        env.update(
            BOT_TOKEN=self.tg.token,
            TELEGRAM_API_URL=self.server.base_url.removesuffix("/bot"),
            STAFF_CHAT_ID=str(self.staff_chat.id),
            ADMIN_IDS=str(admin.id),
            DATABASE_PATH=str(self.database),
            LOG_LEVEL=env.get("LOG_LEVEL", "WARNING"),
        )
        env.pop("WEBHOOK_URL", None)
        return env

    async def start(self) -> bool:
        await self.server.start()
        log_path = self.database.with_suffix(".log")
        log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log = log_path.open("ab")
        self.process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            "run",
            env=self.bot_env(),
            stdout=self._log,
            stderr=self._log,
        )
        for _ in range(300):
            if any(call.method == "getUpdates" for call in self.tg.calls):
                return True
            if self.process.returncode is not None:
                break
            await asyncio.sleep(0.1)
        self.print(f"The bot did not start; see {log_path}")
        return False

    async def stop(self) -> None:
        if self.process is not None and self.process.returncode is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(self.process.wait(), timeout=10)
            except TimeoutError:
                self.process.kill()
                await self.process.wait()
        await self.server.stop()
        self._log.close()

    def show_new(self) -> None:
        persona = self.current
        for message in persona.chat.messages:
            if not message.from_bot:
                continue
            key = (message.edit_count, message.text)
            if persona.shown.get(message.message_id) == key:
                continue
            edited = message.message_id in persona.shown
            persona.shown[message.message_id] = key
            self._render(message, edited=edited)

    def _render(self, message: FakeMessage, *, edited: bool) -> None:
        label = "bot (edited)" if edited else "bot"
        where = ""
        if message.message_thread_id and self.current.name == "staff":
            topic = self.staff_chat.topics.get(message.message_thread_id, "")
            where = f" [topic: {topic}]"
        self.print(f"[{message.message_id}] {label}{where}: {message.text}")
        if message.location:
            self.print(f"    (map pin {message.location})")
        if message.buttons:
            self.current.buttons = message
            for index, button in enumerate(message.buttons, 1):
                self.print(f"    [{index}] {button}")

    async def handle(self, line: str) -> bool:
        """Act on one typed line; False ends the session."""
        text = line.rstrip("\n")
        if not text.strip():
            return True
        persona = self.current
        words = text.split()
        if words[0] == "/as" and len(words) == 2 and words[1] in self.personas:
            self.current = self.personas[words[1]]
            self.print(f"(you are now {words[1]})")
            self.show_new()
            return True
        if words[0] == "/sandbox-help":
            self.print(HELP)
            return True
        if text.isdigit() and persona.buttons is not None:
            index = int(text) - 1
            if 0 <= index < len(persona.buttons.buttons):
                await persona.user.tap(persona.buttons.buttons[index], message=persona.buttons)
            else:
                self.print("(no button with that number)")
                return True
        elif words[0] == "/location" and len(words) == 3:
            await persona.user.share_location(
                float(words[1]), float(words[2]), **self._where(persona)
            )
        elif words[0] == "/photo":
            await persona.user.send_photo(
                caption=" ".join(words[1:]) or None, **self._where(persona)
            )
        elif (
            words[0] == "/reply"
            and len(words) >= 3
            and words[1].isdigit()
            and persona.name == "staff"
        ):
            target = next(
                (m for m in self.staff_chat.messages if m.message_id == int(words[1])), None
            )
            if target is None:
                self.print("(no message with that number)")
                return True
            await persona.user.send_in(
                self.staff_chat,
                " ".join(words[2:]),
                reply_to=target,
                thread_id=target.message_thread_id,
            )
        elif persona.name == "staff":
            await persona.user.send_in(self.staff_chat, text)
        else:
            await persona.user.send(text)
        await self.tg.settle(idle=0.3, timeout=15)
        self.show_new()
        return True

    def _where(self, persona: _Persona) -> dict[str, Any]:
        return {"in_chat": self.staff_chat} if persona.name == "staff" else {}


async def _lines(script: list[str] | None) -> AsyncIterator[str]:
    if script is not None:
        for line in script:
            yield line
        return
    loop = asyncio.get_running_loop()
    while True:
        line = await loop.run_in_executor(None, sys.stdin.readline)
        if not line:
            return
        yield line


async def _main(script: list[str] | None, out: TextIO) -> int:
    database = Path(os.environ.get("SANDBOX_DATABASE", "data/sandbox.sqlite3"))
    sandbox = Sandbox(out, database, os.environ.get("SANDBOX_LANGUAGE", "en"))
    sandbox.print(HELP)
    try:
        if not await sandbox.start():
            return 1
        sandbox.print("The bot is running. Say /start.")
        async for line in _lines(script):
            if script is not None:
                sandbox.print(f"> {line}")
            if not await sandbox.handle(line):
                break
    finally:
        await sandbox.stop()
        sandbox.print("Sandbox stopped.")
    return 0


def run_sandbox(*, script: str | None = None, out: TextIO | None = None) -> int:
    """Run the sandbox until the input ends (Ctrl-D) or the script is done."""
    try:
        lines = Path(script).read_text(encoding="utf-8").splitlines() if script else None
        return asyncio.run(_main(lines, out or sys.stdout))
    except KeyboardInterrupt:
        return 130
