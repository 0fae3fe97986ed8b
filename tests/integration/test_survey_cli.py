"""`resident-bot surveys check|publish FILE` and `resident-bot export survey ID --out FILE`."""

from __future__ import annotations

import asyncio
import csv
import io
import sqlite3
from pathlib import Path

import pytest

import bot.__main__ as cli
from bot.config import PROJECT_ROOT

EXAMPLE = PROJECT_ROOT / "surveys" / "community-meeting.toml"


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    database = tmp_path / "cli.sqlite3"
    for key in ("BOT_TOKEN", "CITY_CONFIG", "STAFF_CHAT_ID", "ADMIN_IDS"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("DATABASE_PATH", str(database))
    monkeypatch.setenv("HASH_SECRET", "cli-secret-0123456789")
    # The CLI installs its own log handler; keep pytest's.
    monkeypatch.setattr(cli, "setup_logging", lambda *args, **kwargs: None)
    return database


def broken_copy(tmp_path: Path) -> Path:
    text = EXAMPLE.read_text(encoding="utf-8")
    text = text.replace('es = "¿Qué tal la reunión comunitaria de esta noche?"\n', "")
    text = text.replace(
        'show_if = { question = "understood", answers = ["no"] }',
        'show_if = { question = "comments", answers = ["no"] }',
    )
    path = tmp_path / "broken.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_check_accepts_the_example(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["surveys", "check", str(EXAMPLE)]) == 0
    out = capsys.readouterr().out
    assert "OK: survey 'community-meeting', 5 questions, anonymous" in out


def test_check_lists_every_problem_with_its_line(
    env: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = broken_copy(tmp_path)
    assert cli.main(["surveys", "check", str(path)]) == 1
    err = capsys.readouterr().err
    lines = path.read_text(encoding="utf-8").splitlines()
    title_line = next(i for i, line in enumerate(lines, 1) if line == "[title]")
    condition_line = next(i for i, line in enumerate(lines, 1) if line.startswith("show_if"))
    assert f"{path}:{title_line}: title: missing translation for es" in err
    assert (
        f'{path}:{condition_line}: questions[2].show_if.question (question "language_help"):'
        " 'comments' is asked later (question 5)"
    ) in err
    assert "2 problem(s); nothing was published" in err


def test_publish_refuses_a_broken_file_and_writes_nothing(
    env: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["surveys", "publish", str(broken_copy(tmp_path))]) == 1
    assert not env.exists() or _count(env, "SELECT count(*) FROM surveys") == 0


def test_publish_then_export(env: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["surveys", "publish", str(EXAMPLE)]) == 0
    assert "survey 'community-meeting' published" in capsys.readouterr().out
    assert cli.main(["surveys", "publish", str(EXAMPLE)]) == 0
    assert "updated" in capsys.readouterr().out
    assert _count(env, "SELECT count(*) FROM surveys WHERE status = 'open'") == 1

    _add_response(env)
    out = tmp_path / "export.csv"
    assert cli.main(["export", "survey", "community-meeting", "--out", str(out)]) == 0
    data = out.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))
    assert len(rows) == 1
    assert rows[0]["overall"] == "3" and rows[0]["comments"] == "Muy útil, gracias"
    assert rows[0]["comments_language"] == "es"

    assert cli.main(["export", "survey", "community-meeting", "--out", "-"]) == 0
    assert cli.main(["export", "survey", "nope", "--out", str(out)]) == 1
    assert "there is no survey 'nope'" in capsys.readouterr().err


def _count(path: Path, sql: str) -> int:
    with sqlite3.connect(path) as connection:
        return int(connection.execute(sql).fetchone()[0])


def _add_response(path: Path) -> None:
    """A response written by the service, as the bot would."""
    from bot.clock import ManualClock
    from bot.config import EXAMPLE_CITY, load_city
    from bot.services.surveys import Asking, SurveyService
    from bot.storage import Database

    async def run() -> None:
        db = await Database.open(path)
        try:
            service = SurveyService.on_database(
                db, city=load_city(EXAMPLE_CITY), clock=ManualClock(), secret="cli-secret"
            )
            step = await service.begin(
                user_id=1, chat_id=1, survey_id="community-meeting", language="es"
            )
            assert isinstance(step, Asking)
            outcome = await service.press(
                user_id=1, chat_id=1, version=step.version, action="a", arg="3"
            )
            assert isinstance(outcome.step, Asking)
            for action in ("a", "s"):
                arg = "y" if action == "a" else ""
                current = await service.current(user_id=1, chat_id=1)
                assert isinstance(current, Asking)
                await service.press(
                    user_id=1, chat_id=1, version=current.version, action=action, arg=arg
                )
            await service.answer_text(user_id=1, chat_id=1, text="Muy útil, gracias")
        finally:
            await db.close()

    asyncio.run(run())
