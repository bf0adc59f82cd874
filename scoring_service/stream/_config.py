"""The stream's shape: its name, one subject per device shard, one durable consumer per shard."""

from dataclasses import dataclass

import nats
from nats.aio.client import Client
from nats.errors import Error as NatsError
from nats.js import JetStreamContext
from nats.js.api import DiscardPolicy, RetentionPolicy, StorageType
from nats.js.api import StreamConfig as JsStreamConfig
from nats.js.errors import NotFoundError

from neot.settings import Settings
from scoring_service.ingest import StorageBusyError

__all__ = ["StreamConfig", "StreamUnavailable", "connect", "ensure_stream", "shards_owned"]


class StreamUnavailable(StorageBusyError):
    """NATS or its JetStream stream did not answer; nothing was appended or acknowledged (503)."""


@dataclass(frozen=True, slots=True)
class StreamConfig:
    """Where verified batches go. A device's shard is its id modulo `shards`, so all batches of a
    device travel one subject and reach the one worker that owns that shard, in order."""

    url: str
    name: str = "NEOT_BATCHES"
    subject_prefix: str = "neot.batches"
    shards: int = 16
    ack_wait_s: float = 30.0

    def __post_init__(self) -> None:
        if not self.url.startswith(("nats://", "tls://")):
            raise ValueError(f"a stream URL starts with nats:// or tls://, not {self.url.split(':', 1)[0]}://")
        if not 1 <= self.shards <= 1024:
            raise ValueError("shards must be between 1 and 1024")

    @classmethod
    def from_settings(cls, settings: Settings) -> "StreamConfig":
        """The stream `NEOT_STREAM_URL`, `NEOT_STREAM_NAME`, `_SUBJECTS`, `_SHARDS`, `_ACK_WAIT_S` describe."""
        return cls(
            url=settings.stream_url,
            name=settings.stream_name,
            subject_prefix=settings.stream_subjects,
            shards=settings.stream_shards,
            ack_wait_s=settings.stream_ack_wait_s,
        )

    def shard_of(self, device_id: int) -> int:
        return device_id % self.shards

    def subject(self, shard: int) -> str:
        return f"{self.subject_prefix}.{shard}"

    def durable(self, shard: int) -> str:
        return f"{self.name}-score-{shard}"


def shards_owned(config: StreamConfig, *, index: int, count: int) -> list[int]:
    """The shards worker `index` of `count` consumes: every `count`-th, starting at `index`."""
    if not 0 <= index < count:
        raise ValueError(f"worker index {index} is not in 0..{count - 1}")
    return [shard for shard in range(config.shards) if shard % count == index]


async def connect(config: StreamConfig) -> tuple[Client, JetStreamContext]:
    """A connection and its JetStream context; `StreamUnavailable` when NATS does not answer."""
    try:
        client = await nats.connect(config.url, connect_timeout=5, max_reconnect_attempts=-1, allow_reconnect=True)
    except (OSError, NatsError, TimeoutError) as exc:
        raise StreamUnavailable(f"NATS at {config.url} does not answer: {type(exc).__name__}") from exc
    return client, client.jetstream()


async def ensure_stream(js: JetStreamContext, config: StreamConfig) -> None:
    """Create the stream if it does not exist: file storage, each message kept until the one
    consumer of its shard acknowledges it (work queue), repeats within two minutes dropped."""
    try:
        await js.stream_info(config.name)
        return
    except NotFoundError:
        pass
    await js.add_stream(
        JsStreamConfig(
            name=config.name,
            subjects=[f"{config.subject_prefix}.*"],
            retention=RetentionPolicy.WORK_QUEUE,
            storage=StorageType.FILE,
            discard=DiscardPolicy.NEW,
            duplicate_window=120.0,
        )
    )
