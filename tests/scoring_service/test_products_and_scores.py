"""Product definitions, score arithmetic and reasons, night driving in local time."""

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest

from scoring_service.detectors import local_hours, time_zone_at
from scoring_service.errors import ProductError
from scoring_service.products import available_products, load_product, load_product_file
from scoring_service.scoring import TripTotals, analyse_trip, score_totals
from scoring_service.speedlimits import default_speed_limits
from tests.scoring_service.crafted import Leg, simulate

PRODUCT = load_product("standard", 1)


def test_default_product_carries_the_documented_numbers() -> None:
    assert ("standard", 1) in available_products()
    assert PRODUCT.trips.stop_gap_s == 300
    assert (PRODUCT.trips.min_distance_m, PRODUCT.trips.min_duration_s) == (500, 120)
    assert PRODUCT.detectors.harsh_brake.threshold_ms2 == pytest.approx(7 * 0.44704, abs=0.05)  # 7 mph/s
    assert PRODUCT.weights.harsh_brake_per_100km == Decimal(3)
    assert PRODUCT.pricing.floor <= PRODUCT.pricing.base_premium <= PRODUCT.pricing.cap
    text = available_products()[("standard", 1)].read_text()
    assert "7 mph" in text and "Traccar" in text  # the file says where its numbers come from


def test_unknown_product_or_version_is_a_product_error() -> None:
    with pytest.raises(ProductError, match="unknown product"):
        load_product("gold")
    with pytest.raises(ProductError, match="no version 9"):
        load_product("standard", 9)


def test_an_invalid_product_file_names_the_problem(tmp_path: Path) -> None:
    source = available_products()[("standard", 1)].read_text()
    bad = tmp_path / "bad.toml"
    bad.write_text(source.replace("floor = 2_500_000_000", "floor = 25_000_000_000"))
    with pytest.raises(ProductError, match="floor <= base_premium <= cap"):
        load_product_file(bad)
    bad.write_text(source.replace("threshold_ms2 = 3.1", "threshold_ms2 = -1", 1))
    with pytest.raises(ProductError, match="threshold_ms2"):
        load_product_file(bad)


def totals(**kw: int) -> TripTotals:
    base = dict.fromkeys(TripTotals.__dataclass_fields__, 0)
    return TripTotals(**{**base, **kw})


def test_score_reasons_are_readable_and_exact() -> None:
    score = score_totals(totals(distance_m=50_000, duration_ms=3_600_000, harsh_brakes=2, speeding_ms=180_000), PRODUCT)
    # 2 brakes in 50 km = 4.0 per 100 km x 3 = 12 points; 5 % of the time speeding x 1 = 5 points
    assert [r.text for r in score.reasons] == [
        "4.0 harsh brakes per 100 km: \u221212",
        "5.0 % of driving time speeding: \u22125",
    ]
    assert score.score == 83


def test_penalties_are_capped_and_the_score_floors_at_zero() -> None:
    awful = totals(
        distance_m=1000, duration_ms=60_000, harsh_brakes=9, harsh_accels=9, harsh_corners=9,
        speeding_ms=60_000, night_ms=60_000,
    )  # fmt: skip
    score = score_totals(awful, PRODUCT)
    assert [r.penalty for r in score.reasons] == [30, 25, 20, 20, 10]
    assert score.score == 0
    assert score_totals(totals(distance_m=10_000, duration_ms=600_000), PRODUCT).score == 100


def test_local_night_hours_follow_the_cars_time_zone() -> None:
    helsinki = time_zone_at(60.17, 24.94)
    assert helsinki.key == "Europe/Helsinki"
    winter_2330_utc = int(datetime(2026, 1, 10, 23, 30, tzinfo=UTC).timestamp()) * 10**9
    summer_2330_utc = int(datetime(2026, 7, 10, 23, 30, tzinfo=UTC).timestamp()) * 10**9
    assert local_hours(np.array([winter_2330_utc]), helsinki)[0] == pytest.approx(1.5)  # UTC+2
    assert local_hours(np.array([summer_2330_utc]), helsinki)[0] == pytest.approx(2.5)  # UTC+3
    # a span over a daylight-saving change gets each instant's own offset
    hours = local_hours(np.array([winter_2330_utc, summer_2330_utc]), helsinki)
    assert hours.tolist() == pytest.approx([1.5, 2.5])


def test_a_drive_at_1_30_local_time_in_helsinki_is_night_driving() -> None:
    t0 = int(datetime(2026, 1, 10, 23, 30, tzinfo=UTC).timestamp()) * 10**9  # 01:30 in Helsinki
    samples = simulate([Leg(300)], speed_kmh=50, hz=1.0, start=(60.30, 25.30), t0_ns=t0)
    trip = analyse_trip(samples, PRODUCT, default_speed_limits())
    assert trip.night_s == pytest.approx(300.0)
    score = score_totals(trip.totals(), PRODUCT)
    assert score.reasons[-1].text == "100.0 % of driving time at night (local time): \u221210"
    noon = simulate([Leg(300)], speed_kmh=50, hz=1.0, start=(60.30, 25.30))
    assert analyse_trip(noon, PRODUCT, default_speed_limits()).night_s == 0.0
