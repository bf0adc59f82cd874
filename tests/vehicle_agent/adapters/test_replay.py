"""Recorded trips: the trip CSV format, the real GPX drive, replay timing and the registry."""

import io
import itertools
from collections.abc import Callable
from pathlib import Path

import pytest

from protocol import Sample
from tests.vehicle_agent.adapters.conftest import Feed
from vehicle_agent.adapters import (
    ENTRY_POINT_GROUP,
    TRIP_CSV_COLUMNS,
    AdapterConfigError,
    AdapterState,
    ReplayAdapter,
    ReplayConfig,
    TripCsvWriter,
    TripFileError,
    adapter_kinds,
    create_adapter,
    read_trip,
    read_trip_csv,
)

GPX = Path(__file__).parents[2] / "fixtures" / "around-visnjan-with-car.gpx"
HEADER = ",".join(TRIP_CSV_COLUMNS)


def write(tmp_path: Path, text: str, name: str = "trip.csv") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_the_real_gpx_drive_reads_as_timed_fixes() -> None:
    trip = read_trip(GPX)
    assert len(trip) == 104
    assert trip[0].time_ns == 1608272150_000_000_000  # 2020-12-18T06:15:50Z
    assert (trip[0].lat, trip[0].lon) == (45.273518851, 13.7142099626)
    assert trip[0].gps_speed_kmh is None  # no previous point: no speed, not zero
    assert all(b.time_ns > a.time_ns for a, b in itertools.pairwise(trip))
    speeds = [s.gps_speed_kmh for s in trip[1:]]
    assert all(v is not None and 0 <= v < 120 for v in speeds)
    assert all(s.heading_deg is not None and 0 <= s.heading_deg < 360 for s in trip[1:])
    assert (trip[0].speed_kmh, trip[0].rpm) == (None, None)  # a GPS has no OBD values


def test_csv_written_by_record_reads_back(tmp_path: Path) -> None:
    samples = [
        Sample(1608272150_000_000_000, lat=45.2735189, lon=13.71421, speed_kmh=12.5, rpm=1500.25, coolant_c=88.0),
        Sample(1608272151_250_000_000, lat=45.2735, lon=13.7142, gps_speed_kmh=13.0, heading_deg=181.5),
        Sample(1608272152_000_000_000, speed_kmh=14.0, throttle_pct=23.14, engine_load_pct=40.0, fuel_pct=61.96),
    ]
    out = io.StringIO()
    TripCsvWriter(out).write_all(samples)
    lines = out.getvalue().splitlines()
    assert lines[0] == HEADER
    assert lines[1] == "2020-12-18T06:15:50.000000+00:00,45.2735189,13.71421,12.5,,1500.25,,,88,"
    back = read_trip_csv(write(tmp_path, out.getvalue()))
    assert back[0] == samples[0]
    # The CSV has one speed column: the OBD speed, else the GPS speed; it replays as speed_kmh.
    assert back[1] == Sample(1608272151_250_000_000, lat=45.2735, lon=13.7142, speed_kmh=13.0, heading_deg=181.5)
    assert back[2] == samples[2]


def test_csv_minimal_columns_any_order_and_absent_values(tmp_path: Path) -> None:
    path = write(tmp_path, "speed_kmh,lon,lat,time\n50,13.7,45.2,2020-12-18T07:15:50+01:00\n,,,2020-12-18T06:15:51Z\n")
    assert read_trip_csv(path) == [
        Sample(1608272150_000_000_000, lat=45.2, lon=13.7, speed_kmh=50.0),
        Sample(1608272151_000_000_000),  # a second without fix and without OBD: all absent
    ]


def test_csv_nan_is_no_reading_and_rows_going_back_in_time_are_dropped(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        f"{HEADER}\n"
        "2020-12-18T06:15:50Z,45.2,13.7,nan,,inf,,,,\n"
        "2020-12-18T06:15:50Z,45.3,13.8,10,,,,,,\n"
        "2020-12-18T06:15:49Z,45.3,13.8,10,,,,,,\n"
        "2020-12-18T06:15:51Z,45.4,13.9,11,,,,,,\n",
    )
    trip = read_trip_csv(path)
    assert [s.lat for s in trip] == [45.2, 45.4]
    assert trip[0].speed_kmh is None and trip[0].rpm is None


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty file"),
        ("time,lat,lon\n", r"missing \['speed_kmh'\]"),
        ("time,lat,lon,speed_kmh,gear\n", r"unknown \['gear'\]"),
        ("time,lat,lon,speed_kmh\n2020-12-18T06:15:50,45,13,10\n", ":2: time .* has no zone"),
        ("time,lat,lon,speed_kmh\nyesterday,45,13,10\n", ":2: time 'yesterday' is not ISO 8601"),
        ("time,lat,lon,speed_kmh\n2020-12-18T06:15:50Z,45,13,10\n2020-12-18T06:15:51Z,45,13,fast\n", ":3: speed_kmh"),
        ("time,lat,lon,speed_kmh\n2020-12-18T06:15:50Z,95,13,10\n", r":2: lat 95.0 outside -90..90"),
        ("time,lat,lon,speed_kmh\n2020-12-18T06:15:50Z,45,13\n", ":2: 3 values for 4 columns"),
    ],
)
def test_bad_csv_is_refused_with_file_and_line(tmp_path: Path, text: str, message: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(TripFileError, match=message) as info:
        ReplayAdapter(ReplayConfig(path))
    assert str(path) in str(info.value)


def test_bad_trip_files_are_refused(tmp_path: Path) -> None:
    with pytest.raises(TripFileError, match="cannot read"):
        read_trip(tmp_path / "missing.csv")
    with pytest.raises(TripFileError, match="unknown trip file type"):
        read_trip(write(tmp_path, "x", "trip.kml"))
    with pytest.raises(TripFileError, match="not a readable GPX"):
        read_trip(write(tmp_path, "<gpx><trk>", "broken.gpx"))
    untimed = '<gpx version="1.1"><trk><trkseg><trkpt lat="45" lon="13"/></trkseg></trk></gpx>'
    with pytest.raises(TripFileError, match="no track points with a time"):
        read_trip(write(tmp_path, untimed, "untimed.gpx"))
    latin1 = tmp_path / "latin1.csv"
    latin1.write_bytes("time,lat,lon,speed_kmh\nMünchen\n".encode("latin-1"))
    with pytest.raises(TripFileError, match="not UTF-8"):
        read_trip_csv(latin1)


def test_replay_keeps_the_recorded_spacing(feed: Callable[[ReplayAdapter], Feed]) -> None:
    adapter = ReplayAdapter(ReplayConfig(GPX, speed=0))
    trip = adapter.trip
    got = feed(adapter).take(len(trip))
    assert [s.time_ns - got[0].time_ns for s in got] == [s.time_ns - trip[0].time_ns for s in trip]
    assert [s[1:] for s in got] == [s[1:] for s in trip]  # same values, rebased to now
    assert got[0].time_ns > trip[0].time_ns
    assert adapter.status().state is AdapterState.FINISHED


def test_replay_without_rebase_and_looping(feed: Callable[[ReplayAdapter], Feed], tmp_path: Path) -> None:
    path = write(tmp_path, "time,lat,lon,speed_kmh\n2020-12-18T06:15:50Z,45,13,10\n2020-12-18T06:15:52Z,45,13,20\n")
    adapter = ReplayAdapter(ReplayConfig(path, speed=0, loop=True, rebase_time=False))
    got = feed(adapter).take(5)
    start = 1608272150_000_000_000
    # Each lap continues the timeline one recorded gap after the last sample.
    assert [s.time_ns - start for s in got] == [n * 10**9 for n in (0, 2, 4, 6, 8)]
    assert [s.speed_kmh for s in got] == [10.0, 20.0, 10.0, 20.0, 10.0]


def test_accelerated_replay_is_paced_by_the_recording(feed: Callable[[ReplayAdapter], Feed], tmp_path: Path) -> None:
    rows = "".join(f"2020-12-18T06:16:{s:02d}Z,45,13,{s}\n" for s in range(0, 4))
    adapter = ReplayAdapter(ReplayConfig(write(tmp_path, "time,lat,lon,speed_kmh\n" + rows), speed=20))
    got = feed(adapter).take(4)
    assert [s.speed_kmh for s in got] == [0.0, 1.0, 2.0, 3.0]
    assert [b.time_ns - a.time_ns for a, b in itertools.pairwise(got)] == [10**9] * 3


def test_builtin_kinds_come_from_the_entry_point_group(tmp_path: Path) -> None:
    from importlib.metadata import entry_points

    declared = {ep.name for ep in entry_points(group=ENTRY_POINT_GROUP)}
    assert {"obd", "gpsd", "nmea", "replay"} <= declared
    assert adapter_kinds() == sorted(declared)
    adapter = create_adapter("replay", "trip", {"path": str(GPX), "speed": 0})
    assert isinstance(adapter, ReplayAdapter) and adapter.name == "trip"
    with pytest.raises(AdapterConfigError, match="unknown adapter kind 'can'"):
        create_adapter("can")
    with pytest.raises(AdapterConfigError, match="needs a path"):
        create_adapter("replay")
    with pytest.raises(AdapterConfigError, match=">= 0"):
        create_adapter("replay", options={"path": str(GPX), "speed": -1})
