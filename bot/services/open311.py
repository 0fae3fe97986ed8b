"""Reports as Open311 GeoReport v2 data (JSON) or as a spreadsheet (CSV).

The JSON is `{"services": [...], "service_requests": [...]}` with the field names of
GeoReport v2 (https://wiki.open311.org/GeoReport_v2): one service per report category,
one service request per report.

Privacy. The rows come from `StatsRepository.export_rows`, which never reads a
resident's id, name, username or pseudonym, so no export can contain them. In addition:

- anonymous and sensitive reports never get a `media_url` (their photos stay private);
- reports in a sensitive category (`sensitive = true` in the city file) keep neither their
  description nor their typed address (both are free text that may name people or
  places): the description is replaced by `WITHHELD`, the address by the neighborhood's
  name, and the location is generalized by rounding latitude and longitude to 2 decimals
  (a grid of about 1.1 km north-south by 0.8 km east-west in Massachusetts). Rounding
  is chosen over a neighborhood centroid because the city file has no centroids and a
  rounded point still lands near the place, on a map of counts.
"""

from __future__ import annotations

import csv
import io
import json
import os
import tempfile
from collections.abc import Sequence
from datetime import date, datetime, time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from bot.config import Category, City
from bot.storage.reports import OPEN_STATUSES
from bot.storage.stats import ExportRow

FORMATS = ("csv", "open311")
SERVICE_FIELDS = (
    "service_code",
    "service_name",
    "description",
    "metadata",
    "type",
    "keywords",
    "group",
)
REQUEST_FIELDS = (
    "service_request_id",
    "status",
    "status_notes",
    "service_name",
    "service_code",
    "description",
    "requested_datetime",
    "updated_datetime",
    "address",
    "lat",
    "long",
    "media_url",
)
STATUS_NOTES = {
    "new": "Received, not yet acknowledged",
    "acknowledged": "Acknowledged by the liaison team",
    "in_progress": "In progress",
    "resolved": "Resolved",
    "not_actionable": "Closed: not actionable",
}
WITHHELD = "[withheld: sensitive category]"
SENSITIVE_DECIMALS = 2
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def iso(moment: float, tz: ZoneInfo) -> str:
    """ISO 8601 with the city's UTC offset, e.g. 2026-10-03T14:05:00-04:00."""
    return datetime.fromtimestamp(moment, tz).isoformat(timespec="seconds")


def parse_since(text: str, tz: ZoneInfo) -> float:
    """The first moment of a city-time day given as YYYY-MM-DD; ValueError says why not."""
    try:
        day = date.fromisoformat(text.strip())
        if len(text.strip()) != 10:
            raise ValueError(text)
    except ValueError:
        raise ValueError(
            f"--since expects a date written YYYY-MM-DD, like 2026-01-31; {text!r} is not one"
        ) from None
    return datetime.combine(day, time(0), tzinfo=tz).timestamp()


def services(city: City) -> list[dict[str, Any]]:
    """The GeoReport `services` list: one realtime service per report category."""
    listed = []
    for category in city.categories:
        names = list(dict.fromkeys(category.name(code) for code in city.languages))
        description = " / ".join(names)
        if category.sensitive:
            description += (
                " (sensitive: descriptions and addresses withheld, locations rounded to about 1 km)"
            )
        listed.append(
            {
                "service_code": category.id,
                "service_name": category.name(city.default_language),
                "description": description,
                "metadata": False,
                "type": "realtime",
                "keywords": ",".join(category.keywords),
                "group": category.group,
            }
        )
    return listed


def _neighborhood_name(city: City, neighborhood: str | None) -> str:
    hood = city.neighborhood(neighborhood) if neighborhood else None
    return hood.name(city.default_language) if hood is not None else ""


def _media_url(row: ExportRow, category: Category | None, base: str) -> str:
    if not base or not row.photo_count or row.anonymous:
        return ""
    if category is None or category.sensitive:
        return ""
    return f"{base.rstrip('/')}/{row.reference}.jpg"


def service_request(row: ExportRow, city: City, *, media_base_url: str = "") -> dict[str, Any]:
    """One report as a GeoReport service request (see the module's privacy rules)."""
    category = city.category(row.category)
    # A category removed from the city file since: treat its reports as sensitive.
    sensitive = category is None or category.sensitive
    latitude, longitude = row.latitude, row.longitude
    if sensitive:
        description = WITHHELD
        address = _neighborhood_name(city, row.neighborhood)
        if latitude is not None and longitude is not None:
            latitude = round(latitude, SENSITIVE_DECIMALS)
            longitude = round(longitude, SENSITIVE_DECIMALS)
    else:
        description = row.description
        address = row.address or _neighborhood_name(city, row.neighborhood)
    return {
        "service_request_id": row.reference,
        "status": "open" if row.status in OPEN_STATUSES else "closed",
        "status_notes": STATUS_NOTES.get(row.status, row.status),
        "service_name": category.name(city.default_language) if category else row.category,
        "service_code": row.category,
        "description": description,
        "requested_datetime": iso(row.created_at, city.timezone),
        "updated_datetime": iso(row.updated_at, city.timezone),
        "address": address,
        "lat": latitude,
        "long": longitude,
        "media_url": _media_url(row, category, media_base_url),
    }


def to_open311_json(city: City, rows: Sequence[ExportRow], *, media_base_url: str = "") -> bytes:
    document = {
        "services": services(city),
        "service_requests": [
            service_request(row, city, media_base_url=media_base_url) for row in rows
        ],
    }
    return (json.dumps(document, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


def _cell(value: Any) -> str:
    """A CSV cell; free text that a spreadsheet would run as a formula is defused."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value) if isinstance(value, float) else str(value)
    text = str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def to_csv(city: City, rows: Sequence[ExportRow], *, media_base_url: str = "") -> bytes:
    """One row per report with the service-request fields (UTF-8 with a BOM for Excel)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(REQUEST_FIELDS)
    for row in rows:
        request = service_request(row, city, media_base_url=media_base_url)
        writer.writerow([_cell(request[name]) for name in REQUEST_FIELDS])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def export(city: City, rows: Sequence[ExportRow], fmt: str, *, media_base_url: str = "") -> bytes:
    if fmt == "open311":
        return to_open311_json(city, rows, media_base_url=media_base_url)
    if fmt == "csv":
        return to_csv(city, rows, media_base_url=media_base_url)
    raise ValueError(f"unknown export format {fmt!r}; expected one of {', '.join(FORMATS)}")


def write_atomically(path: Path, data: bytes) -> None:
    """Write `data` to `path` so that readers see the old file or the whole new one."""
    path = Path(path)
    directory = path.parent if str(path.parent) else Path(".")
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        # mkstemp creates the file private (0600); give it the permissions of any new file.
        mask = os.umask(0)
        os.umask(mask)
        os.chmod(temporary, 0o666 & ~mask)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
