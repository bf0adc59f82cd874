"""What can go wrong with an upload, each with the HTTP status the endpoint answers with.

```
DeviceEdgeError                  (scoring_service.devices: unknown device 403, bad signature 401, …)
└── IngestError                  anything the ingestion refuses; nothing was stored
    ├── MalformedBatchError      422  not JSON, or not a batch (names the field)
    ├── ImplausibleSampleError   422  a sample far in the future or with a non-finite value
    ├── BodyTooLargeError        413  body (or its decompressed form) over the limit
    ├── UnsupportedEncodingError 415  a Content-Encoding other than gzip or identity
    ├── SeqConflictError         409  this (device, seq) is stored with other content
    └── StorageBusyError         503  the database is locked or unreachable; retry later
```

Every error carries `status_code` and a message that says what is wrong, so any API (ours or
the insurer's) can answer with it directly and no bad input ever becomes a 500.
"""

from scoring_service.devices import DeviceEdgeError

__all__ = [
    "BodyTooLargeError",
    "ImplausibleSampleError",
    "IngestError",
    "MalformedBatchError",
    "SeqConflictError",
    "StorageBusyError",
    "UnsupportedEncodingError",
]


class IngestError(DeviceEdgeError):
    """The upload was refused and nothing of it was stored."""


class MalformedBatchError(IngestError):
    """The body is not JSON, or not a signed batch of the protocol version we speak."""

    status_code = 422


class ImplausibleSampleError(IngestError):
    """A well-formed sample that cannot be a real reading (from the far future, NaN, infinity)."""

    status_code = 422


class BodyTooLargeError(IngestError):
    """The body, or what it decompresses to, is over the limit; reading stopped at the limit."""

    status_code = 413


class UnsupportedEncodingError(IngestError):
    """A Content-Encoding we do not decode."""

    status_code = 415


class SeqConflictError(IngestError):
    """The device already stored a different batch under this seq: a seq is never reused."""

    status_code = 409


class StorageBusyError(IngestError):
    """The database did not take the batch (a lock held past the busy timeout, a dropped
    connection). Nothing was stored; the device retries after `retry_after_s`."""

    status_code = 503
    retry_after_s = 1
