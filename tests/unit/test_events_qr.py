"""Deep links and flyer QR codes: `resident-bot qr nb|ev|sv <id> [--out FILE]`."""

from __future__ import annotations

from pathlib import Path

import pytest
from matplotlib import image

from bot.__main__ import main
from bot.services.qr import deep_link, link_for, qr_matrix, write_qr


def test_deep_links() -> None:
    assert deep_link("@worcester_liaison_bot", "nb_main-south") == (
        "https://t.me/worcester_liaison_bot?start=nb_main-south"
    )
    assert link_for("worcester_liaison_bot", "ev", "12").endswith("?start=ev_12")
    assert link_for("worcester_liaison_bot", "sv", "after-meeting").endswith(
        "?start=sv_after-meeting"
    )
    for username, payload in (("bot", "nb_x"), ("ok_bot", "has space"), ("ok_bot", "x" * 65)):
        with pytest.raises(ValueError):
            deep_link(username, payload)
    with pytest.raises(ValueError):
        link_for("ok_bot", "zz", "1")


def read_modules(path: Path, size: int, *, scale: int = 10, border: int = 4) -> list[list[bool]]:
    pixels = image.imread(str(path))
    assert pixels.shape[0] == pixels.shape[1] == (size + 2 * border) * scale
    dark = []
    for row in range(size):
        y = (row + border) * scale + scale // 2
        line = []
        for column in range(size):
            x = (column + border) * scale + scale // 2
            value = pixels[y][x]
            level = float(value if pixels.ndim == 2 else value[:3].mean())
            line.append(level < 0.5)
        dark.append(line)
    return dark


def test_the_png_holds_exactly_the_links_qr_code(tmp_path: Path) -> None:
    link = "https://t.me/worcester_liaison_bot?start=nb_downtown"
    path = write_qr(link, tmp_path / "flyers" / "downtown.png")
    assert path.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    expected = qr_matrix(link)
    assert read_modules(path, len(expected)) == expected
    assert qr_matrix(link.replace("downtown", "piedmont")) != expected


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    monkeypatch.setenv("BOT_USERNAME", "worcester_liaison_bot")
    monkeypatch.setenv("DATABASE_PATH", str(tmp_path / "bot.sqlite3"))
    monkeypatch.delenv("CITY_CONFIG", raising=False)
    monkeypatch.delenv("BOT_TOKEN", raising=False)
    return tmp_path


def test_qr_command_writes_neighborhood_event_and_survey_codes(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for kind, target, payload in (
        ("nb", "main-south", "nb_main-south"),
        ("ev", "12", "ev_12"),
        ("sv", "after-meeting", "sv_after-meeting"),
    ):
        out = env / f"{kind}.png"
        assert main(["qr", kind, target, "--out", str(out)]) == 0
        link = f"https://t.me/worcester_liaison_bot?start={payload}"
        assert link in capsys.readouterr().out
        assert read_modules(out, len(qr_matrix(link))) == qr_matrix(link)


def test_qr_command_refuses_unknown_targets_with_a_reason(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["qr", "nb", "atlantis", "--out", str(env / "x.png")]) == 2
    error = capsys.readouterr().err
    assert "unknown neighborhood 'atlantis'" in error and "main-south" in error
    assert main(["qr", "ev", "twelve", "--out", str(env / "x.png")]) == 2
    assert "not an event number" in capsys.readouterr().err
    assert main(["qr", "sv", "no spaces please", "--out", str(env / "x.png")]) == 2
    assert not (env / "x.png").exists()


def test_qr_command_needs_to_know_the_bot(
    env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("BOT_USERNAME")
    assert main(["qr", "nb", "downtown", "--out", str(env / "x.png")]) == 2
    assert "BOT_USERNAME" in capsys.readouterr().err
