"""Time for the score worker to find new work, at 1M and 10M stored samples (PostgreSQL).

A fresh schema gets 1,000 devices and then 1M, later 10M, samples (synthetic rows written by
`generate_series`, spread over the devices in the current month's partition), and 10 devices
with new data, marked as ingestion marks them. At each size, in the same run:

- **work source**: `DirtyDevices.take(limit=32)`, what `neot score-worker` asks each step;
- **baseline**: `SELECT DISTINCT device_id FROM samples`, how the scorer found devices before
  (a scan of every stored sample).

Prints the median (and range) of repeated calls at each size and the ratio 10M / 1M for each:
flat (about 1) is the target for the work source; a scan grows about tenfold.
Run: `.venv/bin/python benchmarks/find_work.py [--small 1000000] [--large 10000000]`.
"""

import argparse
import os
import statistics
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import Engine, create_engine, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

import migrations  # noqa: E402
from models import ensure_month_partitions, make_engine, make_session_factory, month_of_ns  # noqa: E402
from scoring_service.worker import DirtyDevices, mark_dirty  # noqa: E402

PG_URL = os.environ.get("NEOT_BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
DEVICES = 1000


def _fill(engine: Engine, start: int, stop: int, now_ns: int) -> None:
    """Samples `start` .. `stop` - 1: device = i mod DEVICES, 10 Hz, all in the current month."""
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO samples (device_id, time_ns, seq, speed_kmh, lat, lon)"
                " SELECT 1 + i % :devices, :t0 + (i / :devices) * 100000000, 1 + i / (:devices * 600),"
                " 50.0, 60.17, 24.94 FROM generate_series(CAST(:start AS bigint), CAST(:stop AS bigint) - 1) AS i"
            ),
            {"devices": DEVICES, "t0": now_ns - 20 * 86_400 * 10**9, "start": start, "stop": stop},
        )
        conn.execute(text("ANALYZE samples"))


def _timed(fn: Callable[[], object], repeats: int) -> list[float]:
    out = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        out.append((time.perf_counter() - start) * 1000)
    return out


def _world(admin: Engine, samples: int, now_ns: int) -> tuple[str, str]:
    """A schema with DEVICES devices, `samples` samples and 10 devices marked dirty; (schema, url)."""
    schema = f"bench_work_{uuid.uuid4().hex[:8]}"
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = make_url(PG_URL).update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(False)
    migrations.upgrade(url)
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO drivers (id, name, email, created_at) VALUES (1, 'b', 'b@b.test', now())"))
        conn.execute(
            text("INSERT INTO vehicles (id, driver_id, vin, created_at) VALUES (1, 1, 'BENCH000000000001', now())")
        )
        conn.execute(
            text(
                "INSERT INTO devices (id, vehicle_id, neo_address, public_key, last_seq, created_at)"
                " SELECT i, 1, 'N' || lpad(i::text, 33, '0'), decode(lpad(to_hex(i), 66, '0'), 'hex'), 0, now()"
                " FROM generate_series(1, :n) AS i"
            ),
            {"n": DEVICES},
        )
        ensure_month_partitions(conn, [month_of_ns(now_ns - 20 * 86_400 * 10**9), month_of_ns(now_ns)])
        for device_id in range(1, 11):
            mark_dirty(conn, device_id=device_id, now_ns=now_ns)
    _fill(engine, 0, samples, now_ns)
    engine.dispose()
    return schema, url


def _reachable() -> str | None:
    """None when PostgreSQL (and NATS) answer, else what does not."""
    try:
        engine = create_engine(PG_URL, connect_args={"connect_timeout": 3})
        with engine.connect() as conn:
            conn.execute(text("select 1"))
        engine.dispose()
    except Exception:
        return f"nothing answers at {PG_URL}"
    return None


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--small", type=int, default=1_000_000)
    parser.add_argument("--large", type=int, default=10_000_000)
    parser.add_argument("--rounds", type=int, default=60, help="interleaved calls of the work source per size")
    args = parser.parse_args()
    if (problem := _reachable()) is not None:
        print(f"{Path(__file__).name}: skipped, {problem}")
        return
    admin = create_engine(PG_URL)
    now_ns = time.time_ns()
    sizes = (args.small, args.large)
    schemas: list[str] = []
    times: dict[tuple[str, int], list[float]] = {}
    try:
        worlds = {}
        for size in sizes:
            schema, url = _world(admin, size, now_ns)
            schemas.append(schema)
            engine = make_engine(url)
            worlds[size] = (engine, DirtyDevices(make_session_factory(engine)))

        def take(size: int) -> Callable[[], object]:
            def call() -> object:
                found = worlds[size][1].take(limit=32, now_ns=time.time_ns())
                if len(found) != 10:
                    raise SystemExit(f"the work source found {len(found)} devices, not 10")
                return found

            return call

        def distinct(size: int) -> Callable[[], object]:
            def call() -> object:
                with worlds[size][0].connect() as conn:
                    return conn.execute(text("SELECT DISTINCT device_id FROM samples")).all()

            return call

        for size in sizes:  # warm both alike
            take(size)()
            distinct(size)()
        for name, make, rounds in (("work source", take, args.rounds), ("baseline DISTINCT", distinct, 5)):
            for _ in range(rounds):  # the sizes alternate call by call
                for size in sizes:
                    times.setdefault((name, size), []).extend(_timed(make(size), 1))
        for engine, _ in worlds.values():
            engine.dispose()
    finally:
        with admin.begin() as conn:
            for schema in schemas:
                conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()
    print(
        f"finding new work, PostgreSQL: {DEVICES} devices, 10 with new data, calls alternating between a "
        f"{args.small:,}- and a {args.large:,}-sample database; {os.cpu_count()} CPUs, "
        f"load average {os.getloadavg()[0]:.1f}; median (range) ms"
    )
    small, large = sizes
    ratios = {}
    for name in ("work source", "baseline DISTINCT"):
        a, b = times[(name, small)], times[(name, large)]
        ratios[name] = statistics.median(b) / statistics.median(a)
        print(
            f"  {name:<18} {small / 1e6:g}M: {statistics.median(a):8.2f} ({min(a):.2f}-{max(a):.2f})"
            f"   {large / 1e6:g}M: {statistics.median(b):8.2f} ({min(b):.2f}-{max(b):.2f})"
            f"   ratio {ratios[name]:.2f} x"
        )
    verdict = "flat" if ratios["work source"] < 2 else "NOT flat"
    print(f"work source at {large // small} x the samples: {ratios['work source']:.2f} x the time ({verdict})")


if __name__ == "__main__":
    main()
