"""Deep links for flyers (`t.me/<bot>?start=nb_<id>`) and their QR codes (segno)."""

from __future__ import annotations

import re
from pathlib import Path

import segno

_PAYLOAD_RE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_USERNAME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_]{3,31}$")
PREFIXES = {"nb": "nb_", "ev": "ev_", "sv": "sv_"}


def deep_link(bot_username: str, payload: str) -> str:
    """The t.me link that opens the bot with `/start <payload>`."""
    username = bot_username.lstrip("@")
    if not _USERNAME_RE.match(username):
        raise ValueError(f"{bot_username!r} is not a Telegram bot username")
    if not _PAYLOAD_RE.match(payload):
        raise ValueError(
            f"{payload!r} cannot be a deep-link payload (1-64 of A-Z, a-z, 0-9, _ and -)"
        )
    return f"https://t.me/{username}?start={payload}"


def link_for(bot_username: str, kind: str, target: str) -> str:
    """The deep link of a neighborhood (`nb`), an event (`ev`) or a survey (`sv`)."""
    if kind not in PREFIXES:
        raise ValueError(f"unknown link kind {kind!r}; use nb, ev or sv")
    return deep_link(bot_username, PREFIXES[kind] + target)


def write_qr(link: str, path: Path, *, scale: int = 10) -> Path:
    """Write `link` as a PNG QR code (medium error correction survives a folded flyer)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    segno.make(link, error="m", micro=False).save(str(path), kind="png", scale=scale, border=4)
    return path


def qr_matrix(link: str) -> list[list[bool]]:
    """The QR code's modules (dark = True), for checking a written PNG."""
    code = segno.make(link, error="m", micro=False)
    return [[bool(module) for module in row] for row in code.matrix]
