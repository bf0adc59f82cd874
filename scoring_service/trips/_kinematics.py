"""Vectorised motion arithmetic over sample columns: distances, speeds, accelerations, headings.

Conventions: `time_s` is seconds from the trip's first sample (float64, exact to the ns for any
trip shorter than ~100 days); a per-interval value at index i describes [t_i, t_{i+1}) and holds
until the next sample, so a run of flagged samples lasts `t[end] - t[start]`.
"""

import math
from enum import StrEnum

import numpy as np
import numpy.typing as npt

from scoring_service.trips._arrays import FloatArray, IntArray, SampleArrays

type IndexArray = npt.NDArray[np.intp]

__all__ = [
    "EARTH_RADIUS_M",
    "SpeedSource",
    "bearing_rad",
    "differenced_from_positions",
    "drop_gps_jumps",
    "drop_out_of_order",
    "fill_gaps",
    "haversine_m",
    "heading_rad",
    "moving_average",
    "rate_per_s",
    "sample_speed_kmh",
    "seconds_since_start",
    "step_m",
    "trip_speed_ms",
    "window_bounds",
]

EARTH_RADIUS_M = 6_371_008.8  # IUGG mean radius
_RAD = math.pi / 180
_COVERAGE = 0.8  # share of samples a speed or heading source must fill to be used for a whole trip


def haversine_m(lat1: FloatArray, lon1: FloatArray, lat2: FloatArray, lon2: FloatArray) -> FloatArray:
    """Great-circle distance in metres, element-wise; NaN where a position is missing."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dp = p2 - p1
    dl = np.radians(lon2 - lon1)
    a = np.sin(dp / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return np.asarray(2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0))), dtype=np.float64)


def step_m(lat: FloatArray, lon: FloatArray) -> FloatArray:
    """Distances between consecutive fixes, metres (length n-1; NaN next to a missing fix).

    Consecutive fixes are metres apart, where the equirectangular formula equals the great
    circle to well under a millimetre; cos(latitude) comes from a second-order expansion around
    the first fix (relative error ~1e-6 within a degree of it), avoiding a cosine per sample:
    this runs on every sample of every trip.
    """
    if len(lat) < 2:
        return np.zeros(0)
    first = float(lat[0])
    if not math.isfinite(first):
        finite = lat[np.isfinite(lat)]
        first = float(finite[0]) if len(finite) else 0.0
    lat0 = math.radians(first)
    cos0, sin0 = math.cos(lat0), math.sin(lat0)
    d = lat[:-1] * _RAD - lat0
    cos_lat = cos0 - d * (sin0 + d * (cos0 / 2))
    dx = np.diff(lon)
    dx *= cos_lat
    dy = np.diff(lat)
    dx *= dx
    dy *= dy
    dx += dy
    np.sqrt(dx, out=dx)
    dx *= EARTH_RADIUS_M * _RAD
    return dx


def bearing_rad(lat1: FloatArray, lon1: FloatArray, lat2: FloatArray, lon2: FloatArray) -> FloatArray:
    """Initial great-circle bearing from point 1 to point 2, radians clockwise from north."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dl = np.radians(lon2 - lon1)
    y = np.sin(dl) * np.cos(p2)
    x = np.cos(p1) * np.sin(p2) - np.sin(p1) * np.cos(p2) * np.cos(dl)
    return np.asarray(np.arctan2(y, x), dtype=np.float64)


def seconds_since_start(time_ns: IntArray) -> FloatArray:
    """Times as float seconds from the first sample (subtracting first keeps ns precision)."""
    if len(time_ns) == 0:
        return np.zeros(0)
    return np.asarray((time_ns - time_ns[0]).astype(np.float64) / 1e9, dtype=np.float64)


def drop_out_of_order(samples: SampleArrays) -> SampleArrays:
    """Keep only samples strictly newer than every sample before them (a late fix is dropped)."""
    t = samples.time_ns
    if len(t) < 2:
        return samples
    previous_max = np.maximum.accumulate(t)[:-1]
    keep = np.concatenate(([True], t[1:] > previous_max))
    return samples if bool(keep.all()) else samples.take(keep)


def drop_gps_jumps(
    time_ns: IntArray, lat: FloatArray, lon: FloatArray, max_speed_ms: float
) -> tuple[FloatArray, FloatArray]:
    """Blank positions that imply a speed beyond `max_speed_ms` from the last good position.

    Returns new lat/lon arrays, NaN at the dropped fixes. The vectorised test
    finds the common case (no jump) in microseconds; only when one exists does a sequential walk
    decide which fixes are bad, since after a jump the reference is the last good fix, not the
    previous one.
    """
    valid = np.flatnonzero(np.isfinite(lat) & np.isfinite(lon))
    if len(valid) < 2:
        return lat, lon
    t_s = time_ns[valid].astype(np.float64) / 1e9
    d = step_m(lat[valid], lon[valid])
    dt = np.diff(t_s)
    if not bool(np.any(d > max_speed_ms * dt)):
        return lat, lon
    good = np.ones(len(valid), dtype=bool)
    last = 0
    vlat, vlon = lat[valid], lon[valid]
    for i in range(1, len(valid)):
        dist = float(haversine_m(vlat[last : last + 1], vlon[last : last + 1], vlat[i : i + 1], vlon[i : i + 1])[0])
        if dist > max_speed_ms * (t_s[i] - t_s[last]):
            good[i] = False
        else:
            last = i
    bad = valid[~good]
    lat, lon = lat.copy(), lon.copy()
    lat[bad] = np.nan
    lon[bad] = np.nan
    return lat, lon


def sample_speed_kmh(samples: SampleArrays) -> FloatArray:
    """Best speed per sample: OBD, else GPS, else implied by the distance from the previous fix."""
    speed = np.where(np.isfinite(samples.speed_kmh), samples.speed_kmh, samples.gps_speed_kmh)
    missing = ~np.isfinite(speed)
    if bool(missing.any()) and len(samples) > 1:
        implied = np.full(len(samples), np.nan)
        step = step_m(samples.lat, samples.lon)
        dt = np.diff(samples.time_ns).astype(np.float64) / 1e9
        implied[1:] = step / np.where(dt > 0, dt, np.nan) * 3.6
        speed = np.where(missing, implied, speed)
    return np.asarray(speed, dtype=np.float64)


def fill_gaps(time_s: FloatArray, values: FloatArray) -> FloatArray:
    """Linear interpolation over NaNs (held constant beyond the ends); all-NaN stays all-NaN."""
    ok = np.isfinite(values)
    if bool(ok.all()) or not bool(ok.any()):
        return values
    return np.interp(time_s, time_s[ok], values[ok])


class SpeedSource(StrEnum):
    """Where a trip's speed series comes from, best first."""

    OBD = "obd"
    GPS = "gps"
    POSITIONS = "positions"


def differenced_from_positions(samples: SampleArrays, time_s: FloatArray) -> bool:
    """Whether the GPS speed column is only the positions differenced, not a receiver's reading.

    A track replayed from a GPX file has no receiver speed; tools fill it from consecutive fixes,
    which carries the fixes' metre-level noise into the speed (at 1 Hz, several m/s^2 of fake
    acceleration). A receiver's Doppler speed never agrees with the fix-to-fix speed on nearly
    every moving sample; a differenced column does, to rounding.
    """
    n = len(samples)
    if n < 3:
        return False
    dt = np.diff(time_s)
    implied = step_m(samples.lat, samples.lon) / np.where(dt > 0, dt, np.nan) * 3.6
    speed = samples.gps_speed_kmh
    tolerance = np.maximum(0.5, 0.01 * speed)
    with np.errstate(invalid="ignore"):
        from_previous = np.concatenate(([False], np.abs(speed[1:] - implied) <= tolerance[1:]))
        to_next = np.concatenate((np.abs(speed[:-1] - implied) <= tolerance[:-1], [False]))
        moving = speed >= 5.0
    moving_count = np.count_nonzero(moving)
    agreeing = np.count_nonzero((from_previous | to_next) & moving)
    return bool(moving_count >= 3 and agreeing >= 0.9 * moving_count)


def trip_speed_ms(samples: SampleArrays, time_s: FloatArray) -> tuple[FloatArray, SpeedSource]:
    """One speed source for a whole trip, m/s, gaps interpolated, and which source it is.

    Mixing sources sample by sample would turn the offset between OBD and GPS speed into fake
    accelerations, so a trip uses OBD speed if it covers most samples, else GPS speed, else speed
    implied by positions. A GPS speed that is only positions differenced is replaced by speed
    implied by positions, so a replayed track scores as its positions do.
    """
    n = len(samples)
    for kind, source in ((SpeedSource.OBD, samples.speed_kmh), (SpeedSource.GPS, samples.gps_speed_kmh)):
        if n and np.count_nonzero(np.isfinite(source)) >= _COVERAGE * n:
            if kind is SpeedSource.GPS and differenced_from_positions(samples, time_s):
                break  # nothing beyond the positions: derive from them here, the same way as always
            return fill_gaps(time_s, source) / 3.6, kind
    implied = np.full(n, np.nan)
    if n > 1:
        step = step_m(samples.lat, samples.lon)
        dt = np.diff(time_s)
        implied[:-1] = step / np.where(dt > 0, dt, np.nan) * 3.6
    filled = fill_gaps(time_s, implied)
    return np.nan_to_num(filled, nan=0.0) / 3.6, SpeedSource.POSITIONS


def window_bounds(time_ns: IntArray, window_s: float) -> tuple[IndexArray, IndexArray]:
    """For each sample, the index range `[lo, hi)` of samples within +-window_s/2 of it
    (integer nanoseconds: exact, and binary search on integers is faster than on floats)."""
    half_ns = round(window_s * 5e8)
    lo = np.searchsorted(time_ns, time_ns - half_ns, side="left")
    hi = np.searchsorted(time_ns, time_ns + half_ns, side="right")
    return lo, hi


def moving_average(values: FloatArray, bounds: tuple[IndexArray, IndexArray]) -> FloatArray:
    """Centred moving average over windows from `window_bounds` (uneven sampling allowed);
    NaN-free input."""
    lo, hi = bounds
    cs = np.concatenate(([0.0], np.cumsum(values)))
    return np.asarray((cs[hi] - cs[lo]) / (hi - lo), dtype=np.float64)


def rate_per_s(time_s: FloatArray, values: FloatArray, max_gap_s: float) -> FloatArray:
    """d(values)/dt over each interval [t_i, t_{i+1}); NaN across gaps longer than `max_gap_s`
    and for the last sample."""
    out = np.full(len(values), np.nan)
    if len(values) < 2:
        return out
    dt = np.diff(time_s)
    rate = np.diff(values) / np.where(dt > 0, dt, np.nan)
    out[:-1] = np.where(dt <= max_gap_s, rate, np.nan)
    return out


def heading_rad(samples: SampleArrays, *, course_is_derived: bool = False) -> tuple[FloatArray, bool]:
    """Unwrapped heading for the trip, and whether it came from positions: the receiver's course
    if it covers most samples (and is not itself derived from fixes), else the bearing between
    consecutive fixes. Gaps are held from the previous value."""
    n = len(samples)
    from_positions = course_is_derived or not (
        n and np.count_nonzero(np.isfinite(samples.heading_deg)) >= _COVERAGE * n
    )
    if not from_positions:
        raw = np.radians(samples.heading_deg)
    else:
        raw = np.full(n, np.nan)
        if n > 1:
            raw[:-1] = bearing_rad(samples.lat[:-1], samples.lon[:-1], samples.lat[1:], samples.lon[1:])
            same = (samples.lat[:-1] == samples.lat[1:]) & (samples.lon[:-1] == samples.lon[1:])
            raw[:-1][same] = np.nan  # no movement, no bearing
    ok = np.isfinite(raw)
    if not bool(ok.any()):
        return np.zeros(n), from_positions
    # hold the last known heading over gaps, then unwrap so that 359 deg -> 1 deg is +2 deg
    idx = np.where(ok, np.arange(n), 0)
    np.maximum.accumulate(idx, out=idx)
    held = raw[idx]
    first = int(np.argmax(ok))
    held[:first] = raw[first]
    # unwrap: each step taken the short way round (np.unwrap does the same with more passes)
    step = (np.diff(held) + np.pi) % (2 * np.pi) - np.pi
    unwrapped = np.empty(n)
    unwrapped[0] = held[0]
    np.cumsum(step, out=unwrapped[1:])
    unwrapped[1:] += held[0]
    return unwrapped, from_positions
