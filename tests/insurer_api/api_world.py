"""Helpers for the insurer API tests: the real app served by uvicorn on a free loopback port, and a
small world of parties built through that HTTP API (two of each role, so every object has a
stranger who must not see it).

The fixtures in `conftest.py` build on these: `api` is the server over a migrated database
(SQLite and PostgreSQL); `world` fills it. Seeders in
`WORLD_SEEDERS` run in order and add named ids to `world.ids`; other packages' tests (payments,
repair) add their own objects with a seeder of their own.
"""

import socket
import threading
import time as clock
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from sqlalchemy.orm import Session, sessionmaker

from models import Device, RepairShop, Role, Trip, TripScore
from neot.settings import Environment, Settings
from protocol import DeviceKey
from scoring_service.risk import fit_risk_model, save_model, synthetic_portfolio

TEST_SECRET_KEY = "test-secret-key-that-is-long-enough-0123456789"
ADMIN_USERNAME = "admin@neot.test"
ADMIN_PASSWORD = "admin-password-1"
PASSWORD = "s3cret-password"
# The world's cover starts on the first of last month, so that month has ended and can be billed.
_TODAY = datetime.now(UTC).date()
LAST_MONTH = (_TODAY.replace(day=1) - timedelta(days=1)).replace(day=1)
COVER_START = LAST_MONTH
COVER_END = LAST_MONTH.replace(year=LAST_MONTH.year + 1)
T0_NS = int(datetime.combine(LAST_MONTH + timedelta(days=2), time(8), UTC).timestamp()) * 10**9


def train_risk_model(directory: Path) -> Path:
    """A real risk model fitted on the scoring service's synthetic portfolio, saved in `directory`."""
    portfolio = synthetic_portfolio(3000, seed=7)
    model = fit_risk_model(
        portfolio.features, portfolio.exposure, portfolio.claim_count, version=1, amount=portfolio.amount
    )
    return save_model(model, directory)


class LiveServer:
    """An ASGI app served by uvicorn in a thread, on a port the OS picked on 127.0.0.1."""

    def __init__(self, app: Any) -> None:
        # proto must say TCP: asyncio sets TCP_NODELAY on accepted connections only then, and
        # without it Nagle's algorithm and delayed ACKs add 40 ms to every keep-alive response.
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(("127.0.0.1", 0))
        self.port = self._sock.getsockname()[1]
        self.base_url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(app, log_config=None, access_log=False, lifespan="on", workers=1)
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [self._sock]}, daemon=True)

    def __enter__(self) -> "LiveServer":
        self._thread.start()
        deadline = clock.monotonic() + 20
        while not self._server.started:
            if not self._thread.is_alive() or clock.monotonic() > deadline:
                raise RuntimeError("uvicorn did not start")
            clock.sleep(0.01)
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)
        self._sock.close()


@dataclass
class Api:
    """The running API: its URL, a client, and direct database access for seeding what HTTP cannot."""

    base_url: str
    client: httpx.Client
    session_factory: sessionmaker[Session]
    settings: Settings
    app: Any

    def token(self, username: str, password: str) -> str:
        response = self.client.post("/v1/auth/token", data={"username": username, "password": password})
        assert response.status_code == 200, response.text
        token: str = response.json()["access_token"]
        return token


def api_settings(database_url: str, data_dir: Path) -> Settings:
    return Settings(
        data_dir=data_dir,
        database_url=database_url,
        environment=Environment.STAGING,
        secret_key=TEST_SECRET_KEY,  # type: ignore[arg-type]
        access_token_ttl_s=600,
    )


@dataclass
class Actor:
    """A signed-in user; `headers` carry its bearer token."""

    name: str
    role: Role
    username: str
    token: str
    party_id: int | None

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@dataclass
class World:
    """Two insurers, two drivers, two shops and an admin, with named object ids (`ids["vehicle_a"]`)."""

    api: Api
    actors: dict[str, Actor] = field(default_factory=dict)
    ids: dict[str, int] = field(default_factory=dict)
    device_keys: dict[str, DeviceKey] = field(default_factory=dict)

    def sign_in(self, name: str, role: Role, username: str, party_id: int | None, password: str = PASSWORD) -> Actor:
        """Sign `username` in and remember it as actor `name`."""
        actor = Actor(name, role, username, self.api.token(username, password), party_id)
        self.actors[name] = actor
        return actor

    def __getitem__(self, name: str) -> Actor:
        return self.actors[name]

    def call(self, actor: str | None, method: str, path: str, **kwargs: Any) -> httpx.Response:
        headers = dict(kwargs.pop("headers", {}))
        if actor is not None:
            headers.update(self.actors[actor].headers)
        return self.api.client.request(method, path, headers=headers, **kwargs)

    def ok(self, actor: str | None, method: str, path: str, **kwargs: Any) -> Any:
        response = self.call(actor, method, path, **kwargs)
        assert response.status_code in (200, 201), f"{method} {path} as {actor}: {response.status_code} {response.text}"
        return response.json()


def _seed_parties(world: World) -> None:
    api = world.api
    world.sign_in("admin", Role.ADMIN, ADMIN_USERNAME, None, password=ADMIN_PASSWORD)
    for side in ("a", "b"):
        username = f"ops-{side}@insurer.test"
        body = {
            "name": f"Insurer {side.upper()}",
            "neo_address": "NfgHwwTi3wHAS8aFAN243C5vGbkYDpqLHP",
            "username": username,
            "password": PASSWORD,
        }
        insurer = world.ok("admin", "POST", "/v1/insurers", json=body)
        world.ids[f"insurer_{side}"] = insurer["id"]
        world.sign_in(f"insurer_{side}", Role.INSURER, username, insurer["id"])
        email = f"driver-{side}@drivers.test"
        signup = {"name": f"Driver {side}", "email": email, "password": PASSWORD}
        driver = world.ok(None, "POST", "/v1/drivers", json=signup)
        world.ids[f"driver_{side}"] = driver["id"]
        world.sign_in(f"driver_{side}", Role.DRIVER, email, driver["id"])
        with api.session_factory() as session:
            key = DeviceKey.generate()
            shop = RepairShop(name=f"Shop {side}", neo_address=key.address, services=["dtc:*"], capacity=2)
            session.add(shop)
            session.commit()
            shop_id = shop.id
        world.ids[f"shop_{side}"] = shop_id
        username = f"shop-{side}@shops.test"
        world.ok(
            "admin",
            "POST",
            "/v1/users",
            json={"username": username, "password": PASSWORD, "role": "repair_shop", "party_id": shop_id},
        )
        world.sign_in(f"shop_{side}", Role.REPAIR_SHOP, username, shop_id)


def _seed_cover(world: World) -> None:
    """Each driver's vehicle and device, insured by the insurer of the same side, with trips and scores."""
    for side in ("a", "b"):
        vin = f"WVWZZZ1JZ3W38652{'1' if side == 'a' else '2'}"
        vehicle = world.ok(f"driver_{side}", "POST", "/v1/vehicles", json={"vin": vin, "make": "VW", "year": 2019})
        world.ids[f"vehicle_{side}"] = vehicle["id"]
        key = DeviceKey.generate()
        world.device_keys[side] = key
        device = world.ok(
            f"driver_{side}", "POST", f"/v1/vehicles/{vehicle['id']}/devices", json={"public_key": key.public_key.hex()}
        )
        world.ids[f"device_{side}"] = device["id"]
        product = world.ok(
            f"insurer_{side}", "POST", "/v1/products", json={"definition_id": "standard", "definition_version": 1}
        )
        world.ids[f"product_{side}"] = product["id"]
        policy = world.ok(
            f"insurer_{side}",
            "POST",
            "/v1/policies",
            json={
                "product_id": product["id"],
                "driver_email": world[f"driver_{side}"].username,
                "vin": vin,
                "period_start": COVER_START.isoformat(),
                "period_end": COVER_END.isoformat(),
            },
        )
        world.ids[f"policy_{side}"] = policy["id"]
        world.ok(f"driver_{side}", "POST", f"/v1/policies/{policy['id']}/accept")
        trip_id, score_id = add_scored_trip(world.api.session_factory, device_id=device["id"], start_ns=T0_NS, score=80)
        world.ids[f"trip_{side}"] = trip_id
        world.ids[f"score_{side}"] = score_id


def add_scored_trip(
    factory: sessionmaker[Session], *, device_id: int, start_ns: int, score: int, distance_m: float = 12_000.0
) -> tuple[int, int]:
    """A trip and its `standard` v1 score, written as the scoring pipeline would (it is not under test here)."""
    with factory() as session:
        assert session.get(Device, device_id) is not None
        trip = Trip(
            device_id=device_id,
            start_ns=start_ns,
            end_ns=start_ns + 900 * 10**9,
            distance_m=distance_m,
            duration_s=900.0,
        )
        session.add(trip)
        session.flush()
        row = TripScore(
            trip_id=trip.id,
            product_id="standard",
            product_version=1,
            score=score,
            reasons=[{"kind": "harsh_brake", "points": 100 - score}],
        )
        session.add(row)
        session.commit()
        return trip.id, row.id


def _seed_statements(world: World) -> None:
    """Last month's statement of each side's policy, issued by its insurer."""
    for side in ("a", "b"):
        statement = world.ok(
            f"insurer_{side}",
            "POST",
            f"/v1/policies/{world.ids[f'policy_{side}']}/statements",
            json={"period": f"{LAST_MONTH:%Y-%m}"},
            headers={"Idempotency-Key": f"world-statement-{side}"},
        )
        world.ids[f"statement_{side}"] = statement["id"]


WORLD_SEEDERS: list[Callable[[World], None]] = [_seed_parties, _seed_cover, _seed_statements]
