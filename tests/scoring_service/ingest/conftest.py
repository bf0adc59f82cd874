"""Signed batches of plausible 10 Hz driving, and what the database holds of them. The service
and its registered devices are `tests/scoring_service/conftest.py`'s. Everything is a fixture, so
test modules import nothing from here."""

import time
from collections.abc import Callable

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from models import Sample, UploadBatch
from protocol import Batch, DeviceKey, SignedBatch, StatusReport, sign_batch
from protocol import Sample as WireSample

# An hour ago, so that every batch is comfortably in the past.
T0_NS = (time.time_ns() // 1_000_000_000 - 3600) * 1_000_000_000


@pytest.fixture
def stored(session_factory: sessionmaker[Session]) -> Callable[[], tuple[int, int]]:
    """How many (batches, samples) the database holds."""

    def count() -> tuple[int, int]:
        with session_factory() as session:
            batches = session.scalar(select(func.count()).select_from(UploadBatch))
            samples = session.scalar(select(func.count()).select_from(Sample))
        return int(batches or 0), int(samples or 0)

    return count


def _drive(n: int, start_ns: int = T0_NS) -> tuple[WireSample, ...]:
    return tuple(
        WireSample(
            time_ns=start_ns + i * 100_000_000,
            lat=60.1699 + i * 1e-5,
            lon=24.9384,
            gps_speed_kmh=min(i * 0.5, 50.0),
            heading_deg=2.5,
            hdop=0.9,
            satellites=9,
            speed_kmh=min(i * 0.5, 50.0),
            rpm=800 + i * 10.25,
            throttle_pct=20.0,
            engine_load_pct=35.5,
            coolant_c=88.0,
            fuel_pct=61.25,
            maf_gs=4.5,
        )
        for i in range(n)
    )


@pytest.fixture
def drive() -> Callable[..., tuple[WireSample, ...]]:
    """`drive(n, start_ns=T0)`: n samples at 10 Hz of a car pulling away in Helsinki, all fields set."""
    return _drive


def _make_batch(
    key: DeviceKey,
    seq: int,
    n: int = 50,
    *,
    samples: tuple[WireSample, ...] | None = None,
    report: StatusReport | None = None,
) -> SignedBatch:
    if samples is None:
        samples = _drive(n, T0_NS + seq * 60_000_000_000)
    return sign_batch(Batch(key.address, seq, samples, "test-1.0", key.public_key, report), key)


@pytest.fixture
def make_batch() -> Callable[..., SignedBatch]:
    """`make_batch(key, seq, n=50, *, samples=None, report=None)`: a signed batch; by default `n`
    samples of `drive` starting `seq` minutes after an hour ago."""
    return _make_batch
