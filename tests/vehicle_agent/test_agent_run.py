"""The whole agent in-process against the real local server: drain, NaN, Configure round trip."""

import threading
import time
from pathlib import Path

import pytest
from structlog.testing import capture_logs

from protocol import Configure, DeviceKey
from tests.vehicle_agent.conftest import make_config
from tests.vehicle_agent.ingest_server import IngestServer
from tests.vehicle_agent.synthetic import SyntheticAdapter, values_for
from vehicle_agent import Agent, Buffer, BufferError


def test_every_sample_reaches_the_server_with_nan_made_absent(
    tmp_path: Path, ingest: IngestServer, device_key: DeviceKey
) -> None:
    adapter = SyntheticAdapter(count=15, nan_every=5)
    agent = Agent(make_config(tmp_path, ingest.url), adapters=[adapter], key=device_key)
    with capture_logs() as logs:
        agent.run(until_drained=True)
    samples = ingest.samples()
    assert len(samples) == 15
    for s in samples:
        slot = s.time_ns // 100_000_000
        expected = values_for(slot)
        assert s.speed_kmh == expected["speed_kmh"] and s.satellites == expected["satellites"]
    assert sum(s.rpm is None for s in samples) == 3  # the NaN readings: absent, not zero
    assert [e["event"] for e in logs].count("invalid value made absent") == 1
    with Buffer(tmp_path / "buffer.sqlite3") as buf:
        stats = buf.stats()
        assert (stats.depth, stats.taken_samples, stats.dropped_samples) == (0, 15, 0)
        assert buf.get_state("health")["adapters"] == {"synthetic": "closed"}


def test_configure_is_applied_persisted_and_acknowledged(
    tmp_path: Path, ingest: IngestServer, device_key: DeviceKey
) -> None:
    config = Configure(config_id=77, sample_rate_hz=5, pids=("SPEED", "RPM"), upload_interval_s=1)
    ingest.pending_config = config
    adapter = SyntheticAdapter(rate_hz=10)
    agent = Agent(make_config(tmp_path, ingest.url), adapters=[adapter], key=device_key)
    runner = threading.Thread(target=agent.run)
    runner.start()
    deadline = time.monotonic() + 10
    while ingest.pending_config is not None and time.monotonic() < deadline:
        time.sleep(0.05)
    ingest.query = True
    while ingest.query and time.monotonic() < deadline:
        time.sleep(0.05)
    agent.stop()
    runner.join(10)
    assert ingest.pending_config is None and not ingest.query  # acknowledged by a signed StatusReport
    reports = [b.batch.report for _, b in sorted(ingest.batches.items()) if b.batch.report is not None]
    assert reports[-1].config_id == 77 and reports[-1].sample_rate_hz == 5
    assert agent.sampler.rate_hz == 5 and agent.uplink.upload_interval_s == 1
    # The applied configuration survives a restart.
    again = Agent(make_config(tmp_path, ingest.url), adapters=[SyntheticAdapter(count=0)], key=device_key)
    assert again.applied == config and again.sampler.rate_hz == 5
    again.run(until_drained=True)


def test_a_full_disk_loses_new_readings_not_the_agent(
    tmp_path: Path, ingest: IngestServer, device_key: DeviceKey
) -> None:
    agent = Agent(make_config(tmp_path, ingest.url), adapters=[SyntheticAdapter(rate_hz=10)], key=device_key)
    pages = agent.buffer._db.execute("PRAGMA page_count").fetchone()[0]
    agent.buffer._db.execute(f"PRAGMA max_page_count = {pages}")  # SQLite's own "database or disk is full"
    with pytest.raises(BufferError, match="full"):  # fill every page with what uploads cannot free
        for i in range(100_000):
            agent.buffer.set_state(f"filler{i}", "x" * 32)
    runner = threading.Thread(target=agent.run)
    with capture_logs() as logs:
        runner.start()
        deadline = time.monotonic() + 10
        while agent.lost_samples < 5 and time.monotonic() < deadline:
            time.sleep(0.05)
        agent.buffer._db.execute("PRAGMA max_page_count = 1000000")  # space comes back
        while len(ingest.samples()) < 5 and time.monotonic() < deadline:
            time.sleep(0.05)
        agent.stop()
        runner.join(10)
    events = [e["event"] for e in logs]
    assert events.count("buffer cannot store samples; they are not being kept") == 1
    assert events.count("buffer stores samples again") == 1
    assert agent.lost_samples >= 5
    assert len(ingest.samples()) >= 5  # new readings flow again
