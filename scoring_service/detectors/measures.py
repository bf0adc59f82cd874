"""Distance, duration and idling as registered measures (the arithmetic lives in `trips`)."""

from scoring_service.detectors._base import TripView
from scoring_service.products import Product
from scoring_service.trips import distance_m, duration_s, idle_s

__all__ = ["distance_measure", "duration_measure", "idle_measure"]


def distance_measure(trip: TripView, product: Product) -> float:
    """Metres driven."""
    return distance_m(trip.samples, product.trips.max_sample_gap_s)


def duration_measure(trip: TripView, product: Product) -> float:
    """Seconds from the first to the last sample."""
    return duration_s(trip.samples)


def idle_measure(trip: TripView, product: Product) -> float:
    """Seconds stationary inside the trip."""
    return idle_s(trip.samples, product.trips.stop_speed_kmh, product.trips.max_sample_gap_s)
