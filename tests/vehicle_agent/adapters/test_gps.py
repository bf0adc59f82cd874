"""GPS adapters against real gpsd (driven by gpsfake) and a raw NMEA stream on a real pty."""

import os
import signal
import socket
import subprocess
import threading
import time
import tty
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from protocol import Sample
from tests.vehicle_agent.adapters.conftest import Feed, wait_until
from tests.vehicle_agent.adapters.nmea_from_gpx import HDOP, SATELLITES, gpx_fixes, sentences
from vehicle_agent.adapters import (
    AdapterState,
    GpsdAdapter,
    GpsdConfig,
    NmeaAdapter,
    ReadDtcs,
    UnsupportedSignal,
    create_adapter,
    fix_from_tpv,
)

type StartFeed = Callable[[GpsdAdapter | NmeaAdapter], Feed]
N_FIXES = 25


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _same_fix(got: Sample, want: Sample, speed_tol_kmh: float = 0.1) -> None:
    """NMEA carries 1/10000 of an arc minute (< 1 cm of latitude), speed to 0.1 knot (gpsd
    smooths speed over fixes, hence its own tolerance)."""
    assert got.time_ns == want.time_ns
    assert got.lat == pytest.approx(want.lat, abs=2e-6)
    assert got.lon == pytest.approx(want.lon, abs=2e-6)
    assert got.gps_speed_kmh == pytest.approx(want.gps_speed_kmh or 0.0, abs=speed_tol_kmh)
    assert (got.speed_kmh, got.rpm) == (None, None)


@pytest.fixture
def gpsfake(gpsfake_bin: str, tmp_path: Path) -> Iterator[tuple[int, subprocess.Popen[bytes]]]:
    """gpsfake feeding the NMEA drive once (it starts when the first client connects)."""
    log = tmp_path / "drive.nmea"
    # gpsd takes about a second to open and recognise the device: 40 s of no fix cover that.
    log.write_text("\r\n".join(sentences(gpx_fixes(N_FIXES), no_fix_s=40)) + "\r\n")
    port = _free_port()
    with (tmp_path / "gpsfake.log").open("wb") as err:
        proc = subprocess.Popen(
            [gpsfake_bin, "-1", "-q", "-c", "0.02", "-P", str(port), str(log)],
            stdout=subprocess.DEVNULL, stderr=err, start_new_session=True,
        )  # fmt: skip
    deadline = time.monotonic() + 10
    while not _listening(port):  # not by connecting: a client would start the drive too early
        if time.monotonic() > deadline or proc.poll() is not None:
            pytest.fail(f"gpsfake did not listen on {port}: {(tmp_path / 'gpsfake.log').read_text()}")
        time.sleep(0.05)
    yield port, proc
    _kill_group(proc)


def _listening(port: int) -> bool:
    """Whether a socket listens on `port` (Linux /proc/net/tcp{,6}, state 0A = LISTEN)."""
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table) as f:
            for row in f.readlines()[1:]:
                local, state = row.split()[1], row.split()[3]
                if state == "0A" and int(local.rsplit(":", 1)[1], 16) == port:
                    return True
    return False


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(3)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def test_gpsd_fixes_are_the_drive_once_each_and_its_loss_is_a_state(
    gpsfake: tuple[int, subprocess.Popen[bytes]], feed: StartFeed
) -> None:
    port, proc = gpsfake
    adapter = GpsdAdapter(GpsdConfig(port=port, timeout_s=3, reconnect_initial_s=0.2, reconnect_max_s=0.5))
    running = feed(adapter)
    want = {s.time_ns: s for s in gpx_fixes(N_FIXES)}
    got: list[Sample] = []
    while not got or got[-1].time_ns != max(want):
        got += running.take(1)
    times = [s.time_ns for s in got]
    assert times == sorted(set(times)), "one sample per fix time, in order"
    assert len(got) >= N_FIXES - 2
    for sample in got:
        _same_fix(sample, want[sample.time_ns], speed_tol_kmh=1.0)  # nothing from the no-fix seconds
        assert sample.hdop in (None, HDOP)
    assert adapter.status().samples == len(got)
    _kill_group(proc)
    wait_until(lambda: adapter.status().state is AdapterState.RECONNECTING, what="gpsd gone")


def test_gpsd_unreachable_is_retried_and_never_raises(feed: StartFeed) -> None:
    adapter = GpsdAdapter(GpsdConfig(port=_free_port(), reconnect_initial_s=0.05, reconnect_max_s=0.1))
    running = feed(adapter)
    wait_until(lambda: adapter.status().faults >= 3, what="three failed attempts")
    assert adapter.status().state is AdapterState.RECONNECTING
    assert running.samples.empty()
    with pytest.raises(UnsupportedSignal):
        adapter.signal(ReadDtcs())


NOISE = [
    b"\x00\xff\xfe\x81garbage\r\n",
    b"$GPRMC,061550.00,A,4516.4111,N,01342.8526,E,0.0,0.0,181220,,*00\r\n",  # bad checksum
    b"$GPGGA,0616\r\n",  # torn sentence
    b"$GPRMC,061550.00,A,45x6.4111,N,01342.8526,E,0.0,0.0,181220,,*",  # torn, then continues
]


def test_nmea_serial_stream_with_line_noise(feed: StartFeed) -> None:
    master, slave = os.openpty()
    tty.setraw(slave)
    fixes = gpx_fixes(N_FIXES)
    lines = [s.encode() + b"\r\n" for s in sentences(fixes)]
    for i, junk in enumerate(NOISE):
        lines.insert(4 + 9 * i, junk)

    def write() -> None:
        for line in lines:
            os.write(master, line)
            time.sleep(0.002)

    adapter = create_adapter("nmea", "gps", {"port": os.ttyname(slave), "read_timeout_s": 0.5})
    assert isinstance(adapter, NmeaAdapter)
    running = feed(adapter)
    writer = threading.Thread(target=write)
    writer.start()
    try:
        got = running.take(N_FIXES)
        writer.join()
        for sample, want in zip(got, fixes, strict=True):
            _same_fix(sample, want)
        # A torn sentence glued to the next line costs that fix its GGA: no HDOP, never a 0.
        quality = [(s.hdop, s.satellites) for s in got]
        assert set(quality) <= {(HDOP, SATELLITES), (None, None)}
        assert quality.count((HDOP, SATELLITES)) >= N_FIXES - 1
        assert adapter.status().faults >= 3
        assert running.drain() == []  # the repeated RMC did not make a second sample
    finally:
        adapter.close()
        running.finished.wait(5)
        os.close(master)
        os.close(slave)


@pytest.mark.parametrize(
    ("tpv", "sky", "want"),
    [
        ({"class": "TPV", "mode": 1, "time": "2020-12-18T06:15:50.000Z"}, None, None),
        ({"class": "TPV", "mode": 3, "lat": 45.0, "lon": 13.0}, None, None),  # no time yet
        (
            {"mode": 3, "time": "2020-12-18T06:15:50.500Z", "lat": 45.5, "lon": 13.5, "speed": 10.0, "track": 90.5},
            {"hdop": 1.2, "uSat": 7},
            Sample(1608272150_500_000_000, 45.5, 13.5, 36.0, 90.5, 1.2, 7),
        ),
        (
            {"mode": 2, "time": "2020-12-18T06:15:50Z", "lat": 45.5, "lon": 13.5, "speed": float("nan")},
            {"hdop": 2.0, "satellites": [{"used": True}, {"used": False}, {"used": True}]},
            Sample(1608272150_000_000_000, 45.5, 13.5, None, None, 2.0, 2),
        ),
    ],
)
def test_tpv_reports_become_samples(tpv: dict[str, object], sky: dict[str, object] | None, want: Sample | None) -> None:
    assert fix_from_tpv(tpv, sky) == want
