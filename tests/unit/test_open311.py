"""Open311 GeoReport v2 export: the field list, parsing back, privacy, CSV, dates."""

from __future__ import annotations

import csv
import io
import json
import os
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.config import City
from bot.services import open311
from bot.storage.stats import ExportRow

# GeoReport v2 (https://wiki.open311.org/GeoReport_v2): GET services.json and
# GET requests.json response fields.
GEOREPORT_SERVICE_FIELDS = {
    "service_code",
    "service_name",
    "description",
    "metadata",
    "type",
    "keywords",
    "group",
}
GEOREPORT_REQUEST_FIELDS = {
    "service_request_id",
    "status",
    "status_notes",
    "service_name",
    "service_code",
    "description",
    "agency_responsible",
    "service_notice",
    "requested_datetime",
    "updated_datetime",
    "expected_datetime",
    "address",
    "address_id",
    "zipcode",
    "lat",
    "long",
    "media_url",
}
REQUIRED_REQUEST_FIELDS = {
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
}
FILED = datetime(2026, 10, 3, 14, 5, tzinfo=ZoneInfo("America/New_York")).timestamp()
BASE = "https://example.org/photos"


def row(**changes: object) -> ExportRow:
    values: dict[str, object] = {
        "reference": "R-2026-000001",
        "category": "streetlight",
        "status": "new",
        "description": "The light at the corner has been out for a week.",
        "anonymous": False,
        "created_at": FILED,
        "updated_at": FILED + 3600,
        "neighborhood": "main-south",
        "address": "12 Main St",
        "latitude": 42.262612,
        "longitude": -71.802345,
        "photo_count": 1,
    }
    values.update(changes)
    return ExportRow(**values)  # type: ignore[arg-type]


def test_services_follow_the_georeport_field_list(city: City) -> None:
    services = open311.services(city)
    assert [s["service_code"] for s in services] == [c.id for c in city.categories]
    for service in services:
        assert set(service) == GEOREPORT_SERVICE_FIELDS
        assert service["type"] in {"realtime", "batch", "blackbox"}
        assert service["metadata"] is False
        assert isinstance(service["keywords"], str)
    light = services[0]
    assert light["service_name"] == "Broken streetlight"
    assert light["group"] == "Streets"
    assert light["keywords"] == "light,dark,lamp"
    assert "Poste de luz dañado" in light["description"]
    drugs = next(s for s in services if s["service_code"] == "drugs")
    assert "withheld" in drugs["description"]


def test_a_request_has_every_required_field(city: City) -> None:
    request = open311.service_request(row(), city, media_base_url=BASE)
    assert REQUIRED_REQUEST_FIELDS <= set(request) <= GEOREPORT_REQUEST_FIELDS
    assert request["service_request_id"] == "R-2026-000001"
    assert request["status"] == "open"
    assert request["status_notes"] == "Received, not yet acknowledged"
    assert request["service_code"] == "streetlight"
    assert request["service_name"] == "Broken streetlight"
    assert request["requested_datetime"] == "2026-10-03T14:05:00-04:00"
    assert request["updated_datetime"] == "2026-10-03T15:05:00-04:00"
    assert datetime.fromisoformat(request["requested_datetime"]).timestamp() == FILED
    assert request["address"] == "12 Main St"
    assert (request["lat"], request["long"]) == (42.262612, -71.802345)
    assert request["media_url"] == f"{BASE}/R-2026-000001.jpg"


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("new", "open"),
        ("acknowledged", "open"),
        ("in_progress", "open"),
        ("resolved", "closed"),
        ("not_actionable", "closed"),
    ],
)
def test_statuses_map_to_open_or_closed(city: City, status: str, expected: str) -> None:
    assert open311.service_request(row(status=status), city)["status"] == expected


def test_anonymous_reports_keep_their_photos_private(city: City) -> None:
    request = open311.service_request(row(anonymous=True), city, media_base_url=BASE)
    assert request["media_url"] == ""
    assert request["description"].startswith("The light")  # the concern itself stays


def test_without_a_media_base_there_is_no_media_url(city: City) -> None:
    assert open311.service_request(row(), city)["media_url"] == ""
    assert open311.service_request(row(photo_count=0), city, media_base_url=BASE)["media_url"] == ""


def test_sensitive_reports_are_generalized(city: City) -> None:
    request = open311.service_request(
        row(category="drugs", description="Dealing at 45 Elm St, the blue house"),
        city,
        media_base_url=BASE,
    )
    assert request["description"] == open311.WITHHELD
    assert request["address"] == "Main South"  # the neighborhood, not the typed address
    assert (request["lat"], request["long"]) == (42.26, -71.80)
    assert request["media_url"] == ""
    assert "Elm" not in json.dumps(request)


def test_a_category_no_longer_configured_is_treated_as_sensitive(city: City) -> None:
    request = open311.service_request(row(category="retired"), city, media_base_url=BASE)
    assert request["description"] == open311.WITHHELD and request["media_url"] == ""
    assert request["service_name"] == "retired"


def test_without_location_or_address(city: City) -> None:
    request = open311.service_request(
        row(latitude=None, longitude=None, address=None, neighborhood=None), city
    )
    assert request["lat"] is None and request["long"] is None and request["address"] == ""
    only_hood = open311.service_request(row(address=None), city)
    assert only_hood["address"] == "Main South"


def test_json_parses_back(city: City) -> None:
    rows = [row(), row(reference="R-2026-000002", status="resolved", anonymous=True)]
    document = json.loads(open311.export(city, rows, "open311").decode("utf-8"))
    assert set(document) == {"services", "service_requests"}
    assert len(document["services"]) == len(city.categories)
    requests = document["service_requests"]
    assert [r["service_request_id"] for r in requests] == ["R-2026-000001", "R-2026-000002"]
    assert requests[1]["status"] == "closed"
    assert requests[0] == open311.service_request(rows[0], city)


def test_csv_has_one_row_per_report_with_the_same_fields(city: City) -> None:
    rows = [
        row(),
        row(reference="R-2026-000002", description='=HYPERLINK("http://evil")'),
        row(reference="R-2026-000003", latitude=None, longitude=None),
    ]
    data = open311.export(city, rows, "csv")
    assert data.startswith("\ufeff".encode())
    parsed = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))
    assert len(parsed) == 3
    assert tuple(parsed[0]) == open311.REQUEST_FIELDS
    first = parsed[0]
    assert first["service_request_id"] == "R-2026-000001"
    assert first["requested_datetime"] == "2026-10-03T14:05:00-04:00"
    assert float(first["lat"]) == 42.262612 and float(first["long"]) == -71.802345
    assert parsed[1]["description"].startswith("'=")  # a formula is defused
    assert parsed[2]["lat"] == "" and parsed[2]["long"] == ""


def test_an_unknown_format_is_refused(city: City) -> None:
    with pytest.raises(ValueError, match="csv, open311"):
        open311.export(city, [], "xml")


def test_since_is_a_city_day() -> None:
    tz = ZoneInfo("America/New_York")
    assert open311.parse_since("2026-10-01", tz) == datetime(2026, 10, 1, tzinfo=tz).timestamp()
    for bad in ("2026-02-30", "10/01/2026", "2026-1-5", "yesterday", ""):
        with pytest.raises(ValueError, match="YYYY-MM-DD"):
            open311.parse_since(bad, tz)


def test_files_are_written_atomically(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "export.json"
    open311.write_atomically(target, b"first")
    assert target.read_bytes() == b"first"
    previous = os.umask(0o022)
    try:
        open311.write_atomically(target, b"second")
    finally:
        os.umask(previous)
    assert target.read_bytes() == b"second"
    assert target.stat().st_mode & 0o777 == 0o644  # like any new file, not mkstemp's 0600

    def broken_replace(source: str, destination: Path) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(open311.os, "replace", broken_replace)
    with pytest.raises(OSError, match="disk full"):
        open311.write_atomically(target, b"third")
    assert target.read_bytes() == b"second"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["export.json"]
