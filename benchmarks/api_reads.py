"""Read latency of the insurer API at a steady load: one trip score and one monthly statement.

A fresh migrated database (SQLite file by default; `--database-url` for PostgreSQL) gets an
insurer, a driver with a vehicle, device and active policy, `--trips` scored trips last month and
last month's statement (priced by a real risk model fitted on the scoring service's synthetic
portfolio). The API runs as its own process (`uvicorn --factory insurer_api.app:create_app`,
`--workers`, default one) on a loopback port; this process is the client.

Load is open-loop: requests are *scheduled* at a fixed rate (`--rate`, default 200 req/s) and
each latency is measured from its scheduled time, so a slow server cannot hide queueing by
slowing the client down. Phases, in one run and against one server:

- **baseline**: `GET /health` (no database, no token): the HTTP stack alone;
- **score**: `GET /v1/scores/{id}` as the driver (JWT checked, user loaded, row scoped to them);
- **statement**: `GET /v1/statements/{id}` as the driver (plus the scores it used and their proofs).

Prints p50/p90/p99/max per phase and each read's p50 and p99 as a ratio to the baseline's.
Target: p99 < 25 ms at 200 req/s for both reads.
Run: `.venv/bin/python benchmarks/api_reads.py [--rate 200] [--seconds 10] [--database-url URL]`.
"""

import argparse
import asyncio
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402

import migrations  # noqa: E402
from insurer_api.auth import create_user  # noqa: E402
from insurer_api.statements import issue_statement  # noqa: E402
from models import (  # noqa: E402
    Device,
    Driver,
    Insurer,
    Policy,
    PolicyStatus,
    Role,
    Trip,
    TripScore,
    Vehicle,
    make_engine,
    make_session_factory,
)
from protocol import DeviceKey  # noqa: E402
from scoring_service.risk import fit_risk_model, save_model, synthetic_portfolio  # noqa: E402

SECRET_KEY = "benchmark-only-signing-key-0123456789abcdef"
PASSWORD = "benchmark-password"
TARGET_P99_MS = 25.0


def seed(database_url: str, data_dir: Path, trips: int) -> tuple[int, int]:
    """The portfolio of one driver; returns (a score id, the statement id)."""
    migrations.upgrade(database_url)
    portfolio = synthetic_portfolio(3000, seed=11)
    model = fit_risk_model(portfolio.features, portfolio.exposure, portfolio.claim_count, version=1)
    save_model(model, data_dir / "models")
    today = datetime.now(UTC).date()
    month = (today.replace(day=1) - timedelta(days=1)).replace(day=1)
    engine = make_engine(database_url)
    factory = make_session_factory(engine)
    with factory() as session:
        insurer = Insurer(name="Bench Insurance", neo_address=DeviceKey.generate().address)
        driver = Driver(name="Bench Driver", email="driver@bench.test")
        session.add_all([insurer, driver])
        session.flush()
        create_user(
            session=session, username="driver@bench.test", password=PASSWORD, role=Role.DRIVER, driver_id=driver.id
        )
        insurer_user = create_user(
            session=session, username="ops@bench.test", password=PASSWORD, role=Role.INSURER, insurer_id=insurer.id
        )
        vehicle = Vehicle(driver_id=driver.id, vin="WVWZZZ1JZ3W386520")
        session.add(vehicle)
        session.flush()
        key = DeviceKey.generate()
        device = Device(vehicle_id=vehicle.id, neo_address=key.address, public_key=key.public_key)
        policy = Policy(
            insurer_id=insurer.id,
            driver_id=driver.id,
            vehicle_id=vehicle.id,
            product_id="standard",
            product_version=1,
            period_start=month,
            period_end=month.replace(year=month.year + 1),
            base_premium=5_000_000_000,
            status=PolicyStatus.ACTIVE,
        )
        session.add_all([device, policy])
        session.flush()
        start_ns = int(datetime.combine(month, datetime.min.time(), UTC).timestamp()) * 10**9
        score_ids = []
        for i in range(trips):
            t0 = start_ns + (i * 20 + 60) * 60 * 10**9
            trip = Trip(
                device_id=device.id, start_ns=t0, end_ns=t0 + 900 * 10**9, distance_m=9_000.0 + i, duration_s=900.0
            )
            session.add(trip)
            session.flush()
            score = TripScore(
                trip_id=trip.id,
                product_id="standard",
                product_version=1,
                score=70 + i % 30,
                reasons=[{"kind": "harsh_brake", "rate": "1.0", "penalty": 3, "text": "1.0 per 100 km"}],
            )
            session.add(score)
            session.flush()
            score_ids.append(score.id)
        session.commit()
        statement, _ = issue_statement(
            session=session, issuer=insurer_user, policy_id=policy.id, month=month, model=model
        )
        ids = (score_ids[len(score_ids) // 2], statement.id)
    engine.dispose()
    return ids


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def start_server(database_url: str, data_dir: Path, workers: int = 1) -> tuple[subprocess.Popen[bytes], str]:
    """The API in its own process on a free loopback port, as `uvicorn --factory` runs it."""
    port = _free_port()
    env = {
        **os.environ,
        "NEOT_DATABASE_URL": database_url,
        "NEOT_DATA_DIR": str(data_dir),
        "NEOT_SECRET_KEY": SECRET_KEY,
        "NEOT_ENVIRONMENT": "production",
    }
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "--factory",
            "insurer_api.app:create_app",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--no-access-log",
            "--log-level",
            "warning",
            "--workers",
            str(workers),
        ],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
    )
    base_url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            if httpx.get(f"{base_url}/health", timeout=1).status_code == 200:
                return server, base_url
        except httpx.TransportError:
            pass
        if server.poll() is not None or time.monotonic() > deadline:
            server.kill()
            raise SystemExit("the API server did not start")
        time.sleep(0.1)


class Connections:
    """A pool of persistent HTTP/1.1 connections speaking just enough of the protocol for GETs.

    A hand-written client costs a few microseconds per request, so on a small machine the
    client's own CPU does not crowd out the server being measured (a general HTTP client library
    costs about a millisecond per request in Python).
    """

    def __init__(self, host: str, port: int, size: int) -> None:
        self._host, self._port, self._size = host, port, size
        self._idle: asyncio.Queue[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = asyncio.Queue()

    async def open(self) -> None:
        for _ in range(self._size):
            reader, writer = await asyncio.open_connection(self._host, self._port)
            sock = writer.get_extra_info("socket")
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self._idle.put_nowait((reader, writer))

    async def close(self) -> None:
        while not self._idle.empty():
            _reader, writer = self._idle.get_nowait()
            writer.close()
            await writer.wait_closed()

    async def get(self, path: str, headers: dict[str, str]) -> tuple[int, bytes]:
        reader, writer = await self._idle.get()
        lines = [f"GET {path} HTTP/1.1", f"Host: {self._host}", *(f"{k}: {v}" for k, v in headers.items())]
        writer.write(("\r\n".join(lines) + "\r\n\r\n").encode())
        head = await reader.readuntil(b"\r\n\r\n")
        status = int(head.split(b" ", 2)[1])
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        body = await reader.readexactly(length)
        self._idle.put_nowait((reader, writer))
        return status, body


async def phase(pool: Connections, path: str, headers: dict[str, str], rate: float, seconds: float) -> list[float]:
    """Latencies (ms) of `rate * seconds` requests scheduled every 1/rate s, from their scheduled time."""
    count = int(rate * seconds)
    loop = asyncio.get_running_loop()
    start = loop.time() + 0.05
    latencies: list[float] = []
    errors: list[int] = []

    async def one(scheduled: float) -> None:
        delay = scheduled - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        status, _body = await pool.get(path, headers)
        if status != 200:
            errors.append(status)
        latencies.append((loop.time() - scheduled) * 1000)

    await asyncio.gather(*(one(start + i / rate) for i in range(count)))
    if errors:
        raise SystemExit(f"{path}: {len(errors)} requests failed, e.g. HTTP {errors[0]}")
    return latencies


def pct(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=1000, method="inclusive")[int(q * 10) - 1] if q < 100 else max(values)


async def measure(
    base_url: str, score_id: int, statement_id: int, rate: float, seconds: float
) -> dict[str, list[float]]:
    login = httpx.post(f"{base_url}/v1/auth/token", data={"username": "driver@bench.test", "password": PASSWORD})
    headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
    url = httpx.URL(base_url)
    assert url.port is not None
    pool = Connections(url.host, url.port, size=32)
    await pool.open()
    try:
        for path in ("/health", f"/v1/scores/{score_id}", f"/v1/statements/{statement_id}"):
            await phase(pool, path, headers, rate, min(seconds, 2.0))  # warm-up: caches, thread pool
        return {
            "baseline GET /health": await phase(pool, "/health", {}, rate, seconds),
            "score GET /v1/scores/{id}": await phase(pool, f"/v1/scores/{score_id}", headers, rate, seconds),
            "statement GET /v1/statements/{id}": await phase(
                pool, f"/v1/statements/{statement_id}", headers, rate, seconds
            ),
        }
    finally:
        await pool.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--rate", type=float, default=200.0, help="requests per second")
    parser.add_argument("--seconds", type=float, default=10.0, help="length of each measured phase")
    parser.add_argument("--trips", type=int, default=40, help="scored trips in the statement's month")
    parser.add_argument("--database-url", default="", help="default: a fresh SQLite file")
    parser.add_argument("--workers", type=int, default=1, help="uvicorn worker processes")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="neot-bench-") as tmp:
        data_dir = Path(tmp)
        database_url = args.database_url or f"sqlite:///{data_dir / 'bench.sqlite3'}"
        score_id, statement_id = seed(database_url, data_dir, args.trips)
        server, base_url = start_server(database_url, data_dir, args.workers)
        try:
            results = asyncio.run(measure(base_url, score_id, statement_id, args.rate, args.seconds))
        finally:
            server.terminate()
            server.wait(timeout=10)
    backend = database_url.split(":", 1)[0]
    print(
        f"insurer API reads, {backend}, {args.rate:.0f} req/s open loop, {args.seconds:.0f} s per phase, "
        f"{args.workers} worker(s), {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}, {date.today()}"
    )
    base = results["baseline GET /health"]
    print(f"{'phase':38} {'n':>6} {'p50 ms':>8} {'p90 ms':>8} {'p99 ms':>8} {'max ms':>8} {'p50 x':>7} {'p99 x':>7}")
    for name, values in results.items():
        p50, p90, p99 = pct(values, 50), pct(values, 90), pct(values, 99)
        print(
            f"{name:38} {len(values):6d} {p50:8.2f} {p90:8.2f} {p99:8.2f} {max(values):8.2f} "
            f"{p50 / pct(base, 50):7.2f} {p99 / pct(base, 99):7.2f}"
        )
    for name in ("score GET /v1/scores/{id}", "statement GET /v1/statements/{id}"):
        p99 = pct(results[name], 99)
        verdict = "meets" if p99 < TARGET_P99_MS else "MISSES"
        print(f"{name}: p99 {p99:.2f} ms {verdict} the target of {TARGET_P99_MS:.0f} ms")


if __name__ == "__main__":
    main()
