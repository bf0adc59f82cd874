"""GPS fixes from gpsd (`gpsdclient`) or straight from an NMEA 0183 serial stream (`pynmea2`).

A fix becomes a `Sample` stamped with the GPS's own UTC time, not the agent's clock. Receivers
repeat a fix across several reports and sentences, so fixes are de-duplicated by that time:
one sample per fix time, and a fix not newer than the last one is dropped. Without a fix
(gpsd mode < 2, RMC status `V`, GGA quality 0) there is no sample and the state is `no_fix`.
Speeds become km/h (gpsd m/s * 3.6; NMEA knots * 1.852); HDOP and satellites come from gpsd's
SKY report or the GGA sentence of the same fix.
"""

import contextlib
import datetime as dt
import math
import random
import socket
import threading
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import structlog

from protocol import Sample, ns_from_datetime
from vehicle_agent.adapters._base import Adapter, AdapterConfigError, AdapterState, AdapterStatus

__all__ = ["GpsdAdapter", "GpsdConfig", "NmeaAdapter", "NmeaConfig", "NmeaFixAssembler", "fix_from_tpv"]

_log = structlog.get_logger(__name__)
_KNOT_KMH = 1.852


def _options[T](cls: type[T], kind: str, options: Mapping[str, Any]) -> T:
    try:
        return cls(**dict(options))
    except TypeError as exc:
        raise AdapterConfigError(f"{kind} adapter options: {exc}") from exc


def _finite(value: Any) -> float | None:
    """A float reading, or None for missing, non-numeric, NaN or infinite values."""
    try:
        f = float(value)
    except (TypeError, ValueError):
        return None
    return f if math.isfinite(f) else None


class _GpsAdapter(Adapter):
    """Shared bookkeeping of both GPS sources: state, counters, de-duplication, backoff."""

    def __init__(self, name: str, reconnect_initial_s: float, reconnect_max_s: float) -> None:
        super().__init__(name)
        self._state = AdapterState.STARTING
        self._samples = 0
        self._faults = 0
        self._dropped_logged = False
        self._last_ns: int | None = None
        self._backoff = (reconnect_initial_s, reconnect_max_s)
        self._info: dict[str, str] = {}

    def status(self) -> AdapterStatus:
        return AdapterStatus(
            name=self.name, kind=self.kind, state=self._state, samples=self._samples,
            faults=self._faults, info=dict(self._info),
        )  # fmt: skip

    def _set_state(self, state: AdapterState, **why: str) -> None:
        if state != self._state:
            _log.info("adapter_state", adapter=self.name, kind=self.kind, state=str(state), **why)
            self._state = state

    def _fault(self, event: str, **details: str) -> None:
        self._faults += 1
        _log.warning(event, adapter=self.name, **details)

    def _accept(self, sample: Sample | None) -> Sample | None:
        """The sample if it is a new fix; None for no fix or a repeated/older fix time."""
        if sample is None:
            self._set_state(AdapterState.NO_FIX)
            return None
        if self._last_ns is not None and sample.time_ns <= self._last_ns:
            if not self._dropped_logged:
                self._dropped_logged = True
                _log.info("gps_fix_not_newer_dropped", adapter=self.name, time_ns=sample.time_ns)
            return None
        self._last_ns = sample.time_ns
        self._samples += 1
        self._set_state(AdapterState.OK)
        return sample

    def _retry_delays(self) -> Iterator[float]:
        delay, cap = self._backoff
        while True:
            yield delay * random.uniform(0.8, 1.2)
            delay = min(cap, delay * 2)


# --- gpsd -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class GpsdConfig:
    """gpsd's address. `timeout_s` without any report means gpsd or its receiver went quiet:
    the connection is reopened (with backoff)."""

    host: str = "127.0.0.1"
    port: int = 2947
    timeout_s: float = 5.0
    reconnect_initial_s: float = 1.0
    reconnect_max_s: float = 30.0


def fix_from_tpv(tpv: Mapping[str, Any], sky: Mapping[str, Any] | None = None) -> Sample | None:
    """A sample from a gpsd TPV report (and the latest SKY report), or None without a 2D/3D fix
    or without a time."""
    if not isinstance(tpv.get("mode"), int) or tpv["mode"] < 2:
        return None
    lat, lon, when = _finite(tpv.get("lat")), _finite(tpv.get("lon")), tpv.get("time")
    if lat is None or lon is None or not isinstance(when, str):
        return None
    try:
        t = dt.datetime.fromisoformat(when)
    except ValueError:
        return None
    if t.tzinfo is None:
        t = t.replace(tzinfo=dt.UTC)
    speed_ms = _finite(tpv.get("speed"))
    hdop = satellites = None
    if sky is not None:
        hdop = _finite(sky.get("hdop"))
        used = sky.get("uSat")
        if not isinstance(used, int):
            sats = sky.get("satellites")
            used = sum(1 for s in sats if isinstance(s, dict) and s.get("used")) if isinstance(sats, list) else None
        satellites = used
    return Sample(
        time_ns=ns_from_datetime(t), lat=lat, lon=lon,
        gps_speed_kmh=None if speed_ms is None else speed_ms * 3.6,
        heading_deg=_finite(tpv.get("track")), hdop=hdop, satellites=satellites,
    )  # fmt: skip


class GpsdAdapter(_GpsAdapter):
    """Fixes from a gpsd daemon (TPV + SKY reports over its JSON socket)."""

    kind = "gpsd"

    def __init__(self, config: GpsdConfig, name: str = "gps") -> None:
        super().__init__(name, config.reconnect_initial_s, config.reconnect_max_s)
        self._config = config
        self._sock_lock = threading.Lock()
        self._client: Any = None
        self._info = {"gpsd": f"{config.host}:{config.port}"}

    @classmethod
    def from_options(cls, name: str, options: Mapping[str, Any]) -> "GpsdAdapter":
        return cls(_options(GpsdConfig, "gpsd", options), name=name)

    def data(self) -> Iterator[Sample]:
        from gpsdclient.client import GPSDClient

        delays = self._retry_delays()
        try:
            while not self._stop.is_set():
                client: Any = GPSDClient(self._config.host, self._config.port, timeout=self._config.timeout_s)
                with self._sock_lock:
                    self._client = client
                sky: dict[str, Any] | None = None
                try:
                    for report in client.dict_stream(convert_datetime=False, filter=["TPV", "SKY"]):
                        if self._stop.is_set():
                            return
                        if report.get("class") == "SKY":
                            sky = report
                            continue
                        sample = self._accept(fix_from_tpv(report, sky))
                        if sample is not None:
                            delays = self._retry_delays()
                            yield sample
                    why = "gpsd closed the connection"
                except (OSError, ValueError) as exc:  # refused, reset, timeout, bad JSON/header
                    why = repr(exc)
                finally:
                    client.close()
                if self._stop.is_set():
                    return
                self._faults += 1
                self._set_state(AdapterState.RECONNECTING, why=why)
                if self._stop.wait(next(delays)):
                    return
        finally:
            self._set_state(AdapterState.CLOSED)

    def close(self) -> None:
        super().close()
        with self._sock_lock:
            sock = self._client.sock if self._client is not None else None
        if sock is not None:
            # Wakes the blocked read; an OSError means the reader already closed it.
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)


# --- raw NMEA ---------------------------------------------------------------------------------


class NmeaFixAssembler:
    """Turns NMEA sentences into one sample per fix time.

    RMC gives date, position, speed, course and validity; GGA of the same time gives HDOP and
    satellites. A fix is complete once both arrived, or when sentences of a later time start
    (a receiver that sends no GGA). Sentences older than the fix being built are dropped."""

    def __init__(self) -> None:
        self._date: dt.date | None = None
        self._time: dt.time | None = None
        self._rmc: Any = None
        self._gga: Any = None

    def feed(self, msg: Any) -> list[Sample | None]:
        """Samples completed by this sentence; None entries stand for completed no-fix times."""
        kind = getattr(msg, "sentence_type", "")
        if kind not in ("RMC", "GGA") or not isinstance(getattr(msg, "timestamp", None), dt.time):
            return []
        out: list[Sample | None] = []
        t = msg.timestamp.replace(tzinfo=None)
        if self._time is not None and t != self._time:
            if t < self._time and not self._day_rolled(msg):
                return []
            out.append(self._flush())
        self._time = t
        if kind == "RMC":
            self._rmc = msg
            if isinstance(msg.datestamp, dt.date):
                self._date = msg.datestamp
        else:
            self._gga = msg
        if self._rmc is not None and self._gga is not None:
            out.append(self._flush())
        return out

    def flush(self) -> list[Sample | None]:
        """The fix being built, at the end of a stream (as `feed` returns it)."""
        return [self._flush()] if self._time is not None else []

    def _day_rolled(self, msg: Any) -> bool:
        return (
            msg.sentence_type == "RMC"
            and isinstance(msg.datestamp, dt.date)
            and (self._date is None or msg.datestamp > self._date)
        )

    def _flush(self) -> Sample | None:
        rmc, gga, t = self._rmc, self._gga, self._time
        self._rmc = self._gga = self._time = None
        if rmc is None or self._date is None or t is None or rmc.status != "A":
            return None
        if gga is not None and str(gga.gps_qual) in ("0", ""):
            return None
        lat, lon = _finite(rmc.latitude), _finite(rmc.longitude)
        if lat is None or lon is None or (lat == 0.0 and lon == 0.0):
            return None
        knots = _finite(rmc.spd_over_grnd)
        when = dt.datetime.combine(self._date, t, tzinfo=dt.UTC)
        sats = gga.num_sats if gga is not None else None
        return Sample(
            time_ns=ns_from_datetime(when), lat=lat, lon=lon,
            gps_speed_kmh=None if knots is None else knots * _KNOT_KMH,
            heading_deg=_finite(rmc.true_course),
            hdop=_finite(gga.horizontal_dil) if gga is not None else None,
            satellites=int(sats) if isinstance(sats, str) and sats.isdigit() else None,
        )  # fmt: skip


@dataclass(frozen=True, slots=True)
class NmeaConfig:
    """A serial device (or any pyserial URL, e.g. `socket://host:port`) speaking NMEA 0183."""

    port: str
    baudrate: int = 9600
    read_timeout_s: float = 2.0
    reconnect_initial_s: float = 1.0
    reconnect_max_s: float = 30.0


class NmeaAdapter(_GpsAdapter):
    """Fixes parsed from raw NMEA sentences on a serial line. Line noise (bad checksums, binary
    junk, torn sentences) is counted and logged once per connection, never fatal."""

    kind = "nmea"

    def __init__(self, config: NmeaConfig, name: str = "gps") -> None:
        super().__init__(name, config.reconnect_initial_s, config.reconnect_max_s)
        self._config = config
        self._info = {"port": config.port}

    @classmethod
    def from_options(cls, name: str, options: Mapping[str, Any]) -> "NmeaAdapter":
        return cls(_options(NmeaConfig, "nmea", options), name=name)

    def data(self) -> Iterator[Sample]:
        import serial

        delays = self._retry_delays()
        try:
            while not self._stop.is_set():
                try:
                    port = serial.serial_for_url(
                        self._config.port, baudrate=self._config.baudrate, timeout=self._config.read_timeout_s
                    )
                except (serial.SerialException, OSError, ValueError) as exc:
                    self._faults += 1
                    self._set_state(AdapterState.RECONNECTING, why=repr(exc))
                    if self._stop.wait(next(delays)):
                        return
                    continue
                try:
                    for sample in self.parse_lines(self._lines(port)):
                        delays = self._retry_delays()
                        yield sample
                except (serial.SerialException, OSError) as exc:
                    self._faults += 1
                    self._set_state(AdapterState.RECONNECTING, why=repr(exc))
                    if self._stop.wait(next(delays)):
                        return
                finally:
                    port.close()
        finally:
            self._set_state(AdapterState.CLOSED)

    def _lines(self, port: Any) -> Iterator[bytes]:
        while not self._stop.is_set():
            line = port.readline()
            if line:
                yield line
            else:
                self._set_state(AdapterState.NO_FIX, why="no sentences")

    def parse_lines(self, lines: Iterable[bytes]) -> Iterator[Sample]:
        """Samples from raw NMEA lines (also used to read a recorded NMEA file)."""
        import pynmea2

        assembler = NmeaFixAssembler()
        noise_logged = False
        for raw in lines:
            text = raw.decode("ascii", errors="replace").strip()
            if not text:
                continue
            try:
                msg = pynmea2.parse(text, check=True)
            except pynmea2.ParseError as exc:
                self._faults += 1
                if not noise_logged:
                    noise_logged = True
                    _log.warning("nmea_line_noise", adapter=self.name, line=text[:82], error=str(exc))
                continue
            try:
                fixes = assembler.feed(msg)
            except (ValueError, TypeError) as exc:  # a checksummed sentence with malformed fields
                self._faults += 1
                _log.warning("nmea_bad_fields", adapter=self.name, line=text[:82], error=str(exc))
                continue
            for fix in fixes:
                sample = self._accept(fix)
                if sample is not None:
                    yield sample
        for fix in assembler.flush():
            sample = self._accept(fix)
            if sample is not None:
                yield sample
