"""Harsh acceleration: speed rising faster than the product's threshold."""

from models import EventKind
from scoring_service.detectors._accel import sustained_accel_events
from scoring_service.detectors._base import Event, TripView
from scoring_service.products import Product

__all__ = ["detect_harsh_accels"]


def detect_harsh_accels(trip: TripView, product: Product) -> tuple[Event, ...]:
    """Sustained acceleration events; the peak is in m/s^2."""
    return sustained_accel_events(trip, EventKind.HARSH_ACCEL, product.detectors.harsh_accel, sign=1.0)
