"""The agent reports its car's trouble codes: a real emulated ELM327, a real HTTP server that
checks the device signature, and the buffer file remembering what the server acknowledged."""

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from demo.emulated_car import EmulatedCar
from protocol import DeviceKey, trouble_codes_message, verify_signature
from vehicle_agent._buffer import Buffer
from vehicle_agent._troublecodes import TroubleCodeReporter
from vehicle_agent.adapters import AdapterState, ObdAdapter, ObdConfig, ReplayAdapter, ReplayConfig

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


class TroubleCodeServer:
    """Accepts reports whose signature matches `public_key`; answers `status` (200 by default)."""

    def __init__(self, public_key: bytes) -> None:
        self.reports: list[dict[str, object]] = []
        self.keys: list[str] = []
        self.status = 200
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: object) -> None:
                pass

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                signed = trouble_codes_message(body["device"], body["codes"], body["sent_ns"])
                ok = verify_signature(public_key, bytes.fromhex(body["signature"]), signed)
                status = outer.status if ok else 401
                if status == 200:
                    outer.reports.append(body)
                    outer.keys.append(self.headers["Idempotency-Key"])
                self.send_response(status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"[]")

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self._thread = threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True)
        self._thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def car(tmp_path: Path) -> Iterator[EmulatedCar]:
    with EmulatedCar.start("calm", "tcp", time_scale=0.0, start_s=30.0, log_path=tmp_path / "elm.log") as c:
        yield c


def test_new_and_cleared_codes_are_reported_once_each(car: EmulatedCar, tmp_path: Path) -> None:
    key = DeviceKey.generate()
    server = TroubleCodeServer(key.public_key)
    obd = ObdAdapter(ObdConfig(car.url, protocol="6", fast=False, sample_rate_hz=5))
    gps = ReplayAdapter(ReplayConfig(FIXTURES / "around-visnjan-with-car.gpx", speed=0))
    feeding = threading.Thread(target=lambda: [None for _ in obd.data()], daemon=True)
    feeding.start()  # runs the adapter's data on its own thread, as the sampler does
    for _ in range(200):
        if obd.status().state is AdapterState.OK:
            break
        time.sleep(0.05)
    buffer = Buffer(tmp_path / "buffer.sqlite3", max_samples=1000)
    with httpx.Client(timeout=5) as client:
        reporter = TroubleCodeReporter(adapters=[gps, obd], key=key, buffer=buffer, server_url=server.url,
                                       client=client, interval_s=1)  # fmt: skip
        try:
            assert reporter.poll_once()
            assert server.reports == []  # nothing stored and nothing new: no report

            car.raise_dtc("P0301")
            server.status = 503
            assert not reporter.poll_once()  # refused: not marked as reported, tried again
            server.status = 200
            assert reporter.poll_once()
            assert reporter.poll_once()
            assert [r["codes"] for r in server.reports] == [["P0301"]]
            assert server.reports[0]["device"] == key.address

            car.clear_dtcs()
            assert reporter.poll_once()
            assert [r["codes"] for r in server.reports] == [["P0301"], []]
            assert len(set(server.keys)) == 2
        finally:
            obd.close()
            feeding.join(10)
            buffer.close()
            server.close()

    # the acknowledged set outlives the process: a restarted agent does not report [] again
    reopened = Buffer(tmp_path / "buffer.sqlite3", max_samples=1000)
    assert reopened.get_state("trouble_codes_reported") == []
    reopened.close()


def test_no_adapter_with_trouble_codes_means_no_report(tmp_path: Path) -> None:
    key = DeviceKey.generate()
    server = TroubleCodeServer(key.public_key)
    buffer = Buffer(tmp_path / "b.sqlite3", max_samples=10)
    gps = ReplayAdapter(ReplayConfig(FIXTURES / "around-visnjan-with-car.gpx", speed=0))
    with httpx.Client(timeout=5) as client:
        reporter = TroubleCodeReporter(adapters=[gps], key=key, buffer=buffer, server_url=server.url,
                                       client=client, interval_s=1)  # fmt: skip
        assert reporter.active_codes() is None
        assert not reporter.poll_once()
    assert server.reports == []
    buffer.close()
    server.close()
