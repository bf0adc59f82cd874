"""What ingestion records of a device's health and what Signals it sends back, through a real
uvicorn server on SQLite and PostgreSQL: last heard from, newest sample, stored StatusReports
(with members a newer agent adds), Configure numbered and cleared by its report, StatusQuery
answered by the next report, and devices that fell silent while the car was moving."""

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import select, true
from sqlalchemy.orm import Session, sessionmaker

from models import Device, DeviceStatusReport, DirtyDevice
from protocol import (
    Ack,
    DeviceKey,
    Sample,
    SignedBatch,
    StatusQuery,
    StatusReport,
    canonical_json,
    decode_signal,
)
from scoring_service.devices import (
    InvalidConfigureError,
    device_health,
    queue_configure,
    queue_status_query,
    status_reports,
)

PATH = "/v1/ingest/batches"
type MakeBatch = Callable[..., SignedBatch]


def upload(url: str, body: bytes) -> Ack:
    response = httpx.post(url + PATH, content=body, headers={"content-type": "application/json"}, timeout=30)
    assert response.status_code == 200, response.text
    ack = decode_signal(response.content)
    assert isinstance(ack, Ack)
    return ack


def _device_id(factory: sessionmaker[Session], key: DeviceKey) -> int:
    with factory() as session:
        return session.scalars(select(Device.id).where(Device.neo_address == key.address)).one()


def _report(config_id: int | None = None, **changes: object) -> StatusReport:
    fields: dict[str, object] = {
        "config_id": config_id,
        "sample_rate_hz": 10,
        "buffered_samples": 420,
        "dropped_samples": 7,
        "last_ack_seq": 1,
        "adapters": {"obd": "ok", "gps": "no_fix"},
    }
    return StatusReport(**(fields | changes))  # type: ignore[arg-type]


def test_each_stored_batch_records_when_the_device_was_heard_and_its_newest_sample(
    service_url: str, device: DeviceKey, make_batch: MakeBatch, session_factory: sessionmaker[Session]
) -> None:
    before = datetime.now(UTC)
    newer = make_batch(device, 2)
    upload(service_url, newer.to_wire())
    older = make_batch(device, 1)  # arrives late: it does not move the newest sample back
    upload(service_url, older.to_wire())
    with session_factory() as session:
        row = session.scalars(select(Device)).one()
        newest = newer.batch.samples[-1]
        assert (row.last_sample_ns, row.last_speed_kmh, row.agent_version) == (
            newest.time_ns,
            newest.speed_kmh,
            "test-1.0",
        )
        assert row.last_seen_at is not None and row.last_seen_at >= before
        assert row.last_seq == 2


def test_a_status_report_is_stored_whole_even_with_members_this_server_does_not_know(
    service_url: str, device: DeviceKey, make_batch: MakeBatch, session_factory: sessionmaker[Session]
) -> None:
    signed = make_batch(device, 1, report=_report())
    batch = json.loads(signed.canonical)
    batch["report"] |= {"vin": "WVWZZZ1JZXW000001", "clock_source": "gps", "last_error": None}
    canonical = canonical_json(batch)
    body = b'{"batch":' + canonical + b',"sig":"' + device.sign(canonical).hex().encode() + b'"}'
    upload(service_url, body)

    with session_factory() as session:
        (snapshot,) = status_reports(session, device_id=_device_id(session_factory, device), limit=10)
        stored = session.scalars(select(DeviceStatusReport)).one()
    assert (snapshot.buffered_samples, snapshot.dropped_samples, snapshot.sample_rate_hz) == (420, 7, 10)
    assert snapshot.adapters == {"obd": "ok", "gps": "no_fix"}
    assert (snapshot.batch_seq, snapshot.agent_version) == (1, "test-1.0")
    assert snapshot.report["vin"] == "WVWZZZ1JZXW000001" and snapshot.report["clock_source"] == "gps"
    assert "last_error" in stored.report and stored.report["buffered_samples"] == 420


def test_configure_is_numbered_replaced_and_cleared_by_the_report_that_names_it(
    service_url: str, device: DeviceKey, make_batch: MakeBatch, session_factory: sessionmaker[Session]
) -> None:
    device_id = _device_id(session_factory, device)
    with session_factory() as session:
        first = queue_configure(session, device_id=device_id, sample_rate_hz=5, pids=["SPEED"], upload_interval_s=60)
        session.commit()
    with session_factory() as session:
        second = queue_configure(session, device_id=device_id, sample_rate_hz=2, pids=[], upload_interval_s=30)
        session.commit()
    assert (first.config_id, second.config_id) == (1, 2)

    assert upload(service_url, make_batch(device, 1).to_wire()) == Ack(seq=1, configure=second)
    assert upload(service_url, make_batch(device, 2, report=_report(1)).to_wire()) == Ack(seq=2, configure=second)
    assert upload(service_url, make_batch(device, 3, report=_report(2)).to_wire()) == Ack(seq=3)

    with session_factory() as session:
        third = queue_configure(session, device_id=device_id, sample_rate_hz=1, pids=[], upload_interval_s=10)
        session.commit()
    assert third.config_id == 3  # past the id the device reports running, not reused


def test_settings_the_protocol_does_not_allow_are_refused_and_nothing_is_queued(
    device: DeviceKey, session_factory: sessionmaker[Session]
) -> None:
    device_id = _device_id(session_factory, device)
    for rate, pids, interval in ((0, [], 30), (11, [], 30), (1, ["speed"], 30), (1, [], 0)):
        with session_factory() as session, pytest.raises(InvalidConfigureError) as caught:
            queue_configure(session, device_id=device_id, sample_rate_hz=rate, pids=pids, upload_interval_s=interval)
        assert caught.value.status_code == 422
    with session_factory() as session:
        assert session.scalar(select(Device.pending_config)) is None


def test_a_status_query_rides_on_acks_until_a_report_answers_it(
    service_url: str, device: DeviceKey, make_batch: MakeBatch, session_factory: sessionmaker[Session]
) -> None:
    device_id = _device_id(session_factory, device)
    with session_factory() as session:
        queue_status_query(session, device_id=device_id, now=datetime.now(UTC))
        session.commit()
    assert upload(service_url, make_batch(device, 1).to_wire()) == Ack(seq=1, query=StatusQuery())
    assert upload(service_url, make_batch(device, 1).to_wire()) == Ack(seq=1, query=StatusQuery())  # a repeat too
    assert upload(service_url, make_batch(device, 2, report=_report()).to_wire()) == Ack(seq=2)
    assert upload(service_url, make_batch(device, 3).to_wire()) == Ack(seq=3)
    with session_factory() as session:
        (health,) = device_health(session, where=true(), now=datetime.now(UTC))
    assert not health.status_query_pending
    assert health.latest_report is not None and health.latest_report.batch_seq == 2


def test_a_device_silent_since_a_moving_sample_is_flagged_and_a_parked_one_is_not(
    service_url: str,
    new_device: Callable[[], DeviceKey],
    make_batch: MakeBatch,
    drive: Callable[..., tuple[Sample, ...]],
    session_factory: sessionmaker[Session],
) -> None:
    moving, parked, quiet = new_device(), new_device(), new_device()
    upload(service_url, make_batch(moving, 1, 200).to_wire())  # pulling away: 50 km/h at its last sample
    parking = tuple(s._replace(speed_kmh=0.0, gps_speed_kmh=0.0) for s in drive(20))
    upload(service_url, make_batch(parked, 1, samples=parking).to_wire())
    with session_factory() as session:
        by_address = {
            h.address: h for h in device_health(session, where=true(), now=datetime.now(UTC) + timedelta(minutes=11))
        }
        soon = {h.address: h for h in device_health(session, where=true(), now=datetime.now(UTC))}
    assert by_address[moving.address].silent_while_driving
    assert not by_address[parked.address].silent_while_driving
    assert not by_address[quiet.address].silent_while_driving  # never uploaded: nothing to judge
    assert not soon[moving.address].silent_while_driving  # heard from a moment ago


def _ingested(url: str) -> float:
    metrics = httpx.get(url + "/metrics", timeout=10)
    assert metrics.status_code == 200
    (line,) = (x for x in metrics.text.splitlines() if x.startswith("neot_samples_ingested_total "))
    return float(line.split()[1])


def test_a_stored_batch_marks_its_device_for_scoring_and_counts_its_samples_once(
    service_url: str, device: DeviceKey, make_batch: MakeBatch, session_factory: sessionmaker[Session]
) -> None:
    assert httpx.get(service_url + "/health", timeout=10).json()["status"] == "ok"
    before = _ingested(service_url)
    signed = make_batch(device, 1, 50)
    upload(service_url, signed.to_wire())
    upload(service_url, signed.to_wire())  # a repeat stores nothing and counts nothing
    assert _ingested(service_url) - before == 50
    with session_factory() as session:
        (marked,) = session.scalars(select(DirtyDevice)).all()
    assert (marked.device_id, marked.generation) == (_device_id(session_factory, device), 1)
