"""Raw samples are deleted once kept long enough after billing, on SQLite (rows) and PostgreSQL
(month partitions dropped); everything else stays, and a late upload for a purged month works."""

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from models import (
    Device,
    Driver,
    Insurer,
    Policy,
    PolicyStatus,
    Sample,
    Statement,
    Trip,
    UploadBatch,
    Vehicle,
    month_of_ns,
    month_partitions,
)
from protocol import Batch, DeviceKey, sign_batch
from protocol import Sample as WireSample
from scoring_service.devices import register_device
from scoring_service.ingest import IngestLimits, accept_batch
from scoring_service.retention import RetentionPolicy, purge_expired_samples

NOW = datetime(2026, 12, 15, 12, tzinfo=UTC)
# July: never billed, ended 137 days ago -> purged. August: billed late (Nov 20) -> kept until Feb.
# September: not billed, ended 76 days ago -> kept. December: the current month -> kept.
MONTHS = {date(2026, 7, 1): None, date(2026, 8, 1): datetime(2026, 11, 20, tzinfo=UTC), date(2026, 9, 1): None}


def _ns(moment: datetime) -> int:
    return int(moment.timestamp()) * 10**9


def _upload(factory: sessionmaker[Session], key: DeviceKey, seq: int, start: datetime, n: int = 20) -> None:
    samples = tuple(WireSample(time_ns=_ns(start) + i * 10**8, speed_kmh=30.0 + i) for i in range(n))
    body = sign_batch(Batch(key.address, seq, samples, "test-1.0", key.public_key), key).to_wire()
    accept_batch(factory, body, limits=IngestLimits(), now=NOW)


@pytest.fixture
def world(session_factory: sessionmaker[Session]) -> tuple[DeviceKey, int]:
    key = DeviceKey.generate()
    with session_factory() as session:
        driver = Driver(name="Ada", email="ada@retention.test")
        vehicle = Vehicle(driver=driver, vin="WVWZZZ1JZXW000777")
        insurer = Insurer(name="Keepers", neo_address="NfgHwwTi3wHAS8aFAN243C5vGbkYDpqLHP")
        session.add_all([vehicle, insurer])
        session.flush()
        device = register_device(session, vehicle_id=vehicle.id, public_key=key.public_key)
        policy = Policy(
            insurer_id=insurer.id,
            driver_id=driver.id,
            vehicle_id=vehicle.id,
            product_id="standard",
            product_version=1,
            period_start=date(2026, 7, 1),
            period_end=date(2027, 7, 1),
            base_premium=100,
            status=PolicyStatus.ACTIVE,
        )
        session.add(policy)
        session.flush()
        for month, issued in MONTHS.items():
            if issued is not None:
                session.add(
                    Statement(
                        policy_id=policy.id,
                        period_start=month,
                        period_end=(month + timedelta(days=31)).replace(day=1),
                        distance_m=0,
                        trip_count=0,
                        driver_score=None,
                        risk_factor="1",
                        model_version=1,
                        model_sha256="0" * 64,
                        base_premium=100,
                        premium=100,
                        statement_sha256=bytes(32),
                        issued_at=issued,
                    )
                )
        session.add(
            Trip(
                device_id=device.id,
                start_ns=_ns(datetime(2026, 7, 3, tzinfo=UTC)),
                end_ns=1,
                distance_m=1.0,
                duration_s=1.0,
            )
        )
        session.commit()
        return key, device.id


def _months_stored(session: Session) -> dict[date, int]:
    times = session.scalars(select(Sample.time_ns)).all()
    counts: dict[date, int] = {}
    for t in times:
        counts[month_of_ns(t)] = counts.get(month_of_ns(t), 0) + 1
    return counts


def test_samples_are_purged_after_their_retention_and_nothing_else_is(
    db_engine: Engine, session_factory: sessionmaker[Session], world: tuple[DeviceKey, int]
) -> None:
    key, _device_id = world
    for seq, month in enumerate([*MONTHS, date(2026, 12, 1)], start=1):
        _upload(session_factory, key, seq, datetime(month.year, month.month, 2, 8, tzinfo=UTC))
    _upload(session_factory, key, 9, datetime(2026, 7, 31, 23, 59, 59, tzinfo=UTC))  # runs into August

    purge = purge_expired_samples(db_engine, now=NOW, policy=RetentionPolicy())

    assert purge.months == (date(2026, 7, 1),)
    with session_factory() as session:
        assert _months_stored(session) == {
            date(2026, 8, 1): 30,  # 20 of its own and the 10 of batch 9 past midnight
            date(2026, 9, 1): 20,
            date(2026, 12, 1): 20,
        }
        assert session.scalar(select(func.count()).select_from(UploadBatch)) == 5  # batches are remembered
        assert session.scalar(select(func.count()).select_from(Trip)) == 1
        assert session.scalar(select(Device.last_seq)) == 9
    if db_engine.dialect.name == "postgresql":
        assert purge.rows is None
        with db_engine.connect() as conn:
            assert date(2026, 7, 1) not in {p.month for p in month_partitions(conn)}
    else:
        assert purge.rows == 30

    assert purge_expired_samples(db_engine, now=NOW, policy=RetentionPolicy()).months == ()  # nothing more yet
    later = purge_expired_samples(db_engine, now=NOW + timedelta(days=70), policy=RetentionPolicy())
    assert later.months == (date(2026, 8, 1), date(2026, 9, 1))  # August: Nov 20 + 90 days has passed

    # an agent back from months offline delivers July again: stored (the partition comes back)
    _upload(session_factory, key, 10, datetime(2026, 7, 20, tzinfo=UTC))
    with session_factory() as session:
        assert _months_stored(session)[date(2026, 7, 1)] == 20


def test_a_shorter_retention_is_honoured_and_a_negative_one_refused(
    db_engine: Engine, session_factory: sessionmaker[Session], world: tuple[DeviceKey, int]
) -> None:
    key, _ = world
    _upload(session_factory, key, 1, datetime(2026, 11, 5, tzinfo=UTC))
    assert purge_expired_samples(db_engine, now=NOW, policy=RetentionPolicy(timedelta(days=30))).months == ()
    purged = purge_expired_samples(db_engine, now=NOW, policy=RetentionPolicy(timedelta(days=14)))
    assert purged.months == (date(2026, 11, 1),)
    with session_factory() as session:
        assert session.scalar(select(func.count()).select_from(Sample)) == 0
    with pytest.raises(ValueError, match="negative"):
        RetentionPolicy(timedelta(days=-1))
