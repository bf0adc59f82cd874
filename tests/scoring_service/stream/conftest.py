"""A unique JetStream stream per test on the NATS server at 127.0.0.1:4222 (deleted afterwards)."""

import asyncio
import contextlib
import os
import socket
import uuid
from collections.abc import Iterator

import pytest
from nats.js.errors import NotFoundError

from scoring_service.stream import StreamConfig, connect

NATS_URL = os.environ.get("NEOT_TEST_NATS_URL", "nats://127.0.0.1:4222")
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def _nats_problem() -> str | None:
    host, port = NATS_URL.removeprefix("nats://").split(":")
    try:
        with socket.create_connection((host, int(port)), timeout=3):
            return None
    except OSError as exc:
        return f"NATS at {NATS_URL} does not answer: {exc}"


@pytest.fixture
def stream_config() -> Iterator[StreamConfig]:
    """A stream of its own (4 shards, 2 s ack wait); skipped locally without NATS, failed in CI."""
    problem = _nats_problem()
    if problem:
        if IN_CI:
            pytest.fail(f"CI must run the stream tests: {problem}")
        pytest.skip(problem)
    tag = uuid.uuid4().hex[:10]
    config = StreamConfig(url=NATS_URL, name=f"T_{tag}", subject_prefix=f"t{tag}.batches", shards=4, ack_wait_s=2.0)
    yield config

    async def delete() -> None:
        client, js = await connect(config)
        with contextlib.suppress(NotFoundError):  # never created by this test
            await js.delete_stream(config.name)
        await client.close()

    asyncio.run(delete())
