"""The NEOT adapter interface: one sensor, one-way Data and two-way Signals.

An adapter wraps one source (an ELM327 on the OBD-II port, a GPS, a recorded trip):

- `data()` is the one-way Data channel: a blocking iterator of `protocol.Sample`s in SI-named
  units with UTC nanosecond times, carrying only the fields this source measured (absent is
  "no reading", never zero). It keeps going through faults — a lost adapter, an ignition switched
  off, a GPS without fix — by reconnecting with backoff, and it ends only after `close()` (or,
  for a recorded trip, at the end of the recording).
- `signal(msg)` is the two-way Signals channel: `Configure` (sample rate, PIDs) → the adapter's
  `AdapterStatus` after applying it; `StatusQuery` → `AdapterStatus`; `Ack` → `None` (adapters
  keep no upload state); `ReadDtcs` / `ClearDtcs` → `DtcReport` from adapters that reach an
  ECU. Any other signal raises `UnsupportedSignal`.

`data()` runs on its own thread; `signal()` may be called from another one at any time, so an
adapter serialises access to its device itself. Adapters never raise for device trouble: that
is a health state (`AdapterState`) and one log line per change.
"""

import abc
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from protocol import Ack, Configure, Sample, StatusQuery

__all__ = [
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
    "ReadDtcs",
    "TripFileError",
    "UnsupportedSignal",
]


class AdapterError(Exception):
    """Base of every error raised by `vehicle_agent.adapters`.

    AdapterError
    ├── AdapterConfigError   bad options, an unknown adapter kind, a broken plug-in
    ├── UnsupportedSignal    a signal this adapter does not answer
    └── TripFileError        a recorded trip (CSV/GPX) that cannot be read; names file:line
    """


class AdapterConfigError(AdapterError, ValueError):
    """The adapter cannot be built from these options."""


class UnsupportedSignal(AdapterError, TypeError):
    """The adapter does not answer this kind of signal (e.g. DTCs from a GPS)."""


class TripFileError(AdapterError, ValueError):
    """A recorded trip file is malformed; the message says where and what."""


class AdapterState(StrEnum):
    """Health of one adapter, as reported in `StatusReport.adapters`."""

    STARTING = "starting"
    OK = "ok"
    CONNECTING = "connecting"
    RECONNECTING = "reconnecting"
    IGNITION_OFF = "ignition_off"
    NO_FIX = "no_fix"
    FINISHED = "finished"
    CLOSED = "closed"


@dataclass(frozen=True, slots=True)
class ReadDtcs:
    """Ask for the stored diagnostic trouble codes (OBD-II mode 03)."""


@dataclass(frozen=True, slots=True)
class ClearDtcs:
    """Clear the stored trouble codes and switch the MIL off (OBD-II mode 04)."""


@dataclass(frozen=True, slots=True)
class Dtc:
    """One trouble code, e.g. `P0301` "Cylinder 1 Misfire Detected"."""

    code: str
    description: str = ""


@dataclass(frozen=True, slots=True)
class DtcReport:
    """The codes stored in the ECU after the request; `cleared` is set for a successful clear.
    `ok` is False when the car did not answer (then `codes` is empty but means nothing)."""

    ok: bool
    codes: tuple[Dtc, ...] = ()
    cleared: bool = False
    detail: str = ""


@dataclass(frozen=True, slots=True)
class AdapterStatus:
    """What an adapter says about itself: its state word, samples yielded, faults handled, the
    PIDs it reads, and source facts such as the VIN or the port (`info`)."""

    name: str
    kind: str
    state: AdapterState
    samples: int = 0
    faults: int = 0
    sample_rate_hz: float | None = None
    pids: tuple[str, ...] = ()
    info: Mapping[str, str] = field(default_factory=dict)


type AdapterSignal = Configure | StatusQuery | Ack | ReadDtcs | ClearDtcs
type AdapterReply = AdapterStatus | DtcReport | None


class Adapter(abc.ABC):
    """Base class of NEOT adapters. Subclasses set `kind`, implement `data()` and `status()`,
    and override `configure()` / `read_dtcs()` / `clear_dtcs()` where the source supports them.
    Third-party adapters register a factory in the `neot.adapters` entry-point group."""

    kind: str = "adapter"

    def __init__(self, name: str) -> None:
        self.name = name
        self._stop = threading.Event()

    @abc.abstractmethod
    def data(self) -> Iterator[Sample]:
        """Yield samples until `close()` (or the end of a recording)."""

    @abc.abstractmethod
    def status(self) -> AdapterStatus:
        """The adapter's current health and counters."""

    def signal(self, msg: AdapterSignal) -> AdapterReply:
        """Answer one Signal (see the module docstring for the pairs)."""
        match msg:
            case Configure():
                return self.configure(msg)
            case StatusQuery():
                return self.status()
            case Ack():
                return None
            case ReadDtcs():
                return self.read_dtcs()
            case ClearDtcs():
                return self.clear_dtcs()
            case _:
                raise UnsupportedSignal(f"{self.kind} adapter {self.name!r} does not answer {msg!r}")

    def configure(self, config: Configure) -> AdapterStatus:
        """Apply what of `config` concerns this source; by default nothing does."""
        return self.status()

    def read_dtcs(self) -> DtcReport:
        raise UnsupportedSignal(f"{self.kind} adapter {self.name!r} has no trouble codes")

    def clear_dtcs(self) -> DtcReport:
        raise UnsupportedSignal(f"{self.kind} adapter {self.name!r} has no trouble codes")

    def close(self) -> None:
        """Stop `data()` (it returns after the current read) and release the device."""
        self._stop.set()

    @property
    def closed(self) -> bool:
        return self._stop.is_set()
