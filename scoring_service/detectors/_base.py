"""What every detector shares: the trip view it reads, the event it returns, sustained runs."""

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np
import numpy.typing as npt

from models import EventKind
from scoring_service.products import Product
from scoring_service.speedlimits import SpeedLimitProvider
from scoring_service.trips import (
    FloatArray,
    IndexArray,
    SampleArrays,
    SpeedSource,
    heading_rad,
    moving_average,
    rate_per_s,
    seconds_since_start,
    trip_speed_ms,
    window_bounds,
)

__all__ = ["Detector", "Event", "Measure", "TripView", "event_at", "sustained_runs", "view_trip"]


@dataclass(frozen=True, slots=True)
class Event:
    """One detected event: when it started and ended, its peak (m/s^2 for harsh events, km/h over
    the limit for speeding) and where the peak happened (None without a fix there)."""

    kind: EventKind
    start_ns: int
    end_ns: int
    peak: float
    lat: float | None
    lon: float | None

    @property
    def duration_s(self) -> float:
        return (self.end_ns - self.start_ns) / 1e9


@dataclass(frozen=True, slots=True, eq=False)
class TripView:
    """One trip's samples with the series every detector needs, computed once."""

    samples: SampleArrays
    time_s: FloatArray
    #: the trip's single speed source (OBD, else GPS, else positions), m/s, gaps interpolated
    speed_ms: FloatArray
    #: unwrapped heading, radians clockwise from north
    heading_rad: FloatArray
    #: posted limit at each sample, km/h, NaN where unknown
    limit_kmh: FloatArray
    #: longest interval across which a rate is still computed
    max_gap_s: float
    speed_source: SpeedSource
    heading_from_positions: bool
    #: the least smoothing window for series derived from positions
    position_smoothing_s: float

    #: series derived on demand and shared by detectors (e.g. braking and acceleration)
    _memo: dict[tuple[str, float, float], FloatArray] = field(default_factory=dict, repr=False)

    def _bounds(self, window_s: float) -> tuple[IndexArray, IndexArray]:
        key = ("bounds", window_s, 0.0)
        if key not in self._memo:
            lo, hi = window_bounds(self.samples.time_ns, window_s)
            self._memo[key] = np.stack([lo, hi])
        both = self._memo[key]
        return both[0], both[1]

    def _smoothed(self, name: str, values: FloatArray, window_s: float) -> FloatArray:
        key = (name, window_s, 0.0)
        if key not in self._memo:
            self._memo[key] = values if window_s <= 0 else moving_average(values, self._bounds(window_s))
        return self._memo[key]

    def longitudinal_accel_ms2(self, window_s: float) -> FloatArray:
        """Acceleration along the road from speed over time, after a centred moving average
        (widened for speed derived from positions)."""
        window_s = self.speed_smoothing_s(window_s)
        key = ("accel", window_s, 0.0)
        if key not in self._memo:
            speed = self._smoothed("speed", self.speed_ms, window_s)
            self._memo[key] = rate_per_s(self.time_s, speed, self.max_gap_s)
        return self._memo[key]

    def lateral_accel_ms2(self, window_s: float) -> FloatArray:
        """Centripetal acceleration = yaw rate x speed (signed: positive turning right)."""
        speed_window_s, heading_window_s = self.speed_smoothing_s(window_s), self.heading_smoothing_s(window_s)
        key = ("lateral", speed_window_s, heading_window_s)
        if key not in self._memo:
            heading = self._smoothed("heading", self.heading_rad, heading_window_s)
            yaw_rate = rate_per_s(self.time_s, heading, self.max_gap_s)
            self._memo[key] = yaw_rate * self._smoothed("speed", self.speed_ms, speed_window_s)
        return self._memo[key]

    def speed_smoothing_s(self, window_s: float) -> float:
        """The smoothing window for speed: wider when speed is derived from positions."""
        if self.speed_source is SpeedSource.POSITIONS:
            return max(window_s, self.position_smoothing_s)
        return window_s

    def heading_smoothing_s(self, window_s: float) -> float:
        """The smoothing window for heading: wider for bearings between fixes."""
        return max(window_s, self.position_smoothing_s) if self.heading_from_positions else window_s


def view_trip(samples: SampleArrays, product: Product, speed_limits: SpeedLimitProvider) -> TripView:
    """Prepare a trip's samples for the detectors."""
    time_s = seconds_since_start(samples.time_ns)
    speed_ms, source = trip_speed_ms(samples, time_s)
    # GPS speed differenced from fixes means the course was too: a replayed track, not a receiver
    derived = source is SpeedSource.POSITIONS and bool(np.isfinite(samples.gps_speed_kmh).any())
    heading, heading_from_positions = heading_rad(samples, course_is_derived=derived)
    return TripView(
        samples=samples,
        time_s=time_s,
        speed_ms=speed_ms,
        heading_rad=heading,
        limit_kmh=speed_limits.limits_kmh(samples.lat, samples.lon),
        max_gap_s=product.trips.max_sample_gap_s,
        speed_source=source,
        heading_from_positions=heading_from_positions,
        position_smoothing_s=product.trips.position_smoothing_s,
    )


def sustained_runs(time_s: FloatArray, mask: npt.NDArray[np.bool_], min_duration_s: float) -> list[tuple[int, int]]:
    """Runs `[start, end)` of True lasting at least `min_duration_s`. A sample's value holds until
    the next sample, so a run lasts from its first sample to the sample after its last."""
    edges = np.diff(np.concatenate(([0], mask.astype(np.int8), [0])))
    starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    if len(starts) == 0:
        return []
    last = len(time_s) - 1
    durations = time_s[np.minimum(ends, last)] - time_s[starts]
    keep = durations >= min_duration_s
    return [(int(s), int(e)) for s, e in zip(starts[keep], ends[keep], strict=True)]


def event_at(trip: TripView, kind: EventKind, start: int, end: int, peak_index: int, peak: float) -> Event:
    """An event over samples `[start, end)` peaking at `peak_index`."""
    t = trip.samples.time_ns
    lat, lon = float(trip.samples.lat[peak_index]), float(trip.samples.lon[peak_index])
    located = np.isfinite(lat) and np.isfinite(lon)
    return Event(
        kind=kind,
        start_ns=int(t[start]),
        end_ns=int(t[min(end, len(t) - 1)]),
        peak=peak,
        lat=lat if located else None,
        lon=lon if located else None,
    )


type DetectFn = Callable[[TripView, Product], tuple[Event, ...]]
type MeasureFn = Callable[[TripView, Product], float]


class Detector(NamedTuple):
    """A registered event detector: the kind it finds and the pure function that finds it."""

    kind: EventKind
    detect: DetectFn


class Measure(NamedTuple):
    """A registered trip measure (a number, not events), named with its unit."""

    name: str
    measure: MeasureFn
