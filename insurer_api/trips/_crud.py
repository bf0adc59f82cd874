"""Read access to trips, events and scores, scoped to what the viewer may see."""

from sqlalchemy import select
from sqlalchemy.orm import Session

from insurer_api.access import get_visible, trip_score_visible, trip_visible
from insurer_api.trips._schemas import EventPublic, TripDetail, TripPublic
from models import Device, Trip, TripEvent, TripScore, User

__all__ = ["get_score", "get_trip", "list_scores", "list_trips"]


def _public(trip: Trip, vehicle_id: int) -> TripPublic:
    return TripPublic(
        id=trip.id,
        device_id=trip.device_id,
        vehicle_id=vehicle_id,
        start_ns=trip.start_ns,
        end_ns=trip.end_ns,
        distance_m=trip.distance_m,
        duration_s=trip.duration_s,
        idle_s=trip.idle_s,
        night_s=trip.night_s,
        gps_jumps=trip.gps_jumps,
    )


def list_trips(
    *,
    session: Session,
    viewer: User,
    vehicle_id: int | None = None,
    since_ns: int | None = None,
    until_ns: int | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[TripPublic]:
    """Trips the viewer may see, oldest first, optionally of one vehicle and starting in [since, until)."""
    query = select(Trip, Device.vehicle_id).join(Device, Trip.device_id == Device.id).where(trip_visible(viewer))
    if vehicle_id is not None:
        query = query.where(Device.vehicle_id == vehicle_id)
    if since_ns is not None:
        query = query.where(Trip.start_ns >= since_ns)
    if until_ns is not None:
        query = query.where(Trip.start_ns < until_ns)
    rows = session.execute(query.order_by(Trip.start_ns, Trip.id).limit(limit).offset(offset))
    return [_public(trip, vid) for trip, vid in rows]


def get_trip(*, session: Session, viewer: User, trip_id: int) -> TripDetail:
    trip = get_visible(session=session, model=Trip, object_id=trip_id, visible=trip_visible(viewer), kind="trip")
    vehicle_id = session.scalar(select(Device.vehicle_id).where(Device.id == trip.device_id))
    assert vehicle_id is not None  # foreign key
    events = session.scalars(select(TripEvent).where(TripEvent.trip_id == trip.id).order_by(TripEvent.start_ns))
    return TripDetail(
        **_public(trip, vehicle_id).model_dump(), events=[EventPublic.model_validate(e) for e in events]
    )


def list_scores(*, session: Session, viewer: User, trip_id: int) -> list[TripScore]:
    get_visible(session=session, model=Trip, object_id=trip_id, visible=trip_visible(viewer), kind="trip")
    query = select(TripScore).where(TripScore.trip_id == trip_id).order_by(TripScore.id)
    return list(session.scalars(query))


def get_score(*, session: Session, viewer: User, score_id: int) -> TripScore:
    return get_visible(
        session=session, model=TripScore, object_id=score_id, visible=trip_score_visible(viewer), kind="score"
    )
