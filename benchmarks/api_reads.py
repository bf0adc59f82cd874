"""Read latency of the insurer API at a steady load: one trip score and one monthly statement.

A fresh migrated database, a SQLite file and a PostgreSQL schema in the `test` database (both by
default; `--backend` picks one, `--database-url` names another), gets an insurer, a driver with a
vehicle, device and active policy, `--trips` scored trips last month, each score committed for
anchoring and spread over `--epochs` closed and confirmed epochs (more than a proof cache of eight
epochs would hold; the anchor transactions are synthetic rows, the read path is the same), and
last month's statement (priced by a real risk model fitted on the scoring service's synthetic
portfolio). The API runs as its own process(es) (`neot api serve --workers`, default two) on a
loopback port; this process is the client.

Load is open-loop: requests are *scheduled* at a fixed rate (`--rate`, default 200 req/s) and
each latency is measured from its scheduled time, so a slow server cannot hide queueing by
slowing the client down. Phases, in one run and against one server:

- **baseline**: `GET /health` (no database, no token): the HTTP stack alone;
- **score**: `GET /v1/scores/{id}` as the driver (JWT checked, user loaded, row scoped to them);
- **statement**: `GET /v1/statements/{id}` as the driver (plus the scores it used and their proofs).

The three phases run in `--rounds` interleaved rounds (baseline, score, statement, again), so a
change in machine load affects all alike. Prints, per phase, the median over rounds of p50 and
p99 with their range, and each read's p99 as a ratio to the same round's baseline p99.
Targets: p99 < 25 ms and <= 4 x the bare endpoint's p99, at 200 req/s, for both reads.
Run: `.venv/bin/python benchmarks/api_reads.py [--rate 200] [--seconds 5] [--rounds 3] [--backend both]`.
"""

import argparse
import asyncio
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
from sqlalchemy import create_engine, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

import migrations  # noqa: E402
from insurer_api.auth import create_user  # noqa: E402
from insurer_api.statements import issue_statement  # noqa: E402
from models import (  # noqa: E402
    AnchorAttempt,
    Device,
    Driver,
    EpochState,
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
from protocol import DeviceKey, RecordType  # noqa: E402
from scoring_service.anchoring import EpochPolicy, close_due_epoch, commit_record  # noqa: E402
from scoring_service.risk import fit_risk_model, save_model, synthetic_portfolio  # noqa: E402

SECRET_KEY = "benchmark-only-signing-key-0123456789abcdef"
PASSWORD = "benchmark-password"
TARGET_P99_MS = 25.0
TARGET_RATIO = 4.0
PG_URL = os.environ.get("NEOT_BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def seed(database_url: str, data_dir: Path, trips: int, epochs: int) -> tuple[int, int]:
    """The portfolio of one driver, its scores anchored over `epochs` epochs; (a score id, the statement id)."""
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
            record = {"type": "trip_score", "trip_id": trip.id, "score": score.score, "product": "standard@1"}
            commit_record(session, record_type=RecordType.TRIP_SCORE, record_id=score.id, record=record)
            score_ids.append(score.id)
        session.commit()
        _anchor_all(session, leaves_per_epoch=max(1, -(-trips // epochs)))
        statement, _ = issue_statement(
            session=session, issuer=insurer_user, policy_id=policy.id, month=month, model=model
        )
        ids = (score_ids[len(score_ids) // 2], statement.id)
    engine.dispose()
    return ids


def _anchor_all(session: Session, *, leaves_per_epoch: int) -> None:
    """Close epochs of `leaves_per_epoch` until nothing is pending, and mark each confirmed in a block
    (synthetic anchor rows: what a proof read touches is the same as after a real anchoring)."""
    now = datetime.now(UTC)
    while (epoch := close_due_epoch(session, policy=EpochPolicy(max_leaves=leaves_per_epoch), now=now)) is not None:
        tx = "0x" + f"{epoch.epoch:064x}"
        session.add(
            AnchorAttempt(
                epoch=epoch.epoch,
                tx_hash=tx,
                tx_raw=b"synthetic",
                valid_until_block=1000,
                network_magic=42,
                contract_hash="0x" + "ab" * 20,
            )
        )
        epoch.state, epoch.tx_hash, epoch.block = EpochState.CONFIRMED, tx, 100 + epoch.epoch
        session.flush()
    session.commit()


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def start_server(database_url: str, data_dir: Path, workers: int) -> tuple[subprocess.Popen[bytes], str]:
    """The API as `neot api serve --workers N` runs it, on a free loopback port."""
    port = _free_port()
    env = {
        **os.environ,
        "NEOT_DATABASE_URL": database_url,
        "NEOT_DATA_DIR": str(data_dir),
        "NEOT_SECRET_KEY": SECRET_KEY,
        "NEOT_ENVIRONMENT": "production",
        "NEOT_LOG_LEVEL": "WARNING",
    }
    neot = str(Path(sys.executable).with_name("neot"))
    server = subprocess.Popen(
        [neot, "api", "serve", "--port", str(port), "--workers", str(workers)],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    base_url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(f"{base_url}/health", timeout=1).status_code == 200:
                time.sleep(1.0)  # every worker up, not only the first
                return server, base_url
        except httpx.TransportError:
            pass
        if server.poll() is not None or time.monotonic() > deadline:
            os.killpg(server.pid, signal.SIGKILL)
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


PHASES = ("baseline GET /health", "score GET /v1/scores/{id}", "statement GET /v1/statements/{id}")


async def measure(
    base_url: str, score_id: int, statement_id: int, rate: float, seconds: float, rounds: int
) -> dict[str, list[list[float]]]:
    """Latencies (ms) of each phase, one list per round; the phases interleave round by round."""
    login = httpx.post(f"{base_url}/v1/auth/token", data={"username": "driver@bench.test", "password": PASSWORD})
    headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
    url = httpx.URL(base_url)
    port = url.port
    if port is None:
        raise SystemExit(f"no port in {base_url}")
    pool = Connections(url.host, port, size=32)
    await pool.open()
    paths = dict(zip(PHASES, ("/health", f"/v1/scores/{score_id}", f"/v1/statements/{statement_id}"), strict=True))
    try:
        for path in paths.values():
            await phase(pool, path, headers, rate, min(seconds, 2.0))  # warm-up: caches, thread pool
        results: dict[str, list[list[float]]] = {name: [] for name in PHASES}
        for _ in range(rounds):
            for name, path in paths.items():
                results[name].append(await phase(pool, path, {} if path == "/health" else headers, rate, seconds))
        return results
    finally:
        await pool.close()


@contextmanager
def database(backend: str, given_url: str, data_dir: Path) -> Iterator[str]:
    """A fresh database: a SQLite file, or a PostgreSQL schema dropped afterwards (or `given_url`)."""
    if given_url:
        yield given_url
        return
    if backend == "sqlite":
        yield f"sqlite:///{data_dir / 'bench.sqlite3'}"
        return
    schema = f"bench_reads_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield make_url(PG_URL).update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(False)
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def run(backend: str, args: argparse.Namespace) -> list[str]:
    """One backend's benchmark; prints its table and returns the verdict lines."""
    with tempfile.TemporaryDirectory(prefix="neot-bench-") as tmp:
        data_dir = Path(tmp)
        with database(backend, args.database_url, data_dir) as database_url:
            score_id, statement_id = seed(database_url, data_dir, args.trips, args.epochs)
            server, base_url = start_server(database_url, data_dir, args.workers)
            try:
                results = asyncio.run(measure(base_url, score_id, statement_id, args.rate, args.seconds, args.rounds))
            finally:
                os.killpg(server.pid, signal.SIGTERM)
                server.wait(timeout=30)
    print(
        f"insurer API reads, {backend}: {args.rate:.0f} req/s open loop, {args.rounds} interleaved rounds of "
        f"{args.seconds:.0f} s per phase, {args.workers} worker process(es), {args.trips} anchored scores over "
        f"{args.epochs} epochs, {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}, {date.today()}"
    )
    print(f"{'phase':36} {'n':>6} {'p50 ms (range)':>22} {'p99 ms (range)':>22} {'p99 x bare (range)':>22}")
    base_p99 = [pct(r, 99) for r in results[PHASES[0]]]
    verdicts = []
    for name in PHASES:
        p50s = [pct(r, 50) for r in results[name]]
        p99s = [pct(r, 99) for r in results[name]]
        ratios = [p / b for p, b in zip(p99s, base_p99, strict=True)]
        n = sum(map(len, results[name]))
        print(f"{name:36} {n:6d} {_spread(p50s):>22} {_spread(p99s):>22} {_spread(ratios, 'x'):>22}")
        if name != PHASES[0]:
            p99, ratio = statistics.median(p99s), statistics.median(ratios)
            ok = p99 < TARGET_P99_MS and ratio <= TARGET_RATIO
            verdicts.append(
                f"{backend} {name}: p99 {p99:.2f} ms, {ratio:.2f} x bare: {'meets' if ok else 'MISSES'} the target "
                f"(< {TARGET_P99_MS:.0f} ms and <= {TARGET_RATIO:.0f} x)"
            )
    return verdicts


def _spread(values: list[float], unit: str = "") -> str:
    return f"{statistics.median(values):.2f}{unit} ({min(values):.2f}-{max(values):.2f})"


def _pg_reachable() -> bool:
    try:
        engine = create_engine(PG_URL, connect_args={"connect_timeout": 3})
        with engine.connect() as conn:
            conn.execute(text("select 1"))
        engine.dispose()
    except Exception:
        return False
    return True


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n", 1)[0])
    parser.add_argument("--rate", type=float, default=200.0, help="requests per second")
    parser.add_argument("--seconds", type=float, default=5.0, help="length of each measured phase per round")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds of the three phases")
    parser.add_argument("--trips", type=int, default=40, help="scored trips in the statement's month")
    parser.add_argument("--epochs", type=int, default=10, help="epochs the trips' scores are anchored in")
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--database-url", default="", help="a database to use instead of a fresh one")
    parser.add_argument("--workers", type=int, default=2, help="API worker processes")
    args = parser.parse_args()
    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    verdicts = []
    for backend in backends:
        if backend == "postgresql" and not args.database_url and not _pg_reachable():
            print(f"insurer API reads, postgresql: skipped, nothing answers at {PG_URL}")
            continue
        verdicts += run(backend, args)
    for line in verdicts:
        print(line)


if __name__ == "__main__":
    main()
