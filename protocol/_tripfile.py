"""Recorded trips on disk, read the same way by the in-car agent (replay) and the server
(`neot score-file`): the trip CSV that `neot agent record` writes, and GPX tracks.

Trip CSV: UTF-8, one header line, one row per sample, comma-separated.

| column | required | unit / format |
| --- | --- | --- |
| `time` | yes | ISO 8601 with a zone (`2020-12-18T06:15:50.250+00:00` or `…Z`) |
| `lat`, `lon` | yes | degrees WGS 84 |
| `speed_kmh` | yes | km/h, the vehicle speed (OBD if recorded, else GPS) |
| `heading_deg`, `rpm`, `throttle_pct`, `engine_load_pct`, `coolant_c`, `fuel_pct` | no | as named |

The required columns must be in the header; in a row any value but `time` may be empty, which
means "no reading" (a tunnel without fix, a PID the car lacks), never zero; `nan`/`inf` read as
"no reading" too.

GPX (1.0 or 1.1): the timed track points, read with the standard library's XML parser. Speed and
course are the receiver's when the file records them (GPX 1.0 `<speed>`/`<course>`, or the same
names in a point's `<extensions>`, as Garmin's TrackPointExtension writes them), else derived
from the previous point (great-circle distance over time, initial bearing). Either way they are
GPS readings: `gps_speed_kmh`, `heading_deg`.

Rows or points not later than the one before are dropped (a repeated fix): a batch carries
strictly increasing times. Anything else malformed raises `TripFileError` naming the file, line
and column, before a single sample is used.
"""

import csv
import math
import xml.etree.ElementTree as ElementTree
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from protocol._errors import TripFileError
from protocol._sample import Sample
from protocol._time import datetime_from_ns, ns_from_datetime

__all__ = [
    "OPTIONAL_COLUMNS",
    "REQUIRED_COLUMNS",
    "TRIP_CSV_COLUMNS",
    "TripCsvWriter",
    "read_trip_csv",
    "read_trip_file",
    "read_trip_gpx",
]

REQUIRED_COLUMNS: tuple[str, ...] = ("time", "lat", "lon", "speed_kmh")
OPTIONAL_COLUMNS: tuple[str, ...] = ("heading_deg", "rpm", "throttle_pct", "engine_load_pct", "coolant_c", "fuel_pct")
TRIP_CSV_COLUMNS: tuple[str, ...] = REQUIRED_COLUMNS + OPTIONAL_COLUMNS
_RANGES: dict[str, tuple[float, float]] = {
    "lat": (-90, 90),
    "lon": (-180, 180),
    "speed_kmh": (0, 500),
    "heading_deg": (0, 360),
    "rpm": (0, 20_000),
    "throttle_pct": (0, 100),
    "engine_load_pct": (0, 100),
    "coolant_c": (-40, 215),
    "fuel_pct": (0, 100),
}
_EARTH_RADIUS_M = 6_371_008.8  # mean radius (IUGG)


def read_trip_file(path: Path) -> list[Sample]:
    """A trip file by its suffix: `.csv` or `.gpx`."""
    match path.suffix.lower():
        case ".csv":
            return read_trip_csv(path)
        case ".gpx":
            return read_trip_gpx(path)
        case _:
            raise TripFileError(f"{path}: unknown trip file type {path.suffix!r} (use .csv or .gpx)")


# --- trip CSV ----------------------------------------------------------------------------------


def read_trip_csv(path: Path) -> list[Sample]:
    """Every sample of a trip CSV (see the module docstring for the format)."""
    try:
        with path.open(newline="", encoding="utf-8") as f:
            return list(_parse_csv(path, f))
    except OSError as exc:
        raise TripFileError(f"{path}: cannot read: {exc.strerror}") from exc
    except UnicodeDecodeError as exc:
        raise TripFileError(f"{path}: not UTF-8 text ({exc.reason})") from exc
    except csv.Error as exc:
        raise TripFileError(f"{path}: not a CSV file: {exc}") from exc


def _parse_csv(path: Path, f: IO[str]) -> Iterator[Sample]:
    reader = csv.reader(f)
    header = next(reader, None)
    if header is None:
        raise TripFileError(f"{path}: empty file, expected a header with {', '.join(REQUIRED_COLUMNS)}")
    header = [h.strip() for h in header]
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    unknown = [c for c in header if c not in TRIP_CSV_COLUMNS]
    if missing or unknown or len(set(header)) != len(header):
        raise TripFileError(
            f"{path}:1: header must name {', '.join(REQUIRED_COLUMNS)} and optionally "
            f"{', '.join(OPTIONAL_COLUMNS)}, each once; missing {missing}, unknown {unknown}"
        )
    last_ns: int | None = None
    for row in reader:
        line = reader.line_num
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(header):
            raise TripFileError(f"{path}:{line}: {len(row)} values for {len(header)} columns")
        cells = dict(zip(header, (c.strip() for c in row), strict=True))
        time_ns = _parse_time(f"{path}:{line}", cells["time"])
        values: dict[str, Any] = {}  # Sample fields by name
        for name in header:
            if name == "time" or not cells[name]:
                continue
            try:
                value = float(cells[name])
            except ValueError:
                raise TripFileError(f"{path}:{line}: {name} {cells[name]!r} is not a number") from None
            if not math.isfinite(value):
                continue  # no reading
            lo, hi = _RANGES[name]
            if not lo <= value <= hi:
                raise TripFileError(f"{path}:{line}: {name} {value} outside {lo}..{hi}")
            values[name] = value
        if last_ns is not None and time_ns <= last_ns:
            continue
        last_ns = time_ns
        yield Sample(time_ns)._replace(**values)


def _parse_time(where: str, text: str) -> int:
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise TripFileError(f"{where}: time {text!r} is not ISO 8601") from None
    if moment.tzinfo is None:
        raise TripFileError(f"{where}: time {text!r} has no zone (add Z or +00:00)")
    return ns_from_datetime(moment)


class TripCsvWriter:
    """Writes samples as trip CSV rows (header first), flushing each row so an interrupted
    recording keeps what it wrote. `speed_kmh` is the OBD speed, else the GPS speed."""

    def __init__(self, out: IO[str]) -> None:
        self._out = out
        self._csv = csv.writer(out, lineterminator="\n")
        self._csv.writerow(TRIP_CSV_COLUMNS)
        self.rows = 0

    def write(self, sample: Sample) -> None:
        speed = sample.speed_kmh if sample.speed_kmh is not None else sample.gps_speed_kmh
        values: dict[str, float | None] = {
            "lat": sample.lat,
            "lon": sample.lon,
            "speed_kmh": speed,
            "heading_deg": sample.heading_deg,
            "rpm": sample.rpm,
            "throttle_pct": sample.throttle_pct,
            "engine_load_pct": sample.engine_load_pct,
            "coolant_c": sample.coolant_c,
            "fuel_pct": sample.fuel_pct,
        }
        row = [datetime_from_ns(sample.time_ns).isoformat(timespec="microseconds")]
        row += [_fmt(name, values[name]) for name in TRIP_CSV_COLUMNS[1:]]
        self._csv.writerow(row)
        self._out.flush()
        self.rows += 1

    def write_all(self, samples: Iterable[Sample]) -> None:
        for sample in samples:
            self.write(sample)


def _fmt(name: str, value: float | None) -> str:
    if value is None or not math.isfinite(value):
        return ""
    digits = 7 if name in ("lat", "lon") else 2
    return f"{value:.{digits}f}".rstrip("0").rstrip(".")


# --- GPX ---------------------------------------------------------------------------------------


def _local(tag: str) -> str:
    """`{namespace}name` → `name`: GPX 1.0, 1.1 and vendor extensions differ only in namespace."""
    return tag.rpartition("}")[2]


def _child_text(element: ElementTree.Element, name: str) -> str | None:
    """Text of the first descendant called `name` (any namespace), e.g. `<speed>` directly or
    inside `<extensions>`."""
    for child in element.iter():
        if child is not element and _local(child.tag) == name and child.text is not None:
            return child.text.strip()
    return None


def _number(where: str, name: str, text: str | None) -> float | None:
    if text is None or text == "":
        return None
    try:
        value = float(text)
    except ValueError:
        raise TripFileError(f"{where}: {name} {text!r} is not a number") from None
    return value if math.isfinite(value) else None


def _distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance (haversine)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * _EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))


def _bearing_deg(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Initial bearing from the first point to the second, 0..360 from north."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dl = math.radians(lon2 - lon1)
    y = math.sin(dl) * math.cos(p2)
    x = math.cos(p1) * math.sin(p2) - math.sin(p1) * math.cos(p2) * math.cos(dl)
    return math.degrees(math.atan2(y, x)) % 360.0


def _gpx_time(where: str, text: str) -> int:
    """GPX times are UTC by the schema; one written without a zone is read as UTC."""
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise TripFileError(f"{where}: time {text!r} is not ISO 8601") from None
    return ns_from_datetime(moment if moment.tzinfo else moment.replace(tzinfo=UTC))


def read_trip_gpx(path: Path) -> list[Sample]:
    """The timed track points of a GPX file, in order (see the module docstring). Points without
    a time are skipped; a file with none is an error. Waypoints and routes have no times: ignored."""
    try:
        root = ElementTree.parse(path).getroot()
    except OSError as exc:
        raise TripFileError(f"{path}: cannot read: {exc.strerror}") from exc
    except ElementTree.ParseError as exc:
        raise TripFileError(f"{path}: not a readable GPX file: {exc}") from exc
    if _local(root.tag) != "gpx":
        raise TripFileError(f"{path}: not a readable GPX file: the root element is <{_local(root.tag)}>, not <gpx>")
    samples: list[Sample] = []
    for index, point in enumerate(e for e in root.iter() if _local(e.tag) == "trkpt"):
        where = f"{path}: track point {index + 1}"
        time_text = next((c.text for c in point if _local(c.tag) == "time" and c.text), None)
        if time_text is None:
            continue
        time_ns = _gpx_time(where, time_text)
        if samples and time_ns <= samples[-1].time_ns:
            continue
        lat, lon = _number(where, "lat", point.get("lat")), _number(where, "lon", point.get("lon"))
        if lat is None or lon is None or not (-90 <= lat <= 90 and -180 <= lon <= 180):
            raise TripFileError(f"{where}: lat/lon {point.get('lat')!r}, {point.get('lon')!r} is not a position")
        speed_ms = _number(where, "speed", _child_text(point, "speed"))
        heading = _number(where, "course", _child_text(point, "course"))
        if samples and (speed_ms is None or heading is None):
            prev = samples[-1]
            if prev.lat is not None and prev.lon is not None:
                seconds = (time_ns - prev.time_ns) / 1e9
                if speed_ms is None:
                    speed_ms = _distance_m(prev.lat, prev.lon, lat, lon) / seconds
                if heading is None:
                    heading = _bearing_deg(prev.lat, prev.lon, lat, lon)
        samples.append(
            Sample(
                time_ns,
                lat=lat,
                lon=lon,
                gps_speed_kmh=None if speed_ms is None else speed_ms * 3.6,
                heading_deg=None if heading is None else heading % 360.0,
            )
        )
    if not samples:
        raise TripFileError(f"{path}: no track points with a time")
    return samples
