"""A real scoring service on a free 127.0.0.1 port over a migrated database (`db_engine`),
registered devices, and signed batches of plausible 10 Hz driving. Everything is a fixture, so
test modules import nothing from here."""

import itertools
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager

import pytest
import uvicorn
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from models import Driver, Sample, UploadBatch, Vehicle
from protocol import Batch, DeviceKey, SignedBatch, StatusReport, sign_batch
from protocol import Sample as WireSample
from scoring_service.app import create_app
from scoring_service.ingest import IngestLimits, register_device

_vins = itertools.count(1)

# An hour ago, so that every batch is comfortably in the past.
T0_NS = (time.time_ns() // 1_000_000_000 - 3600) * 1_000_000_000


@contextmanager
def _serve(engine: Engine, limits: IngestLimits | None) -> Iterator[str]:
    app = create_app(engine=engine, ingest_limits=limits)
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off", access_log=False))
    # IPPROTO_TCP explicitly: asyncio turns Nagle off only on sockets that say so.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.01)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


type StartService = Callable[..., str]


@pytest.fixture
def start_service(db_engine: Engine) -> Iterator[StartService]:
    """`start_service(limits=None, engine=None)`: one more service, over `engine` (default: the
    test's database) with `limits`; its base URL. Stopped after the test."""
    with ExitStack() as stack:

        def start(limits: IngestLimits | None = None, engine: Engine | None = None) -> str:
            return stack.enter_context(_serve(engine or db_engine, limits))

        yield start


@pytest.fixture
def service_url(db_engine: Engine) -> Iterator[str]:
    """Base URL of the scoring service (uvicorn, default limits) over a fresh database at head."""
    with _serve(db_engine, None) as url:
        yield url


@pytest.fixture
def stored(session_factory: sessionmaker[Session]) -> Callable[[], tuple[int, int]]:
    """How many (batches, samples) the database holds."""

    def count() -> tuple[int, int]:
        with session_factory() as session:
            batches = session.scalar(select(func.count()).select_from(UploadBatch))
            samples = session.scalar(select(func.count()).select_from(Sample))
        return int(batches or 0), int(samples or 0)

    return count


@pytest.fixture
def new_vehicle(session_factory: sessionmaker[Session]) -> Callable[[], int]:
    """Add a driver with one vehicle; the vehicle's id."""

    def add() -> int:
        n = next(_vins)
        with session_factory() as session:
            driver = Driver(name=f"Driver {n}", email=f"d{n}@example.org")
            vehicle = Vehicle(driver=driver, vin=f"WVWZZZ1JZXW{n:06d}")
            session.add(vehicle)
            session.commit()
            return vehicle.id

    return add


@pytest.fixture
def new_device(session_factory: sessionmaker[Session], new_vehicle: Callable[[], int]) -> Callable[[], DeviceKey]:
    """Register a fresh device key on a new vehicle; the key."""

    def add() -> DeviceKey:
        key = DeviceKey.generate()
        with session_factory() as session:
            register_device(session, vehicle_id=new_vehicle(), public_key=key.public_key)
            session.commit()
        return key

    return add


@pytest.fixture
def device(new_device: Callable[[], DeviceKey]) -> DeviceKey:
    """One registered device."""
    return new_device()


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
