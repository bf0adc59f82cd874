"""kill -9 at random moments while sampling and uploading: every sample taken reaches the server
exactly once. The agent is a real process (the real Agent over a synthetic source) and the
server a real local HTTP server that stores each (device, seq) once, as the scoring service does.

Half of the runs hold the server's answer back after storing, so those kills land while an
upload is in flight and its acknowledgement is lost: the next life must re-send the same bytes.
"""

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from protocol import FIELDS, quantise
from tests.vehicle_agent.ingest_server import IngestServer
from tests.vehicle_agent.synthetic import values_for
from vehicle_agent import Buffer, create_key_file

KILLS = 22
ROOT = Path(__file__).resolve().parents[2]


def write_config(tmp_path: Path, url: str) -> Path:
    path = tmp_path / "agent.toml"
    path.write_text(
        f"""
[agent]
buffer_file = "buffer.sqlite3"
sample_rate_hz = 10
upload_interval_s = 0.1
max_batch_samples = 7

[server]
url = "{url}"
timeout_s = 5
min_backoff_s = 0.05
max_backoff_s = 0.2
"""
    )
    return path


def start(config: Path, key: Path, trace: Path, *extra: str) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.vehicle_agent.crash_agent", str(config), str(key), str(trace), *extra],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    assert proc.stdout is not None and proc.stdout.readline() == b"ready\n"
    return proc


def row(sample: object) -> tuple[int | None, ...]:
    return (sample.time_ns, *(quantise(name, getattr(sample, name)) for name in FIELDS))  # type: ignore[attr-defined]


@pytest.mark.slow
def test_sigkill_loses_and_doubles_nothing(tmp_path: Path, ingest: IngestServer) -> None:
    rng = random.Random(20261125)
    config = write_config(tmp_path, ingest.url)
    key = tmp_path / "device.key"
    create_key_file(key)
    trace = tmp_path / "taken.jsonl"
    pending_at_kill = 0
    for i in range(KILLS):
        ingest.reply_delay_s = 30.0 if i % 2 else 0.0
        proc = start(config, key, trace)
        time.sleep(rng.uniform(0.2, 0.9))
        os.kill(proc.pid, signal.SIGKILL)
        assert proc.wait(10) == -signal.SIGKILL
        proc.stdout.close()  # type: ignore[union-attr]
        with Buffer(tmp_path / "buffer.sqlite3", read_only=True) as buf:
            pending_at_kill += buf.stats().pending_batches
    ingest.reply_delay_s = 0.0
    final = start(config, key, trace, "--drain")
    assert final.wait(60) == 0
    final.stdout.close()  # type: ignore[union-attr]

    taken = [tuple(json.loads(line)) for line in trace.read_text().splitlines()]
    received = [row(s) for s in ingest.samples()]
    assert len(set(taken)) == len(taken)
    assert len(set(received)) == len(received), "a sample reached the server twice"
    assert ingest.conflicts == 0, "a seq was reused for different content"
    assert set(taken) <= set(received), "a taken sample never reached the server"
    # A sample committed in the instant between its commit and the trace write is taken but
    # untraced: at most one per kill, and it must be genuine synthetic content.
    untraced = set(received) - set(taken)
    assert len(untraced) <= KILLS
    for time_ns, *_ in untraced:
        assert row(type(ingest.samples()[0])(time_ns, **values_for(time_ns // 100_000_000))) in untraced
    print(
        f"kills={KILLS} taken={len(taken)} received={len(received)} untraced={len(untraced)} "
        f"resent={ingest.duplicates} pending_at_kill={pending_at_kill}"
    )
    assert len(received) > 10 * KILLS * 0.3
    assert ingest.duplicates >= 1 and pending_at_kill >= 1  # uploads were cut off mid-flight and re-sent
    with Buffer(tmp_path / "buffer.sqlite3", read_only=True) as buf:
        assert buf.stats().depth == 0 and buf.stats().dropped_samples == 0
