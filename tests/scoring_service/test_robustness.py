"""Whatever a device sends, scoring neither fails nor leaves its bounds (hypothesis)."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from protocol import parse_json
from scoring_service.products import load_product
from scoring_service.scoring import analyse_samples, score_totals, trip_record
from scoring_service.speedlimits import default_speed_limits
from scoring_service.trips import SampleArrays
from tests.scoring_service.crafted import T0_NS

PRODUCT = load_product("standard", 1)
N = 400


def column(low: float, high: float) -> st.SearchStrategy[np.ndarray]:
    values = st.one_of(st.floats(low, high, allow_nan=False), st.just(float("nan")))
    return arrays(np.float64, N, elements=values)


@settings(max_examples=60, deadline=None)
@given(
    steps_ms=arrays(np.int64, N, elements=st.integers(-2000, 400_000)),
    lat=column(60.16, 60.18),
    lon=column(24.93, 24.96),
    speed=column(0, 200),
    gps_speed=column(0, 200),
    heading=column(0, 360),
)
def test_any_samples_score_within_bounds(
    steps_ms: np.ndarray,
    lat: np.ndarray,
    lon: np.ndarray,
    speed: np.ndarray,
    gps_speed: np.ndarray,
    heading: np.ndarray,
) -> None:
    samples = SampleArrays(
        time_ns=T0_NS + np.cumsum(steps_ms) * 1_000_000,  # steps may go back in time
        lat=lat,
        lon=lon,
        gps_speed_kmh=gps_speed,
        heading_deg=heading,
        speed_kmh=speed,
        rpm=np.full(N, np.nan),
    )
    segmentation, trips = analyse_samples(samples, PRODUCT, default_speed_limits(), final=True)
    assert bool(np.all(np.diff(segmentation.samples.time_ns) > 0))
    for trip in trips:
        assert trip.distance_m >= PRODUCT.trips.min_distance_m
        assert trip.duration_s >= PRODUCT.trips.min_duration_s
        assert 0 <= trip.idle_s <= trip.duration_s and 0 <= trip.night_s <= trip.duration_s
        for event in trip.events:
            assert trip.start_ns <= event.start_ns <= event.end_ns <= trip.end_ns
            assert np.isfinite(event.peak) and event.peak > 0
        score = score_totals(trip.totals(), PRODUCT)
        assert 0 <= score.score <= 100
        assert parse_json(trip_record(trip, score, PRODUCT))["score"] == score.score
