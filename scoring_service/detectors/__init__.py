"""Driving-event detectors and trip measures: each a pure function of a trip view and a product.

`DETECTORS` and `MEASURES` are the explicit, ordered registries the scoring pipeline runs; the
order fixes the order of events in a trip's record.
"""

from models import EventKind
from scoring_service.detectors._base import (
    Detector,
    Event,
    Measure,
    TripView,
    event_at,
    sustained_runs,
    view_trip,
)
from scoring_service.detectors.harsh_accel import detect_harsh_accels
from scoring_service.detectors.harsh_brake import detect_harsh_brakes
from scoring_service.detectors.harsh_corner import detect_harsh_corners
from scoring_service.detectors.measures import distance_measure, duration_measure, idle_measure
from scoring_service.detectors.night import local_hours, night_s, time_zone_at
from scoring_service.detectors.speeding import detect_speeding

__all__ = [
    "DETECTORS",
    "MEASURES",
    "Detector",
    "Event",
    "Measure",
    "TripView",
    "detect_harsh_accels",
    "detect_harsh_brakes",
    "detect_harsh_corners",
    "detect_speeding",
    "event_at",
    "local_hours",
    "night_s",
    "sustained_runs",
    "time_zone_at",
    "view_trip",
]

DETECTORS: tuple[Detector, ...] = (
    Detector(EventKind.HARSH_BRAKE, detect_harsh_brakes),
    Detector(EventKind.HARSH_ACCEL, detect_harsh_accels),
    Detector(EventKind.HARSH_CORNER, detect_harsh_corners),
    Detector(EventKind.SPEEDING, detect_speeding),
)

MEASURES: tuple[Measure, ...] = (
    Measure("distance_m", distance_measure),
    Measure("duration_s", duration_measure),
    Measure("idle_s", idle_measure),
    Measure("night_s", night_s),
)
