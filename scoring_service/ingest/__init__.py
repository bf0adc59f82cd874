"""Verified ingestion of signed batches from registered devices (`POST /v1/ingest/batches`).

Devices, their keys and their authentication are `scoring_service.devices`'."""

from scoring_service.ingest._body import read_limited_body
from scoring_service.ingest._decode import COLUMNS, DecodedBatch, decode_batch
from scoring_service.ingest._errors import (
    BodyTooLargeError,
    ImplausibleSampleError,
    IngestError,
    MalformedBatchError,
    SeqConflictError,
    StorageBusyError,
    UnsupportedEncodingError,
)
from scoring_service.ingest._service import IngestLimits, VerifiedBatch, accept_batch, decode_body, verify_batch
from scoring_service.ingest._store import PartitionCache, batch_months, store_batch, stream_ack
from scoring_service.ingest.routes import BatchSink, IngestLimitsDep, get_ingest_limits, router

__all__ = [
    "COLUMNS",
    "BatchSink",
    "BodyTooLargeError",
    "DecodedBatch",
    "ImplausibleSampleError",
    "IngestError",
    "IngestLimits",
    "IngestLimitsDep",
    "MalformedBatchError",
    "PartitionCache",
    "SeqConflictError",
    "StorageBusyError",
    "UnsupportedEncodingError",
    "VerifiedBatch",
    "accept_batch",
    "batch_months",
    "decode_batch",
    "decode_body",
    "get_ingest_limits",
    "read_limited_body",
    "router",
    "store_batch",
    "stream_ack",
    "verify_batch",
]
