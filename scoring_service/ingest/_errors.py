"""What can go wrong with an upload, each with the HTTP status the endpoint answers with.

```
IngestError                      anything the ingestion refuses; nothing was stored
├── MalformedBatchError          422  not JSON, or not a batch (names the field)
├── ImplausibleSampleError       422  a sample far in the future or with a non-finite value
├── UnknownDeviceError           403  no registered device has this address
├── BadSignatureError            401  the signature does not verify with the stored key
├── BodyTooLargeError            413  body (or its decompressed form) over the limit
├── UnsupportedEncodingError     415  a Content-Encoding other than gzip or identity
├── SeqConflictError             409  this (device, seq) is stored with other content
└── StorageBusyError             503  the database is locked or unreachable; retry later
DeviceRegistrationError          refusing to register a device
├── InvalidPublicKeyError        422  not a compressed secp256r1 point
├── UnknownVehicleError          404  no such vehicle
└── DeviceExistsError            409  this key is registered already
```

Every error carries `status_code` and a message that says what is wrong, so any API (ours or
the insurer's) can answer with it directly and no bad input ever becomes a 500.
"""

from typing import ClassVar

__all__ = [
    "BadSignatureError",
    "BodyTooLargeError",
    "DeviceExistsError",
    "DeviceRegistrationError",
    "ImplausibleSampleError",
    "IngestError",
    "InvalidPublicKeyError",
    "MalformedBatchError",
    "SeqConflictError",
    "StorageBusyError",
    "UnknownDeviceError",
    "UnknownVehicleError",
    "UnsupportedEncodingError",
]


class _StatusError(Exception):
    """An error that knows its HTTP status; `field` names the offending input when there is one."""

    status_code: ClassVar[int] = 400

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class IngestError(_StatusError):
    """The upload was refused and nothing of it was stored."""


class MalformedBatchError(IngestError):
    """The body is not JSON, or not a signed batch of the protocol version we speak."""

    status_code = 422


class ImplausibleSampleError(IngestError):
    """A well-formed sample that cannot be a real reading (from the far future, NaN, infinity)."""

    status_code = 422


class UnknownDeviceError(IngestError):
    """No registered device has the address the batch names."""

    status_code = 403


class BadSignatureError(IngestError):
    """The signature does not verify against the public key we registered for the device."""

    status_code = 401


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


class DeviceRegistrationError(_StatusError):
    """A device could not be registered."""


class InvalidPublicKeyError(DeviceRegistrationError):
    """The key is not a compressed secp256r1 public key (33 bytes, 02/03 prefix, on the curve)."""

    status_code = 422


class UnknownVehicleError(DeviceRegistrationError):
    """The vehicle the device is to be fitted to does not exist."""

    status_code = 404


class DeviceExistsError(DeviceRegistrationError):
    """A device with this public key (hence this address) is registered already."""

    status_code = 409
