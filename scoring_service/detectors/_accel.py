"""Sustained longitudinal acceleration above a threshold: the shared core of braking and acceleration."""

import numpy as np

from models import EventKind
from scoring_service.detectors._base import Event, TripView, event_at, sustained_runs
from scoring_service.products import DetectorThresholds

__all__ = ["sustained_accel_events"]


def sustained_accel_events(
    trip: TripView, kind: EventKind, rules: DetectorThresholds, sign: float
) -> tuple[Event, ...]:
    """Events where `sign * accel` stays at or above the threshold at or above the minimum speed;
    the peak is the largest magnitude, m/s^2."""
    accel = sign * trip.longitudinal_accel_ms2(rules.smoothing_s)
    with np.errstate(invalid="ignore"):
        mask = (accel >= rules.threshold_ms2) & (trip.speed_ms * 3.6 >= rules.min_speed_kmh)
    events = []
    for start, end in sustained_runs(trip.time_s, mask, rules.min_duration_s):
        peak_index = start + int(np.argmax(accel[start:end]))
        events.append(event_at(trip, kind, start, end, peak_index, float(accel[peak_index])))
    return tuple(events)
