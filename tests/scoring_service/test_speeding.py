"""Speeding against the posted limits of a real OpenStreetMap extract (central Helsinki)."""

import csv
import gzip
from pathlib import Path

import numpy as np
import pytest

from models import EventKind
from scoring_service.errors import SpeedLimitError
from scoring_service.products import load_product
from scoring_service.scoring import analyse_trip
from scoring_service.speedlimits import (
    DEFAULT_SEGMENTS_FILE,
    OsmSpeedLimits,
    build_segments_file,
    default_speed_limits,
    parse_maxspeed,
)
from tests.scoring_service.crafted import follow

PRODUCT = load_product("standard", 1)
PBF = Path(__file__).parent / "data" / "Helsinki.osm.pbf"
# OSM way 166170099: an east-west street at 60.1689 N with maxspeed=30 (about 190 m long).
WAY_ID = "166170099"


def way_points(way_id: str) -> list[tuple[float, float]]:
    with gzip.open(DEFAULT_SEGMENTS_FILE, "rt", newline="") as f:
        rows = [r for r in csv.DictReader(f) if r["way_id"] == way_id]
    points = [(float(r["lat1"]), float(r["lon1"])) for r in rows] + [(float(rows[-1]["lat2"]), float(rows[-1]["lon2"]))]
    return sorted(set(points), key=lambda p: p[1])  # west to east


def test_shipped_segments_are_exactly_derived_from_the_real_extract(tmp_path: Path) -> None:
    out = tmp_path / "rebuilt.csv.gz"
    assert build_segments_file(PBF, out) == 1641
    assert out.read_bytes() == DEFAULT_SEGMENTS_FILE.read_bytes()


def test_limits_along_the_real_way_are_its_maxspeed() -> None:
    points = way_points(WAY_ID)
    lat = np.array([p[0] for p in points])
    lon = np.array([p[1] for p in points])
    mid_lat, mid_lon = (lat[:-1] + lat[1:]) / 2, (lon[:-1] + lon[1:]) / 2
    assert default_speed_limits().limits_kmh(mid_lat, mid_lon).tolist() == [30.0] * len(mid_lat)
    # out at sea south of the extract, and a missing fix: unknown
    far = default_speed_limits().limits_kmh(np.array([60.10, np.nan]), np.array([24.94, 24.94]))
    assert np.isnan(far).all()


def test_driving_the_real_way_at_55_kmh_is_one_speeding_event() -> None:
    samples = follow(way_points(WAY_ID), speed_kmh=55)
    trip = analyse_trip(samples, PRODUCT, default_speed_limits())
    (event,) = [e for e in trip.events if e.kind is EventKind.SPEEDING]
    assert event.peak == pytest.approx(25.0)
    assert event.duration_s >= PRODUCT.detectors.speeding.min_duration_s
    assert event.lat is not None and event.lon is not None
    assert abs(event.lat - 60.1689) < 0.0003 and 24.9458 <= event.lon <= 24.9494


@pytest.mark.parametrize("speed_kmh", [30, 34.9])
def test_at_or_within_tolerance_of_the_limit_is_not_speeding(speed_kmh: float) -> None:
    samples = follow(way_points(WAY_ID), speed_kmh=speed_kmh)
    trip = analyse_trip(samples, PRODUCT, default_speed_limits())
    assert [e for e in trip.events if e.kind is EventKind.SPEEDING] == []


def test_a_short_burst_over_the_limit_is_not_speeding() -> None:
    # 55 km/h over only the first 100 m (6.5 s < the 10 s minimum)
    points = way_points(WAY_ID)
    samples = follow(points[:2], speed_kmh=55)
    trip = analyse_trip(samples.take(slice(0, 65)), PRODUCT, default_speed_limits())
    assert [e for e in trip.events if e.kind is EventKind.SPEEDING] == []


@pytest.mark.parametrize(
    ("tag", "kmh"),
    [("30", 30.0), ("40 km/h", 40.0), ("20 mph", 32.18688), ("FI:urban", 50.0), ("none", None), ("signals", None)],
)
def test_maxspeed_tags(tag: str, kmh: float | None) -> None:
    assert parse_maxspeed(tag) == (pytest.approx(kmh) if kmh is not None else None)


def test_a_broken_segments_file_is_a_speed_limit_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv.gz"
    with gzip.open(bad, "wt") as f:
        f.write("way,limit\n1,30\n")
    with pytest.raises(SpeedLimitError, match="expected header"):
        OsmSpeedLimits.from_file(bad)
    with pytest.raises(SpeedLimitError, match="cannot read"):
        OsmSpeedLimits.from_file(tmp_path / "missing.csv.gz")
