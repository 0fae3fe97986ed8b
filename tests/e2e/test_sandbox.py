"""A scripted sandbox session, typed on standard input like a person would."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e


def test_sandbox_session_through_stdin(tmp_path: Path) -> None:
    env = {**os.environ, "SANDBOX_DATABASE": str(tmp_path / "sandbox.sqlite3")}
    env.pop("BOT_TOKEN", None)
    script = "\n".join(["/start", "/language", "2", "/help", "/as staff", "/as admin", "/help", ""])
    result = subprocess.run(
        [sys.executable, "-m", "bot", "sandbox"],
        input=script,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    out = result.stdout
    assert result.returncode == 0, out + result.stderr
    assert "not for emergencies" in out
    assert "[2] Español" in out
    assert "Cómo funciona este bot" in out
    assert "(you are now staff)" in out and "(you are now admin)" in out
    assert "/newevent" in out  # the admin persona sees admin help
    assert "Sandbox stopped." in out
