"""Scoring a 1 h trip at 10 Hz (36,000 samples): target < 10 ms.

Times the full per-trip pipeline the service runs (segmentation, every registered detector and
measure, score, canonical record) on a synthetic drive back and forth across central Helsinki
(so speed limits are looked up for real), and, as a baseline in the same run, one plain numpy
pass over the same arrays (haversine step distances and a speed difference). Prints medians of
repeated runs, wall-clock and CPU time (CPU time leaves out time the process sat preempted, the
steadier figure on a shared machine), and the ratio to the baseline.
"""

import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from scoring_service.products import load_product
from scoring_service.scoring import analyse_samples, score_totals, trip_record
from scoring_service.speedlimits import default_speed_limits
from scoring_service.trips import SampleArrays, haversine_m
from tests.scoring_service.crafted import Leg, simulate

HZ = 10.0
DURATION_S = 3600.0
REPEATS = 50


def one_hour_trip() -> SampleArrays:
    """Back and forth across the centre at ~40 km/h with gentle U-turns and stops at lights;
    a hard brake every ten minutes. Synthetic (crafted), not recorded."""
    legs = [Leg(10, 1.1)]
    lap = 0
    while sum(leg.duration_s for leg in legs) < DURATION_S:
        lap += 1
        legs += [Leg(20), Leg(30, 0, 6), Leg(20), Leg(2.5, -4.4) if lap % 5 == 0 else Leg(11, -1.0)]
        legs += [Leg(15), Leg(10, 1.1), Leg(30, 0, -6)]
    samples = simulate(legs, hz=HZ, start=(60.1689, 24.9460), heading_deg=90.0)
    return samples.take(slice(0, int(DURATION_S * HZ)))


def baseline(samples: SampleArrays) -> float:
    step = haversine_m(samples.lat[:-1], samples.lon[:-1], samples.lat[1:], samples.lon[1:])
    return float(step.sum() + np.diff(samples.speed_kmh).sum())


def score(samples: SampleArrays) -> list[bytes]:
    product = load_product()
    _, trips = analyse_samples(samples, product, default_speed_limits(), final=True)
    return [trip_record(t, score_totals(t.totals(), product), product) for t in trips]


def timed_runs(fn: Callable[[SampleArrays], object], samples: SampleArrays) -> tuple[float, float]:
    """Median wall-clock and CPU seconds over the repeats."""
    wall, cpu = [], []
    for _ in range(REPEATS):
        start, start_cpu = time.perf_counter(), time.process_time()
        fn(samples)
        wall.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    return statistics.median(wall), statistics.median(cpu)


def main() -> None:
    samples = one_hour_trip()
    records = score(samples)  # warm-up: loads the speed-limit raster and the time-zone polygons
    assert len(records) == 1, "the benchmark drive must be one trip"
    base_wall, base_cpu = timed_runs(baseline, samples)
    wall, cpu = timed_runs(score, samples)
    print(f"samples per trip: {len(samples)} ({DURATION_S / 3600:.0f} h at {HZ:.0f} Hz), median of {REPEATS} runs")
    print(f"score one trip: {wall * 1000:.2f} ms wall, {cpu * 1000:.2f} ms CPU (target < 10 ms)")
    print(f"baseline numpy pass: {base_wall * 1000:.3f} ms wall, {base_cpu * 1000:.3f} ms CPU")
    print(f"ratio scoring / baseline: {wall / base_wall:.1f}x wall, {cpu / base_cpu:.1f}x CPU")
    print(f"record: {records[0][:120].decode()}...")


if __name__ == "__main__":
    main()
