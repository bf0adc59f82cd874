"""Two-way Signals between the server and a device.

The server answers every accepted upload with an `Ack` (the highest seq it has stored for the
device), optionally carrying a pending `Configure` and/or a `StatusQuery`. The device applies a
Configure and acknowledges it by putting a `StatusReport` with that `config_id` in its next
batch (signed with the batch); it answers a StatusQuery the same way. On the wire each signal is
a canonical JSON object with a `"type"` member.
"""

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from protocol._canonical import canonical_json, parse_json
from protocol._errors import MalformedError, OversizeError

__all__ = [
    "MAX_PIDS",
    "Ack",
    "Configure",
    "Signal",
    "StatusQuery",
    "StatusReport",
    "decode_signal",
    "encode_signal",
    "signal_from_json",
    "signal_to_json",
]

MAX_PIDS = 64
_PID_RE = re.compile(r"[A-Z0-9_]{1,32}")
_NAME_RE = re.compile(r"[A-Za-z0-9_.:-]{1,64}")
_MAX_ADAPTERS = 32
_MAX_SIGNAL_BYTES = 16 * 1024


def _int(d: Mapping[str, Any], key: str, lo: int, hi: int, *, optional: bool = False) -> Any:
    v = d.get(key)
    if v is None and optional:
        return None
    if type(v) is not int or not lo <= v <= hi:
        raise MalformedError(f"{key} must be an integer in {lo}..{hi}, got {v!r}")
    return v


@dataclass(frozen=True, slots=True)
class Configure:
    """New settings for a device. `config_id` names this configuration so the device can say it
    applied it. `pids` are OBD-II command names (python-obd's, e.g. `SPEED`, `RPM`)."""

    config_id: int
    sample_rate_hz: int = 1
    pids: tuple[str, ...] = ()
    upload_interval_s: int = 30

    def __post_init__(self) -> None:
        d = self._json()
        _int(d, "config_id", 0, 2**63 - 1)
        _int(d, "sample_rate_hz", 1, 10)
        _int(d, "upload_interval_s", 1, 86_400)
        if len(self.pids) > MAX_PIDS or not all(isinstance(p, str) and _PID_RE.fullmatch(p) for p in self.pids):
            raise MalformedError(f"pids must be at most {MAX_PIDS} names of [A-Z0-9_]{{1,32}}")

    def _json(self) -> dict[str, Any]:
        return {
            "type": "configure",
            "config_id": self.config_id,
            "sample_rate_hz": self.sample_rate_hz,
            "pids": list(self.pids),
            "upload_interval_s": self.upload_interval_s,
        }


@dataclass(frozen=True, slots=True)
class StatusQuery:
    """The server asks the device for a `StatusReport` in its next batch."""

    def _json(self) -> dict[str, Any]:
        return {"type": "status_query"}


@dataclass(frozen=True, slots=True)
class StatusReport:
    """The device's state: the configuration it runs, its buffer and its adapters' health
    (adapter name → short state word such as `ok`, `reconnecting`, `no_fix`)."""

    config_id: int | None
    sample_rate_hz: int
    buffered_samples: int
    dropped_samples: int
    last_ack_seq: int | None
    adapters: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        d = self._json()
        _int(d, "config_id", 0, 2**63 - 1, optional=True)
        _int(d, "sample_rate_hz", 1, 10)
        _int(d, "buffered_samples", 0, 2**63 - 1)
        _int(d, "dropped_samples", 0, 2**63 - 1)
        _int(d, "last_ack_seq", 0, 2**63 - 1, optional=True)
        if not isinstance(self.adapters, Mapping) or len(self.adapters) > _MAX_ADAPTERS:
            raise MalformedError(f"adapters must map at most {_MAX_ADAPTERS} names to states")
        for name, state in self.adapters.items():
            if not (isinstance(name, str) and isinstance(state, str)):
                raise MalformedError("adapter names and states must be strings")
            if not (_NAME_RE.fullmatch(name) and _NAME_RE.fullmatch(state)):
                raise MalformedError(f"adapter name/state {name!r}: {state!r} not of [A-Za-z0-9_.:-]{{1,64}}")

    def _json(self) -> dict[str, Any]:
        return {
            "type": "status_report",
            "config_id": self.config_id,
            "sample_rate_hz": self.sample_rate_hz,
            "buffered_samples": self.buffered_samples,
            "dropped_samples": self.dropped_samples,
            "last_ack_seq": self.last_ack_seq,
            "adapters": dict(self.adapters),
        }


@dataclass(frozen=True, slots=True)
class Ack:
    """The server's answer to an upload: `seq` is the highest seq stored for the device (every
    batch up to it may be deleted), with an optional pending `Configure` and `StatusQuery`."""

    seq: int
    configure: Configure | None = None
    query: StatusQuery | None = None

    def __post_init__(self) -> None:
        _int({"seq": self.seq}, "seq", 0, 2**63 - 1)

    def _json(self) -> dict[str, Any]:
        d: dict[str, Any] = {"type": "ack", "seq": self.seq}
        if self.configure is not None:
            d["configure"] = self.configure._json()
        if self.query is not None:
            d["query"] = self.query._json()
        return d


type Signal = Configure | StatusQuery | StatusReport | Ack


def signal_to_json(signal: Signal) -> dict[str, Any]:
    """The signal as a JSON object (for embedding in a larger message)."""
    return signal._json()


def encode_signal(signal: Signal) -> bytes:
    """The signal's canonical JSON bytes."""
    return canonical_json(signal._json())


def _expect(obj: Any, kind: str) -> Mapping[str, Any]:
    if not isinstance(obj, dict):
        raise MalformedError(f"{kind} must be a JSON object")
    if obj.get("type") != kind:
        raise MalformedError(f"expected a {kind!r} signal, got type {obj.get('type')!r}")
    return obj


def _configure(d: Mapping[str, Any]) -> Configure:
    pids = d.get("pids", [])
    if not isinstance(pids, list):
        raise MalformedError("pids must be a list")
    return Configure(
        config_id=_int(d, "config_id", 0, 2**63 - 1),
        sample_rate_hz=_int(d, "sample_rate_hz", 1, 10),
        pids=tuple(pids),
        upload_interval_s=_int(d, "upload_interval_s", 1, 86_400),
    )


def _report(d: Mapping[str, Any]) -> StatusReport:
    adapters = d.get("adapters", {})
    if not isinstance(adapters, dict):
        raise MalformedError("adapters must be an object")
    return StatusReport(
        config_id=d.get("config_id"),
        sample_rate_hz=d.get("sample_rate_hz"),  # type: ignore[arg-type]  # checked in __post_init__
        buffered_samples=d.get("buffered_samples"),  # type: ignore[arg-type]
        dropped_samples=d.get("dropped_samples"),  # type: ignore[arg-type]
        last_ack_seq=d.get("last_ack_seq"),
        adapters=adapters,
    )


def _query(d: Mapping[str, Any]) -> StatusQuery:
    if len(d) != 1:
        raise MalformedError("status_query has no members besides type")
    return StatusQuery()


def signal_from_json(obj: Any) -> Signal:
    """Parse a signal from an already-decoded JSON object; raises `MalformedError`."""
    kind = obj.get("type") if isinstance(obj, dict) else None
    match kind:
        case "configure":
            return _configure(_expect(obj, kind))
        case "status_query":
            return _query(_expect(obj, kind))
        case "status_report":
            return _report(_expect(obj, kind))
        case "ack":
            d = _expect(obj, kind)
            cfg, query = d.get("configure"), d.get("query")
            return Ack(
                seq=_int(d, "seq", 0, 2**63 - 1),
                configure=None if cfg is None else _configure(_expect(cfg, "configure")),
                query=None if query is None else _query(_expect(query, "status_query")),
            )
        case _:
            raise MalformedError(f"unknown signal type {kind!r}")


def decode_signal(data: bytes | str) -> Signal:
    """Parse a signal from JSON bytes; raises `MalformedError` (or `OversizeError` over 16 KiB)."""
    if len(data) > _MAX_SIGNAL_BYTES:
        raise OversizeError(f"signal larger than {_MAX_SIGNAL_BYTES} bytes")
    return signal_from_json(parse_json(data))
