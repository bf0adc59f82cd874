"""Trip measures that are not events: distance, duration and idling time."""

import numpy as np

from scoring_service.trips._arrays import SampleArrays
from scoring_service.trips._kinematics import sample_speed_kmh, seconds_since_start, step_m

__all__ = ["distance_m", "duration_s", "idle_s"]


def distance_m(trip: SampleArrays, max_sample_gap_s: float) -> float:
    """Distance driven: the sum of steps between consecutive fixes, or, for a trip with fewer than
    two fixes (an OBD-only device), speed integrated over intervals no longer than
    `max_sample_gap_s`."""
    valid = np.isfinite(trip.lat) & np.isfinite(trip.lon)
    if np.count_nonzero(valid) >= 2:
        return float(np.sum(step_m(trip.lat[valid], trip.lon[valid])))
    speed_ms = np.nan_to_num(sample_speed_kmh(trip), nan=0.0) / 3.6
    dt = np.diff(seconds_since_start(trip.time_ns))
    ok = dt <= max_sample_gap_s
    return float(np.sum(((speed_ms[:-1] + speed_ms[1:]) / 2 * dt)[ok]))


def duration_s(trip: SampleArrays) -> float:
    """Seconds from the first to the last sample."""
    if len(trip) < 2:
        return 0.0
    return float(trip.time_ns[-1] - trip.time_ns[0]) / 1e9


def idle_s(trip: SampleArrays, stop_speed_kmh: float, max_sample_gap_s: float) -> float:
    """Seconds spent stationary inside the trip (at lights, in queues), over intervals no longer
    than `max_sample_gap_s`."""
    if len(trip) < 2:
        return 0.0
    speed = sample_speed_kmh(trip)
    dt = np.diff(seconds_since_start(trip.time_ns))
    still = (speed[:-1] < stop_speed_kmh) & (dt <= max_sample_gap_s)
    return float(np.sum(dt[still]))
