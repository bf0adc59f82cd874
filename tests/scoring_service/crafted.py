"""Synthetic drives with known manoeuvres (crafted here, not recorded), for exact detector tests.

A drive is a list of legs, each with a duration, a constant longitudinal acceleration and a
constant yaw rate; `simulate` integrates them at a fixed rate into OBD speed, GPS speed, heading
and positions, so the truth (where each manoeuvre starts, peaks and ends) is known exactly.
"""

import math
from dataclasses import dataclass

import numpy as np

from scoring_service.trips import SampleArrays

T0_NS = 1_767_268_800 * 1_000_000_000  # 2026-01-01 12:00 UTC (14:00 in Helsinki)
HELSINKI = (60.1700, 24.9400)
M_PER_DEG_LAT = math.pi * 6_371_008.8 / 180


@dataclass(frozen=True)
class Leg:
    duration_s: float
    accel_ms2: float = 0.0
    yaw_deg_s: float = 0.0


def simulate(
    legs: list[Leg],
    *,
    hz: float = 10.0,
    speed_kmh: float = 0.0,
    start: tuple[float, float] = HELSINKI,
    heading_deg: float = 90.0,
    t0_ns: int = T0_NS,
) -> SampleArrays:
    """Samples of a drive over `legs`; the first sample is at `t0_ns`."""
    dt = 1.0 / hz
    lat, lon = start
    v = speed_kmh / 3.6
    heading = heading_deg
    cols: dict[str, list[float | int | None]] = {
        k: [] for k in ("time_ns", "lat", "lon", "speed_kmh", "gps_speed_kmh", "heading_deg")
    }
    t = 0.0

    def emit() -> None:
        cols["time_ns"].append(t0_ns + round(t * 1e9))
        cols["lat"].append(lat)
        cols["lon"].append(lon)
        cols["speed_kmh"].append(v * 3.6)
        cols["gps_speed_kmh"].append(v * 3.6)
        cols["heading_deg"].append(heading % 360)

    emit()
    for leg in legs:
        steps = round(leg.duration_s * hz)
        for _ in range(steps):
            v_next = max(0.0, v + leg.accel_ms2 * dt)
            step_m = (v + v_next) / 2 * dt
            h = math.radians(heading + leg.yaw_deg_s * dt / 2)
            lat += step_m * math.cos(h) / M_PER_DEG_LAT
            lon += step_m * math.sin(h) / (M_PER_DEG_LAT * math.cos(math.radians(lat)))
            v = v_next
            heading += leg.yaw_deg_s * dt
            t += dt
            emit()
    return SampleArrays.from_columns(cols)


def time_at(samples: SampleArrays, seconds: float) -> int:
    """The time_ns of the sample nearest `seconds` after the start."""
    return int(samples.time_ns[int(np.argmin(np.abs((samples.time_ns - samples.time_ns[0]) / 1e9 - seconds)))])


def follow(
    points: list[tuple[float, float]], *, speed_kmh: float, hz: float = 10.0, t0_ns: int = T0_NS
) -> SampleArrays:
    """Samples of a drive along a polyline of (lat, lon) at constant speed, with OBD speed and
    the course over ground, from the first point to the last."""
    lat = np.array([p[0] for p in points])
    lon = np.array([p[1] for p in points])
    m_per_deg_lon = M_PER_DEG_LAT * math.cos(math.radians(float(lat.mean())))
    x, y = (lon - lon[0]) * m_per_deg_lon, (lat - lat[0]) * M_PER_DEG_LAT
    along = np.concatenate(([0.0], np.cumsum(np.hypot(np.diff(x), np.diff(y)))))
    v = speed_kmh / 3.6
    t = np.arange(0.0, along[-1] / v, 1.0 / hz)
    s = t * v
    xs, ys = np.interp(s, along, x), np.interp(s, along, y)
    seg = np.clip(np.searchsorted(along, s, side="right") - 1, 0, len(points) - 2)
    course = np.degrees(np.arctan2(np.diff(x), np.diff(y)))[seg] % 360
    n = len(t)
    return SampleArrays.from_columns(
        {
            "time_ns": [t0_ns + round(ti * 1e9) for ti in t],
            "lat": list(lat[0] + ys / M_PER_DEG_LAT),
            "lon": list(lon[0] + xs / m_per_deg_lon),
            "speed_kmh": [speed_kmh] * n,
            "gps_speed_kmh": [speed_kmh] * n,
            "heading_deg": list(course),
        }
    )
