"""The batch stream for real: NATS JetStream at 127.0.0.1:4222, real PostgreSQL or SQLite, real
HTTP, real processes killed with SIGKILL. Devices are acknowledged once the stream holds their
batch; workers store each batch exactly once, whatever dies when, and share the shards."""

import asyncio
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
import uvicorn
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from models import Device, Driver, Sample, UploadBatch, Vehicle
from neot.settings import Settings
from protocol import Ack, Batch, DeviceKey, decode_signal, sign_batch
from protocol import Sample as WireSample
from scoring_service.app import create_app
from scoring_service.devices import register_device
from scoring_service.ingest import decode_batch
from scoring_service.stream import BatchPublisher, StreamConfig, StreamStorer, connect, shards_owned

STORER = Path(__file__).with_name("storer_process.py")
SAMPLES = 50
T0_NS = (int(time.time()) - 7200) * 10**9


@contextmanager
def _serve(app: object) -> Iterator[str]:
    """The app under uvicorn in a thread, lifespan on (it opens the stream)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on", access_log=False))  # type: ignore[arg-type]
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 20
        while not server.started:
            assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
            time.sleep(0.01)
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


def _devices(factory: sessionmaker[Session], count: int) -> list[DeviceKey]:
    keys = [DeviceKey.generate() for _ in range(count)]
    with factory() as session:
        for i, key in enumerate(keys):
            vehicle = Vehicle(driver=Driver(name=f"D{i}", email=f"d{i}@stream.test"), vin=f"WVWZZZ1JZXW{i:06d}")
            session.add(vehicle)
            session.flush()
            register_device(session, vehicle_id=vehicle.id, public_key=key.public_key)
        session.commit()
    return keys


def _body(key: DeviceKey, seq: int) -> bytes:
    start = T0_NS + seq * 60 * 10**9
    samples = tuple(WireSample(time_ns=start + i * 10**8, speed_kmh=40.0 + i % 7) for i in range(SAMPLES))
    return sign_batch(Batch(key.address, seq, samples, "test-1.0", key.public_key), key).to_wire()


def _stored(factory: sessionmaker[Session]) -> tuple[int, int]:
    with factory() as session:
        batches = session.scalar(select(func.count()).select_from(UploadBatch)) or 0
        samples = session.scalar(select(func.count()).select_from(Sample)) or 0
    return int(batches), int(samples)


def _in_stream(config: StreamConfig) -> int:
    async def count() -> int:
        client, js = await connect(config)
        info = await js.stream_info(config.name)
        await client.close()
        return int(info.state.messages)

    return asyncio.run(count())


def _drain(factory: sessionmaker[Session], config: StreamConfig) -> int:
    async def run() -> int:
        storer = StreamStorer(factory, config, shards=list(range(config.shards)))
        await storer.start()
        while await storer.drain(wait_s=0.5):
            pass
        await storer.close()
        return storer.stored

    return asyncio.run(run())


def _publish(factory: sessionmaker[Session], config: StreamConfig, keys: list[DeviceKey], per_device: int) -> None:
    """Append batches as ingestion does (verified bodies, the publisher's message ids)."""
    with factory() as session:
        ids = {d.neo_address: d.id for d in session.scalars(select(Device))}

    async def run() -> None:
        publisher = BatchPublisher(config)
        await publisher.start()
        for seq in range(1, per_device + 1):
            for key in keys:
                body = _body(key, seq)
                await publisher.append(device_id=ids[key.address], batch=decode_batch(body), body=body)
        await publisher.close()

    asyncio.run(run())


def test_ingest_acks_once_the_stream_holds_the_batch_and_a_worker_stores_it_once(
    db_engine: Engine, session_factory: sessionmaker[Session], stream_config: StreamConfig, tmp_path: Path
) -> None:
    (key,) = _devices(session_factory, 1)
    settings = Settings(
        data_dir=tmp_path,
        database_url=str(db_engine.url.render_as_string(hide_password=False)),
        stream_url=stream_config.url,
        stream_name=stream_config.name,
        stream_subjects=stream_config.subject_prefix,
        stream_shards=stream_config.shards,
    )
    with _serve(create_app(settings, engine=db_engine)) as url:
        first = httpx.post(f"{url}/v1/ingest/batches", content=_body(key, 1), timeout=30)
        assert first.status_code == 200 and decode_signal(first.content) == Ack(seq=1)
        assert _in_stream(stream_config) == 1 and _stored(session_factory) == (0, 0)  # held by the stream only
        again = httpx.post(f"{url}/v1/ingest/batches", content=_body(key, 1), timeout=30)
        assert again.status_code == 200  # a repeat within the duplicate window: JetStream keeps one
        assert _in_stream(stream_config) == 1

        assert _drain(session_factory, stream_config) == 1
        assert _stored(session_factory) == (1, SAMPLES) and _in_stream(stream_config) == 0

        stored_repeat = httpx.post(f"{url}/v1/ingest/batches", content=_body(key, 1), timeout=30)
        assert decode_signal(stored_repeat.content) == Ack(seq=1) and _in_stream(stream_config) == 0
        other = DeviceKey.generate()
        forged = _body(other, 2).replace(other.address.encode(), key.address.encode())  # another key, our name
        assert httpx.post(f"{url}/v1/ingest/batches", content=forged, timeout=30).status_code in (401, 403, 422)
        assert _in_stream(stream_config) == 0


def test_a_message_delivered_twice_is_stored_once(
    session_factory: sessionmaker[Session], stream_config: StreamConfig
) -> None:
    keys = _devices(session_factory, 2)
    _publish(session_factory, stream_config, keys, per_device=3)
    assert _drain(session_factory, stream_config) == 6
    with session_factory() as session:
        ids = {d.neo_address: d.id for d in session.scalars(select(Device))}

    async def again() -> None:  # the same batches under new message ids, as after the duplicate window
        client, js = await connect(stream_config)
        for key in keys:
            for seq in (1, 2, 3):
                headers = {"Nats-Msg-Id": f"again-{key.address}-{seq}", "Neot-Device-Id": str(ids[key.address])}
                subject = stream_config.subject(stream_config.shard_of(ids[key.address]))
                await js.publish(subject, _body(key, seq), headers=headers)
        await client.close()

    asyncio.run(again())
    assert _in_stream(stream_config) == 6
    assert _drain(session_factory, stream_config) == 6  # each handled: found stored, acknowledged
    assert _stored(session_factory) == (6, 6 * SAMPLES) and _in_stream(stream_config) == 0


def _storer(migrated_url: str, config: StreamConfig, index: int, count: int, idle_s: float) -> subprocess.Popen[str]:
    args = [migrated_url, config.url, config.name, config.subject_prefix, str(index), str(count), str(idle_s)]
    return subprocess.Popen(
        [sys.executable, str(STORER), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env={**os.environ, "NEOT_LOG_LEVEL": "WARNING", "PYTHONPATH": str(Path(__file__).parents[3])},
    )


@pytest.mark.slow
def test_a_worker_killed_mid_batch_loses_nothing_and_doubles_nothing(
    migrated_url: str, session_factory: sessionmaker[Session], stream_config: StreamConfig
) -> None:
    keys = _devices(session_factory, 8)
    _publish(session_factory, stream_config, keys, per_device=6)
    victim = _storer(migrated_url, stream_config, 0, 1, idle_s=30)
    deadline = time.monotonic() + 60
    while _stored(session_factory)[0] < 5:
        assert victim.poll() is None and time.monotonic() < deadline, "the worker stored nothing"
        time.sleep(0.02)
    victim.send_signal(signal.SIGKILL)  # mid-stream: a batch half-written, or stored but not acknowledged
    victim.communicate(timeout=10)  # reaps it and closes its pipe
    killed_at = _stored(session_factory)[0]
    assert killed_at < 48, "the worker finished before it was killed: nothing was tested"

    heir = _storer(migrated_url, stream_config, 0, 1, idle_s=5)  # unacknowledged messages come back after 2 s
    out, _ = heir.communicate(timeout=120)
    assert heir.returncode == 0, out
    assert _stored(session_factory) == (48, 48 * SAMPLES)
    assert _in_stream(stream_config) == 0  # every message acknowledged
    with session_factory() as session:
        assert set(session.scalars(select(Device.last_seq))) == {6}


@pytest.mark.slow
def test_two_workers_share_the_shards(
    migrated_url: str, session_factory: sessionmaker[Session], stream_config: StreamConfig
) -> None:
    keys = _devices(session_factory, 8)
    _publish(session_factory, stream_config, keys, per_device=4)
    workers = [_storer(migrated_url, stream_config, i, 2, idle_s=4) for i in (0, 1)]
    handled: list[set[int]] = []
    for worker in workers:
        out, _ = worker.communicate(timeout=120)
        assert worker.returncode == 0
        devices_line = next(line for line in out.splitlines() if line.startswith("devices"))
        handled.append({int(d) for d in devices_line.split()[1:]})
    with session_factory() as session:
        ids = set(session.scalars(select(Device.id)))
    owned = [set(shards_owned(stream_config, index=i, count=2)) for i in (0, 1)]
    mine = [{d for d in ids if stream_config.shard_of(d) in shards} for shards in owned]
    assert handled == mine and all(mine)  # each worker stored its own shards' devices, and only those
    assert _stored(session_factory) == (32, 32 * SAMPLES) and _in_stream(stream_config) == 0


@pytest.mark.slow
def test_neot_score_worker_killed_mid_stream_then_restarted_stores_everything_once(
    migrated_url: str, session_factory: sessionmaker[Session], stream_config: StreamConfig, tmp_path: Path
) -> None:
    """The same with the real command: `neot score-worker` with NEOT_STREAM_URL, SIGKILLed while it
    stores, then `neot score-worker --once` (its heir on the same shards) finishes the stream."""
    keys = _devices(session_factory, 8)
    _publish(session_factory, stream_config, keys, per_device=6)
    env = {
        **os.environ,
        "NEOT_DATABASE_URL": migrated_url,
        "NEOT_DATA_DIR": str(tmp_path),
        "NEOT_LOG_LEVEL": "WARNING",
        "NEOT_STREAM_URL": stream_config.url,
        "NEOT_STREAM_NAME": stream_config.name,
        "NEOT_STREAM_SUBJECTS": stream_config.subject_prefix,
        "NEOT_STREAM_SHARDS": str(stream_config.shards),
        "NEOT_STREAM_ACK_WAIT_S": "2",
    }
    neot = str(Path(sys.executable).with_name("neot"))
    victim = subprocess.Popen([neot, "score-worker", "--poll-s", "0.1"], env=env, stdout=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while _stored(session_factory)[0] < 5:
        assert victim.poll() is None and time.monotonic() < deadline, "the worker stored nothing"
        time.sleep(0.02)
    victim.send_signal(signal.SIGKILL)
    victim.wait(timeout=10)
    assert _stored(session_factory)[0] < 48, "the worker finished before it was killed: nothing was tested"
    time.sleep(2.5)  # past the ack wait: what the victim took comes back
    heir = subprocess.run([neot, "score-worker", "--once"], env=env, capture_output=True, text=True, timeout=180)
    assert heir.returncode == 0, heir.stderr
    assert _stored(session_factory) == (48, 48 * SAMPLES)
    assert _in_stream(stream_config) == 0
