"""Trip segmentation: gaps and stops cut trips, noise is dropped, bad fixes are filtered."""

import numpy as np
import pytest

from scoring_service.products import load_product
from scoring_service.trips import SampleArrays, drop_gps_jumps, segment_trips
from tests.scoring_service.crafted import T0_NS, Leg, simulate

RULES = load_product("standard", 1).trips
OPEN_ROAD = (60.30, 25.30)


def drive(minutes: float, *, t0_ns: int, kmh: float = 50.0, start: tuple[float, float] = OPEN_ROAD) -> SampleArrays:
    return simulate([Leg(minutes * 60)], speed_kmh=kmh, hz=1.0, t0_ns=t0_ns, start=start)


def test_a_data_gap_longer_than_five_minutes_splits_trips() -> None:
    a = drive(5, t0_ns=T0_NS)
    b = drive(5, t0_ns=int(a.time_ns[-1]) + 301 * 10**9)
    seg = segment_trips(SampleArrays.concat([a, b]), RULES, final=True)
    assert [(t.start, t.stop) for t in seg.trips] == [(0, len(a)), (len(a), len(a) + len(b))]


def test_a_gap_of_four_minutes_does_not_split() -> None:
    a = drive(5, t0_ns=T0_NS)
    b = drive(5, t0_ns=int(a.time_ns[-1]) + 240 * 10**9)
    seg = segment_trips(SampleArrays.concat([a, b]), RULES, final=True)
    assert len(seg.trips) == 1


def test_a_five_minute_stop_splits_and_a_short_one_does_not() -> None:
    legs = [Leg(120), Leg(1, -50 / 3.6), Leg(360), Leg(1, 50 / 3.6), Leg(120)]  # 6 min parked
    parked = simulate(legs, speed_kmh=50, hz=1.0, start=OPEN_ROAD)
    assert len(segment_trips(parked, RULES, final=True).trips) == 2
    legs[2] = Leg(200)  # 3 min 20 s at a level crossing
    waited = simulate(legs, speed_kmh=50, hz=1.0, start=OPEN_ROAD)
    (trip,) = segment_trips(waited, RULES, final=True).trips
    assert trip.start == 0 and trip.stop == len(waited)


def test_short_trips_are_dropped_as_noise() -> None:
    short_time = drive(1.5, t0_ns=T0_NS, kmh=60)  # 1.5 km but 90 s
    short_distance = drive(3, t0_ns=T0_NS + 3600 * 10**9, kmh=8)  # 3 min but 400 m
    seg = segment_trips(SampleArrays.concat([short_time, short_distance]), RULES, final=True)
    assert seg.trips == () and seg.dropped_short == 2


def test_out_of_order_and_repeated_fixes_are_dropped() -> None:
    a = drive(5, t0_ns=T0_NS)
    order = np.arange(len(a))
    order[[100, 101]] = order[[101, 100]]  # a late fix
    shuffled = a.take(np.concatenate([order, [50]]))  # and a repeat of an old one at the end
    seg = segment_trips(shuffled, RULES, final=True)
    assert seg.out_of_order == 2
    assert bool(np.all(np.diff(seg.samples.time_ns) > 0))


def test_gps_jumps_are_filtered_and_counted() -> None:
    a = drive(5, t0_ns=T0_NS)
    lat = a.lat.copy()
    lat[[60, 61, 200]] += 0.05  # 5.5 km away and back: a glitch of two fixes, and one of one fix
    seg = segment_trips(a.with_positions(lat, a.lon), RULES, final=True)
    assert seg.gps_jumps == 3
    (trip,) = seg.trips
    assert trip.gps_jumps == 3
    assert np.isnan(seg.samples.lat[[60, 61, 200]]).all()
    assert np.isfinite(np.delete(seg.samples.lat, [60, 61, 200])).all()


def test_jump_filter_leaves_a_clean_track_untouched() -> None:
    a = drive(5, t0_ns=T0_NS, kmh=130)
    lat, lon = drop_gps_jumps(a.time_ns, a.lat, a.lon, RULES.max_plausible_speed_kmh / 3.6)
    assert lat is a.lat and lon is a.lon


def test_a_trip_still_running_stays_open_until_proven_or_final() -> None:
    a = drive(5, t0_ns=T0_NS)
    seg = segment_trips(a, RULES)
    assert seg.trips == () and seg.open_trip_start_ns == T0_NS
    assert len(segment_trips(a, RULES, final=True).trips) == 1


@pytest.mark.parametrize("cut", [0, 1, 150, 299, 300, 301, 400])
def test_segmenting_a_suffix_that_starts_after_a_trip_gives_the_same_later_trips(cut: int) -> None:
    """The service only re-reads samples after its last trip: that must not change later trips."""
    a = drive(5, t0_ns=T0_NS)
    parked = simulate([Leg(400)], speed_kmh=0, hz=1.0, t0_ns=int(a.time_ns[-1]) + 10**9, start=OPEN_ROAD)
    b = drive(5, t0_ns=int(parked.time_ns[-1]) + 10**9)
    everything = SampleArrays.concat([a, parked, b])
    whole = segment_trips(everything, RULES, final=True)
    assert len(whole.trips) == 2
    first_end = whole.trips[0].stop
    suffix_from = first_end + cut
    part = segment_trips(everything.take(slice(suffix_from, None)), RULES, final=True)
    if suffix_from <= whole.trips[1].start:
        later = whole.trips[1]
        (again,) = part.trips
        assert int(part.samples.time_ns[again.start]) == int(whole.samples.time_ns[later.start])
        assert int(part.samples.time_ns[again.stop - 1]) == int(whole.samples.time_ns[later.stop - 1])
