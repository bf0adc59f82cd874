"""Speeding: over the posted limit by more than the tolerance for at least the minimum duration."""

import numpy as np

from models import EventKind
from scoring_service.detectors._base import Event, TripView, event_at, sustained_runs
from scoring_service.products import Product

__all__ = ["detect_speeding"]


def detect_speeding(trip: TripView, product: Product) -> tuple[Event, ...]:
    """Speeding events; the peak is the largest excess over the limit, km/h. Where the limit is
    unknown nothing is flagged. A sample's speed holds until the next one, but not across a gap
    longer than the product's `max_sample_gap_s`."""
    rules = product.detectors.speeding
    speed_kmh = trip.speed_ms * 3.6
    limit = trip.limit_kmh
    allowed = limit + np.maximum(rules.tolerance_kmh, limit * rules.tolerance_pct / 100)
    with np.errstate(invalid="ignore"):
        mask = speed_kmh > allowed
    over_gap = np.concatenate((np.diff(trip.time_s) > trip.max_gap_s, [False]))
    mask &= ~over_gap
    excess = speed_kmh - limit
    events = []
    for start, end in sustained_runs(trip.time_s, mask, rules.min_duration_s):
        peak_index = start + int(np.argmax(excess[start:end]))
        events.append(event_at(trip, EventKind.SPEEDING, start, end, peak_index, float(excess[peak_index])))
    return tuple(events)
