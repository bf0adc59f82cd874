"""What the device edge refuses, each with the HTTP status an endpoint answers with.

```
DeviceEdgeError                  anything the device edge refuses; nothing was stored
├── UnknownDeviceError           403  no registered device has this address
├── BadSignatureError            401  the signature does not verify with the stored key
├── StaleReportError             422  a signed report sent too far from the server's clock
├── InvalidConfigureError        422  settings the protocol does not allow (rate, PIDs, interval)
├── DeviceRegistrationError      refusing to register a device
│   ├── InvalidPublicKeyError    422  not a compressed secp256r1 point
│   ├── UnknownVehicleError      404  no such vehicle
│   └── DeviceExistsError        409  this key is registered already
└── IngestError                  (scoring_service.ingest) refusing an upload of samples
```

Every error carries `status_code` and a message that says what is wrong, so any API (ours or
the insurer's) can answer with it directly and no bad input ever becomes a 500.
"""

from typing import ClassVar

__all__ = [
    "BadSignatureError",
    "DeviceEdgeError",
    "DeviceExistsError",
    "DeviceRegistrationError",
    "InvalidConfigureError",
    "InvalidPublicKeyError",
    "StaleReportError",
    "UnknownDeviceError",
    "UnknownVehicleError",
]


class DeviceEdgeError(Exception):
    """An error that knows its HTTP status; `field` names the offending input when there is one."""

    status_code: ClassVar[int] = 400

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class UnknownDeviceError(DeviceEdgeError):
    """No registered device has the address the message names."""

    status_code = 403


class BadSignatureError(DeviceEdgeError):
    """The signature does not verify against the public key we registered for the device."""

    status_code = 401


class StaleReportError(DeviceEdgeError):
    """A signed report whose send time is outside the replay window around the server's clock."""

    status_code = 422


class InvalidConfigureError(DeviceEdgeError):
    """Settings a Configure signal cannot carry (sample rate, PID names, upload interval)."""

    status_code = 422


class DeviceRegistrationError(DeviceEdgeError):
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
