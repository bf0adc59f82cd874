"""A score worker's side: store the batches of the shards it owns, then acknowledge them.

Each owned shard has a durable pull consumer. A fetch of messages is stored in one transaction,
and each message is acknowledged only after that transaction committed; a worker killed before
that leaves them unacknowledged and JetStream delivers them again after `ack_wait_s` (to this
worker restarted, or to whichever now owns the shard), where storing is idempotent by
(device, seq).
"""

import asyncio
from datetime import UTC, datetime
from typing import Protocol

import anyio
import structlog
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.errors import Error as NatsError
from nats.errors import TimeoutError as NatsTimeoutError
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from sqlalchemy.orm import Session, sessionmaker

from scoring_service.ingest import DecodedBatch, IngestError, PartitionCache, batch_months, decode_batch, store_batch
from scoring_service.stream._config import StreamConfig, connect, ensure_stream

__all__ = ["Stop", "StreamStorer", "store_message", "store_messages"]


class Stop(Protocol):
    """What `StreamStorer.run` watches: set, it ends."""

    def is_set(self) -> bool: ...


_log = structlog.get_logger(__name__)
_PARTITIONS = PartitionCache()


def store_message(sessions: sessionmaker[Session], *, device_id: int, body: bytes) -> DecodedBatch:
    """Store the batch of one stream message (verified at ingestion) unless it is stored; commits."""
    return store_messages(sessions, [(device_id, body)])[0]


def store_messages(sessions: sessionmaker[Session], messages: list[tuple[int, bytes]]) -> list[DecodedBatch]:
    """Store the batches of `messages` ((device id, body) each) in one transaction: one commit
    for a whole fetch. Raises `IngestError` (nothing stored) if any is refused."""
    batches = [decode_batch(body) for _, body in messages]
    months = sorted({month for batch in batches for month in batch_months(batch)})
    with sessions() as session:
        engine = session.get_bind()
        if _PARTITIONS.missing(engine, months):  # type: ignore[arg-type]
            _PARTITIONS.prepare(engine, months)  # type: ignore[arg-type]
        conn, now = session.connection(), datetime.now(UTC)
        for (device_id, _), batch in zip(messages, batches, strict=True):
            store_batch(conn, device_id=device_id, batch=batch, now=now)
        session.commit()
    return batches


class StreamStorer:
    """Stores what the owned shards' consumers deliver; `drain` once, or `run` until stopped."""

    def __init__(
        self, sessions: sessionmaker[Session], config: StreamConfig, *, shards: list[int], fetch: int = 32
    ) -> None:
        self._sessions = sessions
        self._config = config
        self._shards = shards
        self._fetch = fetch
        self._client: Client | None = None
        self._subs: list[JetStreamContext.PullSubscription] = []
        self.stored = 0  # batches this storer handled (stored now or found stored)
        self.devices: set[int] = set()  # the devices whose batches it handled

    async def start(self) -> None:
        self._client, js = await connect(self._config)
        await ensure_stream(js, self._config)
        for shard in self._shards:
            consumer = ConsumerConfig(
                durable_name=self._config.durable(shard),
                ack_policy=AckPolicy.EXPLICIT,
                deliver_policy=DeliverPolicy.ALL,
                ack_wait=self._config.ack_wait_s,
                max_ack_pending=4 * self._fetch,
                filter_subject=self._config.subject(shard),
            )
            self._subs.append(
                await js.pull_subscribe(
                    self._config.subject(shard),
                    durable=self._config.durable(shard),
                    stream=self._config.name,
                    config=consumer,
                )
            )

    async def close(self) -> None:
        if self._client is not None:
            await self._client.close()
            self._client, self._subs = None, []

    async def drain(self, *, wait_s: float = 0.2) -> int:
        """Fetch and store what the owned shards have now (fetched together, so empty shards wait
        at once, not in turn); the batches handled."""
        fetched = await asyncio.gather(*(self._fetch_one(sub, wait_s) for sub in self._subs))
        handled = 0
        for messages in fetched:
            if messages:
                handled += await self._handle(messages)
        self.stored += handled
        return handled

    async def _fetch_one(self, sub: JetStreamContext.PullSubscription, wait_s: float) -> list[Msg]:
        try:
            return await sub.fetch(self._fetch, timeout=wait_s)
        except (NatsTimeoutError, TimeoutError):
            return []

    async def _handle(self, messages: list[Msg]) -> int:
        """Store a fetch in one transaction and acknowledge it; if one is refused, one at a time."""
        items = [(int((msg.headers or {}).get("Neot-Device-Id", "0")), msg.data) for msg in messages]
        try:
            await anyio.to_thread.run_sync(lambda: store_messages(self._sessions, items))
        except IngestError:
            if len(messages) == 1:
                raise
            return sum([await self._one(msg, item) for msg, item in zip(messages, items, strict=True)])
        for msg in messages:
            await msg.ack()
        self.devices.update(device_id for device_id, _ in items)
        return len(messages)

    async def _one(self, msg: Msg, item: tuple[int, bytes]) -> int:
        try:
            await anyio.to_thread.run_sync(lambda: store_messages(self._sessions, [item]))
        except IngestError as exc:  # a seq reused with other content: it will never store
            _log.error("stream batch refused; dropped", device_id=item[0], error=exc.message)
            await msg.term()
            return 0
        await msg.ack()
        self.devices.add(item[0])
        return 1

    async def run(self, stop: "Stop", *, idle_s: float = 0.5) -> None:
        """Drain until `stop` is set (an `asyncio.Event` or a `threading.Event`); NATS errors are
        logged and retried."""
        while not stop.is_set():
            try:
                if await self.drain() == 0:
                    await asyncio.sleep(idle_s)
            except NatsError as exc:
                _log.warning("batch stream unavailable", error=type(exc).__name__)
                await asyncio.sleep(idle_s)
