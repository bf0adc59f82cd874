"""NEOT adapters: one sensor each, with one-way Data (`data()` yields `protocol.Sample`s) and
two-way Signals (`signal(msg)`). Built-in kinds: `obd` (ELM327 via python-obd), `gpsd`,
`nmea` (raw NMEA serial) and `replay` (recorded CSV/GPX trips, read by `protocol`'s trip-file
reader); more through the `neot.adapters` entry-point group (see `create_adapter`).
"""

from vehicle_agent.adapters._base import (
    Adapter,
    AdapterConfigError,
    AdapterError,
    AdapterReply,
    AdapterSignal,
    AdapterState,
    AdapterStatus,
    ClearDtcs,
    Dtc,
    DtcReport,
    ReadDtcs,
    TripFileError,
    UnsupportedSignal,
)
from vehicle_agent.adapters._gps import (
    GpsdAdapter,
    GpsdConfig,
    NmeaAdapter,
    NmeaConfig,
    NmeaFixAssembler,
    fix_from_tpv,
)
from vehicle_agent.adapters._obd import DEFAULT_PIDS, PID_FIELDS, ObdAdapter, ObdConfig, decode_vin
from vehicle_agent.adapters._registry import ENTRY_POINT_GROUP, adapter_kinds, create_adapter
from vehicle_agent.adapters._replay import ReplayAdapter, ReplayConfig

__all__ = [
    "DEFAULT_PIDS",
    "ENTRY_POINT_GROUP",
    "PID_FIELDS",
    "Adapter",
    "AdapterConfigError",
    "AdapterError",
    "AdapterReply",
    "AdapterSignal",
    "AdapterState",
    "AdapterStatus",
    "ClearDtcs",
    "Dtc",
    "DtcReport",
    "GpsdAdapter",
    "GpsdConfig",
    "NmeaAdapter",
    "NmeaConfig",
    "NmeaFixAssembler",
    "ObdAdapter",
    "ObdConfig",
    "ReadDtcs",
    "ReplayAdapter",
    "ReplayConfig",
    "TripFileError",
    "UnsupportedSignal",
    "adapter_kinds",
    "create_adapter",
    "decode_vin",
    "fix_from_tpv",
]
