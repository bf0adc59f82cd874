"""The one code path from samples to analysed trips, used by the service and by `neot score-file`."""

from collections import Counter
from dataclasses import dataclass

from models import EventKind
from scoring_service.detectors import DETECTORS, MEASURES, Event, view_trip
from scoring_service.products import Product
from scoring_service.speedlimits import SpeedLimitProvider
from scoring_service.trips import SampleArrays, Segmentation, segment_trips

__all__ = ["TripAnalysis", "TripTotals", "analyse_samples", "analyse_trip"]


@dataclass(frozen=True, slots=True)
class TripTotals:
    """What a score is computed from, in integers so that it is exact everywhere: metres,
    milliseconds and event counts. Totals of several trips add up field by field."""

    distance_m: int
    duration_ms: int
    idle_ms: int
    night_ms: int
    speeding_ms: int
    harsh_brakes: int
    harsh_accels: int
    harsh_corners: int
    speeding_events: int

    def count(self, kind: EventKind) -> int:
        """The number of events of one kind."""
        return {
            EventKind.HARSH_BRAKE: self.harsh_brakes,
            EventKind.HARSH_ACCEL: self.harsh_accels,
            EventKind.HARSH_CORNER: self.harsh_corners,
            EventKind.SPEEDING: self.speeding_events,
        }[kind]


@dataclass(frozen=True, slots=True)
class TripAnalysis:
    """One trip: its span, measures, events in registry order, and GPS jumps filtered out."""

    start_ns: int
    end_ns: int
    distance_m: float
    duration_s: float
    idle_s: float
    night_s: float
    gps_jumps: int
    sample_count: int
    events: tuple[Event, ...]

    def totals(self) -> "TripTotals":
        counts = Counter(e.kind for e in self.events)
        speeding_ms = sum((e.end_ns - e.start_ns) // 1_000_000 for e in self.events if e.kind is EventKind.SPEEDING)
        return TripTotals(
            distance_m=round(self.distance_m),
            duration_ms=round(self.duration_s * 1000),
            idle_ms=round(self.idle_s * 1000),
            night_ms=round(self.night_s * 1000),
            speeding_ms=speeding_ms,
            harsh_brakes=counts[EventKind.HARSH_BRAKE],
            harsh_accels=counts[EventKind.HARSH_ACCEL],
            harsh_corners=counts[EventKind.HARSH_CORNER],
            speeding_events=counts[EventKind.SPEEDING],
        )


def analyse_trip(
    samples: SampleArrays, product: Product, speed_limits: SpeedLimitProvider, *, gps_jumps: int = 0
) -> TripAnalysis:
    """Run every registered measure and detector over one trip's (cleaned) samples."""
    view = view_trip(samples, product, speed_limits)
    measures = {m.name: m.measure(view, product) for m in MEASURES}
    events = tuple(event for d in DETECTORS for event in d.detect(view, product))
    return TripAnalysis(
        start_ns=int(samples.time_ns[0]),
        end_ns=int(samples.time_ns[-1]),
        distance_m=measures["distance_m"],
        duration_s=measures["duration_s"],
        idle_s=measures["idle_s"],
        night_s=measures["night_s"],
        gps_jumps=gps_jumps,
        sample_count=len(samples),
        events=events,
    )


def analyse_samples(
    samples: SampleArrays, product: Product, speed_limits: SpeedLimitProvider, *, final: bool
) -> tuple[Segmentation, tuple[TripAnalysis, ...]]:
    """Segment one device's samples into trips and analyse each complete trip."""
    segmentation = segment_trips(samples, product.trips, final=final)
    trips = tuple(
        analyse_trip(segmentation.trip_samples(t), product, speed_limits, gps_jumps=t.gps_jumps)
        for t in segmentation.trips
    )
    return segmentation, trips
