"""`neot agent record` against a real emulated car and real gpsd: its CSV replays."""

import subprocess
import sys
import time
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from demo.emulated_car import EmulatedCar
from protocol import TRIP_CSV_COLUMNS, read_trip_csv, read_trip_file
from tests.vehicle_agent.adapters.nmea_from_gpx import gpx_fixes, sentences
from tests.vehicle_agent.adapters.test_gps import _free_port, _kill_group, _listening
from vehicle_agent import AgentUsageError
from vehicle_agent.adapters import ReplayAdapter, ReplayConfig
from vehicle_agent.adapters.cli import record

# `python -m vehicle_agent` is the agent's own entry (what `neot agent` runs on the in-car box).
AGENT = [sys.executable, "-m", "vehicle_agent"]


def test_record_writes_a_trip_csv_that_replays(tmp_path: Path, gpsfake_bin: str) -> None:
    # The real drive's positions, one a second from now on (as gpsfake plays them), so that the
    # sampler merges them with the OBD readings as it would on the road.
    start_ns = (time.time_ns() // 10**9 + 1) * 10**9
    fixes = [f._replace(time_ns=start_ns + i * 10**9) for i, f in enumerate(gpx_fixes(30))]
    log = tmp_path / "drive.nmea"
    log.write_text("\r\n".join(sentences(fixes, no_fix_s=2)) + "\r\n")
    port = _free_port()
    with (tmp_path / "gpsfake.log").open("wb") as err:
        gps = subprocess.Popen(
            [gpsfake_bin, "-1", "-q", "-c", "0.33", "-P", str(port), str(log)],
            stdout=subprocess.DEVNULL, stderr=err, start_new_session=True,
        )  # fmt: skip
    out = tmp_path / "trip.csv"
    try:
        while not _listening(port):
            time.sleep(0.05)
        with EmulatedCar.start("average", "tcp", start_s=30.0, log_path=tmp_path / "elm.log") as car:
            result = subprocess.run(
                [*AGENT, "record", "--out", str(out), "--obd", car.url, "--obd-protocol", "6",
                 "--pids", "SPEED,RPM,COOLANT_TEMP", "--gpsd", f"127.0.0.1:{port}", "--rate", "2",
                 "--duration", "6"],
                capture_output=True, text=True, timeout=60,
            )  # fmt: skip
    finally:
        _kill_group(gps)
    assert result.returncode == 0, result.stderr
    assert out.read_text().splitlines()[0] == ",".join(TRIP_CSV_COLUMNS)
    trip = read_trip_csv(out)
    assert len(trip) >= 6
    assert all(s.rpm is not None and s.rpm >= 800 for s in trip if s.speed_kmh is not None and s.lat is None)
    assert sum(s.rpm is not None for s in trip) >= 5
    with_fix = [s for s in trip if s.lat is not None]
    assert with_fix, "GPS rows merged in"
    near = [f for f in fixes if abs(f.lat - with_fix[0].lat) < 1e-5 and abs(f.lon - with_fix[0].lon) < 1e-5]  # type: ignore[operator]
    assert near, "a recorded position is one of the drive's"
    replayed = list(ReplayAdapter(ReplayConfig(out, speed=0, rebase_time=False)).data())
    assert replayed == trip


def _record(*args: str) -> BaseException | None:
    app = typer.Typer()
    app.command()(record)
    return CliRunner().invoke(app, list(args)).exception


def test_record_refuses_to_overwrite_and_needs_a_source(tmp_path: Path) -> None:
    out = tmp_path / "trip.csv"
    out.write_text("keep me")
    refused = _record("--out", str(out), "--obd", "/dev/null")
    assert isinstance(refused, AgentUsageError) and "exists" in str(refused) and out.read_text() == "keep me"
    empty = _record("--out", str(tmp_path / "new.csv"))
    assert isinstance(empty, AgentUsageError) and "no adapters to record from" in str(empty)
    bad = _record("--out", str(tmp_path / "n.csv"), "--gpsd", "nowhere")
    assert isinstance(bad, AgentUsageError) and "is not host:port" in str(bad)
    unknown_pid = _record("--out", str(tmp_path / "p.csv"), "--obd", "/dev/null", "--pids", "SPEED,WARP")
    assert isinstance(unknown_pid, AgentUsageError) and "unknown PIDs ['WARP']" in str(unknown_pid)
    assert not (tmp_path / "p.csv").exists()


def test_record_from_an_agent_config_converts_a_gpx_drive_to_csv(tmp_path: Path) -> None:
    gpx = Path(__file__).parents[2] / "fixtures" / "around-visnjan-with-car.gpx"
    config = tmp_path / "agent.toml"
    config.write_text(
        f'[server]\nurl = "http://127.0.0.1:9"\n\n[[adapters]]\nkind = "replay"\npath = "{gpx}"\nspeed = 0\n'
        "rebase_time = false\n"
    )
    out = tmp_path / "visnjan.csv"
    assert _record("--out", str(out), "--config", str(config)) is None
    trip = read_trip_csv(out)
    drive = read_trip_file(gpx)
    assert len(trip) == len(drive) == 104
    assert [s.time_ns for s in trip] == [s.time_ns for s in drive]
    assert trip[5].lat == pytest.approx(drive[5].lat, abs=1e-7)
    assert trip[5].speed_kmh == pytest.approx(drive[5].gps_speed_kmh, abs=0.01)  # GPS speed fills the column
