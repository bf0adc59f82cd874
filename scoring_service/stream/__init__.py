"""Scale-out past one machine on NATS JetStream (`NEOT_STREAM_URL=nats://…`).

Ingestion verifies a batch and appends it to a JetStream stream, one subject per device shard, and
acknowledges the device only once the stream holds it (`BatchPublisher`). Score workers each own
some shards; for each they keep a durable pull consumer, store the batches idempotently by
(device, seq) and acknowledge a message only after the transaction that stored it committed
(`StreamStorer`), so a worker killed at any point loses nothing and doubles nothing: what it had
not acknowledged is delivered again and found stored, or stored now.

Without `NEOT_STREAM_URL` everything runs in-process, as the HTTP path stores batches itself.
"""

from scoring_service.stream._app import batch_stream
from scoring_service.stream._config import StreamConfig, StreamUnavailable, connect, ensure_stream, shards_owned
from scoring_service.stream._publisher import BatchPublisher
from scoring_service.stream._storer import StreamStorer, store_message, store_messages

__all__ = [
    "BatchPublisher",
    "StreamConfig",
    "StreamStorer",
    "StreamUnavailable",
    "batch_stream",
    "connect",
    "ensure_stream",
    "shards_owned",
    "store_message",
    "store_messages",
]
