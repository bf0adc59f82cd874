"""From samples to scored trips and drivers: the pipeline shared by the service and the CLI."""

from scoring_service.scoring._analyse import TripAnalysis, TripTotals, analyse_samples, analyse_trip
from scoring_service.scoring._score import RECORD_VERSION, Reason, Score, score_totals, trip_record

__all__ = [
    "RECORD_VERSION",
    "Reason",
    "Score",
    "TripAnalysis",
    "TripTotals",
    "analyse_samples",
    "analyse_trip",
    "score_totals",
    "trip_record",
]
