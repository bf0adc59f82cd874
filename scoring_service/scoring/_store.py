"""Persisting scored trips: load a device's new samples, store trips, events and scores once.

The handler does the I/O; the decisions are the pure pipeline in `_analyse` and `_score`.
Idempotent: a device's watermark is the end of its newest stored trip, only samples after it are
segmented (segmentation cuts are local, see `trips._segment`), and a trip is keyed by
`(device_id, start_ns)`, so re-running, or two workers racing, never stores a trip twice.
"""

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from models import Device, EventKind, Policy, PolicyStatus, Sample, Trip, TripEvent, TripScore, Vehicle
from protocol import RecordType, ns_from_datetime, parse_json
from scoring_service.anchoring import commit_record
from scoring_service.products import Product, load_product
from scoring_service.scoring._analyse import TripAnalysis, TripTotals, analyse_samples
from scoring_service.scoring._score import Score, score_totals, trip_record
from scoring_service.speedlimits import SpeedLimitProvider, default_speed_limits
from scoring_service.trips import SampleArrays

__all__ = [
    "DEFAULT_SETTLE_S",
    "DeviceScoring",
    "driver_score",
    "driver_totals",
    "product_for_device",
    "score_device",
    "store_trip",
    "totals_of",
]

#: Without newer data proving a stop, a trip counts as ended once its last sample is this old:
#: long enough for an agent that was briefly offline to deliver the rest of the drive.
DEFAULT_SETTLE_S = 3600.0

_SAMPLE_COLUMNS = (
    Sample.time_ns,
    Sample.lat,
    Sample.lon,
    Sample.gps_speed_kmh,
    Sample.heading_deg,
    Sample.speed_kmh,
    Sample.rpm,
)


@dataclass(frozen=True, slots=True)
class DeviceScoring:
    """What one `score_device` run did."""

    device_id: int
    samples_read: int
    new_trip_ids: tuple[int, ...]
    #: a trip still in progress (left for a later run), by its first sample time
    open_trip_start_ns: int | None
    #: time of the newest sample read, if any
    last_sample_ns: int | None
    gps_jumps: int
    out_of_order: int
    dropped_short: int


def _load_samples(session: Session, device_id: int, after_ns: int | None) -> SampleArrays:
    query = select(*_SAMPLE_COLUMNS).where(Sample.device_id == device_id)
    if after_ns is not None:
        query = query.where(Sample.time_ns > after_ns)
    rows = session.execute(query.order_by(Sample.time_ns, Sample.seq)).all()
    names = [c.key for c in _SAMPLE_COLUMNS]
    return SampleArrays.from_columns({name: [r[i] for r in rows] for i, name in enumerate(names)})


def store_trip(
    session: Session, *, device_id: int, trip: TripAnalysis, score: Score, record: bytes, product: Product
) -> int | None:
    """Insert one trip with its events and score in a savepoint; None if it was already stored."""
    try:
        with session.begin_nested():
            row = Trip(
                device_id=device_id,
                start_ns=trip.start_ns,
                end_ns=trip.end_ns,
                distance_m=trip.distance_m,
                duration_s=trip.duration_s,
                idle_s=trip.idle_s,
                night_s=trip.night_s,
                gps_jumps=trip.gps_jumps,
            )
            session.add(row)
            session.flush()
            session.add_all(
                TripEvent(
                    trip_id=row.id,
                    kind=e.kind,
                    start_ns=e.start_ns,
                    end_ns=e.end_ns,
                    peak=e.peak,
                    lat=e.lat,
                    lon=e.lon,
                )
                for e in trip.events
            )
            score_row = TripScore(
                trip_id=row.id,
                product_id=product.id,
                product_version=product.version,
                score=score.score,
                reasons=[r.as_json() for r in score.reasons],
                canonical=record,
            )
            session.add(score_row)
            session.flush()
            # the score's leaf is written with the score: anchoring picks it up in the next epoch
            commit_record(session, record_type=RecordType.TRIP_SCORE, record_id=score_row.id, record=parse_json(record))
    except IntegrityError:
        exists = session.scalar(select(Trip.id).where(Trip.device_id == device_id, Trip.start_ns == trip.start_ns))
        if exists is None:
            raise  # a different constraint failed: a real error, not a duplicate
        return None
    return row.id


def score_device(
    session: Session,
    *,
    device_id: int,
    product: Product,
    now_ns: int,
    speed_limits: SpeedLimitProvider | None = None,
    settle_s: float = DEFAULT_SETTLE_S,
) -> DeviceScoring:
    """Segment a device's samples newer than its last stored trip and store every complete trip,
    its events and its score under `product`. The caller commits."""
    watermark = session.scalar(select(func.max(Trip.end_ns)).where(Trip.device_id == device_id))
    samples = _load_samples(session, device_id, watermark)
    final = len(samples) > 0 and now_ns - int(samples.time_ns[-1]) >= settle_s * 1e9
    segmentation, trips = analyse_samples(samples, product, speed_limits or default_speed_limits(), final=final)
    new_ids: list[int] = []
    for trip in trips:
        score = score_totals(trip.totals(), product)
        record = trip_record(trip, score, product)
        trip_id = store_trip(session, device_id=device_id, trip=trip, score=score, record=record, product=product)
        if trip_id is not None:
            new_ids.append(trip_id)
    return DeviceScoring(
        device_id=device_id,
        samples_read=len(samples),
        new_trip_ids=tuple(new_ids),
        open_trip_start_ns=segmentation.open_trip_start_ns,
        last_sample_ns=int(samples.time_ns[-1]) if len(samples) else None,
        gps_jumps=segmentation.gps_jumps,
        out_of_order=segmentation.out_of_order,
        dropped_short=segmentation.dropped_short,
    )


def product_for_device(session: Session, *, device_id: int) -> Product:
    """The product of the newest active policy on the device's vehicle, else the default product
    (a device drives before it is insured: its trips are scored under the default terms)."""
    row = session.execute(
        select(Policy.product_id, Policy.product_version)
        .join(Device, Device.vehicle_id == Policy.vehicle_id)
        .where(Device.id == device_id, Policy.status == PolicyStatus.ACTIVE)
        .order_by(Policy.period_start.desc(), Policy.id.desc())
        .limit(1)
    ).first()
    return load_product() if row is None else load_product(row.product_id, row.product_version)


def totals_of(trips: Iterable[Trip], events: Iterable[TripEvent]) -> TripTotals:
    """Totals of stored trips and their events: the integers their scores were computed from,
    added up (callers that already loaded the rows, e.g. statements, use this directly)."""
    trips, events = list(trips), list(events)
    counts = Counter(e.kind for e in events)
    return TripTotals(
        distance_m=sum(round(t.distance_m) for t in trips),
        duration_ms=sum(round(t.duration_s * 1000) for t in trips),
        idle_ms=sum(round(t.idle_s * 1000) for t in trips),
        night_ms=sum(round(t.night_s * 1000) for t in trips),
        speeding_ms=sum((e.end_ns - e.start_ns) // 1_000_000 for e in events if e.kind is EventKind.SPEEDING),
        harsh_brakes=counts[EventKind.HARSH_BRAKE],
        harsh_accels=counts[EventKind.HARSH_ACCEL],
        harsh_corners=counts[EventKind.HARSH_CORNER],
        speeding_events=counts[EventKind.SPEEDING],
    )


def driver_totals(session: Session, *, driver_id: int, start: datetime, end: datetime) -> TripTotals:
    """Totals of the driver's trips (over all their vehicles' devices) that ended in
    `[start, end)`: the same integers a trip's own score is computed from, added up."""
    start_ns, end_ns = ns_from_datetime(start), ns_from_datetime(end)
    trip_filter = (
        select(Trip.id)
        .join(Device, Device.id == Trip.device_id)
        .join(Vehicle, Vehicle.id == Device.vehicle_id)
        .where(Vehicle.driver_id == driver_id, Trip.end_ns >= start_ns, Trip.end_ns < end_ns)
    )
    trips = session.scalars(select(Trip).where(Trip.id.in_(trip_filter)).order_by(Trip.id)).all()
    events = session.scalars(select(TripEvent).where(TripEvent.trip_id.in_(trip_filter))).all()
    return totals_of(trips, events)


def driver_score(session: Session, *, driver_id: int, product: Product, as_of: datetime) -> tuple[Score, TripTotals]:
    """The rolling driver score: all trips ending in the product's window (30 days by default)
    before `as_of`, scored as one, with the totals it was computed from."""
    totals = driver_totals(
        session, driver_id=driver_id, start=as_of - timedelta(days=product.weights.driver_window_days), end=as_of
    )
    return score_totals(totals, product), totals
