"""`POST /v1/ingest/batches` through a real uvicorn server, on SQLite and PostgreSQL."""

import gzip
import json
import threading
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, event, select
from sqlalchemy.orm import Session, sessionmaker

from models import Device, UploadBatch, make_engine
from models import Sample as SampleRow
from protocol import Ack, Configure, DeviceKey, Sample, SignedBatch, StatusReport, decode_signal, gzip_body
from scoring_service.devices import set_pending_config
from scoring_service.ingest import IngestLimits

PATH = "/v1/ingest/batches"
type MakeBatch = Callable[..., SignedBatch]
type Stored = Callable[[], tuple[int, int]]


def post(url: str, body: bytes, **headers: str) -> httpx.Response:
    return httpx.post(url + PATH, content=body, headers={"content-type": "application/json", **headers}, timeout=30)


def ack_of(response: httpx.Response) -> Ack:
    assert response.status_code == 200, response.text
    ack = decode_signal(response.content)
    assert isinstance(ack, Ack)
    return ack


def test_batch_is_stored_with_its_values_and_acked(
    service_url: str, device: DeviceKey, make_batch: MakeBatch, session_factory: sessionmaker[Session]
) -> None:
    signed = make_batch(device, 1, 30)

    assert ack_of(post(service_url, signed.to_wire())) == Ack(seq=1)

    with session_factory() as session:
        batch = session.scalars(select(UploadBatch)).one()
        assert (batch.seq, batch.sample_count, batch.content_sha256) == (1, 30, signed.digest)
        rows = session.scalars(select(SampleRow).order_by(SampleRow.time_ns)).all()
        assert session.scalar(select(Device.last_seq)) == 1
    assert len(rows) == 30
    sent = signed.batch.samples[17].quantised()
    row = rows[17]
    assert (row.time_ns, row.lat, row.lon, row.satellites, row.rpm) == (
        sent.time_ns,
        sent.lat,
        sent.lon,
        sent.satellites,
        sent.rpm,
    )
    assert (row.device_id, row.seq) == (batch.device_id, batch.seq)


def test_absent_readings_are_stored_as_null(
    service_url: str,
    device: DeviceKey,
    make_batch: MakeBatch,
    drive: Callable[..., Any],
    session_factory: sessionmaker[Session],
) -> None:
    samples = (Sample(time_ns=drive(1)[0].time_ns, speed_kmh=12.5), Sample(time_ns=drive(1)[0].time_ns + 1, lat=60.0))
    ack_of(post(service_url, make_batch(device, 3, samples=samples).to_wire()))
    with session_factory() as session:
        rows = session.execute(select(SampleRow.speed_kmh, SampleRow.lat, SampleRow.rpm).order_by(SampleRow.time_ns))
        assert [tuple(r) for r in rows] == [(12.5, None, None), (None, 60.0, None)]


def test_gzip_body_is_accepted(service_url: str, device: DeviceKey, make_batch: MakeBatch, stored: Stored) -> None:
    signed = make_batch(device, 2, 100)
    body = gzip_body(signed.to_wire())
    assert len(body) < len(signed.to_wire()) / 3

    assert ack_of(post(service_url, body, **{"content-encoding": "gzip"})) == Ack(seq=2)
    assert stored() == (1, 100)


def test_repeat_gets_the_same_ack_and_is_stored_once(
    service_url: str, device: DeviceKey, make_batch: MakeBatch, stored: Stored
) -> None:
    signed = make_batch(device, 5)
    first = ack_of(post(service_url, signed.to_wire()))
    again = ack_of(post(service_url, signed.to_wire()))
    # ECDSA signatures are randomised: the same batch signed again is the same content.
    resigned = make_batch(device, 5)
    assert resigned.signature != signed.signature
    third = ack_of(post(service_url, resigned.to_wire()))

    assert first == again == third == Ack(seq=5)
    assert stored() == (1, 50)


@pytest.mark.parametrize(
    ("resign", "servers"),
    [(False, 1), (True, 1), (True, 2)],
    ids=["same-bytes", "re-signed", "re-signed-two-servers"],
)
def test_concurrent_duplicates_store_exactly_one_copy(
    service_url: str,
    start_service: Callable[..., str],
    device: DeviceKey,
    make_batch: MakeBatch,
    stored: Stored,
    resign: bool,
    servers: int,
) -> None:
    uploads = 16
    # Two servers are two connection pools racing on the database's unique constraint alone.
    urls = [service_url] + [start_service() for _ in range(servers - 1)]
    if resign:
        bodies = [make_batch(device, 9, 200).to_wire() for _ in range(uploads)]
    else:
        bodies = [make_batch(device, 9, 200).to_wire()] * uploads
    barrier = threading.Barrier(uploads)
    results: list[httpx.Response | BaseException] = [RuntimeError("not run")] * uploads

    def upload(i: int) -> None:
        with httpx.Client(base_url=urls[i % len(urls)], timeout=60) as client:
            barrier.wait()
            try:
                results[i] = client.post(PATH, content=bodies[i])
            except httpx.HTTPError as exc:
                results[i] = exc

    threads = [threading.Thread(target=upload, args=(i,)) for i in range(uploads)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert all(isinstance(r, httpx.Response) for r in results), results
    assert {ack_of(r) for r in results if isinstance(r, httpx.Response)} == {Ack(seq=9)}
    assert stored() == (1, 200)


@pytest.mark.parametrize("servers", [1, 2], ids=["one-server", "two-servers"])
def test_concurrent_uploads_of_one_device_never_deadlock(
    service_url: str,
    start_service: Callable[..., str],
    device: DeviceKey,
    make_batch: MakeBatch,
    stored: Stored,
    session_factory: sessionmaker[Session],
    servers: int,
) -> None:
    """Two clients of one device (an agent and its restarted twin, or a retry racing the
    original) upload different batches at once: on PostgreSQL each transaction holds the batch
    row's foreign-key share lock on the device row when it locks the device state, which with
    FOR UPDATE deadlocked. Every upload must be acknowledged and stored."""
    clients, per_client = 8, 4
    urls = [service_url] + [start_service() for _ in range(servers - 1)]
    bodies = [
        [make_batch(device, 1 + c * per_client + j, 100).to_wire() for j in range(per_client)] for c in range(clients)
    ]
    barrier = threading.Barrier(clients)
    results: list[list[httpx.Response | BaseException]] = [[] for _ in range(clients)]

    def upload(c: int) -> None:
        with httpx.Client(base_url=urls[c % len(urls)], timeout=60) as client:
            barrier.wait()
            for body in bodies[c]:
                try:
                    results[c].append(client.post(PATH, content=body))
                except httpx.HTTPError as exc:
                    results[c].append(exc)

    threads = [threading.Thread(target=upload, args=(c,)) for c in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    answers = [r for part in results for r in part]
    assert [r.status_code if isinstance(r, httpx.Response) else r for r in answers] == [200] * (clients * per_client)
    assert stored() == (clients * per_client, clients * per_client * 100)
    with session_factory() as session:
        assert session.scalar(select(Device.last_seq)) == clients * per_client


def test_database_locked_past_the_timeout_is_503_with_retry_after(
    db_engine: Engine, start_service: Callable[..., str], device: DeviceKey, make_batch: MakeBatch, stored: Stored
) -> None:
    sqlite = db_engine.dialect.name == "sqlite"
    engine = make_engine(db_engine.url.render_as_string(hide_password=False))

    @event.listens_for(engine, "connect")
    def _short_lock_wait(dbapi_conn: Any, _record: Any) -> None:
        if sqlite:
            dbapi_conn.execute("PRAGMA busy_timeout=200")
        else:
            dbapi_conn.autocommit = True
            dbapi_conn.execute("SET lock_timeout = '200ms'")
            dbapi_conn.autocommit = False

    url = start_service(engine=engine)
    body = make_batch(device, 1).to_wire()
    try:
        with db_engine.connect() as locker:
            locker.exec_driver_sql("BEGIN IMMEDIATE" if sqlite else "LOCK TABLE upload_batches IN EXCLUSIVE MODE")
            response = post(url, body)
            locker.rollback()
        assert response.status_code == 503
        assert response.headers["retry-after"] == "1"
        assert stored() == (0, 0)
        assert ack_of(post(url, body)) == Ack(seq=1)
    finally:
        engine.dispose()


def test_out_of_order_seq_is_accepted_and_ack_keeps_the_highest(
    service_url: str, device: DeviceKey, make_batch: MakeBatch, stored: Stored, session_factory: sessionmaker[Session]
) -> None:
    assert ack_of(post(service_url, make_batch(device, 7).to_wire())) == Ack(seq=7)
    assert ack_of(post(service_url, make_batch(device, 5).to_wire())) == Ack(seq=7)
    assert stored() == (2, 100)
    with session_factory() as session:
        assert session.scalar(select(Device.last_seq)) == 7
        assert sorted(session.scalars(select(UploadBatch.seq))) == [5, 7]


def test_seq_reused_with_other_content_is_a_conflict(
    service_url: str, device: DeviceKey, make_batch: MakeBatch, drive: Callable[..., Any], stored: Stored
) -> None:
    ack_of(post(service_url, make_batch(device, 4, 50).to_wire()))
    other = make_batch(device, 4, samples=drive(10))

    response = post(service_url, other.to_wire())

    assert response.status_code == 409
    assert "seq 4" in response.json()["detail"]
    assert stored() == (1, 50)


def test_pending_configure_rides_on_acks_until_reported_applied(
    service_url: str, device: DeviceKey, make_batch: MakeBatch, session_factory: sessionmaker[Session]
) -> None:
    configure = Configure(config_id=3, sample_rate_hz=10, pids=("SPEED", "RPM"), upload_interval_s=60)
    with session_factory() as session:
        row = session.scalars(select(Device).where(Device.neo_address == device.address)).one()
        set_pending_config(session, device=row, configure=configure)
        session.commit()

    assert ack_of(post(service_url, make_batch(device, 1).to_wire())) == Ack(seq=1, configure=configure)
    # The repeat of a stored batch carries it too: the device may have missed the first Ack.
    assert ack_of(post(service_url, make_batch(device, 1).to_wire())) == Ack(seq=1, configure=configure)
    old = StatusReport(config_id=2, sample_rate_hz=1, buffered_samples=0, dropped_samples=0, last_ack_seq=1)
    assert ack_of(post(service_url, make_batch(device, 2, report=old).to_wire())) == Ack(seq=2, configure=configure)
    applied = StatusReport(config_id=3, sample_rate_hz=10, buffered_samples=5, dropped_samples=0, last_ack_seq=2)
    assert ack_of(post(service_url, make_batch(device, 3, report=applied).to_wire())) == Ack(seq=3)
    with session_factory() as session:
        assert session.scalar(select(Device.pending_config)) is None


# --- bad input: a precise 4xx, and nothing stored ---------------------------------------------


def _wire(signed: SignedBatch) -> dict[str, Any]:
    obj: dict[str, Any] = json.loads(signed.to_wire())
    return obj


def _edit(signed: SignedBatch, change: Callable[[dict[str, Any]], object]) -> bytes:
    obj = _wire(signed)
    change(obj)
    return json.dumps(obj).encode()


MALFORMED: dict[str, tuple[bytes, str]] = {
    "truncated": (b'{"batch": {"v": 1,', "JSON"),
    "array": (b"[1, 2, 3]", "batch"),
    "empty-batch": (b'{"batch": {}, "sig": "00"}', "version"),
    "not-utf8": (b"\xff\xfe not utf-8", "JSON"),
}


def test_malformed_body_is_422(service_url: str, subtests: pytest.Subtests, stored: Stored) -> None:
    for name, (body, field) in MALFORMED.items():
        with subtests.test(name):
            response = post(service_url, body)
            assert response.status_code == 422
            assert field in response.json()["detail"]
    assert stored() == (0, 0)


SCHEMA_VIOLATIONS: dict[str, tuple[Callable[[dict[str, Any]], object], str]] = {
    "no-seq": (lambda o: o["batch"].pop("seq"), "seq"),
    "negative-seq": (lambda o: o["batch"].__setitem__("seq", -1), "seq"),
    "string-seq": (lambda o: o["batch"].__setitem__("seq", "7"), "seq"),
    "wrong-n": (lambda o: o["batch"].__setitem__("n", 51), "cols.time_ns"),
    "rpm-strings": (lambda o: o["batch"]["cols"].__setitem__("rpm", ["x"] * 50), "cols.rpm"),
    "unknown-column": (lambda o: o["batch"]["cols"].__setitem__("boost_kpa", [1] * 50), "boost_kpa"),
    "sig": (lambda o: o.__setitem__("sig", "zz"), "sig"),
    "pub": (lambda o: o["batch"].__setitem__("pub", "02"), "pub"),
    "v2": (lambda o: o["batch"].__setitem__("v", 2), "version"),
}


def test_schema_violation_is_422_naming_the_field(
    service_url: str, device: DeviceKey, make_batch: MakeBatch, subtests: pytest.Subtests, stored: Stored
) -> None:
    signed = make_batch(device, 1)
    for name, (change, field) in SCHEMA_VIOLATIONS.items():
        with subtests.test(name):
            response = post(service_url, _edit(signed, change))
            assert response.status_code == 422, response.text
            assert field in response.json()["detail"]
    assert stored() == (0, 0)


def test_non_finite_or_float_value_is_422(
    service_url: str, device: DeviceKey, make_batch: MakeBatch, subtests: pytest.Subtests, stored: Stored
) -> None:
    wire = json.dumps(_wire(make_batch(device, 1)))
    head, tail = wire.split('"rpm": [', 1)
    for token in ("NaN", "Infinity", "-Infinity", "1.5", "1e3"):
        with subtests.test(token):
            body = head + f'"rpm": [{token}' + tail[tail.index(",") :]  # replaces the first value
            response = post(service_url, body.encode())
            assert response.status_code == 422
            assert "float" in response.json()["detail"]
    assert stored() == (0, 0)


def test_sample_from_the_far_future_is_422(
    service_url: str, device: DeviceKey, make_batch: MakeBatch, drive: Callable[..., Any], stored: Stored
) -> None:
    samples = drive(20, time.time_ns() + 3600 * 1_000_000_000)
    response = post(service_url, make_batch(device, 1, samples=samples).to_wire())
    assert response.status_code == 422
    assert response.json()["field"] == "cols.time_ns"
    assert "future" in response.json()["detail"]
    assert stored() == (0, 0)


def test_latitude_beyond_the_pole_is_422(
    service_url: str, device: DeviceKey, make_batch: MakeBatch, stored: Stored
) -> None:
    samples = (Sample(time_ns=1_700_000_000_000_000_000, lat=91.0, lon=24.0),)
    response = post(service_url, make_batch(device, 1, samples=samples).to_wire())
    assert response.status_code == 422
    assert response.json()["field"] == "cols.lat"
    assert stored() == (0, 0)


def test_unknown_device_is_403(service_url: str, make_batch: MakeBatch, stored: Stored) -> None:
    stranger = DeviceKey.generate()
    response = post(service_url, make_batch(stranger, 1).to_wire())
    assert response.status_code == 403
    assert stranger.address in response.json()["detail"]
    assert stored() == (0, 0)


def test_tampered_content_is_401(service_url: str, device: DeviceKey, make_batch: MakeBatch, stored: Stored) -> None:
    def faster(obj: dict[str, Any]) -> None:
        obj["batch"]["cols"]["speed_kmh"][5] += 1000

    response = post(service_url, _edit(make_batch(device, 1), faster))
    assert response.status_code == 401
    assert response.json()["field"] == "sig"
    assert stored() == (0, 0)


def test_signature_by_another_key_is_401(
    service_url: str, device: DeviceKey, make_batch: MakeBatch, stored: Stored
) -> None:
    forged = make_batch(device, 1)
    other = DeviceKey.generate()
    body = _wire(forged)
    body["sig"] = other.sign(forged.canonical).hex()
    response = post(service_url, json.dumps(body).encode())
    assert response.status_code == 401
    assert stored() == (0, 0)


def test_batch_of_one_device_replayed_as_another_is_401(
    service_url: str, new_device: Callable[[], DeviceKey], make_batch: MakeBatch, stored: Stored
) -> None:
    alice, bob = new_device(), new_device()
    alices = make_batch(alice, 1)

    def as_bob(obj: dict[str, Any]) -> None:
        obj["batch"]["device"] = bob.address

    def as_bob_with_key(obj: dict[str, Any]) -> None:
        obj["batch"]["device"] = bob.address
        obj["batch"]["pub"] = bob.public_key.hex()

    for change in (as_bob, as_bob_with_key):
        response = post(service_url, _edit(alices, change))
        assert response.status_code == 401, response.text
    assert stored() == (0, 0)


def test_unsupported_content_encoding_is_415(
    service_url: str, device: DeviceKey, make_batch: MakeBatch, stored: Stored
) -> None:
    response = post(service_url, make_batch(device, 1).to_wire(), **{"content-encoding": "br"})
    assert response.status_code == 415
    assert stored() == (0, 0)


def test_broken_gzip_is_422(service_url: str, device: DeviceKey, make_batch: MakeBatch, stored: Stored) -> None:
    body = gzip_body(make_batch(device, 1).to_wire())
    for broken in (body[:-20], b"not gzip at all", body + b"trailing"):
        response = post(service_url, broken, **{"content-encoding": "gzip"})
        assert response.status_code == 422, response.text
        assert "gzip" in response.json()["detail"]
    assert stored() == (0, 0)


LIMIT = 64 * 1024


def test_body_over_the_limit_is_413(
    start_service: Callable[..., str], device: DeviceKey, make_batch: MakeBatch, stored: Stored
) -> None:
    url = start_service(IngestLimits(max_body_bytes=LIMIT))
    small = make_batch(device, 1, 20).to_wire()
    large = make_batch(device, 2, 2000).to_wire()
    assert len(small) < LIMIT < len(large)

    assert post(url, large).status_code == 413
    # Without Content-Length (chunked), the limit is enforced while reading.
    chunks = (large[i : i + 4096] for i in range(0, len(large), 4096))
    response = httpx.post(url + PATH, content=chunks, timeout=30)
    assert response.status_code == 413
    assert "limit" in response.json()["detail"]
    assert stored() == (0, 0)
    assert ack_of(post(url, small)) == Ack(seq=1)


def test_gzip_bomb_is_413_without_inflating_it(
    start_service: Callable[..., str], device: DeviceKey, make_batch: MakeBatch, stored: Stored
) -> None:
    url = start_service(IngestLimits(max_body_bytes=LIMIT))
    # 48 MiB of spaces (valid JSON whitespace) inside a real batch, in ~47 KiB of gzip: a bomb
    # a thousand times the limit that passes the limit on the wire.
    bomb = gzip.compress(make_batch(device, 1).to_wire()[:-1] + b" " * (48 << 20) + b"}", compresslevel=9)
    assert len(bomb) < LIMIT

    response = post(url, bomb, **{"content-encoding": "gzip"})

    assert response.status_code == 413
    assert "decompressed" in response.json()["detail"]
    assert stored() == (0, 0)
