"""Scoring throughput on the batch stream: one score worker against two sharing the shards.

Each round gets a fresh PostgreSQL schema and a fresh JetStream stream (16 shards) holding
`--devices` devices' drives as ingestion appends them (signed 600-sample batches; a synthetic
10-minute drive per device through central Helsinki, crafted, not recorded). Then 1 or 2 worker
processes, each owning its shards (worker i of n: shards = i mod n), store their shards' batches
(idempotently, acknowledging after commit) and score their devices' trips, until the stream is
empty; the clock runs from the moment every worker is ready to the moment the last is done.

Rounds alternate one worker and two, so machine load affects both alike. Prints samples stored
and scored per second, medians with the range over rounds, and the ratio two / one per round.
Target: 2 workers >= 1.6 x one. The machine has 2 cores, shared with PostgreSQL, NATS and the
client: the load average is printed with the result.
Run: `.venv/bin/python benchmarks/stream_scoring.py [--rounds 3] [--devices 32]`.
"""

import argparse
import asyncio
import os
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
from scoring_service.stream import BatchPublisher, StreamConfig, StreamStorer, connect, shards_owned  # noqa: E402
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


def _work(url: str, name: str, subjects: str, index: int, count: int) -> None:
    """One worker process: store the owned shards' batches, then score the owned devices."""
    from scoring_service.scoring import product_for_device, score_device

    config = StreamConfig(url=NATS_URL, name=name, subject_prefix=subjects, shards=SHARDS)
    engine = make_engine(url, pool_size=2)
    sessions = make_session_factory(engine)
    owned = shards_owned(config, index=index, count=count)

    async def store() -> None:
        storer = StreamStorer(sessions, config, shards=owned, fetch=16)
        await storer.start()
        print("ready", flush=True)
        sys.stdin.readline()  # go
        while await storer.drain(wait_s=0.3):
            pass
        await storer.close()

    asyncio.run(store())
    trips = 0
    now_ns = time.time_ns()
    with sessions() as session:
        devices = [d for d in session.scalars(select(Device.id)) if config.shard_of(d) in owned]
    for device_id in devices:
        with sessions() as session:
            product = product_for_device(session, device_id=device_id)
            trips += len(score_device(session, device_id=device_id, product=product, now_ns=now_ns).new_trip_ids)
            session.commit()
    engine.dispose()
    print(f"done {trips}", flush=True)


def _round(devices: int, workers: int) -> tuple[float, int]:
    """Seconds from every worker ready to the last done, and trips scored, for `workers` workers."""
    with _world(devices) as (url, config, samples):
        procs = [
            subprocess.Popen(
                [sys.executable, __file__, "--work", url, config.name, config.subject_prefix, str(i), str(workers)],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
                env={**os.environ, "NEOT_LOG_LEVEL": "WARNING"},
            )
            for i in range(workers)
        ]
        for proc in procs:
            assert proc.stdout is not None
            if proc.stdout.readline().strip() != "ready":
                raise SystemExit("a worker did not start")
        start = time.perf_counter()
        for proc in procs:
            assert proc.stdin is not None
            proc.stdin.write("go\n")
            proc.stdin.flush()
        trips = 0
        for proc in procs:
            out, _ = proc.communicate(timeout=900)
            trips += int(out.strip().splitlines()[-1].split()[-1])
        elapsed = time.perf_counter() - start
    if trips != devices:
        raise SystemExit(f"expected one trip per device, scored {trips}")
    return samples / elapsed, trips


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, help="rounds of (one worker, two workers)")
    parser.add_argument("--devices", type=int, default=32, help="devices with one 10-minute drive each")
    parser.add_argument("--work", nargs=5, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.work:
        url, name, subjects, index, count = args.work
        _work(url, name, subjects, int(index), int(count))
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
