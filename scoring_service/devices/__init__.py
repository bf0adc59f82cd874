"""The device edge: the registry of device keys, one authentication for everything a device sends
(batches, trouble-code reports, status reports), and the Signals queued for a device.

Batches themselves are `scoring_service.ingest`'s; they authenticate through here.
"""

from scoring_service.devices._auth import AuthenticatedDevice, DeviceSignature, authenticate_device
from scoring_service.devices._errors import (
    BadSignatureError,
    DeviceEdgeError,
    DeviceExistsError,
    DeviceRegistrationError,
    InvalidPublicKeyError,
    StaleReportError,
    UnknownDeviceError,
    UnknownVehicleError,
)
from scoring_service.devices._registry import register_device, set_pending_config
from scoring_service.devices._trouble import (
    REPORT_WINDOW_NS,
    TroubleCodeHandler,
    TroubleCodes,
    accept_trouble_codes,
    install_trouble_code_handler,
    trouble_code_handler,
)
from scoring_service.devices.routes import router

__all__ = [
    "REPORT_WINDOW_NS",
    "AuthenticatedDevice",
    "BadSignatureError",
    "DeviceEdgeError",
    "DeviceExistsError",
    "DeviceRegistrationError",
    "DeviceSignature",
    "InvalidPublicKeyError",
    "StaleReportError",
    "TroubleCodeHandler",
    "TroubleCodes",
    "UnknownDeviceError",
    "UnknownVehicleError",
    "accept_trouble_codes",
    "authenticate_device",
    "install_trouble_code_handler",
    "register_device",
    "router",
    "set_pending_config",
    "trouble_code_handler",
]
