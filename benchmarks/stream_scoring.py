"""Scoring throughput on the batch stream: one score worker against two sharing the shards.

Each round gets a fresh PostgreSQL schema and a fresh JetStream stream (16 shards) holding
`--devices` devices' drives as ingestion appends them (signed 600-sample batches; a synthetic
10-minute drive per device through central Helsinki, crafted, not recorded). Then 1 or 2
`neot score-worker --once --index i --count n` processes, each owning its shards (i mod n), store
their shards' batches (idempotently, acknowledging after commit) and score their devices' trips
until the stream is empty; the clock runs from starting the processes to the last one done.

Rounds alternate one worker and two, so machine load affects both alike. Prints samples stored
and scored per second, medians with the range over rounds, and the ratio two / one per round.
Target: 2 workers >= 1.6 x one. The machine has 2 cores, shared with PostgreSQL, NATS and the
client: the load average is printed with the result.
Run: `.venv/bin/python benchmarks/stream_scoring.py [--rounds 3] [--devices 32]`.
"""

import argparse
import asyncio
import os
import socket
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, select, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

import migrations  # noqa: E402
from models import Device, Driver, Vehicle, make_engine, make_session_factory  # noqa: E402
from protocol import Batch, DeviceKey, Sample, sign_batch  # noqa: E402
from scoring_service.devices import register_device  # noqa: E402
from scoring_service.ingest import decode_batch  # noqa: E402
from scoring_service.stream import BatchPublisher, StreamConfig, connect  # noqa: E402
from tests.scoring_service.crafted import Leg, simulate  # noqa: E402

PG_URL = os.environ.get("NEOT_BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
NATS_URL = os.environ.get("NEOT_BENCH_NATS_URL", "nats://127.0.0.1:4222")
SHARDS = 16
BATCH = 600
TARGET = 1.6


def _drive(start_ns: int) -> list[Sample]:
    """A 10-minute drive at 10 Hz, as wire samples (synthetic)."""
    legs = [Leg(10, 1.1)]
    while sum(leg.duration_s for leg in legs) < 600:
        legs += [Leg(20), Leg(30, 0, 6), Leg(20), Leg(11, -1.0), Leg(15), Leg(10, 1.1), Leg(30, 0, -6)]
    arrays = simulate(legs, hz=10.0, start=(60.1689, 24.9460), heading_deg=90.0).take(slice(0, 6000))
    return [
        Sample(
            time_ns=start_ns + int(arrays.time_ns[i] - arrays.time_ns[0]),
            lat=float(arrays.lat[i]),
            lon=float(arrays.lon[i]),
            gps_speed_kmh=float(arrays.gps_speed_kmh[i]),
            speed_kmh=float(arrays.speed_kmh[i]),
        )
        for i in range(len(arrays))
    ]


@contextmanager
def _world(devices: int) -> Iterator[tuple[str, StreamConfig, int]]:
    """A migrated schema with `devices` registered devices, and a stream holding their drives;
    (database url, stream, samples in it). Both removed afterwards."""
    schema = f"bench_stream_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = make_url(PG_URL).update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(False)
    tag = uuid.uuid4().hex[:8]
    config = StreamConfig(url=NATS_URL, name=f"BENCH_{tag}", subject_prefix=f"bench{tag}.batches", shards=SHARDS)
    try:
        migrations.upgrade(url)
        engine = make_engine(url)
        keys = [DeviceKey.generate() for _ in range(devices)]
        with make_session_factory(engine)() as session:
            for i, key in enumerate(keys):
                vehicle = Vehicle(driver=Driver(name=f"B{i}", email=f"b{i}@bench.test"), vin=f"BENCH{i:012d}")
                session.add(vehicle)
                session.flush()
                register_device(session, vehicle_id=vehicle.id, public_key=key.public_key)
            session.commit()
            ids = {d.neo_address: d.id for d in session.scalars(select(Device))}
        engine.dispose()
        start_ns = (int(time.time()) - 3 * 3600) * 10**9  # ended long ago: every trip is final
        drive = _drive(start_ns)
        total = asyncio.run(_publish(config, keys, ids, drive))
        yield url, config, total
    finally:
        asyncio.run(_delete(config))
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


async def _publish(config: StreamConfig, keys: list[DeviceKey], ids: dict[str, int], drive: list[Sample]) -> int:
    publisher = BatchPublisher(config)
    await publisher.start()
    total = 0
    for key in keys:
        for seq, first in enumerate(range(0, len(drive), BATCH), start=1):
            batch = Batch(key.address, seq, tuple(drive[first : first + BATCH]), "bench-1", key.public_key)
            body = sign_batch(batch, key).to_wire()
            await publisher.append(device_id=ids[key.address], batch=decode_batch(body), body=body)
            total += len(batch.samples)
    await publisher.close()
    return total


async def _delete(config: StreamConfig) -> None:
    client, js = await connect(config)
    await js.delete_stream(config.name)
    await client.close()


def _round(devices: int, workers: int) -> tuple[float, int]:
    """Seconds from starting `workers` `neot score-worker --once` processes to the last one done
    (process start included), and the trips they scored."""
    neot = str(Path(sys.executable).with_name("neot"))
    with _world(devices) as (url, config, samples):
        env = {
            **os.environ,
            "NEOT_DATABASE_URL": url,
            "NEOT_LOG_LEVEL": "WARNING",
            "NEOT_STREAM_URL": config.url,
            "NEOT_STREAM_NAME": config.name,
            "NEOT_STREAM_SUBJECTS": config.subject_prefix,
            "NEOT_STREAM_SHARDS": str(config.shards),
        }
        start = time.perf_counter()
        procs = [
            subprocess.Popen(
                [neot, "score-worker", "--once", "--index", str(i), "--count", str(workers)],
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                text=True,
            )
            for i in range(workers)
        ]
        trips = 0
        for proc in procs:
            _, err = proc.communicate(timeout=900)
            if proc.returncode != 0:
                raise SystemExit(f"a worker failed: {err[-500:]}")
            trips += int(err.rsplit("stopped:", 1)[1].split()[0])
        elapsed = time.perf_counter() - start
    if trips != devices:
        raise SystemExit(f"expected one trip per device, scored {trips}")
    return samples / elapsed, trips


def _reachable() -> str | None:
    """None when PostgreSQL (and NATS) answer, else what does not."""
    try:
        engine = create_engine(PG_URL, connect_args={"connect_timeout": 3})
        with engine.connect() as conn:
            conn.execute(text("select 1"))
        engine.dispose()
    except Exception:
        return f"nothing answers at {PG_URL}"
    host, port = NATS_URL.removeprefix("nats://").split(":")
    try:
        socket.create_connection((host, int(port)), timeout=3).close()
    except OSError:
        return f"nothing answers at {NATS_URL}"
    return None


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, help="rounds of (one worker, two workers)")
    parser.add_argument("--devices", type=int, default=32, help="devices with one 10-minute drive each")
    args = parser.parse_args()
    if (problem := _reachable()) is not None:
        print(f"{Path(__file__).name}: skipped, {problem}")
        return
    rates: dict[int, list[float]] = {1: [], 2: []}
    loads = []
    for _ in range(args.rounds):
        for workers in (1, 2):
            rate, _trips = _round(args.devices, workers)
            rates[workers].append(rate)
            loads.append(os.getloadavg()[0])
    ratios = [two / one for one, two in zip(rates[1], rates[2], strict=True)]
    print(
        f"stream scoring: {args.rounds} interleaved rounds, {args.devices} devices x 6,000 samples (10-min drives), "
        f"{SHARDS} shards, PostgreSQL + NATS JetStream, {os.cpu_count()} CPUs, load average "
        f"{min(loads):.1f}-{max(loads):.1f}; medians with the range over rounds"
    )
    for workers in (1, 2):
        values = rates[workers]
        print(
            f"  {workers} worker(s)   {statistics.median(values):>9,.0f} samples/s stored and scored"
            f"  (rounds {min(values):,.0f}-{max(values):,.0f})"
        )
    ratio = statistics.median(ratios)
    print(
        f"  2 / 1 workers  {ratio:.2f} x  (rounds {min(ratios):.2f}-{max(ratios):.2f}): "
        f"{'meets' if ratio >= TARGET else 'MISSES'} the target of {TARGET} x"
    )


if __name__ == "__main__":
    main()
