from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.config import EXAMPLE_CITY, ConfigError, Secret, load_city, load_settings
from tests.conftest import TEST_TOKEN


def _env(**extra: str) -> dict[str, str]:
    return {"BOT_TOKEN": TEST_TOKEN, **extra}


def test_example_city_loads_with_every_name_in_every_language() -> None:
    city = load_city(EXAMPLE_CITY)
    assert city.default_language in city.languages
    assert city.timezone.key == "America/New_York"
    assert len(city.neighborhoods) >= 8
    assert any(category.sensitive for category in city.categories)
    for item in (*city.neighborhoods, *city.categories):
        for language in city.languages:
            assert item.names[language].strip()


def test_language_for_matches_telegram_codes(city_path: Path) -> None:
    city = load_city(city_path)
    assert city.language_for("es-MX") == "es"
    assert city.language_for("ES") == "es"
    assert city.language_for("de") == city.default_language
    assert city.language_for(None) == city.default_language


@pytest.fixture
def city_path(tmp_path: Path) -> Path:
    target = tmp_path / "city.toml"
    target.write_text(EXAMPLE_CITY.read_text(encoding="utf-8"), encoding="utf-8")
    return target


def _rewrite(path: Path, old: str, new: str) -> Path:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


def test_missing_default_language_name_names_the_key(city_path: Path) -> None:
    _rewrite(city_path, 'en = "Broken streetlight", ', "")
    with pytest.raises(ConfigError) as error:
        load_city(city_path)
    assert error.value.key == "categories[0].name.en"
    assert "default language" in str(error.value)


def test_missing_other_language_name_falls_back_and_is_listed(city_path: Path) -> None:
    _rewrite(city_path, 'es = "Poste de luz dañado", ', "")
    city = load_city(city_path)
    assert city.missing_names == ("categories[0].name.es",)
    assert city.categories[0].name("es", city.default_language) == "Broken streetlight"


def test_example_city_has_every_name_in_every_language() -> None:
    assert load_city(EXAMPLE_CITY).missing_names == ()


@pytest.mark.parametrize(
    ("old", "new", "key"),
    [
        ('timezone = "America/New_York"', 'timezone = "Mars/Olympus"', "city.timezone"),
        ('default_language = "en"', 'default_language = "fr"', "city.default_language"),
        ("max_per_hour = 5", "max_per_hour = 0", "reports.max_per_hour"),
        ('id = "piedmont"', 'id = "Piedmont Area!"', "neighborhoods[2].id"),
        (
            'daily_summary_time = "08:00"',
            'daily_summary_time = "8 am"',
            "reports.daily_summary_time",
        ),
        ('digest_weekday = "sunday"', 'digest_weekday = "someday"', "alerts.digest_weekday"),
    ],
)
def test_bad_values_name_key_value_and_expectation(
    city_path: Path, old: str, new: str, key: str
) -> None:
    _rewrite(city_path, old, new)
    with pytest.raises(ConfigError) as error:
        load_city(city_path)
    assert error.value.key == key
    assert error.value.expected
    assert (
        repr(new.split(" = ", 1)[1].strip('"')) in str(error.value) or error.value.value is not None
    )


def test_invalid_toml_is_reported(tmp_path: Path) -> None:
    broken = tmp_path / "broken.toml"
    broken.write_text("[city\nname = 1", encoding="utf-8")
    with pytest.raises(ConfigError) as error:
        load_city(broken)
    assert error.value.key == "CITY_CONFIG"
    assert "TOML" in error.value.expected


def test_settings_from_environment(tmp_path: Path) -> None:
    settings = load_settings(
        _env(STAFF_CHAT_ID="-100123", ADMIN_IDS="1, 2,3", DATABASE_PATH=str(tmp_path / "x.db"))
    )
    assert settings.staff_chat_id == -100123
    assert settings.admin_ids == frozenset({1, 2, 3})
    assert settings.base_url == "https://api.telegram.org/bot"
    custom = load_settings(_env(TELEGRAM_API_URL="http://localhost:8081/"))
    assert custom.base_url == "http://localhost:8081/bot"


@pytest.mark.parametrize(
    ("env", "key"),
    [
        ({"ADMIN_IDS": "12,abc"}, "ADMIN_IDS"),
        ({"STAFF_CHAT_ID": "staff"}, "STAFF_CHAT_ID"),
        ({"LOG_LEVEL": "LOUD"}, "LOG_LEVEL"),
        ({"TELEGRAM_API_URL": "ftp://x"}, "TELEGRAM_API_URL"),
        ({"WEBHOOK_URL": "http://insecure.example"}, "WEBHOOK_URL"),
    ],
)
def test_bad_environment_names_the_variable(env: dict[str, str], key: str) -> None:
    with pytest.raises(ConfigError) as error:
        load_settings(_env(**env))
    assert error.value.key == key


def test_token_is_required_and_never_echoed() -> None:
    with pytest.raises(ConfigError) as error:
        load_settings({})
    assert error.value.key == "BOT_TOKEN"
    malformed = "123456:short" + "x" * 3
    with pytest.raises(ConfigError) as error:
        load_settings({"BOT_TOKEN": malformed})
    assert malformed not in str(error.value)
    settings = load_settings(_env())
    assert TEST_TOKEN not in repr(settings)
    assert TEST_TOKEN not in str(settings.bot_token)
    assert settings.bot_token == Secret(TEST_TOKEN)


def test_cli_exits_2_on_malformed_city_config(tmp_path: Path) -> None:
    broken = tmp_path / "city.toml"
    broken.write_text(
        EXAMPLE_CITY.read_text(encoding="utf-8").replace(
            'timezone = "America/New_York"', 'timezone = "Nowhere/City"'
        ),
        encoding="utf-8",
    )
    env = {
        **os.environ,
        "BOT_TOKEN": TEST_TOKEN,
        "CITY_CONFIG": str(broken),
        "DATABASE_PATH": str(tmp_path / "db.sqlite3"),
    }
    result = subprocess.run(
        [sys.executable, "-m", "bot", "run"], env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 2
    assert "city.timezone" in result.stderr
    assert "'Nowhere/City'" in result.stderr
    assert "IANA time zone" in result.stderr
    assert TEST_TOKEN not in result.stderr + result.stdout
