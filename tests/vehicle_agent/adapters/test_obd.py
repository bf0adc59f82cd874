"""The OBD-II adapter against the real ELM327-emulator, over a pty and over TCP."""

import logging
import socket
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from demo.emulated_car import DEFAULT_VIN, EmulatedCar
from protocol import Ack, Configure, StatusQuery
from tests.vehicle_agent.adapters.conftest import Feed, wait_until
from vehicle_agent.adapters import (
    PID_FIELDS,
    AdapterConfigError,
    AdapterState,
    ClearDtcs,
    DtcReport,
    ObdAdapter,
    ObdConfig,
    ReadDtcs,
    create_adapter,
    decode_vin,
)

type StartFeed = Callable[[ObdAdapter], Feed]


def config(car: EmulatedCar, **overrides: object) -> ObdConfig:
    options: dict[str, object] = {
        "port": car.url, "protocol": "6", "fast": False, "sample_rate_hz": 10,
        "reconnect_initial_s": 0.3, "reconnect_max_s": 1.0,
    }  # fmt: skip
    options.update(overrides)
    return ObdConfig.from_options(options)


def pct(x: float) -> float:
    """A percentage after the OBD-II byte encoding (A * 100 / 255)."""
    return round(x * 255 / 100) * 100 / 255


def test_reads_every_pid_in_the_units_of_its_field(frozen_car: EmulatedCar, feed: StartFeed) -> None:
    adapter = ObdAdapter(config(frozen_car, pids=list(PID_FIELDS)))
    sample = feed(adapter).take(2)[-1]
    want = frozen_car.values_at(20.0)
    assert sample.speed_kmh == round(want["speed_kmh"]) == 94
    assert sample.rpm == round(want["rpm"] * 4) / 4
    assert sample.throttle_pct == pytest.approx(pct(want["throttle_pct"]))
    assert sample.engine_load_pct == pytest.approx(pct(want["engine_load_pct"]))
    assert sample.coolant_c == round(want["coolant_c"])
    assert sample.fuel_pct == pytest.approx(pct(want["fuel_pct"]))
    assert sample.maf_gs == pytest.approx(round(want["maf_gs"] * 100) / 100)
    # OBD gives no position: those fields are absent, not zero.
    assert (sample.lat, sample.lon, sample.gps_speed_kmh, sample.hdop) == (None, None, None, None)
    assert abs(sample.time_ns - time.time_ns()) < 10 * 10**9  # stamped with UTC now, in ns
    status = adapter.status()
    assert status.state is AdapterState.OK
    assert status.info["vin"] == DEFAULT_VIN  # starts with "1", which python-obd's decoder drops
    assert "15765" in status.info["protocol"]


def test_configure_signal_sets_rate_and_pids(frozen_car: EmulatedCar, feed: StartFeed) -> None:
    adapter = ObdAdapter(config(frozen_car, pids=["SPEED"]))
    status = adapter.signal(Configure(config_id=7, sample_rate_hz=5, pids=("RPM", "FUEL_LEVEL", "GEAR_RATIO")))
    assert status is not None and not isinstance(status, DtcReport)
    assert status.pids == ("RPM", "FUEL_LEVEL")
    assert status.sample_rate_hz == 5
    assert status.info["ignored_pids"] == "GEAR_RATIO"
    sample = feed(adapter).take(2)[-1]
    assert sample.speed_kmh is None and sample.rpm is not None
    assert sample.fuel_pct == pytest.approx(pct(frozen_car.values_at(20.0)["fuel_pct"]))
    queried = adapter.signal(StatusQuery())
    assert queried is not None and not isinstance(queried, DtcReport) and queried.state is AdapterState.OK
    assert adapter.signal(Ack(seq=3)) is None


def test_trouble_codes_are_read_and_cleared_through_signals(frozen_car: EmulatedCar, feed: StartFeed) -> None:
    adapter = ObdAdapter(config(frozen_car))
    assert adapter.signal(ReadDtcs()) == DtcReport(ok=False, detail="not connected (starting)")
    feed(adapter).take(1)
    assert adapter.signal(ReadDtcs()) == DtcReport(ok=True, codes=())
    frozen_car.raise_dtc("P0301")
    frozen_car.raise_dtc("C0035")
    report = adapter.signal(ReadDtcs())
    assert isinstance(report, DtcReport) and report.ok
    assert [d.code for d in report.codes] == ["P0301", "C0035"]
    assert report.codes[0].description == "Cylinder 1 Misfire Detected"
    cleared = adapter.signal(ClearDtcs())
    assert cleared == DtcReport(ok=True, codes=(), cleared=True)
    assert frozen_car.dtcs() == []


def test_line_noise_is_no_reading_never_zero(frozen_car: EmulatedCar, feed: StartFeed) -> None:
    adapter = ObdAdapter(config(frozen_car, pids=["SPEED", "RPM"], silent_ticks=50))
    running = feed(adapter)
    running.take(1)
    rpm = round(frozen_car.values_at(20.0)["rpm"] * 4) / 4
    since_ns = time.time_ns() - 50_000_000
    frozen_car.garbage(5)  # two ticks of noise only (no sample at all), then one half-noisy tick
    during = [s for s in running.take(8) if s.time_ns >= since_ns]
    for sample in during:
        assert sample.speed_kmh in (None, 94.0)
        assert sample.rpm in (None, rpm)
    assert any(s.speed_kmh is None or s.rpm is None for s in during)
    wait_until(lambda: adapter.status().faults >= 1, what="line noise counted")
    wait_until(lambda: running.take(1)[0][7:9] == (94.0, rpm), what="clean readings again")
    assert adapter.status().state is AdapterState.OK


def test_ignition_off_is_a_state_and_switching_on_resumes(frozen_car: EmulatedCar, feed: StartFeed) -> None:
    adapter = ObdAdapter(config(frozen_car, pids=["SPEED"], silent_ticks=3))
    running = feed(adapter)
    running.take(1)
    frozen_car.ignition(False)
    wait_until(lambda: adapter.status().state is AdapterState.IGNITION_OFF, what="ignition_off")
    running.drain()
    frozen_car.ignition(True)
    assert running.take(1, timeout_s=30)[0].speed_kmh == 94.0
    assert adapter.status().state is AdapterState.OK


@pytest.mark.parametrize("fault", ["emulator killed and restarted", "wifi link dropped"])
def test_adapter_lost_then_back_reconnects(tcp_car: EmulatedCar, feed: StartFeed, fault: str) -> None:
    adapter = ObdAdapter(config(tcp_car, pids=["SPEED", "COOLANT_TEMP"]))
    running = feed(adapter)
    running.take(1)
    if fault.startswith("emulator"):
        tcp_car.stop()
        wait_until(lambda: adapter.status().state is AdapterState.RECONNECTING, what="reconnecting")
        failed = adapter.status().faults
        wait_until(lambda: adapter.status().faults >= failed + 2, what="repeated connect attempts")
        tcp_car.restart()
    else:
        tcp_car.drop_client()
    running.drain()
    sample = running.take(1, timeout_s=30)[0]
    assert sample.coolant_c is not None and sample.speed_kmh is not None
    assert adapter.status().state is AdapterState.OK


@pytest.mark.parametrize("port", ["socket://127.0.0.1:{free}", "/dev/no-such-elm327"])
def test_unreachable_adapter_is_retried_and_never_raises(feed: StartFeed, port: str) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        free = s.getsockname()[1]
    adapter = ObdAdapter(ObdConfig(port.format(free=free), reconnect_initial_s=0.05, reconnect_max_s=0.1))
    running = feed(adapter)
    wait_until(lambda: adapter.status().faults >= 3, what="three failed attempts")
    assert adapter.status().state is AdapterState.RECONNECTING
    assert running.samples.empty()
    assert adapter.signal(ClearDtcs()) == DtcReport(ok=False, detail="not connected (reconnecting)")


def test_python_obd_console_handler_is_replaced_by_ours(frozen_car: EmulatedCar, feed: StartFeed) -> None:
    feed(ObdAdapter(config(frozen_car))).take(1)
    obd_logger = logging.getLogger("obd")
    assert not [h for h in obd_logger.handlers if type(h) is logging.StreamHandler]
    assert obd_logger.propagate and obd_logger.level == logging.CRITICAL


def test_options_are_checked() -> None:
    with pytest.raises(AdapterConfigError, match="unknown PIDs"):
        ObdConfig("/dev/ttyUSB0", pids=("SPEED", "WARP_FACTOR"))
    with pytest.raises(AdapterConfigError, match="sample_rate_hz"):
        ObdConfig("/dev/ttyUSB0", sample_rate_hz=50)
    with pytest.raises(AdapterConfigError, match="unexpected keyword"):
        create_adapter("obd", options={"port": "/dev/ttyUSB0", "baud": 38400})
    adapter = create_adapter("obd", "engine", {"port": "/dev/rfcomm0", "pids": ["speed", "rpm"]})
    assert isinstance(adapter, ObdAdapter) and adapter.status().pids == ("SPEED", "RPM")


@pytest.mark.parametrize(
    ("raw", "vin"),
    [
        ("490201" + b"1HGCM82633A004352".hex(), "1HGCM82633A004352"),  # CAN, message count byte
        ("490201000000" + b"0WBA3A5C5XDF595611"[1:].hex(), "WBA3A5C5XDF595611"),  # zero padding first
        (b"2T1BURHE0JC123456".hex() + "0000", "2T1BURHE0JC123456"),  # no service bytes, padding last
        ("490201" + b"1HGCM8263".hex(), None),  # torn reply
        ("490201" + b"1HGCM82633A00O352".hex(), None),  # O is not a VIN character
    ],
)
def test_vin_is_decoded_from_raw_bytes(raw: str, vin: str | None) -> None:
    assert decode_vin(bytes.fromhex(raw)) == vin


def test_aggressive_car_raises_its_misfire_by_itself(tmp_path: Path, feed: StartFeed) -> None:
    """The demo's aggressive car stores P0301 60 s into its drive; the agent reads and clears it."""
    with EmulatedCar.start("aggressive", "tcp", start_s=59.0, log_path=tmp_path / "elm.log") as car:
        adapter = ObdAdapter(config(car, pids=["SPEED"]))
        feed(adapter).take(1)
        wait_until(lambda: car.dtcs() == ["P0301"], what="scheduled misfire")
        report = adapter.signal(ReadDtcs())
        assert isinstance(report, DtcReport) and [d.code for d in report.codes] == ["P0301"]
        assert adapter.signal(ClearDtcs()) == DtcReport(ok=True, codes=(), cleared=True)
        assert car.dtcs() == []


def test_a_hanging_adapter_is_dropped_after_one_slow_reply(frozen_car: EmulatedCar, feed: StartFeed) -> None:
    adapter = ObdAdapter(config(frozen_car, pids=["SPEED"], reply_timeout_s=0.5))
    running = feed(adapter)
    running.take(1)
    frozen_car.set_delay(1.5)  # each reply now takes three times the adapter's patience
    wait_until(lambda: adapter.status().state is AdapterState.RECONNECTING, what="hung adapter dropped")
    assert adapter.status().faults >= 1
    frozen_car.set_delay(0.0)
    running.drain()
    assert running.take(1, timeout_s=40)[0].speed_kmh == 94.0
    assert adapter.status().state is AdapterState.OK
