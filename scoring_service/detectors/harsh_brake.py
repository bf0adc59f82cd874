"""Harsh braking: speed falling faster than the product's threshold (7 mph/s by default)."""

from models import EventKind
from scoring_service.detectors._accel import sustained_accel_events
from scoring_service.detectors._base import Event, TripView
from scoring_service.products import Product

__all__ = ["detect_harsh_brakes"]


def detect_harsh_brakes(trip: TripView, product: Product) -> tuple[Event, ...]:
    """Sustained deceleration events; the peak is the deceleration as a positive m/s^2."""
    return sustained_accel_events(trip, EventKind.HARSH_BRAKE, product.detectors.harsh_brake, sign=-1.0)
