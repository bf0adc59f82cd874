"""Read-only views of trips, their events and their scores."""

from insurer_api.trips._crud import get_score, get_trip, list_scores, list_trips
from insurer_api.trips._schemas import EventPublic, ScorePublic, TripDetail, TripPublic

__all__ = [
    "EventPublic",
    "ScorePublic",
    "TripDetail",
    "TripPublic",
    "get_score",
    "get_trip",
    "list_scores",
    "list_trips",
]
