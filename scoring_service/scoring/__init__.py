"""From samples to scored trips and drivers: the pipeline shared by the service and the CLI."""

from scoring_service.scoring._analyse import TripAnalysis, TripTotals, analyse_samples, analyse_trip
from scoring_service.scoring._score import RECORD_VERSION, Reason, Score, score_totals, trip_record
from scoring_service.scoring._store import (
    DEFAULT_SETTLE_S,
    DeviceScoring,
    driver_score,
    driver_totals,
    product_for_device,
    score_device,
    store_trip,
    totals_of,
)

__all__ = [
    "DEFAULT_SETTLE_S",
    "RECORD_VERSION",
    "DeviceScoring",
    "Reason",
    "Score",
    "TripAnalysis",
    "TripTotals",
    "analyse_samples",
    "analyse_trip",
    "driver_score",
    "driver_totals",
    "product_for_device",
    "score_device",
    "score_totals",
    "store_trip",
    "totals_of",
    "trip_record",
]
