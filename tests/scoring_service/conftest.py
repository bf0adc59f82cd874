"""A real scoring service on a free 127.0.0.1 port over a migrated database (`db_engine`), and
registered devices on fresh vehicles: shared by the device-edge and ingestion tests."""

import itertools
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager

import pytest
import uvicorn
from fastapi import FastAPI
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from models import Driver, Vehicle
from protocol import DeviceKey
from scoring_service.app import create_app
from scoring_service.devices import register_device
from scoring_service.ingest import IngestLimits

_vins = itertools.count(1)


@contextmanager
def _serve(app: FastAPI) -> Iterator[str]:
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
type ServeApp = Callable[[FastAPI], str]


@pytest.fixture
def start_service(db_engine: Engine) -> Iterator[StartService]:
    """`start_service(limits=None, engine=None)`: one more service, over `engine` (default: the
    test's database) with `limits`; its base URL. Stopped after the test."""
    with ExitStack() as stack:

        def start(limits: IngestLimits | None = None, engine: Engine | None = None) -> str:
            return stack.enter_context(_serve(create_app(engine=engine or db_engine, ingest_limits=limits)))

        yield start


@pytest.fixture
def serve_app() -> Iterator[ServeApp]:
    """`serve_app(app)`: serve an app built by the test; its base URL. Stopped after the test."""
    with ExitStack() as stack:
        yield lambda app: stack.enter_context(_serve(app))


@pytest.fixture
def service_url(db_engine: Engine) -> Iterator[str]:
    """Base URL of the scoring service (uvicorn, default limits) over a fresh database at head."""
    with _serve(create_app(engine=db_engine)) as url:
        yield url


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
