"""OBD-II throughput of the adapter versus what the adapter link allows, measured in the same run.

A real ELM327 and car bus answer in about 20 ms, so the ELM327 emulator runs with a 20 ms
per-reply delay. The ceiling is a bare client on the same pty that writes one request, reads to
the `>` prompt and sends the next, nothing else; the figure is the `ObdAdapter` reading five
PIDs per tick with its tick rate above what the link allows (so it never waits on its own clock),
counted by the emulator itself. Ratio = adapter queries/s / ceiling queries/s; target >= 0.9.

Run: `.venv/bin/python benchmarks/obd_throughput.py [--seconds 10] [--delay 0.02] [--transport pty]`.
"""

import argparse
import os
import socket
import sys
import threading
import time
import tty
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from demo.emulated_car import EmulatedCar  # noqa: E402
from neot.logging import configure_logging  # noqa: E402
from vehicle_agent.adapters import ObdAdapter, ObdConfig  # noqa: E402

PIDS = ("SPEED", "RPM", "THROTTLE_POS", "ENGINE_LOAD", "COOLANT_TEMP")
REQUESTS = [b"010D\r", b"010C\r", b"0111\r", b"0104\r", b"0105\r"]


def ceiling(car: EmulatedCar, seconds: float) -> float:
    """Queries/s of a bare request/prompt loop (after the emulator's own ATZ/ATE0 set-up)."""
    if car.transport == "pty":
        fd = os.open(car.url, os.O_RDWR | os.O_NOCTTY)
        tty.setraw(fd)
    else:
        host, port = car.url.removeprefix("socket://").split(":")
        sock = socket.create_connection((host, int(port)))
        fd = sock.fileno()

    def ask(request: bytes) -> None:
        os.write(fd, request)
        buf = b""
        while not buf.endswith(b">"):
            buf += os.read(fd, 4096)

    for setup in (b"ATZ\r", b"ATE0\r", b"ATH1\r", b"ATSP6\r"):
        ask(setup)
    before = car.queries()
    started = time.monotonic()
    i = 0
    while time.monotonic() - started < seconds:
        ask(REQUESTS[i % len(REQUESTS)])
        i += 1
    elapsed = time.monotonic() - started
    answered = car.queries() - before
    if car.transport == "pty":
        os.close(fd)
    else:
        sock.close()
    return answered / elapsed


def adapter_rate(car: EmulatedCar, seconds: float) -> tuple[float, int]:
    """Queries/s the emulator answered while the adapter sampled flat out, and samples taken."""
    adapter = ObdAdapter(ObdConfig(car.url, protocol="6", fast=False, pids=PIDS, sample_rate_hz=10))
    samples = 0
    connected = threading.Event()

    def run() -> None:
        nonlocal samples
        for _ in adapter.data():
            samples += 1
            connected.set()

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    if not connected.wait(30):
        raise SystemExit(f"adapter did not connect: {adapter.status()}")
    time.sleep(1.0)  # steady state
    before, started, n0 = car.queries(), time.monotonic(), samples
    time.sleep(seconds)
    answered, elapsed, taken = car.queries() - before, time.monotonic() - started, samples - n0
    adapter.close()
    worker.join(10)
    return answered / elapsed, taken


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--delay", type=float, default=0.02, help="per-reply delay of the emulated adapter")
    parser.add_argument("--transport", choices=["pty", "tcp"], default="pty")
    args = parser.parse_args()
    configure_logging("WARNING")
    with EmulatedCar.start("average", args.transport, delay_s=args.delay) as car:
        top = ceiling(car, args.seconds)
    with EmulatedCar.start("average", args.transport, delay_s=args.delay) as car:
        got, taken = adapter_rate(car, args.seconds)
    ratio = got / top
    print(f"emulator ceiling ({args.transport}, {args.delay * 1000:.0f} ms per reply): {top:.1f} queries/s")
    print(f"ObdAdapter, {len(PIDS)} PIDs per tick: {got:.1f} queries/s ({taken / args.seconds:.1f} samples/s)")
    print(f"ratio adapter/ceiling: {ratio:.3f} (target >= 0.9: {'met' if ratio >= 0.9 else 'MISSED'})")


if __name__ == "__main__":
    main()
