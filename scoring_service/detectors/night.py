"""Night driving: seconds driven inside the product's night window, in local time where the car is."""

from datetime import UTC, datetime
from functools import cache
from zoneinfo import ZoneInfo

import numpy as np

from scoring_service.detectors._base import TripView
from scoring_service.products import NightWindow, Product
from scoring_service.trips import FloatArray, IntArray

__all__ = ["local_hours", "night_s", "time_zone_at"]


@cache
def _finder() -> object:
    from timezonefinder import TimezoneFinder  # ~0.4 s to load its polygons: once per process

    # in memory: a finder reading its files lazily leaves them open until interpreter exit
    return TimezoneFinder(in_memory=True)


def time_zone_at(lat: float, lon: float) -> ZoneInfo:
    """The IANA time zone at a position (offline polygons); UTC at sea or off the map."""
    name = _finder().timezone_at(lng=lon, lat=lat)  # type: ignore[attr-defined]
    return ZoneInfo(name) if isinstance(name, str) else ZoneInfo("UTC")


def _offset_s(zone: ZoneInfo, time_ns: int) -> int:
    offset = datetime.fromtimestamp(time_ns // 1_000_000_000, UTC).astimezone(zone).utcoffset()
    return int(offset.total_seconds()) if offset is not None else 0


def local_hours(time_ns: IntArray, zone: ZoneInfo) -> FloatArray:
    """Local hour of day (0 <= h < 24, fractional) of each instant. One offset serves the whole
    trip unless a daylight-saving change falls inside it; then each sample gets its own."""
    if len(time_ns) == 0:
        return np.zeros(0)
    first, last = _offset_s(zone, int(time_ns[0])), _offset_s(zone, int(time_ns[-1]))
    if first == last:
        offsets: IntArray | int = first
    else:
        offsets = np.array([_offset_s(zone, int(t)) for t in time_ns], dtype=np.int64)
    local_s = time_ns // 1_000_000_000 + offsets
    return np.asarray((local_s % 86_400) / 3600.0, dtype=np.float64)


def _in_window(hours: FloatArray, window: NightWindow) -> np.ndarray:
    if window.start_hour <= window.end_hour:
        return (hours >= window.start_hour) & (hours < window.end_hour)
    return (hours >= window.start_hour) | (hours < window.end_hour)


def night_s(trip: TripView, product: Product) -> float:
    """Seconds of the trip whose intervals start inside the night window; the zone is the one at
    the trip's first fix (UTC for a trip without any fix)."""
    samples = trip.samples
    if len(samples) < 2:
        return 0.0
    fixes = np.flatnonzero(np.isfinite(samples.lat) & np.isfinite(samples.lon))
    zone = time_zone_at(float(samples.lat[fixes[0]]), float(samples.lon[fixes[0]])) if len(fixes) else ZoneInfo("UTC")
    at_night = _in_window(local_hours(samples.time_ns, zone), product.detectors.night)[:-1]
    dt = np.diff(trip.time_s)
    return float(np.sum(dt[at_night & (dt <= trip.max_gap_s)]))
