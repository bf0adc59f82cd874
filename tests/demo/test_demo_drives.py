"""The demo's scripted month: deterministic, on real roads, and scored apart by the real scorer."""

import csv
import hashlib
from datetime import date
from pathlib import Path

import numpy as np
import pytest

from demo._drives import STYLES, RoadGraph, write_month
from protocol import read_trip_file
from scoring_service.products import load_product
from scoring_service.scoring import analyse_samples, score_totals
from scoring_service.speedlimits import default_speed_limits
from scoring_service.speedlimits._osm import DEFAULT_SEGMENTS_FILE
from scoring_service.trips import SampleArrays


@pytest.fixture(scope="module")
def graph() -> RoadGraph:
    return RoadGraph.from_segments_file(DEFAULT_SEGMENTS_FILE)


def test_same_seed_same_month(graph: RoadGraph, tmp_path: Path) -> None:
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    assert write_month(a, graph, STYLES["average"], seed=7, end=date(2026, 11, 1), days=3) == write_month(
        b, graph, STYLES["average"], seed=7, end=date(2026, 11, 1), days=3
    )
    assert hashlib.sha256(a.read_bytes()).digest() == hashlib.sha256(b.read_bytes()).digest()


def test_drives_stay_on_the_extract_and_within_physics(graph: RoadGraph, tmp_path: Path) -> None:
    out = tmp_path / "m.csv"
    trips, km = write_month(out, graph, STYLES["aggressive"], seed=3, end=date(2026, 11, 1), days=4)
    assert trips >= 4
    assert km > 4 * 2.5
    rows = list(csv.DictReader(out.read_text().splitlines()))
    limits = default_speed_limits()
    lat = np.array([float(r["lat"]) for r in rows])
    lon = np.array([float(r["lon"]) for r in rows])
    assert np.isfinite(limits.limits_kmh(lat, lon)).mean() > 0.95  # on mapped roads
    times = np.array([np.datetime64(r["time"][:19]) for r in rows]).astype("datetime64[s]").astype(np.int64)
    speeds = np.array([float(r["speed_kmh"]) for r in rows]) / 3.6
    within_trip = np.diff(times) == 1
    assert np.max(np.abs(np.diff(speeds))[within_trip]) <= STYLES["aggressive"].hard_ms2 + 0.01


def test_styles_score_in_order(graph: RoadGraph, tmp_path: Path) -> None:
    product = load_product("standard")
    means = {}
    for i, name in enumerate(("calm", "average", "aggressive")):
        out = tmp_path / f"{name}.csv"
        write_month(out, graph, STYLES[name], seed=i + 1, end=date(2026, 11, 1), days=10)
        _, trips = analyse_samples(
            SampleArrays.from_samples(read_trip_file(out)), product, default_speed_limits(), final=True
        )
        scores = [score_totals(t.totals(), product).score for t in trips]
        means[name] = sum(scores) / len(scores)
    assert means["calm"] > means["average"] > means["aggressive"]
