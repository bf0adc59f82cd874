"""The invariants the schema itself must hold, on SQLite and PostgreSQL."""

from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from sqlalchemy import BigInteger, Engine, Integer, inspect, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from models import (
    Device,
    Driver,
    Insurer,
    JournalEntry,
    LedgerAccount,
    Payment,
    Policy,
    Posting,
    UnbalancedEntryError,
    UploadBatch,
    Vehicle,
)


def _device(session: Session) -> Device:
    driver = Driver(name="Ada", email="ada@example.org")
    vehicle = Vehicle(driver=driver, vin="WVWZZZ1JZXW000001")
    device = Device(vehicle=vehicle, neo_address="NfgHwwTi3wHAS8aFAN243C5vGbkYDpqLHP", public_key=b"\x02" * 33)
    session.add(device)
    session.flush()
    return device


def test_batch_is_unique_per_device_and_seq(session_factory: sessionmaker[Session]) -> None:
    with session_factory() as session:
        device = _device(session)
        session.add(UploadBatch(device_id=device.id, seq=1, content_sha256=b"a" * 32, sample_count=3))
        session.add(UploadBatch(device_id=device.id, seq=2, content_sha256=b"b" * 32, sample_count=3))
        session.commit()
        session.expunge_all()  # the database, not the session's identity map, must refuse it
        session.add(UploadBatch(device_id=device.id, seq=1, content_sha256=b"c" * 32, sample_count=1))
        with pytest.raises(IntegrityError):
            session.commit()
        session.rollback()
        assert session.scalar(select(UploadBatch.content_sha256).where(UploadBatch.seq == 1)) == b"a" * 32


def test_unbalanced_journal_entry_is_rejected_and_nothing_written(session_factory: sessionmaker[Session]) -> None:
    with session_factory() as session:
        cash = LedgerAccount(name="platform:treasury")
        deposit = LedgerAccount(name="driver:1:deposit")
        session.add_all([cash, deposit])
        session.commit()

        entry = JournalEntry(description="premium for 2026-10")
        entry.postings = [Posting(account_id=deposit.id, amount=-5_000), Posting(account_id=cash.id, amount=4_999)]
        session.add(entry)
        with pytest.raises(UnbalancedEntryError, match="sum to -1"):
            session.commit()
        session.rollback()
        assert session.scalars(select(JournalEntry)).all() == []

        balanced = JournalEntry(description="premium for 2026-10")
        balanced.postings = [Posting(account_id=deposit.id, amount=-5_000), Posting(account_id=cash.id, amount=5_000)]
        session.add(balanced)
        session.commit()
        assert sum(session.scalars(select(Posting.amount)).all()) == 0

        # changing one leg of a stored entry without its twin is refused too
        balanced.postings[0].amount = -4_000
        with pytest.raises(UnbalancedEntryError):
            session.commit()


def test_entry_without_postings_is_rejected(session_factory: sessionmaker[Session]) -> None:
    with session_factory() as session:
        session.add(JournalEntry(description="empty"))
        with pytest.raises(UnbalancedEntryError):
            session.commit()


def test_money_columns_are_integers_and_hold_the_whole_supply(
    db_engine: Engine, session_factory: sessionmaker[Session]
) -> None:
    money = {"postings": "amount", "payments": "amount", "policies": "base_premium", "repair_jobs": "authorised_amount"}
    inspector = inspect(db_engine)
    for table, column in money.items():
        col = next(c for c in inspector.get_columns(table) if c["name"] == column)
        assert isinstance(col["type"], (BigInteger, Integer)), f"{table}.{column} is {col['type']}"
    supply = 100_000_000 * 10**8  # 100 M NEOT in base units: beyond 32 bits
    with session_factory() as session:
        driver = Driver(name="Bo", email="bo@example.org")
        insurer = Insurer(name="Mutual", neo_address="NfgHwwTi3wHAS8aFAN243C5vGbkYDpqLHP")
        vehicle = Vehicle(driver=driver, vin="WVWZZZ1JZXW000002")
        session.add_all([driver, insurer, vehicle])
        session.flush()
        session.add(
            Policy(
                insurer_id=insurer.id,
                driver_id=driver.id,
                vehicle_id=vehicle.id,
                product_id="p",
                product_version=1,
                period_start=date(2026, 1, 1),
                period_end=date(2026, 12, 31),
                base_premium=supply,
            )
        )
        session.add(Payment(idempotency_key="k1", request_sha256=b"x" * 32, kind="charge", amount=supply))
        session.commit()
        assert session.scalar(select(Policy.base_premium)) == supply
        assert session.scalar(select(Payment.amount)) == supply


def test_idempotency_key_is_unique(session_factory: sessionmaker[Session]) -> None:
    with session_factory() as session:
        session.add(Payment(idempotency_key="same", request_sha256=b"x" * 32, kind="charge", amount=1))
        session.commit()
        session.add(Payment(idempotency_key="same", request_sha256=b"y" * 32, kind="charge", amount=1))
        with pytest.raises(IntegrityError):
            session.commit()


def test_timestamps_come_back_utc_aware_and_naive_ones_are_refused(session_factory: sessionmaker[Session]) -> None:
    with session_factory() as session:
        plus_two = timezone(timedelta(hours=2))
        session.add(Insurer(name="A", neo_address="N" * 34, created_at=datetime(2026, 5, 1, 12, tzinfo=plus_two)))
        session.commit()
        session.expire_all()
        stored = session.scalar(select(Insurer.created_at))
        assert stored == datetime(2026, 5, 1, 10, tzinfo=UTC)
        assert stored is not None and stored.utcoffset() == timedelta(0)
        session.add(Insurer(name="B", neo_address="N" * 34, created_at=datetime(2026, 5, 1, 12)))
        with pytest.raises(Exception, match="naive datetime"):
            session.commit()
