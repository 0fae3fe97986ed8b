"""Settings from the environment and the city's TOML configuration.

Every problem is reported as a `ConfigError` that names the key, the value found and
what was expected; `bot.__main__` turns it into exit code 2. Secret values are held in
`Secret` so that they never show up in a repr, a log line or a traceback.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel import Locale, UnknownLocaleError

PROJECT_ROOT = Path(__file__).resolve().parent.parent
EXAMPLE_CITY = PROJECT_ROOT / "config" / "example-city.toml"
TELEGRAM_API_URL = "https://api.telegram.org"
_TOKEN_RE = re.compile(r"^\d{3,}:[A-Za-z0-9_-]{20,}$")
_ID_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,30}$")
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


class ConfigError(Exception):
    """A configuration value is missing or malformed."""

    def __init__(self, key: str, value: object, expected: str, *, source: str = "") -> None:
        self.key = key
        self.value = value
        self.expected = expected
        self.source = source
        shown = "(missing)" if value is None else repr(value)
        where = f"{source}: " if source else ""
        super().__init__(f"{where}{key} = {shown}: expected {expected}")


class Secret:
    """A string that does not reveal itself in repr, str or logs."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __bool__(self) -> bool:
        return bool(self._value)

    def __repr__(self) -> str:
        return "Secret('********')" if self._value else "Secret('')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


# --------------------------------------------------------------------------- city


@dataclass(frozen=True, slots=True)
class Named:
    """Something with an id and a name in every enabled language."""

    id: str
    names: Mapping[str, str]

    def name(self, language: str, fallback: str = "en") -> str:
        return self.names.get(language) or self.names.get(fallback) or self.id


@dataclass(frozen=True, slots=True)
class Neighborhood(Named):
    pass


@dataclass(frozen=True, slots=True)
class Category(Named):
    sensitive: bool = False
    staff_chat_id: int | None = None
    staff_thread_id: int | None = None
    group: str = ""
    keywords: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Resource(Named):
    category: str = ""
    phone: str = ""
    address: str = ""
    website: str = ""
    hours: Mapping[str, str] = field(default_factory=dict)
    description: Mapping[str, str] = field(default_factory=dict)
    neighborhoods: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Officer(Named):
    neighborhoods: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()
    office_hours: Mapping[str, str] = field(default_factory=dict)
    phone: str = ""
    photo: str = ""


@dataclass(frozen=True, slots=True)
class BoundingBox:
    south: float
    west: float
    north: float
    east: float

    def contains(self, latitude: float, longitude: float) -> bool:
        return self.south <= latitude <= self.north and self.west <= longitude <= self.east


@dataclass(frozen=True, slots=True)
class City:
    name: str
    languages: tuple[str, ...]
    default_language: str
    timezone: ZoneInfo
    emergency_number: str
    neighborhoods: tuple[Neighborhood, ...]
    categories: tuple[Category, ...]
    emergency_words: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    bounding_box: BoundingBox | None = None
    resources: tuple[Resource, ...] = ()
    officers: tuple[Officer, ...] = ()
    reports_per_hour: int = 5
    escalate_after_hours: float = 4.0
    daily_summary_time: time = time(8, 0)
    retention_days: int = 365
    reminder_offsets_hours: tuple[float, ...] = (24.0, 2.0)
    digest_weekday: int = 6
    digest_time: time = time(17, 0)
    transparency_digest_day: int = 1  # day of the month the transparency digest goes out
    transparency_digest_time: time = time(10, 0)
    source: str = ""
    missing_names: tuple[str, ...] = ()  # keys shown in the default language instead

    def neighborhood(self, neighborhood_id: str) -> Neighborhood | None:
        return next((n for n in self.neighborhoods if n.id == neighborhood_id), None)

    def category(self, category_id: str) -> Category | None:
        return next((c for c in self.categories if c.id == category_id), None)

    def language_for(self, telegram_code: str | None) -> str:
        """Pick the enabled language matching Telegram's language_code, else the default."""
        if telegram_code:
            code = telegram_code.replace("_", "-").lower()
            if code in self.languages:
                return code
            base = code.split("-", 1)[0]
            if base in self.languages:
                return base
        return self.default_language


class _Reader:
    """Typed access into parsed TOML with key paths for error messages."""

    def __init__(
        self, data: Mapping[str, Any], source: str, path: str = "", missing: list[str] | None = None
    ) -> None:
        self.data = data
        self.source = source
        self.path = path
        # Names missing in a non-default language: shown in the default language, and
        # listed in a warning at start, so that adding a language never blocks the bot.
        self.missing: list[str] = [] if missing is None else missing

    def key(self, name: str) -> str:
        return f"{self.path}.{name}" if self.path else name

    def fail(self, name: str, value: object, expected: str) -> ConfigError:
        return ConfigError(self.key(name), value, expected, source=self.source)

    def get(
        self, name: str, kind: type | tuple[type, ...], expected: str, default: Any = ...
    ) -> Any:
        if name not in self.data:
            if default is ...:
                raise self.fail(name, None, expected)
            return default
        value = self.data[name]
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
            raise self.fail(name, value, expected)
        return value

    def table(self, name: str, default: Any = ...) -> _Reader:
        value = self.get(name, dict, "a table", default if default is ... else {})
        return _Reader(value, self.source, self.key(name), self.missing)

    def tables(self, name: str, *, required: bool = True) -> list[_Reader]:
        value = self.get(name, list, "an array of tables", ... if required else [])
        readers = []
        for index, item in enumerate(value):
            if not isinstance(item, dict):
                raise ConfigError(f"{self.key(name)}[{index}]", item, "a table", source=self.source)
            readers.append(_Reader(item, self.source, f"{self.key(name)}[{index}]", self.missing))
        if required and not readers:
            raise self.fail(name, value, "at least one entry")
        return readers

    def localized(
        self, name: str, languages: tuple[str, ...], *, required: bool = True
    ) -> dict[str, str]:
        """A string per enabled language: `name.en = "..."`, `name.es = "..."`."""
        value = self.get(
            name, dict, "a table with one string per language", ... if required else {}
        )
        for language, text in value.items():
            if not isinstance(text, str) or not text.strip():
                raise ConfigError(
                    f"{self.key(name)}.{language}", text, "a non-empty string", source=self.source
                )
        if required:
            default = languages[0]
            if default not in value:
                raise ConfigError(
                    f"{self.key(name)}.{default}",
                    None,
                    f"a name in the default language ({default})",
                    source=self.source,
                )
            self.missing += [f"{self.key(name)}.{code}" for code in languages if code not in value]
        return dict(value)

    def identifier(self, name: str = "id") -> str:
        value = self.get(name, str, "an id of lowercase letters, digits, '-' or '_'")
        if not _ID_RE.match(value):
            raise self.fail(name, value, "an id of lowercase letters, digits, '-' or '_' (max 31)")
        return str(value)

    def clock(self, name: str, default: time) -> time:
        value = self.get(name, str, 'a time of day "HH:MM"', None)
        if value is None:
            return default
        match = re.fullmatch(r"([01]?\d|2[0-3]):([0-5]\d)", value)
        if not match:
            raise self.fail(name, value, 'a time of day "HH:MM"')
        return time(int(match.group(1)), int(match.group(2)))

    def strings(self, name: str, default: tuple[str, ...] = ()) -> tuple[str, ...]:
        value = self.get(name, list, "a list of strings", list(default))
        if not all(isinstance(item, str) for item in value):
            raise self.fail(name, value, "a list of strings")
        return tuple(value)


def _unique(items: list[Named], key: str, source: str) -> None:
    seen: set[str] = set()
    for item in items:
        if item.id in seen:
            raise ConfigError(key, item.id, "unique ids", source=source)
        seen.add(item.id)


def load_city(path: Path) -> City:
    """Read and validate a city TOML file."""
    source = str(path)
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise ConfigError("CITY_CONFIG", source, f"a readable file ({error.strerror})") from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        raise ConfigError("CITY_CONFIG", source, f"valid UTF-8 TOML ({error})") from None
    root = _Reader(data, source)
    city = root.table("city")
    languages = city.strings("languages")
    if not languages:
        raise city.fail("languages", [], "at least one language code")
    for code in languages:
        try:
            Locale.parse(code.replace("-", "_"))
        except (UnknownLocaleError, ValueError):
            raise city.fail(
                "languages", code, "language codes babel knows, like en, es, pt, vi, ar, sq"
            ) from None
    default_language = city.get(
        "default_language", str, "one of the enabled languages", languages[0]
    )
    if default_language not in languages:
        raise city.fail("default_language", default_language, f"one of {', '.join(languages)}")
    zone_name = city.get(
        "timezone", str, "an IANA time zone like America/New_York", "America/New_York"
    )
    try:
        zone = ZoneInfo(zone_name)
    except (ZoneInfoNotFoundError, ValueError):
        raise city.fail("timezone", zone_name, "an IANA time zone like America/New_York") from None
    ordered = (default_language, *(code for code in languages if code != default_language))

    box = None
    if "bounding_box" in city.data:
        bb = city.table("bounding_box")
        box = BoundingBox(
            south=bb.get("south", float, "a latitude"),
            west=bb.get("west", float, "a longitude"),
            north=bb.get("north", float, "a latitude"),
            east=bb.get("east", float, "a longitude"),
        )
        if not (-90 <= box.south < box.north <= 90 and -180 <= box.west < box.east <= 180):
            raise city.fail(
                "bounding_box", dict(bb.data), "south < north and west < east, in degrees"
            )

    neighborhoods = [
        Neighborhood(id=n.identifier(), names=n.localized("name", ordered))
        for n in root.tables("neighborhoods")
    ]
    _unique(list(neighborhoods), "neighborhoods.id", source)
    categories = []
    for c in root.tables("categories"):
        categories.append(
            Category(
                id=c.identifier(),
                names=c.localized("name", ordered),
                sensitive=c.get("sensitive", bool, "true or false", False),
                staff_chat_id=c.get("staff_chat_id", int, "a Telegram chat id", None),
                staff_thread_id=c.get("staff_thread_id", int, "a forum topic id", None),
                group=c.get("group", str, "a group name", ""),
                keywords=c.strings("keywords"),
            )
        )
    _unique(list(categories), "categories.id", source)
    neighborhood_ids = {n.id for n in neighborhoods}

    def known_neighborhoods(reader: _Reader) -> tuple[str, ...]:
        ids = reader.strings("neighborhoods")
        for value in ids:
            if value not in neighborhood_ids:
                raise reader.fail("neighborhoods", value, "ids from [[neighborhoods]]")
        return ids

    resources = [
        Resource(
            id=r.identifier(),
            names=r.localized("name", ordered),
            category=r.get("category", str, "a resource category"),
            phone=r.get("phone", str, "a phone number", ""),
            address=r.get("address", str, "an address", ""),
            website=r.get("website", str, "a URL", ""),
            hours=r.localized("hours", ordered, required=False),
            description=r.localized("description", ordered, required=False),
            neighborhoods=known_neighborhoods(r),
        )
        for r in root.tables("resources", required=False)
    ]
    officers = [
        Officer(
            id=o.identifier(),
            names=o.localized("name", ordered),
            neighborhoods=known_neighborhoods(o),
            languages=o.strings("languages"),
            office_hours=o.localized("office_hours", ordered, required=False),
            phone=o.get("phone", str, "a phone number", ""),
            photo=o.get("photo", str, "a path or URL of a photo", ""),
        )
        for o in root.tables("officers", required=False)
    ]

    emergency = root.table("emergency")
    number = emergency.get("number", str, 'a phone number like "911"', "911")
    words_table = emergency.table("words")
    words = {lang: tuple(w.lower() for w in words_table.strings(lang)) for lang in words_table.data}

    reports = root.table("reports")
    per_hour = reports.get("max_per_hour", int, "a whole number from 1 to 100", 5)
    if not 1 <= per_hour <= 100:
        raise reports.fail("max_per_hour", per_hour, "a whole number from 1 to 100")
    escalate = reports.get("escalate_after_hours", float, "a number of hours > 0", 4.0)
    if escalate <= 0:
        raise reports.fail("escalate_after_hours", escalate, "a number of hours > 0")
    retention = reports.get("retention_days", int, "a number of days >= 1", 365)
    if retention < 1:
        raise reports.fail("retention_days", retention, "a number of days >= 1")

    alerts = root.table("alerts")
    offsets_raw = alerts.get("reminder_offsets_hours", list, "a list of hours", [24, 2])
    if not all(
        isinstance(x, int | float) and not isinstance(x, bool) and x > 0 for x in offsets_raw
    ):
        raise alerts.fail("reminder_offsets_hours", offsets_raw, "a list of positive hours")
    weekday = alerts.get("digest_weekday", str, "a weekday name like sunday", "sunday").lower()
    if weekday not in WEEKDAYS:
        raise alerts.fail("digest_weekday", weekday, "a weekday name like sunday")

    transparency = root.table("transparency", {})  # optional: defaults below
    transparency_day = transparency.get("digest_day", int, "a day of the month from 1 to 28", 1)
    if not 1 <= transparency_day <= 28:
        raise transparency.fail("digest_day", transparency_day, "a day of the month from 1 to 28")

    return City(
        name=city.get("name", str, "the city's name"),
        languages=languages,
        default_language=default_language,
        timezone=zone,
        emergency_number=number,
        emergency_words=words,
        neighborhoods=tuple(neighborhoods),
        categories=tuple(categories),
        bounding_box=box,
        resources=tuple(resources),
        officers=tuple(officers),
        reports_per_hour=per_hour,
        escalate_after_hours=escalate,
        daily_summary_time=reports.clock("daily_summary_time", time(8, 0)),
        retention_days=retention,
        reminder_offsets_hours=tuple(sorted((float(x) for x in offsets_raw), reverse=True)),
        digest_weekday=WEEKDAYS.index(weekday),
        digest_time=alerts.clock("digest_time", time(17, 0)),
        transparency_digest_day=transparency_day,
        transparency_digest_time=transparency.clock("digest_time", time(10, 0)),
        source=source,
        missing_names=tuple(root.missing),
    )


# --------------------------------------------------------------------------- settings


@dataclass(frozen=True, slots=True)
class Settings:
    bot_token: Secret
    staff_chat_id: int | None
    admin_ids: frozenset[int]
    database_path: Path
    city: City
    log_level: str = "INFO"
    telegram_api_url: str = TELEGRAM_API_URL
    webhook_url: str = ""
    webhook_secret: Secret = field(default_factory=lambda: Secret(""))
    webhook_listen: str = "0.0.0.0"
    webhook_port: int = 8443
    hash_secret: Secret = field(default_factory=lambda: Secret(""))

    @property
    def base_url(self) -> str:
        """PTB's base_url: the API root followed by /bot."""
        return self.telegram_api_url.rstrip("/") + "/bot"

    @property
    def base_file_url(self) -> str:
        return self.telegram_api_url.rstrip("/") + "/file/bot"


def _int_env(env: Mapping[str, str], key: str, expected: str) -> int | None:
    raw = env.get(key, "").strip()
    if not raw:
        return None
    try:
        return int(raw)
    except ValueError:
        raise ConfigError(key, raw, expected, source="environment") from None


def _derived_secret(token: str) -> str:
    """A stand-in for HASH_SECRET derived from the token (set HASH_SECRET to keep it stable)."""
    return hmac.new(token.encode(), b"resident-bot hash secret", hashlib.sha256).hexdigest()


def load_settings(env: Mapping[str, str] | None = None, *, require_token: bool = True) -> Settings:
    """Build settings from environment variables and the city file they point to."""
    env = os.environ if env is None else env
    token = env.get("BOT_TOKEN", "").strip()
    if require_token and not token:
        raise ConfigError("BOT_TOKEN", None, "the token BotFather gave you", source="environment")
    if token and not _TOKEN_RE.match(token):
        # Never echo the token itself, not even a malformed one.
        raise ConfigError(
            "BOT_TOKEN",
            "(hidden)",
            "a token shaped like 123456:ABC... from BotFather",
            source="environment",
        )
    staff = _int_env(env, "STAFF_CHAT_ID", "a Telegram chat id such as -1001234567890")
    admins_raw = env.get("ADMIN_IDS", "").strip()
    admins: set[int] = set()
    for part in filter(None, (p.strip() for p in admins_raw.split(","))):
        try:
            admins.add(int(part))
        except ValueError:
            raise ConfigError(
                "ADMIN_IDS",
                admins_raw,
                "comma-separated Telegram user ids such as 12345,67890",
                source="environment",
            ) from None
    level = env.get("LOG_LEVEL", "INFO").strip().upper() or "INFO"
    if level not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
        raise ConfigError(
            "LOG_LEVEL", level, "DEBUG, INFO, WARNING, ERROR or CRITICAL", source="environment"
        )
    api_url = env.get("TELEGRAM_API_URL", "").strip() or TELEGRAM_API_URL
    if not re.match(r"^https?://[^\s/]+", api_url):
        raise ConfigError(
            "TELEGRAM_API_URL",
            api_url,
            "an http(s) URL such as http://localhost:8081",
            source="environment",
        )
    webhook_url = env.get("WEBHOOK_URL", "").strip()
    if webhook_url and not webhook_url.startswith("https://"):
        raise ConfigError(
            "WEBHOOK_URL", webhook_url, "an https:// URL Telegram can reach", source="environment"
        )
    webhook_secret = env.get("WEBHOOK_SECRET", "").strip()
    if webhook_secret and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", webhook_secret):
        raise ConfigError(
            "WEBHOOK_SECRET",
            "(hidden)",
            "1-256 characters of A-Z, a-z, 0-9, _ or -",
            source="environment",
        )
    port = _int_env(env, "WEBHOOK_PORT", "a TCP port number") or 8443
    city_path = Path(env.get("CITY_CONFIG", "").strip() or EXAMPLE_CITY)
    return Settings(
        bot_token=Secret(token),
        staff_chat_id=staff,
        admin_ids=frozenset(admins),
        database_path=Path(env.get("DATABASE_PATH", "").strip() or "data/bot.sqlite3"),
        city=load_city(city_path),
        log_level=level,
        telegram_api_url=api_url,
        webhook_url=webhook_url,
        webhook_secret=Secret(webhook_secret),
        webhook_listen=env.get("WEBHOOK_LISTEN", "").strip() or "0.0.0.0",
        webhook_port=port,
        hash_secret=Secret(env.get("HASH_SECRET", "").strip() or _derived_secret(token)),
    )
