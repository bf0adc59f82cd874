"""Harsh cornering: lateral (centripetal) acceleration = heading rate x speed above a threshold."""

import numpy as np

from models import EventKind
from scoring_service.detectors._base import Event, TripView, event_at, sustained_runs
from scoring_service.products import Product

__all__ = ["detect_harsh_corners"]


def detect_harsh_corners(trip: TripView, product: Product) -> tuple[Event, ...]:
    """Sustained lateral acceleration events either way; the peak is |lateral accel|, m/s^2.
    Heading is noise at walking pace, hence the minimum speed."""
    rules = product.detectors.harsh_corner
    lateral = np.abs(trip.lateral_accel_ms2(rules.smoothing_s))
    with np.errstate(invalid="ignore"):
        mask = (lateral >= rules.threshold_ms2) & (trip.speed_ms * 3.6 >= rules.min_speed_kmh)
    events = []
    for start, end in sustained_runs(trip.time_s, mask, rules.min_duration_s):
        peak_index = start + int(np.argmax(lateral[start:end]))
        events.append(event_at(trip, EventKind.HARSH_CORNER, start, end, peak_index, float(lateral[peak_index])))
    return tuple(events)
