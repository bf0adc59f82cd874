"""Ingestion's side: append a verified batch to the stream, acknowledged by JetStream."""

from nats.aio.client import Client
from nats.errors import Error as NatsError
from nats.js import JetStreamContext

from scoring_service.ingest import DecodedBatch
from scoring_service.stream._config import StreamConfig, StreamUnavailable, connect, ensure_stream

__all__ = ["BatchPublisher"]


class BatchPublisher:
    """Appends verified batches to the stream from the API's event loop (one connection per process)."""

    def __init__(self, config: StreamConfig) -> None:
        self.config = config
        self._client: Client | None = None
        self._js: JetStreamContext | None = None

    async def start(self) -> None:
        """Connect and make sure the stream exists."""
        self._client, self._js = await connect(self.config)
        await ensure_stream(self._js, self.config)

    async def close(self) -> None:
        if self._client is not None:
            await self._client.drain()
            self._client = self._js = None

    async def append(self, *, device_id: int, batch: DecodedBatch, body: bytes) -> None:
        """Append `body` (the batch as signed, decompressed) once JetStream has stored it.

        The message id names the batch and its content, so a repeat within the stream's duplicate
        window is dropped by JetStream; a later repeat is found stored by the worker.
        Raises `StreamUnavailable` when NATS does not confirm it.
        """
        if self._js is None:
            raise StreamUnavailable("the batch stream is not connected")
        headers = {
            "Nats-Msg-Id": f"{device_id}:{batch.seq}:{batch.digest.hex()}",
            "Neot-Device-Id": str(device_id),
        }
        subject = self.config.subject(self.config.shard_of(device_id))
        try:
            await self._js.publish(subject, body, timeout=5.0, stream=self.config.name, headers=headers)
        except (NatsError, TimeoutError) as exc:
            raise StreamUnavailable(f"the batch stream did not confirm the batch: {type(exc).__name__}") from exc
