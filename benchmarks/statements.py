"""Monthly statement generation for 10,000 policies.

Builds a portfolio in a fresh, migrated database (SQLite file by default; `--database-url` for
PostgreSQL): 10,000 drivers, vehicles, devices and active policies with three scored trips each
last month (synthetic rows, written in bulk; not recorded data), and a real risk model fitted on
the scoring service's synthetic portfolio. Then, in the same run:

- **statements**: `issue_statement` for every policy, as `POST /v1/policies/{id}/statements`
  does it (trips and scores read, priced by the risk model within floor and cap, canonical
  document hashed, statement and its anchoring commitment written, one transaction per policy);
- **baseline**: the bare I/O of billing the same month: per policy, read its month's scores and
  insert one statement row with a fixed price, one transaction per policy.

The two run in alternating chunks (`--rounds`), so a change in machine load affects both alike.
Prints total time, per-policy cost and the ratio statements / baseline. Charging on chain is not
included (one escrow transaction per statement; see `benchmarks/chain_costs.py`).
Run: `.venv/bin/python benchmarks/statements.py [--policies 10000] [--database-url URL]`.
"""

import argparse
import hashlib
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import insert, select  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

import migrations  # noqa: E402
from insurer_api.auth import create_user  # noqa: E402
from insurer_api.statements._crud import issue_statement  # noqa: E402
from models import (  # noqa: E402
    Device,
    Driver,
    Insurer,
    Policy,
    PolicyStatus,
    Role,
    Statement,
    Trip,
    TripScore,
    User,
    Vehicle,
    make_engine,
    make_session_factory,
)
from scoring_service.risk import fit_risk_model, synthetic_portfolio  # noqa: E402

TRIPS_PER_POLICY = 3


def _months() -> tuple[date, date, int]:
    today = datetime.now(UTC).date()
    last_month = (today.replace(day=1) - timedelta(days=1)).replace(day=1)
    start_ns = int(datetime.combine(last_month + timedelta(days=3), datetime.min.time(), UTC).timestamp()) * 10**9
    return last_month, last_month.replace(year=last_month.year + 1), start_ns


def build_portfolio(session: Session, count: int) -> tuple[list[int], User]:
    """`count` active policies, each with TRIPS_PER_POLICY scored trips last month (bulk inserts)."""
    last_month, cover_end, start_ns = _months()
    insurer = Insurer(name="Bench Insurance", neo_address="N" + "1" * 33)
    session.add(insurer)
    session.flush()
    admin = create_user(session=session, username="bench@neot.test", password="bench-password", role=Role.ADMIN)
    session.execute(
        insert(Driver), [{"id": i, "name": f"driver {i}", "email": f"d{i}@bench.test"} for i in range(1, count + 1)]
    )
    session.execute(insert(Vehicle), [{"id": i, "driver_id": i, "vin": f"BENCH{i:012d}"} for i in range(1, count + 1)])
    session.execute(
        insert(Device),
        [
            {"id": i, "vehicle_id": i, "neo_address": f"N{i:033d}", "public_key": b"\x02" + i.to_bytes(32, "big")}
            for i in range(1, count + 1)
        ],
    )
    session.execute(
        insert(Policy),
        [
            {
                "id": i,
                "insurer_id": insurer.id,
                "driver_id": i,
                "vehicle_id": i,
                "product_id": "standard",
                "product_version": 1,
                "period_start": last_month,
                "period_end": cover_end,
                "base_premium": 0,
                "status": PolicyStatus.ACTIVE,
            }
            for i in range(1, count + 1)
        ],
    )
    trips, scores = [], []
    for i in range(1, count + 1):
        for k in range(TRIPS_PER_POLICY):
            trip_id = (i - 1) * TRIPS_PER_POLICY + k + 1
            begin = start_ns + k * 86_400 * 10**9
            trips.append(
                {
                    "id": trip_id,
                    "device_id": i,
                    "start_ns": begin,
                    "end_ns": begin + 1800 * 10**9,
                    "distance_m": 15_000.0 + 1000 * k,
                    "duration_s": 1800.0,
                }
            )
            scores.append(
                {
                    "trip_id": trip_id,
                    "product_id": "standard",
                    "product_version": 1,
                    "score": 60 + (i * 7 + k) % 40,
                    "reasons": [],
                }
            )
    session.execute(insert(Trip), trips)
    session.execute(insert(TripScore), scores)
    session.commit()
    return list(range(1, count + 1)), admin


def run_statements(session: Session, admin: User, policy_ids: list[int], month: date, model: object) -> float:
    began = time.perf_counter()
    for policy_id in policy_ids:
        issue_statement(session=session, issuer=admin, policy_id=policy_id, month=month, model=model)  # type: ignore[arg-type]
    return time.perf_counter() - began


def run_baseline(session: Session, policy_ids: list[int], month: date) -> float:
    """Read each policy's scores for the month and store a fixed-price row: billing's bare I/O."""
    month_end = (month + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    began = time.perf_counter()
    for policy_id in policy_ids:
        policy = session.get(Policy, policy_id)
        assert policy is not None
        rows = session.execute(
            select(TripScore.id, TripScore.score, Trip.distance_m)
            .join(Trip, Trip.id == TripScore.trip_id)
            .join(Device, Device.id == Trip.device_id)
            .where(Device.vehicle_id == policy.vehicle_id)
        ).all()
        session.add(
            Statement(
                policy_id=policy_id,
                period_start=month,
                period_end=month_end,
                distance_m=int(sum(r.distance_m for r in rows)),
                trip_count=len(rows),
                driver_score=sum(r.score for r in rows) // max(len(rows), 1),
                risk_factor="1",
                model_version=0,
                model_sha256="0" * 64,
                base_premium=1,
                premium=1,
                statement_sha256=hashlib.sha256(str(policy_id).encode()).digest(),
            )
        )
        session.commit()
    return time.perf_counter() - began


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--policies", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=10, help="Alternating chunks, so load changes hit both sides")
    parser.add_argument("--database-url", default="", help="With `{}`, replaced by statements/baseline")
    args = parser.parse_args()
    n = args.policies
    with tempfile.TemporaryDirectory() as tmp:
        urls = {
            name: args.database_url.replace("{}", name) if args.database_url else f"sqlite:///{tmp}/{name}.sqlite3"
            for name in ("statements", "baseline")
        }
        last_month, _end, _ns = _months()
        portfolio = synthetic_portfolio(3000, seed=7)
        model = fit_risk_model(
            portfolio.features, portfolio.exposure, portfolio.claim_count, version=1, amount=portfolio.amount
        )
        engines = {name: make_engine(url) for name, url in urls.items()}
        sessions, admins, ids = {}, {}, []
        for name, url in urls.items():
            migrations.upgrade(url)
            sessions[name] = make_session_factory(engines[name])()
            built = time.perf_counter()
            ids, admins[name] = build_portfolio(sessions[name], n)
            print(f"{name}: {n} policies built in {time.perf_counter() - built:.1f} s", file=sys.stderr)
        timings = {"statements": 0.0, "baseline": 0.0}
        chunk = -(-n // args.rounds)
        for first in range(0, n, chunk):
            part = ids[first : first + chunk]
            timings["statements"] += run_statements(
                sessions["statements"], admins["statements"], part, last_month, model
            )
            timings["baseline"] += run_baseline(sessions["baseline"], part, last_month)
        issued = sessions["statements"].query(Statement).count()
        assert issued == n, f"{issued} statements for {n} policies"
        for name in urls:
            sessions[name].close()
            engines[name].dispose()
    print(
        f"statement generation, {n} policies, {TRIPS_PER_POLICY} scored trips each, "
        f"{urls['statements'].split(':')[0]}, {args.rounds} alternating rounds"
    )
    print(f"{'':12}{'total s':>10}{'per policy ms':>16}")
    for name in ("statements", "baseline"):
        print(f"{name:12}{timings[name]:>10.2f}{timings[name] / n * 1000:>16.3f}")
    print(f"ratio statements / baseline: {timings['statements'] / timings['baseline']:.2f}")


if __name__ == "__main__":
    main()
