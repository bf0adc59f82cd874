"""Recorded trips on disk: the trip CSV (written by `neot agent record`, read by replay) and GPX.

Trip CSV: UTF-8, one header line, one row per sample, comma-separated.

| column | required | unit / format |
| --- | --- | --- |
| `time` | yes | ISO 8601 with a zone (`2020-12-18T06:15:50.250+00:00` or `…Z`) |
| `lat`, `lon` | yes | degrees WGS 84 |
| `speed_kmh` | yes | km/h, the vehicle speed (OBD if recorded, else GPS) |
| `heading_deg`, `rpm`, `throttle_pct`, `engine_load_pct`, `coolant_c`, `fuel_pct` | no | as named |

The required columns must be in the header; in a row any value but `time` may be empty, which
means "no reading" (a tunnel without fix, a PID the car lacks), never zero. `nan`/`inf` read
as "no reading" too. Rows must go forward in time; a row not later than the previous one is
dropped (like a repeated GPS fix). Anything else malformed raises `TripFileError` naming the
file, line and column, before a single sample is replayed.
"""

import csv
import datetime as dt
import math
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO, Any

import structlog

from protocol import Sample
from vehicle_agent.adapters._base import TripFileError

__all__ = [
    "OPTIONAL_COLUMNS",
    "REQUIRED_COLUMNS",
    "TRIP_CSV_COLUMNS",
    "TripCsvWriter",
    "read_trip",
    "read_trip_csv",
    "read_trip_gpx",
]

_log = structlog.get_logger(__name__)

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
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def _to_ns(t: dt.datetime) -> int:
    return (t - _EPOCH) // dt.timedelta(microseconds=1) * 1000


def _iso(time_ns: int) -> str:
    t = _EPOCH + dt.timedelta(microseconds=time_ns // 1000)
    return t.isoformat(timespec="microseconds")


def read_trip(path: Path) -> list[Sample]:
    """A trip file by its suffix: `.csv` or `.gpx`."""
    match path.suffix.lower():
        case ".csv":
            return read_trip_csv(path)
        case ".gpx":
            return read_trip_gpx(path)
        case _:
            raise TripFileError(f"{path}: unknown trip file type {path.suffix!r} (use .csv or .gpx)")


def read_trip_csv(path: Path) -> list[Sample]:
    """Every sample of a trip CSV (see the module docstring for the format)."""
    try:
        with path.open(newline="", encoding="utf-8") as f:
            return list(_parse_csv(path, f))
    except OSError as exc:
        raise TripFileError(f"{path}: cannot read: {exc.strerror}") from exc
    except UnicodeDecodeError as exc:
        raise TripFileError(f"{path}: not UTF-8 text ({exc.reason})") from exc


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
    dropped = not_finite = 0
    for row in reader:
        line = reader.line_num
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(header):
            raise TripFileError(f"{path}:{line}: {len(row)} values for {len(header)} columns")
        cells = dict(zip(header, (c.strip() for c in row), strict=True))
        time_ns = _parse_time(path, line, cells["time"])
        values: dict[str, Any] = {}  # Sample fields by name
        for name in header[:]:
            if name == "time" or not cells[name]:
                continue
            try:
                value = float(cells[name])
            except ValueError:
                raise TripFileError(f"{path}:{line}: {name} {cells[name]!r} is not a number") from None
            if not math.isfinite(value):
                not_finite += 1
                continue
            lo, hi = _RANGES[name]
            if not lo <= value <= hi:
                raise TripFileError(f"{path}:{line}: {name} {value} outside {lo}..{hi}")
            values[name] = value
        if last_ns is not None and time_ns <= last_ns:
            dropped += 1
            continue
        last_ns = time_ns
        yield Sample(time_ns)._replace(**values)
    if dropped or not_finite:
        _log.warning("trip_csv_rows_skipped", path=str(path), not_later=dropped, not_finite_values=not_finite)


def _parse_time(path: Path, line: int, text: str) -> int:
    try:
        t = dt.datetime.fromisoformat(text)
    except ValueError:
        raise TripFileError(f"{path}:{line}: time {text!r} is not ISO 8601") from None
    if t.tzinfo is None:
        raise TripFileError(f"{path}:{line}: time {text!r} has no zone (add Z or +00:00)")
    return _to_ns(t.astimezone(dt.UTC))


def read_trip_gpx(path: Path) -> list[Sample]:
    """Track points with a time, in order: position, and speed and heading from the previous
    point (GPS-derived, so `gps_speed_kmh`). Points without a time are skipped; a file with
    none is an error. Waypoints and routes are ignored (they have no times)."""
    import gpxpy
    import gpxpy.geo
    import gpxpy.gpx

    try:
        with path.open(encoding="utf-8") as f:
            gpx = gpxpy.parse(f)
    except OSError as exc:
        raise TripFileError(f"{path}: cannot read: {exc.strerror}") from exc
    except (gpxpy.gpx.GPXException, UnicodeDecodeError) as exc:
        raise TripFileError(f"{path}: not a readable GPX file: {exc}") from exc
    samples: list[Sample] = []
    prev: gpxpy.gpx.GPXTrackPoint | None = None
    for track in gpx.tracks:
        for segment in track.segments:
            for point in segment.points:
                if point.time is None:
                    continue
                t = point.time if point.time.tzinfo else point.time.replace(tzinfo=dt.UTC)
                time_ns = _to_ns(t)
                if samples and time_ns <= samples[-1].time_ns:
                    continue
                speed_kmh = heading = None
                if prev is not None and prev.time is not None:
                    seconds = (point.time - prev.time).total_seconds()
                    metres = gpxpy.geo.haversine_distance(
                        prev.latitude, prev.longitude, point.latitude, point.longitude
                    )
                    speed_kmh = metres / seconds * 3.6 if seconds > 0 else None
                    heading = gpxpy.geo.get_course(prev.latitude, prev.longitude, point.latitude, point.longitude)
                    if heading is not None:
                        heading %= 360.0
                samples.append(
                    Sample(
                        time_ns, lat=point.latitude, lon=point.longitude, gps_speed_kmh=speed_kmh, heading_deg=heading
                    )
                )
                prev = point
    if not samples:
        raise TripFileError(f"{path}: no track points with a time")
    return samples


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
        row = [_iso(sample.time_ns)]
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
