"""The device edge: the registry of device keys, one authentication for everything a device sends
(batches, trouble-code reports, status reports), the Signals queued for a device (Configure,
StatusQuery) and the health its reports and uploads show.

Batches themselves are `scoring_service.ingest`'s; they authenticate through here.
"""

from scoring_service.devices._auth import AuthenticatedDevice, DeviceSignature, authenticate_device
from scoring_service.devices._errors import (
    BadSignatureError,
    DeviceEdgeError,
    DeviceExistsError,
    DeviceRegistrationError,
    InvalidConfigureError,
    InvalidPublicKeyError,
    StaleReportError,
    UnknownDeviceError,
    UnknownVehicleError,
)
from scoring_service.devices._registry import (
    pending_configure,
    queue_configure,
    queue_status_query,
    register_device,
    set_pending_config,
)
from scoring_service.devices._status import (
    MOVING_KMH,
    SILENT_AFTER,
    DeviceHealth,
    StatusSnapshot,
    device_health,
    record_status_report,
    status_reports,
)
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
    "MOVING_KMH",
    "REPORT_WINDOW_NS",
    "SILENT_AFTER",
    "AuthenticatedDevice",
    "BadSignatureError",
    "DeviceEdgeError",
    "DeviceExistsError",
    "DeviceHealth",
    "DeviceRegistrationError",
    "DeviceSignature",
    "InvalidConfigureError",
    "InvalidPublicKeyError",
    "StaleReportError",
    "StatusSnapshot",
    "TroubleCodeHandler",
    "TroubleCodes",
    "UnknownDeviceError",
    "UnknownVehicleError",
    "accept_trouble_codes",
    "authenticate_device",
    "device_health",
    "install_trouble_code_handler",
    "pending_configure",
    "queue_configure",
    "queue_status_query",
    "record_status_report",
    "register_device",
    "router",
    "set_pending_config",
    "status_reports",
    "trouble_code_handler",
]
