"""Verified ingestion of signed batches from registered devices (`POST /v1/ingest/batches`)."""

from scoring_service.ingest._body import read_limited_body
from scoring_service.ingest._decode import COLUMNS, DecodedBatch, decode_batch
from scoring_service.ingest._devices import register_device, set_pending_config
from scoring_service.ingest._errors import (
    BadSignatureError,
    BodyTooLargeError,
    DeviceExistsError,
    DeviceRegistrationError,
    ImplausibleSampleError,
    IngestError,
    InvalidPublicKeyError,
    MalformedBatchError,
    SeqConflictError,
    StorageBusyError,
    UnknownDeviceError,
    UnknownVehicleError,
    UnsupportedEncodingError,
)
from scoring_service.ingest._router import IngestLimitsDep, get_ingest_limits, router
from scoring_service.ingest._service import IngestLimits, accept_batch, decode_body
from scoring_service.ingest._store import PartitionCache, batch_months, pending_configure, store_batch

__all__ = [
    "COLUMNS",
    "BadSignatureError",
    "BodyTooLargeError",
    "DecodedBatch",
    "DeviceExistsError",
    "DeviceRegistrationError",
    "ImplausibleSampleError",
    "IngestError",
    "IngestLimits",
    "IngestLimitsDep",
    "InvalidPublicKeyError",
    "MalformedBatchError",
    "PartitionCache",
    "SeqConflictError",
    "StorageBusyError",
    "UnknownDeviceError",
    "UnknownVehicleError",
    "UnsupportedEncodingError",
    "accept_batch",
    "batch_months",
    "decode_batch",
    "decode_body",
    "get_ingest_limits",
    "pending_configure",
    "read_limited_body",
    "register_device",
    "router",
    "set_pending_config",
    "store_batch",
]
