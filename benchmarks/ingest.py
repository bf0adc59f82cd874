"""Ingestion throughput: signed batches through `POST /v1/ingest/batches` against a bare bulk
insert of the same rows, both on SQLite, measured in the same run.

The service runs in its own process pinned to one core (uvicorn, one worker), fed by a client on
another core; the baseline runs pinned to that same core and does nothing but what storing needs:
one `upload_batches` row and one `executemany` of prepared tuples per batch, one commit per batch
(the same durability as the endpoint, which acknowledges only committed batches).

Targets: ≥ 100,000 samples/s through HTTP, and ≥ 0.5 times the bare insert.
Run: `.venv/bin/python benchmarks/ingest.py [--batches N] [--samples N]`.
"""

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

import migrations
from models import Driver, Vehicle, make_engine, make_session_factory
from protocol import Batch, DeviceKey, Sample, SignedBatch, gzip_body, sign_batch
from scoring_service.devices import register_device
from scoring_service.ingest import COLUMNS

SERVER_CORE = 0


def _pin(core: int) -> None:
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {core})


def _serve(fd: int, database_url: str) -> None:
    """The server process: the scoring app on the inherited listening socket, one core."""
    import uvicorn

    from neot.logging import configure_logging
    from neot.settings import LogFormat
    from scoring_service.app import create_app

    _pin(SERVER_CORE)
    configure_logging("WARNING", LogFormat.JSON)
    app = create_app(engine=make_engine(database_url))
    # `socket(fileno=…)` keeps the inherited socket's family and protocol; uvicorn's own `fd=`
    # assumes AF_UNIX, and asyncio then leaves Nagle on: 40 ms per response against delayed ACKs.
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False))
    server.run(sockets=[socket.socket(fileno=fd)])


def _database(path: Path) -> tuple[str, DeviceKey]:
    """A migrated SQLite database with one registered device; (url, device key)."""
    url = f"sqlite:///{path}"
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
    return url, key


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


def _prepare_bare(signed: list[SignedBatch], first_batch_id: int) -> list[tuple[int, bytes, list[tuple[Any, ...]]]]:
    """The rows the endpoint stores for these batches, as tuples ready for `executemany`."""
    prepared = []
    for batch_id, sb in enumerate(signed, start=first_batch_id):
        rows = [(batch_id, 1, *(getattr(s, c) for c in COLUMNS)) for s in map(Sample.quantised, sb.batch.samples)]
        prepared.append((sb.batch.seq, sb.digest, rows))
    return prepared


def _bare_insert(url: str, prepared: list[tuple[int, bytes, list[tuple[Any, ...]]]]) -> tuple[float, float]:
    """(wall, CPU) seconds to store the rows with nothing but the driver; one transaction per batch."""
    marks = ", ".join("?" * (2 + len(COLUMNS)))
    sql = f"INSERT INTO samples (batch_id, device_id, {', '.join(COLUMNS)}) VALUES ({marks})"
    engine = make_engine(url)
    raw = engine.raw_connection()
    try:
        conn = raw.driver_connection
        assert conn is not None
        now = datetime.now(UTC).isoformat(" ")
        start, cpu = time.perf_counter(), time.process_time()
        for seq, digest, rows in prepared:
            conn.execute(
                "INSERT INTO upload_batches (device_id, seq, content_sha256, sample_count, received_at) "
                "VALUES (1, ?, ?, ?, ?)",
                (seq, digest, len(rows), now),
            )
            conn.executemany(sql, rows)
            conn.commit()
        return time.perf_counter() - start, time.process_time() - cpu
    finally:
        raw.close()
        engine.dispose()


def _cpu_s(pid: int) -> float:
    """CPU seconds (user + system) a process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _http(url: str, pid: int, bodies: list[bytes], headers: dict[str, str], clients: int) -> tuple[float, float]:
    """(wall, server CPU) seconds to upload every body (each acknowledged with 200), `clients`
    connections in parallel."""
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
    start, cpu = time.perf_counter(), _cpu_s(pid)
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed, cpu = time.perf_counter() - start, _cpu_s(pid) - cpu
    if errors:
        raise SystemExit(f"upload refused: {errors[0]}")
    return elapsed, cpu


def _start_server(database_url: str) -> tuple[subprocess.Popen[bytes], str]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    proc = subprocess.Popen(
        [sys.executable, __file__, "--serve", str(sock.fileno()), database_url], pass_fds=[sock.fileno()]
    )
    sock.close()
    deadline = time.monotonic() + 30
    while True:
        try:
            httpx.get(url + "/openapi.json", timeout=1).raise_for_status()
            return proc, url
        except httpx.HTTPError:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise SystemExit("the scoring service did not start") from None
            time.sleep(0.05)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--batches", type=int, default=40, help="batches per round")
    # The agent's default `max_batch_samples`: what it sends while catching up after a drive.
    parser.add_argument("--samples", type=int, default=3000, help="samples per batch")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds; the best of each is kept")
    parser.add_argument("--clients", type=int, default=2, help="parallel HTTP connections")
    parser.add_argument("--serve", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        _serve(int(args.serve[0]), args.serve[1])
        return

    cores = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else [0]
    client_core = cores[-1]
    per_round = args.batches * args.samples
    times: dict[str, list[float]] = {"bare": [], "json": [], "gzip": []}
    cpu: dict[str, list[float]] = {"bare": [], "json": [], "gzip": []}
    wire_bytes: dict[str, int] = {"json": 0, "gzip": 0}
    with tempfile.TemporaryDirectory() as tmp:
        http_url, key = _database(Path(tmp) / "http.sqlite3")
        gzip_url, _ = _database(Path(tmp) / "gzip.sqlite3")
        bare_url, _ = _database(Path(tmp) / "bare.sqlite3")
        servers = {"json": _start_server(http_url), "gzip": _start_server(gzip_url)}
        headers = {
            "json": {"content-type": "application/json"},
            "gzip": {"content-type": "application/json", "content-encoding": "gzip"},
        }
        try:
            for r in range(args.rounds):
                signed = _batches(key, args.batches, args.samples, first_seq=1 + r * args.batches)
                bodies = {"json": [sb.to_wire() for sb in signed]}
                bodies["gzip"] = [gzip_body(b) for b in bodies["json"]]
                prepared = _prepare_bare(signed, first_batch_id=1 + r * args.batches)
                _pin(SERVER_CORE)
                wall_s, cpu_s = _bare_insert(bare_url, prepared)
                times["bare"].append(wall_s)
                cpu["bare"].append(cpu_s)
                _pin(client_core)
                for label in ("json", "gzip"):
                    wire_bytes[label] = sum(map(len, bodies[label]))
                    proc, url = servers[label]
                    wall_s, cpu_s = _http(url, proc.pid, bodies[label], headers[label], args.clients)
                    times[label].append(wall_s)
                    cpu[label].append(cpu_s)
        finally:
            for proc, _url in servers.values():
                proc.terminate()
                proc.wait(timeout=10)

    best = {label: per_round / min(seconds) for label, seconds in times.items()}
    per_cpu = {label: per_round / min(seconds) for label, seconds in cpu.items()}
    print(
        f"ingest: {args.rounds} rounds of {args.batches} batches x {args.samples} samples, SQLite, "
        f"server on one core; best round of each (load average {os.getloadavg()[0]:.1f})"
    )
    print(f"  bare bulk insert    {best['bare']:>10,.0f} samples/s   {per_cpu['bare']:>10,.0f} samples/CPU-s")
    for label in ("json", "gzip"):
        ratios = sorted(b / h for b, h in zip(times["bare"], times[label], strict=True))
        print(
            f"  HTTP signed {label:<4}    {best[label]:>10,.0f} samples/s   {per_cpu[label]:>10,.0f} samples/CPU-s"
            f"   ratio {best[label] / best['bare']:.2f} (per round: {', '.join(f'{x:.2f}' for x in ratios)})"
            f"   {wire_bytes[label] / per_round:.1f} wire bytes/sample"
        )


if __name__ == "__main__":
    main()
