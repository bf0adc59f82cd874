"""Device management over HTTP (uvicorn on loopback, SQLite and PostgreSQL): an insurer sends
Configure and StatusQuery to a device it insures, the device's own signed uploads (the same
server's ingest endpoint) acknowledge them, and its health shows what it reported. Strangers
first: nobody configures a device they may not see, and a refused request queues nothing."""

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from api_world import T0_NS, World
from sqlalchemy import update

from models import Device
from protocol import Ack, Batch, DeviceKey, Sample, StatusQuery, StatusReport, decode_signal, sign_batch

CONFIG = {"sample_rate_hz": 5, "pids": ["SPEED", "RPM"], "upload_interval_s": 60}


def _upload(world: World, key: DeviceKey, seq: int, *, report: StatusReport | None = None, kmh: float = 42.0) -> Ack:
    samples = tuple(
        Sample(time_ns=T0_NS + seq * 60 * 10**9 + i * 10**8, lat=60.17, lon=24.94 + i * 1e-5, speed_kmh=kmh)
        for i in range(20)
    )
    signed = sign_batch(Batch(key.address, seq, samples, "agent-9.9", key.public_key, report), key)
    response = httpx.post(
        f"{world.api.base_url}/v1/ingest/batches",
        content=signed.to_wire(),
        headers={"content-type": "application/json"},
        timeout=30,
    )
    assert response.status_code == 200, response.text
    ack = decode_signal(response.content)
    assert isinstance(ack, Ack)
    return ack


def _report(config_id: int | None) -> StatusReport:
    return StatusReport(
        config_id=config_id,
        sample_rate_hz=5,
        buffered_samples=12,
        dropped_samples=3,
        last_ack_seq=1,
        adapters={"obd": "ok"},
    )


def _health(world: World, actor: str, device: str) -> Any:
    return world.ok(actor, "GET", f"/v1/devices/{world.ids[device]}")


def test_nobody_signals_a_device_they_may_not_see_and_a_refusal_queues_nothing(world: World) -> None:
    path = f"/v1/devices/{world.ids['device_a']}"
    for actor, status in (("insurer_b", 404), ("driver_a", 403), ("driver_b", 403), ("shop_a", 403), (None, 401)):
        assert world.call(actor, "POST", f"{path}/configure", json=CONFIG).status_code == status, actor
        assert world.call(actor, "POST", f"{path}/status-query").status_code == status, actor
    for bad, field in (
        ({**CONFIG, "sample_rate_hz": 11}, "sample_rate_hz"),
        ({**CONFIG, "pids": ["speed"]}, "pids"),
        ({**CONFIG, "upload_interval_s": 0}, "upload_interval_s"),
        ({"pids": []}, "sample_rate_hz"),
    ):
        refused = world.call("insurer_a", "POST", f"{path}/configure", json=bad)
        assert refused.status_code == 422 and field in refused.text, bad
    health = _health(world, "insurer_a", "device_a")
    assert (health["pending_configure"], health["status_query_pending"]) == (None, False)
    assert world.call("insurer_b", "GET", path).status_code == 404
    assert world.call("insurer_b", "GET", f"{path}/status-reports").status_code == 404


def test_configure_reaches_the_device_and_its_report_clears_it_and_shows_as_health(world: World) -> None:
    key, device_id = world.device_keys["a"], world.ids["device_a"]
    queued = world.call("insurer_a", "POST", f"/v1/devices/{device_id}/configure", json=CONFIG)
    assert queued.status_code == 202
    configure = queued.json()["configure"]
    assert configure == {**CONFIG, "config_id": 1}

    ack = _upload(world, key, 1)
    assert ack.configure is not None and ack.configure.config_id == 1
    assert (ack.configure.sample_rate_hz, ack.configure.pids, ack.configure.upload_interval_s) == (
        5,
        ("SPEED", "RPM"),
        60,
    )
    assert _upload(world, key, 2, report=_report(1)) == Ack(seq=2)

    health = _health(world, "driver_a", "device_a")  # the driver sees their own device's health
    assert health["pending_configure"] is None
    assert (health["last_seq"], health["agent_version"], health["last_speed_kmh"]) == (2, "agent-9.9", 42.0)
    report = health["latest_report"]
    assert (report["config_id"], report["buffered_samples"], report["dropped_samples"]) == (1, 12, 3)
    assert report["adapters"] == {"obd": "ok"} and report["batch_seq"] == 2
    assert datetime.fromisoformat(health["last_seen_at"]) > datetime.now(UTC) - timedelta(minutes=1)
    history = world.ok("insurer_a", "GET", f"/v1/devices/{device_id}/status-reports")
    assert [r["batch_seq"] for r in history] == [2]


def test_a_status_query_is_answered_by_the_next_report(world: World) -> None:
    key, device_id = world.device_keys["a"], world.ids["device_a"]
    queued = world.call("admin", "POST", f"/v1/devices/{device_id}/status-query")
    assert queued.status_code == 202 and queued.json()["status_query_pending"] is True
    assert _upload(world, key, 1) == Ack(seq=1, query=StatusQuery())
    assert _upload(world, key, 2, report=_report(None)) == Ack(seq=2)
    health = _health(world, "insurer_a", "device_a")
    assert health["status_query_pending"] is False and health["latest_report"]["batch_seq"] == 2


def test_devices_silent_since_the_car_was_moving_are_listed_for_their_insurer_only(world: World) -> None:
    _upload(world, world.device_keys["a"], 1, kmh=80.0)
    _upload(world, world.device_keys["b"], 1, kmh=0.0)  # parked, then quiet: nothing wrong
    with world.api.session_factory() as session:  # twenty minutes pass without a word from either
        session.execute(update(Device).values(last_seen_at=datetime.now(UTC) - timedelta(minutes=20)))
        session.commit()
    silent_for = {
        actor: [d["id"] for d in world.ok(actor, "GET", "/v1/devices", params={"silent_only": "true"})]
        for actor in ("admin", "insurer_a", "insurer_b")
    }
    assert silent_for == {"admin": [world.ids["device_a"]], "insurer_a": [world.ids["device_a"]], "insurer_b": []}
    listed = {d["id"]: d for d in world.ok("admin", "GET", "/v1/devices")}
    assert not listed[world.ids["device_b"]]["silent_while_driving"]
    assert world.ok("admin", "GET", "/v1/devices", params={"silent_only": "true", "silent_after_s": 3600}) == []
