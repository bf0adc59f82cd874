"""Persisting scored trips on SQLite and PostgreSQL: idempotent, and independent of how the
samples arrived in batches."""

import hashlib
import itertools
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.orm import Session

import migrations
from models import (
    Base,
    Device,
    Driver,
    EventKind,
    Insurer,
    Policy,
    PolicyStatus,
    Sample,
    Trip,
    TripEvent,
    TripScore,
    UploadBatch,
    Vehicle,
    ensure_month_partitions,
    make_engine,
    make_session_factory,
    months_spanned,
)
from scoring_service.products import load_product
from scoring_service.risk import (
    features_for_policies,
    features_from_totals,
    fit_risk_model,
    premium_for_period,
    price_driver,
    synthetic_portfolio,
)
from scoring_service.scoring import (
    analyse_samples,
    driver_score,
    driver_totals,
    product_for_device,
    score_device,
    score_totals,
    trip_record,
)
from scoring_service.speedlimits import default_speed_limits
from scoring_service.trips import SampleArrays
from scoring_service.worker import mark_dirty
from tests.scoring_service.crafted import T0_NS, Leg, simulate

PRODUCT = load_product("standard", 1)
OPEN_ROAD = (60.30, 25.30)
LATER = T0_NS + 10 * 86_400 * 10**9  # "now" long after the drives: every trip is complete


def two_drives() -> SampleArrays:
    """Two trips 10 min apart: the first with two harsh brakes, the second with one harsh start."""
    first = simulate(
        [Leg(10, 2.0), Leg(60), Leg(2, -5.0), Leg(60), Leg(2, -4.0), Leg(60), Leg(3, -10 / 3)],
        hz=2.0,
        start=OPEN_ROAD,
    )
    second = simulate(
        [Leg(5, 4.0), Leg(180), Leg(10, -2.0)], hz=2.0, start=OPEN_ROAD, t0_ns=int(first.time_ns[-1]) + 600 * 10**9
    )
    return SampleArrays.concat([first, second])


def add_device(session: Session) -> int:
    driver = Driver(name="Test Driver", email=f"d{id(session)}@example.org")
    vehicle = Vehicle(driver=driver, vin=f"VIN{id(session)}"[:17])
    device = Device(vehicle=vehicle, neo_address="N" + "x" * 33, public_key=b"\x02" + bytes(32))
    session.add_all([driver, vehicle, device])
    session.flush()
    return device.id


def add_batch(session: Session, device_id: int, seq: int, samples: SampleArrays) -> None:
    """Store samples as ingestion does: batch row, sample rows, and the device marked for the worker."""
    batch = UploadBatch(
        device_id=device_id,
        seq=seq,
        content_sha256=hashlib.sha256(str(seq).encode()).digest(),
        sample_count=len(samples),
    )
    session.add(batch)
    session.flush()
    if len(samples) and session.get_bind().dialect.name == "postgresql":
        months = months_spanned(int(samples.time_ns.min()), int(samples.time_ns.max()))
        ensure_month_partitions(session.connection(), months)
    rows = []
    for i in range(len(samples)):
        row = {"seq": seq, "device_id": device_id, "time_ns": int(samples.time_ns[i])}
        for name in ("lat", "lon", "gps_speed_kmh", "heading_deg", "speed_kmh", "rpm"):
            value = float(getattr(samples, name)[i])
            row[name] = value if np.isfinite(value) else None
        rows.append(row)
    session.execute(Sample.__table__.insert(), rows)
    mark_dirty(session.connection(), device_id=device_id, now_ns=int(samples.time_ns[-1]))


def stored_records(session: Session, device_id: int) -> list[bytes]:
    query = (
        select(TripScore.canonical)
        .join(Trip, Trip.id == TripScore.trip_id)
        .where(Trip.device_id == device_id)
        .order_by(Trip.start_ns)
    )
    return [r for r in session.scalars(query) if r is not None]


def expected_records(samples: SampleArrays) -> list[bytes]:
    """What `neot score-file` computes for the same samples: the reference bytes."""
    _, trips = analyse_samples(samples, PRODUCT, default_speed_limits(), final=True)
    return [trip_record(t, score_totals(t.totals(), PRODUCT), PRODUCT) for t in trips]


@pytest.fixture
def session(migrated_url: str) -> Iterator[Session]:
    engine = make_engine(migrated_url)
    with make_session_factory(engine)() as s:
        yield s
    engine.dispose()


def test_scoring_a_device_stores_trips_events_and_scores_once(session: Session) -> None:
    device_id = add_device(session)
    samples = two_drives()
    add_batch(session, device_id, 1, samples)
    session.commit()

    result = score_device(session, device_id=device_id, product=PRODUCT, now_ns=LATER)
    session.commit()
    assert len(result.new_trip_ids) == 2 and result.open_trip_start_ns is None
    assert stored_records(session, device_id) == expected_records(samples)
    kinds = session.scalars(select(TripEvent.kind).order_by(TripEvent.start_ns)).all()
    assert kinds == [EventKind.HARSH_BRAKE, EventKind.HARSH_BRAKE, EventKind.HARSH_ACCEL]
    scores = session.scalars(select(TripScore).order_by(TripScore.trip_id)).all()
    assert [s.product_id for s in scores] == ["standard", "standard"]
    assert scores[0].reasons[0]["kind"] == "harsh_brake" and scores[0].score < 100

    again = score_device(session, device_id=device_id, product=PRODUCT, now_ns=LATER)
    session.commit()
    assert again.new_trip_ids == ()
    assert session.scalar(select(func.count()).select_from(Trip)) == 2
    assert session.scalar(select(func.count()).select_from(TripEvent)) == 3
    assert session.scalar(select(func.count()).select_from(TripScore)) == 2


def test_batches_scored_as_they_arrive_give_the_same_bytes(session: Session) -> None:
    device_id = add_device(session)
    samples = two_drives()
    bounds = [0, 37, 300, 395, 396, 600, len(samples) - 5, len(samples)]
    for seq, (a, b) in enumerate(itertools.pairwise(bounds), start=1):
        add_batch(session, device_id, seq, samples.take(slice(a, b)))
        # scored right after each upload, "now" being the newest sample's time
        score_device(session, device_id=device_id, product=PRODUCT, now_ns=int(samples.time_ns[b - 1]))
        session.commit()
    assert len(stored_records(session, device_id)) == 1  # the second trip is still open
    score_device(session, device_id=device_id, product=PRODUCT, now_ns=LATER)
    session.commit()
    assert stored_records(session, device_id) == expected_records(samples)


def test_driver_score_over_thirty_days(session: Session) -> None:
    device_id = add_device(session)
    add_batch(session, device_id, 1, two_drives())
    score_device(session, device_id=device_id, product=PRODUCT, now_ns=LATER)
    session.commit()
    driver_id = session.get(Device, device_id).vehicle.driver_id  # type: ignore[union-attr]
    as_of = datetime.fromtimestamp(T0_NS / 1e9, UTC) + timedelta(days=1)
    score, totals = driver_score(session, driver_id=driver_id, product=PRODUCT, as_of=as_of)
    assert (totals.harsh_brakes, totals.harsh_accels) == (2, 1)
    per_100km = 2 * 100_000 / totals.distance_m
    assert score.reasons[0].text == f"{per_100km:.1f} harsh brakes per 100 km: \u2212{min(30, round(per_100km * 3))}"
    assert 0 <= score.score < 100
    long_after = as_of + timedelta(days=31)
    empty = driver_totals(session, driver_id=driver_id, start=long_after - timedelta(days=30), end=long_after)
    assert empty.distance_m == 0 and score_totals(empty, PRODUCT).score == 100


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    cuts=st.lists(st.integers(min_value=1, max_value=1500), max_size=6, unique=True),
    score_between=st.booleans(),
)
def test_score_bytes_do_not_depend_on_batch_boundaries(cuts: list[int], score_between: bool) -> None:
    samples = two_drives()
    reference = expected_records(samples)
    bounds = [0, *sorted(c for c in cuts if c < len(samples)), len(samples)]
    engine = make_engine("sqlite://")
    Base.metadata.create_all(engine)
    with make_session_factory(engine)() as session:
        device_id = add_device(session)
        for seq, (a, b) in enumerate(itertools.pairwise(bounds), start=1):
            add_batch(session, device_id, seq, samples.take(slice(a, b)))
            if score_between:
                score_device(session, device_id=device_id, product=PRODUCT, now_ns=int(samples.time_ns[b - 1]))
            session.commit()
        score_device(session, device_id=device_id, product=PRODUCT, now_ns=LATER)
        session.commit()
        assert stored_records(session, device_id) == reference
    engine.dispose()


def test_policy_features_product_and_premium_from_stored_trips(session: Session) -> None:
    device_id = add_device(session)
    add_batch(session, device_id, 1, two_drives())
    device = session.get(Device, device_id)
    assert device is not None
    start = datetime.fromtimestamp(T0_NS / 1e9, UTC).date()
    insurer = Insurer(name="Test Insurer", neo_address="N" + "i" * 33)
    session.add(insurer)
    session.flush()
    policy = Policy(
        insurer_id=insurer.id,
        driver_id=device.vehicle.driver_id,
        vehicle_id=device.vehicle_id,
        product_id="standard",
        product_version=1,
        period_start=start,
        period_end=start + timedelta(days=30),
        base_premium=PRODUCT.pricing.base_premium,
        status=PolicyStatus.ACTIVE,
    )
    session.add(policy)
    session.flush()
    assert product_for_device(session, device_id=device_id) == PRODUCT
    score_device(session, device_id=device_id, product=PRODUCT, now_ns=LATER)
    session.commit()

    features = features_for_policies(session, [policy.id])[policy.id]
    totals = driver_totals(
        session,
        driver_id=policy.driver_id,
        start=datetime.combine(start, datetime.min.time(), UTC),
        end=datetime.combine(start + timedelta(days=30), datetime.min.time(), UTC),
    )
    assert features == features_from_totals(totals, 30)
    assert features.harsh_brakes_per_100km == pytest.approx(2 * 100_000 / totals.distance_m)
    assert features.speeding_share == 0.0 and features.night_share == 0.0

    portfolio = synthetic_portfolio(5000, seed=2)
    model = fit_risk_model(portfolio.features, portfolio.exposure, portfolio.claim_count, version=1)
    premium = price_driver(PRODUCT, model, features)
    assert PRODUCT.pricing.floor <= premium.amount <= PRODUCT.pricing.cap
    assert premium.model_sha256 == model.sha256
    period = premium_for_period(
        session,
        driver_id=policy.driver_id,
        product=PRODUCT,
        model=model,
        start=datetime.combine(start, datetime.min.time(), UTC),
        end=datetime.combine(start + timedelta(days=30), datetime.min.time(), UTC),
    )
    assert period == (premium, features)


def test_two_workers_racing_store_each_trip_once(postgres_url: str) -> None:
    """Two scoring workers on the same device at the same moment (PostgreSQL, where several
    workers run): the unique (device, start) key lets one win each trip; the other skips it."""
    migrations.upgrade(postgres_url)
    engine = make_engine(postgres_url)
    factory = make_session_factory(engine)
    with factory() as setup:
        device_id = add_device(setup)
        add_batch(setup, device_id, 1, two_drives())
        setup.commit()
    barrier = threading.Barrier(2)

    def worker() -> tuple[int, ...]:
        with factory() as session:
            barrier.wait()
            result = score_device(session, device_id=device_id, product=PRODUCT, now_ns=LATER)
            session.commit()
            return result.new_trip_ids

    with ThreadPoolExecutor(2) as pool:
        results = [f.result() for f in [pool.submit(worker), pool.submit(worker)]]
    with factory() as check:
        assert check.scalar(select(func.count()).select_from(Trip)) == 2
        assert check.scalar(select(func.count()).select_from(TripScore)) == 2
    assert sorted(i for ids in results for i in ids) == sorted(set(i for ids in results for i in ids))
    assert sum(len(ids) for ids in results) == 2
    engine.dispose()
