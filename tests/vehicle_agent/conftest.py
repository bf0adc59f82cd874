"""Fixtures for agent tests: a real local ingest server, a device key, an agent config."""

from collections.abc import Iterator
from pathlib import Path

import pytest

from protocol import DeviceKey
from tests.vehicle_agent.ingest_server import IngestServer
from vehicle_agent import AgentConfig


@pytest.fixture
def ingest() -> Iterator[IngestServer]:
    with IngestServer() as server:
        yield server


@pytest.fixture
def device_key() -> DeviceKey:
    return DeviceKey.generate()


def make_config(tmp_path: Path, url: str, **agent: object) -> AgentConfig:
    return AgentConfig.model_validate(
        {
            "agent": {
                "key_file": str(tmp_path / "device.key"),
                "buffer_file": str(tmp_path / "buffer.sqlite3"),
                "upload_interval_s": 0.1,
                **agent,
            },
            "server": {"url": url, "timeout_s": 2, "min_backoff_s": 0.05, "max_backoff_s": 0.2},
        }
    )
