"""`[transparency]` in the city file: when the monthly digest goes out."""

from __future__ import annotations

from datetime import time
from pathlib import Path

import pytest

from bot.config import EXAMPLE_CITY, ConfigError, load_city


def city_file(tmp_path: Path, table: str) -> Path:
    text = EXAMPLE_CITY.read_text(encoding="utf-8")
    start = text.index("[transparency]")
    end = text.index("\n[[neighborhoods]]")
    path = tmp_path / "city.toml"
    path.write_text(text[:start] + table + "\n" + text[end:], encoding="utf-8")
    return path


def test_the_example_city_sends_on_the_first_at_ten() -> None:
    city = load_city(EXAMPLE_CITY)
    assert city.transparency_digest_day == 1
    assert city.transparency_digest_time == time(10, 0)


def test_defaults_without_the_table(tmp_path: Path) -> None:
    city = load_city(city_file(tmp_path, ""))
    assert (city.transparency_digest_day, city.transparency_digest_time) == (1, time(10, 0))


def test_a_day_and_time_of_choice(tmp_path: Path) -> None:
    city = load_city(city_file(tmp_path, '[transparency]\ndigest_day = 5\ndigest_time = "18:30"\n'))
    assert (city.transparency_digest_day, city.transparency_digest_time) == (5, time(18, 30))


@pytest.mark.parametrize(
    ("table", "key", "expected"),
    [
        ("[transparency]\ndigest_day = 31\n", "transparency.digest_day", "from 1 to 28"),
        ("[transparency]\ndigest_day = 0\n", "transparency.digest_day", "from 1 to 28"),
        ('[transparency]\ndigest_day = "1"\n', "transparency.digest_day", "from 1 to 28"),
        ('[transparency]\ndigest_time = "25:00"\n', "transparency.digest_time", "HH:MM"),
    ],
)
def test_bad_values_name_the_key(tmp_path: Path, table: str, key: str, expected: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_city(city_file(tmp_path, table))
    assert caught.value.key == key and expected in caught.value.expected
