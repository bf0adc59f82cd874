"""A month of scripted drives for the demo's three cars, on real central-Helsinki roads.

SYNTHETIC DATA. No real OBD-II time series can be shipped (see NEO.md), so the demo's history is
scripted: routes follow real OpenStreetMap road segments (the speed-limit extract the scoring
service ships, © OpenStreetMap contributors, ODbL), and a driving style decides how hard the car
accelerates, brakes and turns and how far above the posted limit it cruises. Engine values come
from the same formulas the emulated car answers over OBD-II, so a replayed month and a live
emulator drive look alike to the scoring service.

Everything here is a pure function of the style and a seed: the same seed gives the same month.
"""

import csv
import gzip
import math
import random
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

__all__ = ["STYLES", "DriveStyle", "RoadGraph", "write_month"]

HELSINKI = ZoneInfo("Europe/Helsinki")
_EARTH_M = 6_371_000.0
_TURN_RADIUS_M = 12.0


@dataclass(frozen=True, slots=True)
class DriveStyle:
    """How one driver drives. Accelerations in m/s^2; `speed_factor` multiplies the posted limit."""

    name: str
    accel_ms2: float
    brake_ms2: float
    lateral_ms2: float
    speed_factor: float
    night_share: float
    trips_per_day: float
    #: share of starts and stops done at `hard_ms2` instead of the usual rates
    hard_share: float = 0.0
    hard_ms2: float = 4.5


STYLES: dict[str, DriveStyle] = {
    "calm": DriveStyle("calm", accel_ms2=1.2, brake_ms2=1.6, lateral_ms2=1.4, speed_factor=0.92,
                       night_share=0.0, trips_per_day=1.2),
    "average": DriveStyle("average", accel_ms2=1.8, brake_ms2=2.2, lateral_ms2=2.0, speed_factor=1.12,
                          night_share=0.08, trips_per_day=1.6, hard_share=0.03),
    "aggressive": DriveStyle("aggressive", accel_ms2=2.5, brake_ms2=2.7, lateral_ms2=2.6, speed_factor=1.25,
                             night_share=0.25, trips_per_day=2.0, hard_share=0.1, hard_ms2=4.6),
}  # fmt: skip

type Node = tuple[float, float]


@dataclass(frozen=True, slots=True)
class _Edge:
    to: Node
    length_m: float
    bearing_deg: float
    limit_kmh: float


class RoadGraph:
    """Undirected graph of the extract's road segments, keyed by rounded end points."""

    def __init__(self, segments: list[tuple[float, float, float, float, float]]) -> None:
        self._adj: dict[Node, list[_Edge]] = defaultdict(list)
        for limit, lat1, lon1, lat2, lon2 in segments:
            a, b = (round(lat1, 6), round(lon1, 6)), (round(lat2, 6), round(lon2, 6))
            if a == b:
                continue
            length = _distance_m(a, b)
            self._adj[a].append(_Edge(b, length, _bearing_deg(a, b), limit))
            self._adj[b].append(_Edge(a, length, _bearing_deg(b, a), limit))
        self.nodes = _largest_component(self._adj)

    @classmethod
    def from_segments_file(cls, path: Path) -> "RoadGraph":
        """Read the `way_id,maxspeed_kmh,lat1,lon1,lat2,lon2` segments the speed-limit provider uses."""
        with gzip.open(path, "rt", encoding="utf-8", newline="") as f:
            rows = list(csv.reader(f))[1:]
        return cls([(float(r[1]), float(r[2]), float(r[3]), float(r[4]), float(r[5])) for r in rows])

    def route(self, rng: random.Random, length_m: float) -> list[_Edge]:
        """A random walk of about `length_m` that avoids turning straight back where it can."""
        node = start = rng.choice(self.nodes)
        path: list[_Edge] = []
        came_from: Node | None = None
        total = 0.0
        while total < length_m:
            options = [e for e in self._adj[node] if e.to != came_from] or self._adj[node]
            edge = rng.choice(options)
            path.append(edge)
            total += edge.length_m
            came_from, node = node, edge.to
        # A zero-length first edge marks the start, so that edge k ends `positions[k]` metres in.
        return [_Edge(start, 0.0, path[0].bearing_deg, path[0].limit_kmh), *path]


def write_month(
    out: Path, graph: RoadGraph, style: DriveStyle, *, seed: int, end: date, days: int = 30
) -> tuple[int, float]:
    """Write `days` of this style's trips ending the day before `end` as one trip CSV (the replay
    format). Returns (trips, km). Trips are separated by hours of parking, so the scoring service's
    segmentation splits them exactly as it would a real car's day."""
    rng = random.Random(seed)
    trips, km = 0, 0.0
    with out.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(["time", "lat", "lon", "speed_kmh", "heading_deg", "rpm", "throttle_pct",
                         "engine_load_pct", "coolant_c", "fuel_pct"])  # fmt: skip
        for start in _departures(rng, style, end, days):
            route = graph.route(rng, rng.uniform(5_000, 12_000))
            for row in _drive(route, style, rng, start):
                writer.writerow(row)
            trips += 1
            km += sum(e.length_m for e in route) / 1000
    return trips, km


def _departures(rng: random.Random, style: DriveStyle, end: date, days: int) -> Iterator[datetime]:
    for offset in range(days, 0, -1):
        day = end - timedelta(days=offset)
        count = int(style.trips_per_day) + (rng.random() < style.trips_per_day % 1)
        hours = sorted(rng.choice((7.5, 8.2, 12.1, 16.8, 17.6, 19.4)) + rng.uniform(0, 0.6) for _ in range(count))
        if rng.random() < style.night_share:
            hours.append(24 + rng.uniform(0.3, 2.5))  # after midnight: night driving
        last_end = -10.0
        for hour in hours:
            hour = max(hour, last_end + 1.0)
            local = datetime.combine(day, datetime.min.time(), HELSINKI) + timedelta(hours=hour)
            last_end = hour + 0.5
            yield local.astimezone(UTC)


def _drive(route: list[_Edge], style: DriveStyle, rng: random.Random, start: datetime) -> Iterator[list[str]]:
    """1 Hz rows along `route`: speeds follow limits x style, stops at lights, slowdowns at turns.
    Between two stops the car keeps one cruise factor and one (usual or hard) braking rate; a
    hard start is a single burst of acceleration."""
    stops = _stop_points(route, rng)
    positions = _cumulative(route)
    total_m = positions[-1]
    v_ms, s_m, t_s, heading = 0.0, 0.0, 0, route[0].bearing_deg
    dwell = 0
    leg = _Leg.draw(style, rng)
    while s_m < total_m - 0.5 and t_s < 3 * 3600:
        edge = route[min(_edge_at(positions, s_m) + 1, len(route) - 1)]
        cruise = edge.limit_kmh / 3.6 * leg.speed_factor
        ahead = _next_constraint(route, positions, stops, s_m, style)
        # a hard stop is the leg's last braking; turns are taken at the usual rate
        brake_ms2 = leg.brake_ms2 if ahead is not None and ahead[1] == 0.0 else style.brake_ms2
        if ahead is not None:
            gap, v_at = ahead
            cruise = min(cruise, math.sqrt(v_at**2 + 2 * brake_ms2 * max(0.0, gap - 2)))
        if dwell > 0:
            dwell -= 1
            v_new = 0.0
        elif v_ms < cruise:
            v_new = min(cruise, v_ms + leg.accel_ms2)
            if v_new >= cruise:  # a hard start is one burst: once at cruise, the usual rate again
                leg = replace(leg, accel_ms2=style.accel_ms2)
        else:
            v_new = max(cruise, v_ms - brake_ms2)
        if v_new < 0.3 and any(abs(s - s_m) < 4 for s in stops):
            dwell = rng.randint(8, 40)
            stops = [s for s in stops if abs(s - s_m) >= 4]
            leg = _Leg.draw(style, rng)
            v_new = 0.0
        s_m = min(total_m, s_m + (v_ms + v_new) / 2)
        # yaw rate x speed stays within the style's lateral acceleration at either end of the step
        max_step_deg = math.degrees(leg.lateral_ms2 / max(v_ms, v_new, 1.0))
        v_ms = v_new
        t_s += 1
        target = route[min(_edge_at(positions, s_m) + 1, len(route) - 1)].bearing_deg
        heading = _turn_towards(heading, target, max_step_deg)
        lat, lon = _position(route, positions, s_m)
        yield _row(start + timedelta(seconds=t_s), lat, lon, v_ms, heading, style, t_s)


@dataclass(frozen=True, slots=True)
class _Leg:
    """How the car drives from one stop to the next."""

    speed_factor: float
    accel_ms2: float
    brake_ms2: float
    lateral_ms2: float

    @classmethod
    def draw(cls, style: DriveStyle, rng: random.Random) -> "_Leg":
        hard = rng.random() < style.hard_share
        return cls(
            speed_factor=style.speed_factor * rng.uniform(0.92, 1.08),
            accel_ms2=style.hard_ms2 if hard else style.accel_ms2,
            brake_ms2=style.hard_ms2 if hard and rng.random() < 0.7 else style.brake_ms2,
            lateral_ms2=style.lateral_ms2 * (1.3 if hard else 1.0),
        )


def _row(when: datetime, lat: float, lon: float, v_ms: float, heading: float, style: DriveStyle, t_s: int) -> list[str]:
    v_kmh = v_ms * 3.6
    gear = 110 if v_kmh < 15 else 65 if v_kmh < 30 else 45 if v_kmh < 50 else 35 if v_kmh < 70 else 28
    rpm = max(800.0, v_kmh * gear * (1.0 + (style.speed_factor - 0.9)))
    throttle = min(100.0, 12.0 + v_kmh * 0.3 * style.speed_factor)
    coolant = 20.0 + 70.0 * (1.0 - math.exp(-t_s / 120.0))
    return [when.isoformat(timespec="seconds"), f"{lat:.7f}", f"{lon:.7f}", f"{v_kmh:.2f}", f"{heading % 360:.1f}",
            f"{rpm:.0f}", f"{throttle:.1f}", f"{15 + 0.8 * throttle:.1f}", f"{coolant:.1f}", "55"]  # fmt: skip


def _stop_points(route: list[_Edge], rng: random.Random) -> list[float]:
    """Red lights and give-way junctions where the car stops, every 400-1200 m."""
    total = sum(e.length_m for e in route)
    stops, s = [], rng.uniform(400, 1200)
    while s < total - 50:
        stops.append(s)
        s += rng.uniform(400, 1200)
    return [*stops, total]


def _next_constraint(
    route: list[_Edge], positions: list[float], stops: list[float], s_m: float, style: DriveStyle
) -> tuple[float, float] | None:
    """(distance, speed to be at) for the nearest stop or sharp turn ahead within 150 m."""
    best: tuple[float, float] | None = None
    for stop in stops:
        if stop >= s_m - 1:
            best = (stop - s_m, 0.0)
            break
    turn_v = math.sqrt(style.lateral_ms2 * _TURN_RADIUS_M)
    for k in range(_edge_at(positions, s_m) + 1, len(route) - 1):
        gap = positions[k] - s_m
        if gap > 150:
            break
        if abs(_angle(route[k].bearing_deg, route[k + 1].bearing_deg)) > 35:
            if best is None or gap < best[0]:
                best = (gap, turn_v)
            break
    return best


def _cumulative(route: list[_Edge]) -> list[float]:
    out, total = [], 0.0
    for e in route:
        total += e.length_m
        out.append(total)
    return out


def _edge_at(positions: list[float], s_m: float) -> int:
    lo, hi = 0, len(positions) - 1
    while lo < hi:
        mid = (lo + hi) // 2
        if positions[mid] < s_m:
            lo = mid + 1
        else:
            hi = mid
    return max(0, lo - 1)


def _position(route: list[_Edge], positions: list[float], s_m: float) -> Node:
    i = _edge_at(positions, s_m)
    a = route[i].to
    j = min(i + 1, len(route) - 1)
    b = route[j].to
    span = positions[j] - positions[i]
    f = 0.0 if span <= 0 else min(1.0, max(0.0, (s_m - positions[i]) / span))
    return (a[0] + (b[0] - a[0]) * f, a[1] + (b[1] - a[1]) * f)


def _turn_towards(heading: float, target: float, max_step_deg: float) -> float:
    delta = _angle(heading, target)
    return (heading + max(-max_step_deg, min(max_step_deg, delta))) % 360


def _angle(a: float, b: float) -> float:
    """Signed smallest rotation from bearing a to bearing b, degrees."""
    return (b - a + 180) % 360 - 180


def _distance_m(a: Node, b: Node) -> float:
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * _EARTH_M * math.asin(math.sqrt(h))


def _bearing_deg(a: Node, b: Node) -> float:
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    y = math.sin(lon2 - lon1) * math.cos(lat2)
    x = math.cos(lat1) * math.sin(lat2) - math.sin(lat1) * math.cos(lat2) * math.cos(lon2 - lon1)
    return math.degrees(math.atan2(y, x)) % 360


def _largest_component(adj: dict[Node, list[_Edge]]) -> list[Node]:
    seen: set[Node] = set()
    best: list[Node] = []
    for start in sorted(adj):
        if start in seen:
            continue
        component, frontier = [start], [start]
        seen.add(start)
        while frontier:
            node = frontier.pop()
            for e in adj[node]:
                if e.to not in seen:
                    seen.add(e.to)
                    component.append(e.to)
                    frontier.append(e.to)
        if len(component) > len(best):
            best = component
    return sorted(best)
