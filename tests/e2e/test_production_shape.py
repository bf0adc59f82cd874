"""The production shape for real: every docker-compose.yml service started as a process with the
same command and environment (`production_shape`), PostgreSQL as a test schema and neo-go from
`neot chain up`. One car's real agent replays a recorded drive to the ingest service; the score
worker scores it, the anchorer anchors the score, and the insurer API charges the month's
statement on chain. Along the way the insurer asks the device for a status report through the API,
and every process's `/metrics` shows its part."""

import asyncio
import secrets
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from chain import ChainClient, Deployment
from chain.node import find_free_port
from protocol import TripCsvWriter, ns_from_datetime, read_trip_gpx
from tests.e2e.production_shape import (
    LONG_RUNNING,
    ONE_SHOT,
    command,
    environment,
    healthcheck,
    processes,
    service_ports,
)
from vehicle_agent import load_key_file

pytestmark = [pytest.mark.chain, pytest.mark.slow, pytest.mark.postgres]

NEOT = str(Path(sys.executable).with_name("neot"))
GPX = Path(__file__).parents[1] / "fixtures" / "around-visnjan-with-car.gpx"
PASSWORD = "production-shape-1"
_TODAY = datetime.now(UTC).date()
LAST_MONTH = (_TODAY.replace(day=1) - timedelta(days=1)).replace(day=1)
NEOT_UNIT = 10**8


def _wait_for[T](probe: Callable[[], T | None], what: str, timeout_s: float = 120.0) -> T:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        found = probe()
        if found is not None:
            return found
        time.sleep(0.5)
    raise AssertionError(f"timed out after {timeout_s:.0f} s waiting for {what}")


def _metric(url: str, name: str) -> float:
    text = httpx.get(f"{url}/metrics", timeout=10).text
    (line,) = (x for x in text.splitlines() if x.startswith(f"{name} "))
    return float(line.split()[1])


class Api:
    """The insurer API as its users call it: one bearer token per person."""

    def __init__(self, url: str) -> None:
        self.http = httpx.Client(base_url=url, timeout=60)
        self.tokens: dict[str, str] = {}

    def sign_in(self, who: str, username: str) -> None:
        answer = self.http.post("/v1/auth/token", data={"username": username, "password": PASSWORD})
        assert answer.status_code == 200, answer.text
        self.tokens[who] = answer.json()["access_token"]

    def __call__(self, who: str | None, method: str, path: str, *, status: int = 200, **kwargs: Any) -> Any:
        headers = dict(kwargs.pop("headers", {}))
        if who is not None:
            headers["Authorization"] = f"Bearer {self.tokens[who]}"
        answer = self.http.request(method, path, headers=headers, **kwargs)
        assert answer.status_code == status, f"{method} {path} as {who}: {answer.status_code} {answer.text}"
        return answer.json()


def _recorded_drive_last_month(path: Path) -> int:
    """The real GPX drive, moved to 08:00 UTC on the 2nd of last month, as a trip CSV; its sample count."""
    samples = read_trip_gpx(GPX)
    shift = ns_from_datetime(datetime.combine(LAST_MONTH + timedelta(days=1), datetime.min.time(), UTC))
    shift += 8 * 3600 * 10**9 - samples[0].time_ns
    with path.open("w", encoding="utf-8", newline="") as out:
        TripCsvWriter(out).write_all(s._replace(time_ns=s.time_ns + shift) for s in samples)
    return len(samples)


def test_a_trip_through_the_production_shape_is_scored_anchored_and_charged(postgres_url: str, tmp_path: Path) -> None:
    data_dir, logs, car = tmp_path / "data", tmp_path / "logs", tmp_path / "car"
    for folder in (data_dir, logs, car):
        folder.mkdir()
    rpc_port = find_free_port()
    values = {
        "NEOT_DATABASE_URL": postgres_url,
        "NEOT_NEO_RPC_URL": f"http://127.0.0.1:{rpc_port}",
        "NEOT_DATA_DIR": str(data_dir),
        "NEOT_ENVIRONMENT": "production",
        "NEOT_SECRET_KEY": secrets.token_urlsafe(48),
        "NEOT_LOG_FORMAT": "json",
        "NEOT_ANCHOR_EVERY_MIN": "0.02",  # compose: 10; an epoch closes about a second after its first leaf
    }
    operator_env = environment("migrate", values)

    def neot(*args: str, stdin: str | None = None) -> str:
        done = subprocess.run([NEOT, *args], input=stdin, capture_output=True, text=True, env=operator_env, timeout=300)
        assert done.returncode == 0, f"neot {' '.join(args)}: {done.stderr[-3000:]}"
        return done.stdout

    neot("chain", "up")  # stands in for compose's neo-go service
    try:
        with processes(logs) as services:
            for name in ONE_SHOT:
                done = subprocess.run(
                    command(name, {}), capture_output=True, text=True, env=environment(name, values), timeout=600
                )
                assert done.returncode == 0, f"{name}: {done.stderr[-3000:]}"
            ports: dict[str, dict[int, int]] = {}
            for name in LONG_RUNNING:
                ports[name] = {port: find_free_port() for port in service_ports(name)}
                services.start(name, command(name, ports[name]), environment(name, values))
            for name in LONG_RUNNING:
                services.wait_healthy(name, healthcheck(name, ports[name]))
            assert set(services.started) == set(LONG_RUNNING)
            url = {name: f"http://127.0.0.1:{next(iter(p.values()))}" for name, p in ports.items()}
            _drive_and_bill(neot, url, data_dir, car)
    finally:
        neot("chain", "down")


def _drive_and_bill(neot: Callable[..., str], url: dict[str, str], data_dir: Path, car: Path) -> None:
    api = Api(url["insurer-api"])
    try:
        _story(api, neot, url, data_dir, car)
    finally:
        api.http.close()


def _story(api: Api, neot: Callable[..., str], url: dict[str, str], data_dir: Path, car: Path) -> None:
    deployment = Deployment.load(data_dir / "chain")
    # People and cover, as an operator and the API's users set them up.
    neot("api", "create-admin", "admin@neot.test", stdin=f"{PASSWORD}\n{PASSWORD}\n")
    api.sign_in("admin", "admin@neot.test")
    insurer = {
        "name": "Baltic Mutual",
        "neo_address": deployment.address("insurer-1"),
        "username": "ops@insurer.test",
        "password": PASSWORD,
    }
    api("admin", "POST", "/v1/insurers", json=insurer, status=201)
    api.sign_in("insurer", "ops@insurer.test")
    product = api(
        "insurer", "POST", "/v1/products", json={"definition_id": "standard", "definition_version": 1}, status=201
    )
    driver = {
        "name": "Aino Virtanen",
        "email": "aino@drivers.test",
        "password": PASSWORD,
        "neo_address": deployment.address("driver-1"),
    }
    api(None, "POST", "/v1/drivers", json=driver, status=201)
    api.sign_in("driver", "aino@drivers.test")
    vin = "WVWZZZ1KZAW000101"
    vehicle = api("driver", "POST", "/v1/vehicles", json={"vin": vin}, status=201)
    neot("agent", "keygen", "--out", str(car / "device.key"))
    key = load_key_file(car / "device.key")
    device = api(
        "driver", "POST", f"/v1/vehicles/{vehicle['id']}/devices", json={"public_key": key.public_key.hex()}, status=201
    )
    cover = {
        "product_id": product["id"],
        "driver_email": driver["email"],
        "vin": vin,
        "period_start": LAST_MONTH.isoformat(),
        "period_end": date(LAST_MONTH.year + 1, LAST_MONTH.month, 1).isoformat(),
    }
    policy = api("insurer", "POST", "/v1/policies", json=cover, status=201)
    api("driver", "POST", f"/v1/policies/{policy['id']}/accept")
    terms = api("driver", "GET", f"/v1/policies/{policy['id']}/deposit")
    receipt = asyncio.run(
        ChainClient.from_deployment(deployment).deposit_premium(
            deployment.keyring().account("driver-1"),
            terms["chain_policy_id"],
            operator=terms["operator"],
            amount=300 * NEOT_UNIT,
            cap_per_period=150 * NEOT_UNIT,
            end=datetime.combine(date(LAST_MONTH.year + 1, LAST_MONTH.month, 1), datetime.min.time(), UTC),
        )
    )
    api(
        "driver",
        "POST",
        f"/v1/policies/{policy['id']}/deposits",
        json={"tx_hash": receipt.tx_hash},
        headers={"Idempotency-Key": "deposit-1"},
    )
    queued = api("insurer", "POST", f"/v1/devices/{device['id']}/status-query", status=202)
    assert queued["status_query_pending"] is True

    # The car: the real agent replays last month's recorded drive to the ingest service.
    samples = _recorded_drive_last_month(car / "drive.csv")
    (car / "agent.toml").write_text(
        '[agent]\nkey_file = "device.key"\nbuffer_file = "buffer.sqlite3"\nsample_rate_hz = 10\n'
        f'upload_interval_s = 1\n\n[server]\nurl = "{url["ingest"]}"\nmin_backoff_s = 0.5\nmax_backoff_s = 2\n\n'
        '[[adapters]]\nkind = "replay"\npath = "drive.csv"\nspeed = 0\nrebase_time = false\n'
    )
    agent = subprocess.run(
        [NEOT, "agent", "run", "--config", str(car / "agent.toml"), "--until-drained"],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=car,
        env={"PATH": str(Path(sys.executable).parent), "NEOT_ENVIRONMENT": "production"},
    )
    assert agent.returncode == 0, agent.stderr[-3000:]
    assert _metric(url["ingest"], "neot_samples_ingested_total") == samples

    # Scored by the worker, anchored by the anchorer, both seen through the insurer API.
    trip = _wait_for(lambda: next(iter(api("insurer", "GET", "/v1/trips")), None), "the score worker's trip")
    assert 2600 < trip["distance_m"] < 2800
    (score,) = api("insurer", "GET", f"/v1/trips/{trip['id']}/scores")
    proof = _wait_for(
        lambda: (p := api("driver", "GET", f"/v1/proofs/trip_score/{score['id']}"))["anchor"] and p,
        "the trip score's epoch to be anchored",
    )
    assert proof["anchor"]["tx"] and proof["anchor"]["block"] >= 0
    assert _metric(url["score-worker"], "neot_trips_scored_total") == 1
    assert _metric(url["anchorer"], "neot_epochs_anchored_total") >= 1

    # The month's statement, priced by the operator's risk model and charged from the deposit on chain.
    portfolio = car.parent / "portfolio"
    neot("model", "synth", "--out", str(portfolio), "--policies", "2000", "--seed", "1")
    neot("model", "train", "--claims", str(portfolio / "claims.csv"), "--features", str(portfolio / "features.csv"))
    statement = api(
        "insurer",
        "POST",
        f"/v1/policies/{policy['id']}/statements",
        json={"period": f"{LAST_MONTH:%Y-%m}"},
        headers={"Idempotency-Key": "bill-1"},
        status=201,
    )
    assert statement["trip_count"] == 1 and statement["charge_error"] is None
    assert statement["payment"]["state"] == "confirmed" and statement["payment"]["tx_hash"]
    assert 0 < statement["premium"] <= 150 * NEOT_UNIT

    # The device answered the insurer's status query with a signed report, shown as its health.
    health = api("insurer", "GET", f"/v1/devices/{device['id']}")
    assert health["status_query_pending"] is False and health["latest_report"] is not None
    assert health["latest_report"]["adapters"] and health["agent_version"]
    assert health["last_seen_at"] is not None and not health["silent_while_driving"]
