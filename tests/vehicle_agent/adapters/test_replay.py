"""Replaying recorded trips (read by `protocol`'s trip-file reader): timing, start-up errors and
the registry."""

import itertools
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.vehicle_agent.adapters.conftest import Feed
from vehicle_agent.adapters import (
    ENTRY_POINT_GROUP,
    AdapterConfigError,
    AdapterState,
    ReplayAdapter,
    ReplayConfig,
    TripFileError,
    adapter_kinds,
    create_adapter,
)

GPX = Path(__file__).parents[2] / "fixtures" / "around-visnjan-with-car.gpx"


def write(tmp_path: Path, text: str, name: str = "trip.csv") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_a_bad_trip_file_stops_the_replay_at_start_up_with_the_adapters_error(tmp_path: Path) -> None:
    path = write(tmp_path, "time,lat,lon,speed_kmh\n2020-12-18T06:15:50Z,95,13,10\n")
    with pytest.raises(TripFileError, match=r":2: lat 95.0 outside -90..90") as info:
        ReplayAdapter(ReplayConfig(path))
    assert str(path) in str(info.value)


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
