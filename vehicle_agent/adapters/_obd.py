"""OBD-II through an ELM327 adapter, with python-obd (serial, Bluetooth RFCOMM, `socket://`).

python-obd is GPL-2.0 and imported only when an `ObdAdapter` connects, so the rest of the agent
(and `neot agent --help`) loads without it. What python-obd does not do for us, done here:

- It pads a short reply with zero bytes before decoding, so a torn frame on a noisy line reads
  as "0 km/h". Every reply is therefore fetched raw, checked (service byte, PID byte, length)
  and only then decoded; anything else is counted as line noise and is "no reading".
- A null response is "no reading" (the field stays absent), never zero.
- Its VIN decoder drops leading `0`/`1`/`2` characters: the VIN is decoded from the raw bytes.
- It gives up for good when the adapter or the ignition goes away: the adapter reconnects with
  exponential backoff and jitter, and tells "adapter unreachable" from "ignition off".
- It installs its own stderr handler on the `obd` logger: that handler is removed, so its
  records flow through the application's logging at the level given in `ObdConfig`.
"""

import logging
import math
import random
import re
import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from typing import Any

import structlog

from protocol import Configure, Sample
from vehicle_agent.adapters._base import (
    Adapter,
    AdapterConfigError,
    AdapterState,
    AdapterStatus,
    Dtc,
    DtcReport,
)
from vehicle_agent.adapters._pyserial import register as register_serial_handlers

__all__ = ["DEFAULT_PIDS", "PID_FIELDS", "ObdAdapter", "ObdConfig", "decode_vin"]

_log = structlog.get_logger(__name__)

#: python-obd command name → (Sample field, unit the value is converted to at the adapter).
PID_FIELDS: Mapping[str, tuple[str, str]] = {
    "SPEED": ("speed_kmh", "kilometer_per_hour"),
    "RPM": ("rpm", "revolutions_per_minute"),
    "THROTTLE_POS": ("throttle_pct", "percent"),
    "ENGINE_LOAD": ("engine_load_pct", "percent"),
    "COOLANT_TEMP": ("coolant_c", "degree_Celsius"),
    "FUEL_LEVEL": ("fuel_pct", "percent"),
    "MAF": ("maf_gs", "gram / second"),
}
DEFAULT_PIDS: tuple[str, ...] = ("SPEED", "RPM", "THROTTLE_POS", "ENGINE_LOAD", "COOLANT_TEMP")
_VIN_RE = re.compile(r"[A-HJ-NPR-Z0-9]{17}")


@dataclass(frozen=True, slots=True)
class ObdConfig:
    """Where the ELM327 is and what to read.

    `port` is a serial device (`/dev/ttyUSB0`), a bound Bluetooth RFCOMM device
    (`/dev/rfcomm0`) or a Wi-Fi adapter as `socket://host:port`. `protocol` is the ELM327
    protocol number (`"6"` = ISO 15765-4 CAN 11-bit 500k; `None` auto-detects, which costs
    seconds per connect). `fast=False` keeps python-obd from appending frame counts, which
    some clone adapters mishandle. An ELM327 answers in tens of milliseconds; a reply taking
    `reply_timeout_s` or more means the adapter hangs: the tick is dropped and the adapter
    reconnects (python-obd alone would wait 10 s per read, retried for over a minute).
    `silent_ticks` consecutive ticks with no reading at all
    make the adapter re-probe the car (ignition off or adapter gone)."""

    port: str
    baudrate: int | None = None
    protocol: str | None = None
    fast: bool = False
    pids: tuple[str, ...] = DEFAULT_PIDS
    sample_rate_hz: float = 1.0
    reconnect_initial_s: float = 1.5
    reconnect_max_s: float = 30.0
    silent_ticks: int = 5
    reply_timeout_s: float = 1.0
    check_voltage: bool = True
    obd_log_level: str = "CRITICAL"

    def __post_init__(self) -> None:
        unknown = [p for p in self.pids if p not in PID_FIELDS]
        if unknown:
            raise AdapterConfigError(f"unknown PIDs {unknown}; known: {', '.join(PID_FIELDS)}")
        if not 0.1 <= self.sample_rate_hz <= 10:
            raise AdapterConfigError(f"sample_rate_hz must be 0.1 to 10, got {self.sample_rate_hz}")
        if self.reply_timeout_s <= 0:
            raise AdapterConfigError(f"reply_timeout_s must be > 0, got {self.reply_timeout_s}")
        if self.reconnect_initial_s <= 0 or self.reconnect_max_s < self.reconnect_initial_s:
            raise AdapterConfigError("need 0 < reconnect_initial_s <= reconnect_max_s")

    @classmethod
    def from_options(cls, options: Mapping[str, Any]) -> "ObdConfig":
        """From an agent.toml table; `pids` may be a list. Unknown keys are an error."""
        opts = dict(options)
        if "pids" in opts:
            opts["pids"] = tuple(str(p).upper() for p in opts["pids"])
        if "protocol" in opts and opts["protocol"] is not None:
            opts["protocol"] = str(opts["protocol"])
        try:
            return cls(**opts)
        except TypeError as exc:
            raise AdapterConfigError(f"obd adapter options: {exc}") from exc


def decode_vin(data: bytes) -> str | None:
    """The VIN from the raw mode 09 PID 02 reply bytes (service and PID bytes included or not).
    Non-printable bytes (the message count, padding) are dropped; the last 17 characters must
    be a valid VIN, else None."""
    body = data[2:] if data[:2] == b"\x49\x02" else data
    text = "".join(chr(b) for b in body if 0x30 <= b <= 0x5A)
    vin = text[-17:]
    return vin if _VIN_RE.fullmatch(vin) else None


def _tame_obd_logging(level: str) -> None:
    """Drop python-obd's own stderr handler; its records go through the root handlers. Pint,
    which python-obd loads, warns about python-obd redefining `percent` on every import."""
    logging.getLogger("pint.util").setLevel(logging.ERROR)
    import obd  # noqa: F401  (installs the handler removed below)

    obd_logger = logging.getLogger("obd")
    for handler in list(obd_logger.handlers):
        if isinstance(handler, logging.StreamHandler):
            obd_logger.removeHandler(handler)
    obd_logger.setLevel(level.upper())
    obd_logger.propagate = True


class ObdAdapter(Adapter):
    """OBD-II PIDs each tick from an ELM327; VIN and trouble codes on request (Signals)."""

    kind = "obd"

    def __init__(self, config: ObdConfig, name: str = "obd") -> None:
        super().__init__(name)
        self._config = config
        self._lock = threading.Lock()
        self._conn: Any = None  # obd.OBD while connected
        self._supported: set[str] = set()
        self._state = AdapterState.STARTING
        self._samples = 0
        self._faults = 0
        self._noise_logged = False
        self._silent = 0
        self._raw_commands: dict[str, Any] = {}
        self._vin: str | None = None
        self._info: dict[str, str] = {"port": config.port}

    @classmethod
    def from_options(cls, name: str, options: Mapping[str, Any]) -> "ObdAdapter":
        return cls(ObdConfig.from_options(options), name=name)

    @property
    def vin(self) -> str | None:
        """The VIN read at the last connect (None until connected, or if the car has none)."""
        return self._vin

    # --- Data ------------------------------------------------------------------------------
    def data(self) -> Iterator[Sample]:
        try:
            while not self._stop.is_set():
                if self._conn is None and not self._connect_with_backoff():
                    return
                started = time.monotonic()
                sample = self._tick()
                if sample is not None:
                    self._samples += 1
                    yield sample
                period = 1.0 / self._config.sample_rate_hz
                self._stop.wait(max(0.0, period - (time.monotonic() - started)))
        finally:
            self._disconnect()
            self._set_state(AdapterState.CLOSED)

    def _tick(self) -> Sample | None:
        """One reading of every configured PID; None if the car said nothing usable."""
        values: dict[str, Any] = {}  # Sample fields by name
        start_ns = time.time_ns()
        with self._lock:
            conn = self._conn
            if conn is None:
                return None
            hung = False
            for name in self._config.pids:
                if name not in self._supported:
                    continue
                asked = time.monotonic()
                value = self._read_pid(conn, name)
                if time.monotonic() - asked >= self._config.reply_timeout_s:
                    hung = True  # each further PID would cost as long; the tick's timing is lost too
                    break
                if value is not None:
                    values[PID_FIELDS[name][0]] = value
            lost = conn.status() != _status().CAR_CONNECTED
        end_ns = time.time_ns()
        if hung:
            self._fault("obd_adapter_hung", reply_timeout_s=str(self._config.reply_timeout_s))
        if lost or hung:
            self._drop_connection("adapter_hung" if hung else "adapter_lost")
            return None
        if not values:
            self._silent += 1
            if self._silent >= self._config.silent_ticks:
                self._drop_connection("car_silent")
            return None
        self._silent = 0
        self._set_state(AdapterState.OK)
        return Sample((start_ns + end_ns) // 2)._replace(**values)

    def _read_pid(self, conn: Any, name: str) -> float | None:
        """The PID's value in its field's unit, or None (no reply, or a reply that is not one)."""
        import obd

        cmd = obd.commands[name]
        raw = self._raw_commands.get(name)
        if raw is None:  # the same request with no length fix-up and no decoding
            raw = obd.OBDCommand(cmd.name, cmd.desc, cmd.command, 0, list, cmd.ecu, cmd.fast, cmd.header)
            self._raw_commands[name] = raw
        try:
            messages = conn.query(raw, force=True).value or []
        except Exception as exc:  # a driver bug on a noisy line must not end the agent
            self._fault("query_failed", pid=name, error=repr(exc))
            return None
        good = [
            m for m in messages
            if len(m.data) >= cmd.bytes and m.data[0] == 0x40 | cmd.mode and m.data[1] == cmd.pid
        ]  # fmt: skip
        if not good:
            if messages:
                self._noise(name, bytes(messages[0].data))
            return None
        quantity = cmd(good[:1]).value
        if quantity is None:
            return None
        value = float(quantity.to(PID_FIELDS[name][1]).magnitude)
        if not math.isfinite(value):
            self._noise(name, bytes(good[0].data))
            return None
        return value

    # --- connection --------------------------------------------------------------------------
    def _connect_with_backoff(self) -> bool:
        """Connect, retrying with backoff until connected (True) or closed (False)."""
        delay = self._config.reconnect_initial_s
        while not self._stop.is_set():
            if self._connect_once():
                return True
            jittered = delay * random.uniform(0.8, 1.2)
            if self._stop.wait(jittered):
                return False
            delay = min(self._config.reconnect_max_s, delay * 2)
        return False

    def _connect_once(self) -> bool:
        _tame_obd_logging(self._config.obd_log_level)
        register_serial_handlers()
        import obd

        OBDStatus = _status()
        if self._state in (AdapterState.STARTING, AdapterState.CLOSED):
            self._set_state(AdapterState.CONNECTING)
        baudrate = self._config.baudrate
        if baudrate is None and self._config.port.startswith("socket://"):
            baudrate = 38400  # no serial line: skip python-obd's baud-rate probing
        try:
            conn = obd.OBD(
                self._config.port, baudrate=baudrate, protocol=self._config.protocol,
                fast=self._config.fast, check_voltage=self._config.check_voltage,
            )  # fmt: skip
        except Exception as exc:  # pyserial/python-obd raise many kinds on a bad port
            self._fault("connect_failed", error=repr(exc))
            self._set_state(AdapterState.RECONNECTING)
            return False
        status = conn.status()
        if status != OBDStatus.CAR_CONNECTED:
            ignition_off = status in (OBDStatus.OBD_CONNECTED, OBDStatus.ELM_CONNECTED)
            conn.close()
            if not ignition_off:
                self._faults += 1  # the adapter did not answer (logged by the state change)
            self._set_state(AdapterState.IGNITION_OFF if ignition_off else AdapterState.RECONNECTING)
            return False
        _set_read_timeout(conn, self._config.reply_timeout_s)
        supported = {c.name for c in conn.supported_commands}
        missing = [p for p in self._config.pids if p not in supported]
        vin = self._read_vin(conn)
        with self._lock:
            self._conn, self._supported, self._silent, self._vin = conn, supported, 0, vin
            self._noise_logged = False
            self._info = {"port": self._config.port, "protocol": str(conn.protocol_name())}
            if vin:
                self._info["vin"] = vin
            if missing:
                self._info["unsupported_pids"] = ",".join(missing)
        _log.info("obd_connected", adapter=self.name, port=self._config.port, vin=vin, unsupported=missing)
        self._set_state(AdapterState.OK)
        return True

    def _read_vin(self, conn: Any) -> str | None:
        import obd

        cmd = obd.OBDCommand("VIN_RAW", "VIN, raw bytes", b"0902", 0, list, obd.ECU.ENGINE, False)
        try:
            messages = conn.query(cmd, force=True).value or []
        except Exception as exc:  # as in _read_pid
            self._fault("vin_failed", error=repr(exc))
            return None
        for m in messages:
            vin = decode_vin(bytes(m.data))
            if vin:
                return vin
        return None

    def _drop_connection(self, why: str) -> None:
        self._disconnect()
        self._set_state(AdapterState.RECONNECTING, why=why)

    def _disconnect(self) -> None:
        with self._lock:
            conn, self._conn = self._conn, None
        if conn is not None:
            try:
                conn.close()
            except Exception as exc:  # closing a dead port may raise; the port is gone either way
                _log.debug("obd_close_failed", adapter=self.name, error=repr(exc))

    # --- Signals ----------------------------------------------------------------------------
    def status(self) -> AdapterStatus:
        with self._lock:
            info = dict(self._info)
        return AdapterStatus(
            name=self.name, kind=self.kind, state=self._state, samples=self._samples,
            faults=self._faults, sample_rate_hz=self._config.sample_rate_hz, pids=self._config.pids,
            info=info,
        )  # fmt: skip

    def configure(self, config: Configure) -> AdapterStatus:
        """Take the sample rate, and the PIDs this adapter knows (others are listed in
        `info["ignored_pids"]`); an empty PID list keeps the current one."""
        known = tuple(p for p in config.pids if p in PID_FIELDS)
        ignored = [p for p in config.pids if p not in PID_FIELDS]
        with self._lock:
            self._config = replace(
                self._config, sample_rate_hz=float(config.sample_rate_hz), pids=known or self._config.pids
            )
            if ignored:
                self._info["ignored_pids"] = ",".join(ignored)
            else:
                self._info.pop("ignored_pids", None)
        return self.status()

    def read_dtcs(self) -> DtcReport:
        """Stored trouble codes (mode 03)."""
        import obd

        with self._lock:
            if self._conn is None:
                return DtcReport(ok=False, detail=f"not connected ({self._state})")
            return self._query_dtcs(self._conn, obd)

    def clear_dtcs(self) -> DtcReport:
        """Clear codes and MIL (mode 04), then read back what is still stored."""
        import obd

        with self._lock:
            conn = self._conn
            if conn is None:
                return DtcReport(ok=False, detail=f"not connected ({self._state})")
            try:
                messages = conn.query(obd.commands.CLEAR_DTC).messages
            except Exception as exc:  # as in _read_pid
                self._fault("clear_dtc_failed", error=repr(exc))
                return DtcReport(ok=False, detail="clear failed")
            cleared = any(m.data[:1] == b"\x44" for m in messages)
            after = self._query_dtcs(conn, obd)
        _log.info("obd_dtcs_cleared", adapter=self.name, cleared=cleared, remaining=len(after.codes))
        return replace(after, cleared=cleared and after.ok and not after.codes)

    def _query_dtcs(self, conn: Any, obd: Any) -> DtcReport:
        try:
            response = conn.query(obd.commands.GET_DTC)
        except Exception as exc:  # as in _read_pid
            self._fault("read_dtc_failed", error=repr(exc))
            return DtcReport(ok=False, detail="read failed")
        if response.is_null() or not any(m.data[:1] == b"\x43" for m in response.messages):
            return DtcReport(ok=False, detail="no answer from the ECU")
        return DtcReport(ok=True, codes=tuple(Dtc(code, desc) for code, desc in response.value))

    # --- bookkeeping ------------------------------------------------------------------------
    def _set_state(self, state: AdapterState, **why: str) -> None:
        if state != self._state:
            _log.info("adapter_state", adapter=self.name, kind=self.kind, state=str(state), **why)
            self._state = state

    def _fault(self, event: str, **details: str) -> None:
        self._faults += 1
        _log.warning(event, adapter=self.name, **details)

    def _noise(self, pid: str, data: bytes) -> None:
        """A reply that is not the PID's: counted; logged once per connection."""
        self._faults += 1
        if not self._noise_logged:
            self._noise_logged = True
            _log.warning("obd_line_noise", adapter=self.name, pid=pid, data=data.hex())


def _set_read_timeout(conn: Any, seconds: float) -> None:
    """python-obd opens the port with a fixed 10 s read timeout and offers no setter; the port
    sits in its ELM327 object (python-obd 0.7.3, pinned). Without it a hung adapter costs 10 s
    per PID before it is noticed, which is all that changes."""
    port = getattr(conn.interface, "_ELM327__port", None)
    if port is not None:
        port.timeout = seconds


def _status() -> Any:
    from obd import OBDStatus

    return OBDStatus
