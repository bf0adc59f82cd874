"""Detectors on crafted drives (synthetic, exact truth) and on a real recorded car trace."""

import csv
import math
from pathlib import Path

import numpy as np
import pytest

from models import EventKind
from protocol import read_trip_gpx
from scoring_service.detectors import DETECTORS, MEASURES, Event, view_trip
from scoring_service.products import load_product
from scoring_service.scoring import analyse_samples, analyse_trip
from scoring_service.speedlimits import default_speed_limits
from scoring_service.trips import SampleArrays, bearing_rad, differenced_from_positions, haversine_m
from tests.scoring_service.crafted import HELSINKI, T0_NS, Leg, simulate

PRODUCT = load_product("standard", 1)
LIMITS = default_speed_limits()
FIXTURES = Path(__file__).parents[1] / "fixtures"
# Far from any road of the shipped extract: no speed limit applies, so only harsh events show.
OPEN_ROAD = (60.30, 25.30)


def events_of(samples: SampleArrays, kind: EventKind) -> list:
    trip = analyse_trip(samples, PRODUCT, LIMITS)
    return [e for e in trip.events if e.kind is kind]


def test_registry_is_explicit_and_ordered() -> None:
    assert [d.kind for d in DETECTORS] == [
        EventKind.HARSH_BRAKE,
        EventKind.HARSH_ACCEL,
        EventKind.HARSH_CORNER,
        EventKind.SPEEDING,
    ]
    assert [m.name for m in MEASURES] == ["distance_m", "duration_s", "idle_s", "night_s"]


def test_one_brake_one_accel_one_corner_at_the_right_places() -> None:
    legs = [
        Leg(10, 2.0),  # 0-10 s: brisk start to 72 km/h
        Leg(60),  # 10-70 s cruise
        Leg(2, -5.0),  # 70-72 s: hard brake, 5 m/s^2, down to 36 km/h
        Leg(30),
        Leg(3, 0, 30),  # 102-105 s: a 90 deg turn at 36 km/h (30 deg/s)
        Leg(30),
        Leg(3, 3.5),  # 135-138 s: hard acceleration
        Leg(40),
        Leg(8, -3.0),  # 178-186 s: firm but below the 3.1 m/s^2 threshold
        Leg(10),
    ]
    samples = simulate(legs, start=OPEN_ROAD)
    trip = analyse_trip(samples, PRODUCT, LIMITS)
    kinds = [e.kind for e in trip.events]
    assert kinds == [EventKind.HARSH_BRAKE, EventKind.HARSH_ACCEL, EventKind.HARSH_CORNER]

    brake, accel, corner = trip.events

    def t(e: Event) -> tuple[float, float]:
        return (e.start_ns - T0_NS) / 1e9, (e.end_ns - T0_NS) / 1e9

    # the 1 s moving average spreads each edge by 0.5 s; the plateau is exact
    assert 69.5 <= t(brake)[0] <= 70.5 and 71.5 <= t(brake)[1] <= 72.5
    assert brake.peak == pytest.approx(5.0, abs=1e-6)
    assert 134.5 <= t(accel)[0] <= 135.5 and accel.peak == pytest.approx(3.5, abs=1e-6)
    assert 101.5 <= t(corner)[0] <= 102.5 and t(corner)[1] <= 105.5
    # lateral accel = yaw rate x speed = 30 deg/s x 10 m/s
    assert corner.peak == pytest.approx(math.radians(30) * 10.0, rel=1e-6)
    for event in trip.events:  # located where the car was at the peak
        assert event.lat is not None and event.lon is not None
        assert abs(event.lat - OPEN_ROAD[0]) < 0.05 and abs(event.lon - OPEN_ROAD[1]) < 0.1


def test_event_location_is_the_position_at_the_peak() -> None:
    legs = [Leg(20), Leg(1, -4.0), Leg(2, -6.0), Leg(1, -4.0), Leg(20)]  # -6 m/s^2 from 21 s to 23 s
    samples = simulate(legs, speed_kmh=100, start=OPEN_ROAD)
    (brake,) = events_of(samples, EventKind.HARSH_BRAKE)
    assert brake.peak == pytest.approx(6.0, abs=1e-6)
    at = np.flatnonzero((samples.lat == brake.lat) & (samples.lon == brake.lon))
    assert len(at) == 1  # exactly the fix of one sample...
    assert 21.0 <= (samples.time_ns[at[0]] - T0_NS) / 1e9 <= 23.0  # ...inside the hardest second


def test_count_of_repeated_brakes_is_exact() -> None:
    legs = [Leg(15, 2.0)]
    for _ in range(4):
        legs += [Leg(20), Leg(2, -4.0), Leg(4, 2.0)]
    samples = simulate(legs, start=OPEN_ROAD)
    assert len(events_of(samples, EventKind.HARSH_BRAKE)) == 4


def test_below_threshold_too_short_or_too_slow_is_not_an_event() -> None:
    below = simulate([Leg(20), Leg(5, -3.0), Leg(20)], speed_kmh=80, start=OPEN_ROAD)
    assert events_of(below, EventKind.HARSH_BRAKE) == []
    # a 0.2 s jolt, smoothed over 1 s, never reaches 3.1 m/s^2 for 0.5 s
    jolt = simulate([Leg(20), Leg(0.2, -8.0), Leg(20)], speed_kmh=80, start=OPEN_ROAD)
    assert events_of(jolt, EventKind.HARSH_BRAKE) == []
    # braking hard to a stop in a car park: below the 10 km/h minimum speed
    slow = simulate([Leg(20), Leg(0.5, -5.0), Leg(20)], speed_kmh=8, start=OPEN_ROAD)
    assert events_of(slow, EventKind.HARSH_BRAKE) == []


def test_one_hz_data_flags_a_seven_mph_per_second_drop() -> None:
    # 1 Hz OBD speed: 80 km/h, one second losing 12 km/h (3.33 m/s^2), then steady
    speeds = [80.0] * 20 + [68.0] * 20
    samples = SampleArrays.from_columns(
        {
            "time_ns": [T0_NS + i * 1_000_000_000 for i in range(40)],
            "lat": [OPEN_ROAD[0] + i * 2e-4 for i in range(40)],
            "lon": [OPEN_ROAD[1]] * 40,
            "speed_kmh": speeds,
        }
    )
    trip = analyse_trip(samples, PRODUCT, LIMITS)
    brakes = [e for e in trip.events if e.kind is EventKind.HARSH_BRAKE]
    assert len(brakes) == 1
    assert brakes[0].peak == pytest.approx(12 / 3.6, rel=1e-9)
    assert brakes[0].start_ns == T0_NS + 19 * 1_000_000_000


def test_obd_speed_is_preferred_over_gps_speed() -> None:
    samples = simulate([Leg(20), Leg(2, -5.0), Leg(20)], speed_kmh=60, start=OPEN_ROAD)
    # GPS speed says nothing happened; OBD (covering every sample) says it did
    flat_gps = SampleArrays(
        time_ns=samples.time_ns,
        lat=samples.lat,
        lon=samples.lon,
        gps_speed_kmh=np.full(len(samples), 60.0),
        heading_deg=samples.heading_deg,
        speed_kmh=samples.speed_kmh,
        rpm=samples.rpm,
    )
    assert len(events_of(flat_gps, EventKind.HARSH_BRAKE)) == 1
    view = view_trip(flat_gps, PRODUCT, LIMITS)
    assert view.speed_source == "obd"


def test_distance_duration_and_idle_measures() -> None:
    # 10 s at 36 km/h = 100 m, 30 s standing (idle), 10 s at 36 km/h again
    samples = simulate([Leg(10), Leg(0.1, -100.0), Leg(30), Leg(0.1, 100.0), Leg(10)], speed_kmh=36, start=OPEN_ROAD)
    trip = analyse_trip(samples, PRODUCT, LIMITS)
    assert trip.duration_s == pytest.approx(50.2)
    assert trip.distance_m == pytest.approx(100 + 0.5 + 0.5 + 100, abs=1.0)
    assert trip.idle_s == pytest.approx(30.0, abs=0.25)


def test_real_recorded_car_trace_runs_through_without_events() -> None:
    """gpxpy's around-visnjan-with-car.gpx: a real 8.5 min drive, 2.74 km, no harsh events."""
    samples = SampleArrays.from_samples(read_trip_gpx(FIXTURES / "around-visnjan-with-car.gpx"))
    assert len(samples) == 104
    segmentation, trips = analyse_samples(samples, PRODUCT, LIMITS, final=True)
    assert len(trips) == 1
    (trip,) = trips
    assert trip.events == ()
    assert 2600 < trip.distance_m < 2800
    assert segmentation.gps_jumps == 0
    assert trip.night_s == 0.0  # 06:16 UTC = 07:16 in Croatia (CET)


def test_a_car_standing_in_helsinki_has_no_events() -> None:
    samples = simulate([Leg(120)], speed_kmh=0, start=HELSINKI)
    trip = analyse_trip(samples, PRODUCT, LIMITS)
    assert trip.events == () and trip.distance_m == 0.0


@pytest.mark.parametrize(
    ("trace", "km"), [("mappymatch_sample_trace_2.csv", 5.8), ("mappymatch_sample_trace_3.csv", 20.8)]
)
def test_real_denver_traces_run_through(trace: str, km: float) -> None:
    """Real car traces without timestamps, read as 1 Hz (an assumption from their spacing). Trace 2
    starts with a position glitch (a 29 m hop and back while standing): no harsh event comes of it."""
    with (Path(__file__).parent / "data" / trace).open() as f:
        rows = list(csv.DictReader(f))
    samples = SampleArrays.from_columns(
        {
            "time_ns": [T0_NS + i * 1_000_000_000 for i in range(len(rows))],
            "lat": [float(r["latitude"]) for r in rows],
            "lon": [float(r["longitude"]) for r in rows],
        }
    )
    _, trips = analyse_samples(samples, PRODUCT, LIMITS, final=True)
    (trip,) = trips
    assert trip.distance_m / 1000 == pytest.approx(km, abs=0.1)
    assert [e for e in trip.events if e.kind in (EventKind.HARSH_BRAKE, EventKind.HARSH_ACCEL)] == []


def test_gps_speed_differenced_from_fixes_scores_like_the_fixes_alone() -> None:
    """The trip-file reader fills a GPX track's missing speed and course from consecutive fixes, as
    replay tools do; that carries nothing beyond the fixes, so it must score exactly as the bare
    track does (no fake events from the fixes' metre-level noise)."""
    read = read_trip_gpx(FIXTURES / "around-visnjan-with-car.gpx")
    replayed = SampleArrays.from_samples(read)
    bare = SampleArrays.from_columns(
        {"time_ns": [s.time_ns for s in read], "lat": [s.lat for s in read], "lon": [s.lon for s in read]}
    )
    t_s = (bare.time_ns - bare.time_ns[0]) / 1e9
    step = haversine_m(bare.lat[:-1], bare.lon[:-1], bare.lat[1:], bare.lon[1:])
    speed = np.concatenate(([np.nan], step / np.diff(t_s) * 3.6))  # previous fix -> this fix
    course = np.concatenate(
        ([np.nan], np.degrees(bearing_rad(bare.lat[:-1], bare.lon[:-1], bare.lat[1:], bare.lon[1:])) % 360)
    )
    np.testing.assert_allclose(replayed.gps_speed_kmh, speed, rtol=1e-9)
    np.testing.assert_allclose(replayed.heading_deg, course, atol=1e-9)
    assert differenced_from_positions(replayed, t_s)
    (a,) = analyse_samples(bare, PRODUCT, LIMITS, final=True)[1]
    (b,) = analyse_samples(replayed, PRODUCT, LIMITS, final=True)[1]
    assert a == b and a.events == ()


def test_a_receivers_own_speed_is_not_taken_for_differenced() -> None:
    samples = simulate([Leg(60), Leg(5, -2.0), Leg(60)], speed_kmh=60, hz=1.0, start=OPEN_ROAD)
    noisy = np.random.default_rng(5).normal(0, 1.0, len(samples))  # Doppler speed: its own noise
    receiver = SampleArrays(
        time_ns=samples.time_ns,
        lat=samples.lat,
        lon=samples.lon,
        gps_speed_kmh=samples.gps_speed_kmh + noisy,
        heading_deg=samples.heading_deg,
        speed_kmh=np.full(len(samples), np.nan),
        rpm=samples.rpm,
    )
    view = view_trip(receiver, PRODUCT, LIMITS)
    assert view.speed_source == "gps" and not view.heading_from_positions
