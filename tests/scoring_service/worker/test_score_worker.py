"""The score worker on SQLite and PostgreSQL: it scores the devices ingestion marked and no others,
revisits an open trip when it settles, never loses data that arrives mid-step, retries a device
that cannot be scored without stopping, and says so on `/health` and `/metrics`."""

import json
from collections.abc import Iterator
from datetime import date

import httpx
import pytest
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session, sessionmaker

from models import Device, DirtyDevice, Driver, Insurer, Policy, PolicyStatus, Trip, Vehicle
from protocol import DeviceKey
from scoring_service.devices import register_device
from scoring_service.monitoring import SCORING_ERRORS, HealthServer, Heartbeat
from scoring_service.worker import DirtyDevices, mark_dirty
from scoring_service.worker.service import ScoreWorker
from tests.scoring_service.test_store import add_batch, two_drives

DRIVES = two_drives()
LAST_NS = int(DRIVES.time_ns[-1])
SETTLE_S = 600.0


class Clock:
    """The worker's notion of now, moved by the test."""

    def __init__(self, now_ns: int) -> None:
        self.now_ns = now_ns

    def __call__(self) -> int:
        return self.now_ns


def _device(session: Session, n: int) -> int:
    vehicle = Vehicle(driver=Driver(name=f"Driver {n}", email=f"w{n}@example.org"), vin=f"WVWZZZ1JZXW{n:06d}")
    session.add(vehicle)
    session.flush()
    return register_device(session, vehicle_id=vehicle.id, public_key=DeviceKey.generate().public_key).id


def _trips(factory: sessionmaker[Session], device_id: int) -> int:
    with factory() as session:
        return int(session.scalar(select(func.count()).where(Trip.device_id == device_id)) or 0)


def _due(factory: sessionmaker[Session], device_id: int) -> int | None:
    with factory() as session:
        return session.scalar(select(DirtyDevice.due_ns).where(DirtyDevice.device_id == device_id))


@pytest.fixture
def clock() -> Clock:
    return Clock(LAST_NS + 60 * 10**9)  # a minute after the second drive's last sample: still open


@pytest.fixture
def worker(session_factory: sessionmaker[Session], clock: Clock) -> ScoreWorker:
    return ScoreWorker(session_factory, DirtyDevices(session_factory), settle_s=SETTLE_S, clock=clock)


def test_only_marked_devices_are_scored_and_an_open_trip_waits_until_it_settles(
    session_factory: sessionmaker[Session], worker: ScoreWorker, clock: Clock
) -> None:
    with session_factory() as session:
        marked, unmarked = _device(session, 1), _device(session, 2)
        add_batch(session, marked, 1, DRIVES)
        add_batch(session, unmarked, 1, DRIVES)
        session.execute(delete(DirtyDevice).where(DirtyDevice.device_id == unmarked))
        session.commit()

    first = worker.step()
    assert (first.devices, first.trips, first.failed) == (1, 1, 0)  # the second drive is still open
    assert (_trips(session_factory, marked), _trips(session_factory, unmarked)) == (1, 0)
    assert _due(session_factory, marked) == LAST_NS + round(SETTLE_S * 1e9)
    assert worker.step().devices == 0  # nothing new, nothing due: no work

    clock.now_ns = LAST_NS + round(SETTLE_S * 1e9)
    settled = worker.step()
    assert (settled.devices, settled.trips) == (1, 1)
    assert _trips(session_factory, marked) == 2 and _due(session_factory, marked) is None
    assert _trips(session_factory, unmarked) == 0  # samples nobody marked are never scanned for


def test_data_arriving_while_a_device_is_scored_keeps_it_due(
    session_factory: sessionmaker[Session], clock: Clock
) -> None:
    source = DirtyDevices(session_factory)
    with session_factory() as session:
        device_id = _device(session, 3)
        add_batch(session, device_id, 1, DRIVES)
        session.commit()
    (taken,) = source.take(limit=10, now_ns=clock.now_ns)
    with session_factory() as session:  # ingestion stores another batch meanwhile
        mark_dirty(session.connection(), device_id=device_id, now_ns=clock.now_ns)
        session.commit()
    source.finish(taken, revisit_at_ns=None)
    assert [d.device_id for d in source.take(limit=10, now_ns=clock.now_ns)] == [device_id]
    assert source.backlog(now_ns=clock.now_ns) == 1


def test_a_device_that_cannot_be_scored_is_retried_later_and_the_others_go_on(
    session_factory: sessionmaker[Session], worker: ScoreWorker, clock: Clock
) -> None:
    with session_factory() as session:
        good, broken = _device(session, 4), _device(session, 5)
        add_batch(session, good, 1, DRIVES)
        add_batch(session, broken, 1, DRIVES)
        vehicle = session.scalars(select(Vehicle).join(Device).where(Device.id == broken)).one()
        insurer = Insurer(name="Ghost Mutual", neo_address="N" + "g" * 33)
        session.add(insurer)
        session.flush()
        session.add(  # its policy names a product this server does not have
            Policy(
                insurer_id=insurer.id,
                driver_id=vehicle.driver_id,
                vehicle_id=vehicle.id,
                product_id="withdrawn",
                product_version=7,
                period_start=date(2025, 1, 1),
                period_end=date(2027, 1, 1),
                base_premium=0,
                status=PolicyStatus.ACTIVE,
            )
        )
        session.commit()
    errors_before = SCORING_ERRORS._value.get()

    result = worker.step()
    assert (result.devices, result.failed) == (2, 1)
    assert _trips(session_factory, good) == 1 and _trips(session_factory, broken) == 0
    assert _due(session_factory, broken) == clock.now_ns + 60 * 10**9
    assert SCORING_ERRORS._value.get() == errors_before + 1


@pytest.fixture
def health() -> Iterator[tuple[Heartbeat, str]]:
    heartbeat = Heartbeat(stale_after_s=30)
    with HealthServer(heartbeat, host="127.0.0.1", port=0) as server:
        yield heartbeat, f"http://127.0.0.1:{server.port}"


def test_health_follows_the_loop_and_metrics_count_the_trips(
    session_factory: sessionmaker[Session], worker: ScoreWorker, health: tuple[Heartbeat, str]
) -> None:
    heartbeat, url = health
    before = httpx.get(f"{url}/health", timeout=5)
    assert before.status_code == 503 and before.json()["status"] == "stale"
    with session_factory() as session:
        device_id = _device(session, 6)
        add_batch(session, device_id, 1, DRIVES)
        session.commit()

    assert worker.run(poll_s=0.05, heartbeat=heartbeat, once=True) == 1
    after = httpx.get(f"{url}/health", timeout=5)
    assert after.status_code == 200 and json.loads(after.text)["status"] == "ok"
    assert after.json()["last_step_age_s"] < 30
    metrics = httpx.get(f"{url}/metrics", timeout=5)
    assert metrics.status_code == 200 and metrics.headers["content-type"].startswith("text/plain")
    scored = [line for line in metrics.text.splitlines() if line.startswith("neot_trips_scored_total ")]
    assert len(scored) == 1 and float(scored[0].split()[1]) >= 1
    assert "neot_scoring_backlog_devices 0.0" in metrics.text
    assert httpx.get(f"{url}/nothing", timeout=5).status_code == 404


def test_a_heartbeat_that_stops_makes_health_fail() -> None:
    now = [1000.0]  # the heartbeat's clock, moved by the test so staleness never depends on load
    heartbeat = Heartbeat(stale_after_s=30, clock=lambda: now[0])
    with HealthServer(heartbeat, host="127.0.0.1", port=0) as server:
        heartbeat.beat("scored 0 device(s)")
        now[0] += 30
        assert httpx.get(f"http://127.0.0.1:{server.port}/health", timeout=5).status_code == 200
        now[0] += 1
        stale = httpx.get(f"http://127.0.0.1:{server.port}/health", timeout=5)
    assert stale.status_code == 503 and "no step for" in stale.json()["detail"]
