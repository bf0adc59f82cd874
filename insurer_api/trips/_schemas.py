"""Read views of trips, their events and their scores."""

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from models import EventKind

__all__ = ["EventPublic", "ScorePublic", "TrackPublic", "TripDetail", "TripPublic"]


class TripPublic(BaseModel):
    id: int
    device_id: int
    vehicle_id: int
    start_ns: int = Field(description="UTC, nanoseconds since the epoch")
    end_ns: int
    distance_m: float
    duration_s: float
    idle_s: float
    night_s: float
    gps_jumps: int


class EventPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    kind: EventKind
    start_ns: int
    end_ns: int
    peak: float = Field(description="Peak value in the detector's unit (m/s² or km/h over the limit)")
    lat: float | None
    lon: float | None


class TripDetail(TripPublic):
    events: list[EventPublic]


class ScorePublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    trip_id: int
    product_id: str
    product_version: int
    score: int = Field(description="0-100, higher is safer")
    reasons: list[dict[str, object]]
    created_at: datetime


class TrackPublic(BaseModel):
    """Where the trip went: `[lat, lon]` points in time order, thinned for drawing."""

    trip_id: int
    positions: int = Field(description="Positions recorded during the trip, before thinning")
    points: list[tuple[float, float]]
