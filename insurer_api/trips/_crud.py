"""Read access to trips, events and scores, scoped to what the viewer may see."""

from sqlalchemy import select
from sqlalchemy.orm import Session

from insurer_api.access import get_visible, trip_score_visible, trip_visible
from insurer_api.pagination import Page, Paged, by_id, paged
from insurer_api.trips._schemas import EventPublic, TrackPublic, TripDetail, TripPublic
from models import Device, Sample, Trip, TripEvent, TripScore, User

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
    page: Page,
) -> Paged[TripPublic]:
    """Trips the viewer may see, oldest first, optionally of one vehicle and starting in [since, until)."""
    query = select(Trip, Device.vehicle_id).join(Device, Trip.device_id == Device.id).where(trip_visible(viewer))
    if vehicle_id is not None:
        query = query.where(Device.vehicle_id == vehicle_id)
    if since_ns is not None:
        query = query.where(Trip.start_ns >= since_ns)
    if until_ns is not None:
        query = query.where(Trip.start_ns < until_ns)
    rows = session.execute(page.apply(query, Trip.start_ns, Trip.id)).all()
    trips = [_public(trip, vid) for trip, vid in rows]
    return paged(trips, page, lambda t: (t.start_ns, t.id))


def get_trip(*, session: Session, viewer: User, trip_id: int) -> TripDetail:
    trip = get_visible(session=session, model=Trip, object_id=trip_id, visible=trip_visible(viewer), kind="trip")
    vehicle_id = session.scalars(select(Device.vehicle_id).where(Device.id == trip.device_id)).one()
    events = session.scalars(select(TripEvent).where(TripEvent.trip_id == trip.id).order_by(TripEvent.start_ns))
    return TripDetail(**_public(trip, vehicle_id).model_dump(), events=[EventPublic.model_validate(e) for e in events])


def list_scores(*, session: Session, viewer: User, trip_id: int, page: Page) -> Paged[TripScore]:
    get_visible(session=session, model=Trip, object_id=trip_id, visible=trip_visible(viewer), kind="trip")
    query = page.apply(select(TripScore).where(TripScore.trip_id == trip_id), TripScore.id)
    return paged(session.scalars(query).all(), page, by_id)


def get_track(*, session: Session, viewer: User, trip_id: int, max_points: int) -> TrackPublic:
    """The trip's positions, thinned evenly to at most `max_points` (a map needs no more)."""
    trip = get_visible(session=session, model=Trip, object_id=trip_id, visible=trip_visible(viewer), kind="trip")
    rows = session.execute(
        select(Sample.lat, Sample.lon)
        .where(
            Sample.device_id == trip.device_id,
            Sample.time_ns.between(trip.start_ns, trip.end_ns),
            Sample.lat.is_not(None),
            Sample.lon.is_not(None),
        )
        .order_by(Sample.time_ns)
    ).all()
    positions: list[tuple[float, float]] = [(lat, lon) for lat, lon in rows if lat is not None and lon is not None]
    step = max(1, -(-len(positions) // max_points))
    points = positions[::step]
    if positions and points[-1] != positions[-1]:
        points[-1] = positions[-1]  # keep where the trip really ended
    return TrackPublic(trip_id=trip.id, positions=len(positions), points=points)


def get_score(*, session: Session, viewer: User, score_id: int) -> TripScore:
    return get_visible(
        session=session, model=TripScore, object_id=score_id, visible=trip_score_visible(viewer), kind="score"
    )
