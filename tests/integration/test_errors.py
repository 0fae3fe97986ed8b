"""One error handler: logged with the update id, a short kind apology, no internals."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import TEST_TOKEN
from tests.harness import Harness


async def test_a_failing_handler_is_logged_and_the_resident_gets_an_apology(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    alice = harness.resident("Alice", language="es")
    await alice.send("/start")
    harness.tg.faults.add(
        method="sendMessage", chat_id=alice.id, kind="400", description="Bad Request: boom", times=1
    )
    with caplog.at_level(logging.ERROR, logger="bot.errors"):
        await alice.send("/help")
    update_id = harness.tg.updates[-1]["update_id"]
    assert any(f"error while handling update {update_id}" in r.getMessage() for r in caplog.records)
    assert (
        alice.last_message.text
        == "Lo sentimos, algo falló de nuestro lado. Inténtelo de nuevo en un momento."
    )
    assert "Traceback" not in alice.last_message.text and "boom" not in alice.last_message.text


def test_backup_makes_a_verified_online_copy(tmp_path: Path) -> None:
    env = {**os.environ, "DATABASE_PATH": str(tmp_path / "live.sqlite3"), "BOT_TOKEN": TEST_TOKEN}
    subprocess.run(
        [sys.executable, "-m", "bot", "migrate"],
        env=env,
        check=True,
        capture_output=True,
        timeout=60,
    )
    result = subprocess.run(
        [sys.executable, "-m", "bot", "backup", str(tmp_path / "copy.sqlite3")],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "integrity_check ok" in result.stdout
    assert (tmp_path / "copy.sqlite3").stat().st_size > 0


def test_migrate_command_is_idempotent(tmp_path: Path) -> None:
    env = {**os.environ, "DATABASE_PATH": str(tmp_path / "db.sqlite3")}
    env.pop("BOT_TOKEN", None)
    first = subprocess.run(
        [sys.executable, "-m", "bot", "migrate"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    second = subprocess.run(
        [sys.executable, "-m", "bot", "migrate"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert "0001_foundation" in first.stdout
    assert "none (up to date)" in second.stdout
