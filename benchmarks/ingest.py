"""Ingestion throughput: signed batches through `POST /v1/ingest/batches` against a bare bulk
write of the same rows into the same schema, on SQLite and on PostgreSQL, measured in one run.

The service runs in its own process(es) (uvicorn), fed by a client process on the other core;
the baseline does nothing but what storing needs: one `upload_batches` row and one bulk write of
prepared tuples per batch (`executemany` on SQLite, binary `COPY` on PostgreSQL), one commit per
batch (the durability of the endpoint, which acknowledges only committed batches).

On PostgreSQL each phase gets a schema of its own in the `test` database (dropped afterwards):
`samples` partitioned by month, no per-row foreign keys, as migrated.

Rounds interleave baseline and HTTP, so a change in machine load affects both alike; the figures
are the median over rounds with the spread (min-max), and the ratio HTTP / baseline per round.
Targets: PostgreSQL HTTP >= 100,000 samples/s and >= 0.5 x COPY.
Run: `.venv/bin/python benchmarks/ingest.py [--backend sqlite|postgresql|both] [--rounds 5]`.
"""

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
from sqlalchemy import create_engine, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

import migrations  # noqa: E402
from models import (  # noqa: E402
    Driver,
    Vehicle,
    ensure_month_partitions,
    make_engine,
    make_session_factory,
    months_spanned,
)
from protocol import FIELDS, Batch, DeviceKey, Sample, SignedBatch, gzip_body, sign_batch  # noqa: E402
from scoring_service.devices import register_device  # noqa: E402
from scoring_service.ingest import COLUMNS  # noqa: E402

PG_URL = os.environ.get("NEOT_BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
TARGET_PG_RATE = 100_000
TARGET_RATIO = 0.5


def _serve(fd: int, database_url: str, workers: int) -> None:
    """The server: the scoring app on the inherited listening socket (`workers` processes)."""
    import uvicorn

    from neot.logging import configure_logging
    from neot.settings import LogFormat
    from scoring_service.app import create_app

    configure_logging("WARNING", LogFormat.JSON)
    sock = socket.socket(fileno=fd)
    for _ in range(workers - 1):
        if os.fork() == 0:
            break  # children and parent all accept on the one socket
    app = create_app(engine=make_engine(database_url))
    # `socket(fileno=…)` keeps the inherited socket's family and protocol; uvicorn's own `fd=`
    # assumes AF_UNIX, and asyncio then leaves Nagle on: 40 ms per response against delayed ACKs.
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False))
    server.run(sockets=[sock])


@contextmanager
def _database(backend: str, tmp: Path, name: str) -> Iterator[tuple[str, DeviceKey]]:
    """A migrated database (SQLite file, or a PostgreSQL schema dropped afterwards) with one
    registered device; (url, device key)."""
    if backend == "sqlite":
        url = f"sqlite:///{tmp / f'{name}.sqlite3'}"
    else:
        schema = f"bench_{name}_{uuid.uuid4().hex[:8]}"
        admin = create_engine(PG_URL)
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        url = make_url(PG_URL).update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(False)
    try:
        migrations.upgrade(url)
        key = DeviceKey.from_private_bytes(bytes(range(1, 33)))
        engine = make_engine(url)
        with make_session_factory(engine)() as session:
            vehicle = Vehicle(driver=Driver(name="Bench", email="bench@example.org"), vin="WVWZZZ1JZXW000001")
            session.add(vehicle)
            session.flush()
            register_device(session, vehicle_id=vehicle.id, public_key=key.public_key)
            session.commit()
        engine.dispose()
        yield url, key
    finally:
        if backend == "postgresql":
            with admin.begin() as conn:
                conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
            admin.dispose()


def _batches(key: DeviceKey, count: int, size: int, first_seq: int) -> list[SignedBatch]:
    """`count` signed batches of `size` samples of 10 Hz driving from `first_seq` on, every field present."""
    t0 = time.time_ns() - 86_400 * 1_000_000_000
    out = []
    for seq in range(first_seq, first_seq + count):
        base = (seq - 1) * size
        samples = tuple(
            Sample(
                time_ns=t0 + (base + i) * 100_000_000,
                lat=60.17 + (base + i) * 1.3e-6,
                lon=24.94 + (base + i) * 0.7e-6,
                gps_speed_kmh=50 + (i % 37) * 0.31,
                heading_deg=(base + i) % 360 + 0.25,
                hdop=0.9,
                satellites=9 + i % 3,
                speed_kmh=50 + (i % 41) * 0.29,
                rpm=1800 + (i % 53) * 12.25,
                throttle_pct=20 + (i % 7) * 1.5,
                engine_load_pct=35 + (i % 11) * 0.75,
                coolant_c=88.5,
                fuel_pct=61.25 - (base + i) * 1e-5,
                maf_gs=4.5 + (i % 13) * 0.11,
            )
            for i in range(size)
        )
        out.append(sign_batch(Batch(key.address, seq, samples, "bench-1", key.public_key), key))
    return out


type Prepared = list[tuple[int, bytes, list[tuple[Any, ...]]]]


def _prepare_bare(signed: list[SignedBatch]) -> Prepared:
    """The rows the endpoint stores for these batches, as tuples ready for a bulk write."""
    prepared = []
    for sb in signed:
        seq = sb.batch.seq
        rows = [(1, seq, *(getattr(s, c) for c in COLUMNS)) for s in map(Sample.quantised, sb.batch.samples)]
        prepared.append((seq, sb.digest, rows))
    return prepared


_BATCH_SQL = (
    "INSERT INTO upload_batches (device_id, seq, content_sha256, sample_count, received_at)"
    " VALUES (1, {0}, {0}, {0}, {0})"
)
_PG_TYPES = ["int8", "int8", "int8"] + ["int8" if scale == 1 else "float8" for scale in FIELDS.values()]


def _bare_write(url: str, prepared: Prepared) -> float:
    """Seconds to store the rows with nothing but the driver; one transaction per batch."""
    engine = make_engine(url)
    raw = engine.raw_connection()
    try:
        conn: Any = raw.driver_connection
        now = datetime.now(UTC)
        if engine.dialect.name == "postgresql":
            times = [r[2] for _, _, rows in prepared for r in rows]
            with engine.begin() as ddl:  # partitions exist before timing, as after a month's first upload
                ensure_month_partitions(ddl, months_spanned(min(times), max(times)))
            copy_sql = f"COPY samples (device_id, seq, {', '.join(COLUMNS)}) FROM STDIN (FORMAT BINARY)"
            start = time.perf_counter()
            for seq, digest, rows in prepared:
                with conn.cursor() as cursor:
                    cursor.execute(_BATCH_SQL.format("%s"), (seq, digest, len(rows), now))
                    with cursor.copy(copy_sql) as copy:
                        copy.set_types(_PG_TYPES)
                        for row in rows:
                            copy.write_row(row)
                conn.commit()
            return time.perf_counter() - start
        marks = ", ".join("?" * (2 + len(COLUMNS)))
        sql = f"INSERT INTO samples (device_id, seq, {', '.join(COLUMNS)}) VALUES ({marks})"
        stamp = now.isoformat(" ")
        start = time.perf_counter()
        for seq, digest, rows in prepared:
            conn.execute(_BATCH_SQL.format("?"), (seq, digest, len(rows), stamp))
            conn.executemany(sql, rows)
            conn.commit()
        return time.perf_counter() - start
    finally:
        raw.close()
        engine.dispose()


def _http(url: str, bodies: list[bytes], headers: dict[str, str], clients: int) -> float:
    """Seconds to upload every body (each acknowledged with 200), `clients` connections in parallel."""
    errors: list[str] = []
    chunks = [bodies[i::clients] for i in range(clients)]

    def upload(part: list[bytes]) -> None:
        # Nagle off, as on any uploader: the body follows the headers in a second small write.
        transport = httpx.HTTPTransport(socket_options=[(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)])
        with httpx.Client(base_url=url, timeout=60, headers=headers, transport=transport) as client:
            for body in part:
                response = client.post("/v1/ingest/batches", content=body)
                if response.status_code != 200:
                    errors.append(response.text)

    threads = [threading.Thread(target=upload, args=(part,)) for part in chunks]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - start
    if errors:
        raise SystemExit(f"upload refused: {errors[0]}")
    return elapsed


@contextmanager
def _server(database_url: str, workers: int) -> Iterator[str]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    proc = subprocess.Popen(
        [sys.executable, __file__, "--serve", str(sock.fileno()), database_url, str(workers)],
        pass_fds=[sock.fileno()],
        start_new_session=True,
    )
    sock.close()
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(url + "/openapi.json", timeout=1).raise_for_status()
                break
            except httpx.HTTPError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit("the scoring service did not start") from None
                time.sleep(0.05)
        yield url
    finally:
        os.killpg(proc.pid, 15)
        proc.wait(timeout=10)


def _summary(label: str, rates: list[float], base: list[float] | None, extra: str = "") -> str:
    med, lo, hi = statistics.median(rates), min(rates), max(rates)
    line = f"  {label:<22} {med:>10,.0f} samples/s  (rounds {lo:,.0f}-{hi:,.0f})"
    if base is not None:
        ratios = [h / b for h, b in zip(rates, base, strict=True)]
        line += f"   ratio {statistics.median(ratios):.2f} (rounds {min(ratios):.2f}-{max(ratios):.2f})"
    return line + extra


def bench(backend: str, args: argparse.Namespace) -> dict[str, list[float]]:
    """Interleaved rounds of bare write, HTTP JSON and HTTP gzip; samples/s per round each."""
    per_round = args.batches * args.samples
    rates: dict[str, list[float]] = {"bare": [], "json": [], "gzip": []}
    wire: dict[str, float] = {}
    label = "COPY" if backend == "postgresql" else "executemany"
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        with (
            _database(backend, tmp, "http") as (http_url, key),
            _database(backend, tmp, "gzip") as (gzip_url, _),
            _database(backend, tmp, "bare") as (bare_url, _),
            _server(http_url, args.server_workers) as json_server,
            _server(gzip_url, args.server_workers) as gzip_server,
        ):
            headers = {
                "json": {"content-type": "application/json"},
                "gzip": {"content-type": "application/json", "content-encoding": "gzip"},
            }
            servers = {"json": json_server, "gzip": gzip_server}
            for r in range(args.rounds):
                signed = _batches(key, args.batches, args.samples, first_seq=1 + r * args.batches)
                bodies = {"json": [sb.to_wire() for sb in signed]}
                bodies["gzip"] = [gzip_body(b) for b in bodies["json"]]
                rates["bare"].append(per_round / _bare_write(bare_url, _prepare_bare(signed)))
                for kind in ("json", "gzip"):
                    wire[kind] = sum(map(len, bodies[kind])) / per_round
                    rates[kind].append(per_round / _http(servers[kind], bodies[kind], headers[kind], args.clients))
    print(
        f"ingest, {backend}: {args.rounds} interleaved rounds of {args.batches} batches x {args.samples} samples, "
        f"{args.server_workers} server process(es), {args.clients} client connections, {os.cpu_count()} CPUs, "
        f"load average {os.getloadavg()[0]:.1f}; medians with the range over rounds"
    )
    print(_summary(f"bare {label}", rates["bare"], None))
    for kind in ("json", "gzip"):
        print(_summary(f"HTTP signed {kind}", rates[kind], rates["bare"], f"   {wire[kind]:.1f} wire bytes/sample"))
    return rates


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
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--batches", type=int, default=40, help="batches per round")
    # The agent's default `max_batch_samples`: what it sends while catching up after a drive.
    parser.add_argument("--samples", type=int, default=3000, help="samples per batch")
    parser.add_argument("--rounds", type=int, default=5, help="interleaved rounds")
    parser.add_argument("--clients", type=int, default=4, help="parallel HTTP connections")
    parser.add_argument("--server-workers", type=int, default=2, help="server processes sharing the port")
    parser.add_argument("--serve", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        _serve(int(args.serve[0]), args.serve[1], int(args.serve[2]))
        return
    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    checks: list[Callable[[], None]] = []
    for backend in backends:
        if backend == "postgresql" and not _pg_reachable():
            print(f"ingest, postgresql: skipped, nothing answers at {PG_URL}")
            continue
        rates = bench(backend, args)
        if backend == "postgresql":
            json_rate = statistics.median(rates["json"])
            ratio = statistics.median([h / b for h, b in zip(rates["json"], rates["bare"], strict=True)])

            def verdict(rate: float = json_rate, ratio: float = ratio) -> None:
                ok = rate >= TARGET_PG_RATE and ratio >= TARGET_RATIO
                print(
                    f"PostgreSQL HTTP ingest {rate:,.0f} samples/s, {ratio:.2f} x COPY: "
                    f"{'meets' if ok else 'MISSES'} the target (>= {TARGET_PG_RATE:,} /s and >= {TARGET_RATIO} x)"
                )

            checks.append(verdict)
    for check in checks:
        check()


if __name__ == "__main__":
    main()
