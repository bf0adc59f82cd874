"""Recorded trip files: the replay CSV the in-car agent records and replays, and GPX tracks.

CSV: a header row; required `time` (ISO 8601 with a zone), `lat`, `lon`, `speed_kmh`; optional
`heading_deg`, `rpm`, `throttle_pct`, `engine_load_pct`, `coolant_c`, `fuel_pct`. An empty cell is
a missing reading (never zero). `speed_kmh` is the vehicle's speed, as the agent's `Sample` names it.
"""

import csv
import math
from datetime import UTC, datetime, timedelta
from pathlib import Path

from scoring_service.errors import TripFileError
from scoring_service.trips import SampleArrays

__all__ = ["REQUIRED_COLUMNS", "read_trip_csv", "read_trip_file", "read_trip_gpx"]

REQUIRED_COLUMNS = ("time", "lat", "lon", "speed_kmh")
_OPTIONAL = ("heading_deg", "rpm", "throttle_pct", "engine_load_pct", "coolant_c", "fuel_pct")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _time_ns(moment: datetime) -> int:
    return (moment - _EPOCH) // timedelta(microseconds=1) * 1000


def _parse_time(text: str, line: int) -> int:
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError as exc:
        raise TripFileError(f"line {line}: time {text!r} is not ISO 8601") from exc
    if moment.tzinfo is None:
        raise TripFileError(f"line {line}: time {text!r} has no zone (write Z or +hh:mm)")
    return _time_ns(moment)


def _parse_number(text: str, column: str, line: int) -> float | None:
    if text.strip() == "":
        return None
    try:
        value = float(text)
    except ValueError as exc:
        raise TripFileError(f"line {line}: {column} {text!r} is not a number") from exc
    if not math.isfinite(value):
        raise TripFileError(f"line {line}: {column} {text!r} is not a finite number")
    return value


def read_trip_csv(path: Path) -> SampleArrays:
    """Samples of a replay CSV in file order (out-of-order rows are dropped later, by segmentation)."""
    try:
        with path.open(newline="", encoding="utf-8") as f:
            reader = csv.DictReader(f)
            header = reader.fieldnames or []
            missing = [c for c in REQUIRED_COLUMNS if c not in header]
            if missing:
                raise TripFileError(f"{path}: header lacks {', '.join(missing)} (has {', '.join(header)})")
            columns: dict[str, list[float | int | None]] = {
                name: [] for name in ("time_ns", "lat", "lon", "speed_kmh", "heading_deg", "rpm")
            }
            for row in reader:
                line = reader.line_num
                if None in row or any(v is None for v in row.values()):
                    raise TripFileError(f"line {line}: expected {len(header)} fields")
                columns["time_ns"].append(_parse_time(row["time"], line))
                for name in ("lat", "lon", "speed_kmh", "heading_deg", "rpm"):
                    columns[name].append(_parse_number(row.get(name, ""), name, line))
                for name in _OPTIONAL:
                    if name in row:
                        _parse_number(row[name], name, line)  # validated; not used by scoring
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise TripFileError(f"cannot read {path}: {exc}") from exc
    return SampleArrays.from_columns(columns)


def read_trip_gpx(path: Path) -> SampleArrays:
    """Timed track points of a GPX file (points without a time are skipped); the speed is GPS
    speed where the file has it, else derived from positions by the scoring code."""
    import gpxpy  # agent extra, installed with dev; only GPX input needs it
    import gpxpy.gpx

    try:
        with path.open(encoding="utf-8") as f:
            gpx = gpxpy.parse(f)
    except (OSError, UnicodeDecodeError, gpxpy.gpx.GPXException) as exc:
        raise TripFileError(f"cannot read {path}: {exc}") from exc
    columns: dict[str, list[float | int | None]] = {"time_ns": [], "lat": [], "lon": [], "gps_speed_kmh": []}
    for track in gpx.tracks:
        for segment in track.segments:
            for point in segment.points:
                if point.time is None:
                    continue
                moment = point.time if point.time.tzinfo else point.time.replace(tzinfo=UTC)
                columns["time_ns"].append(_time_ns(moment))
                columns["lat"].append(point.latitude)
                columns["lon"].append(point.longitude)
                columns["gps_speed_kmh"].append(None if point.speed is None else point.speed * 3.6)
    if not columns["time_ns"]:
        raise TripFileError(f"{path}: no timed track points")
    return SampleArrays.from_columns(columns)


def read_trip_file(path: Path) -> SampleArrays:
    """A trip file by its extension: `.gpx`, otherwise replay CSV."""
    return read_trip_gpx(path) if path.suffix.lower() == ".gpx" else read_trip_csv(path)
