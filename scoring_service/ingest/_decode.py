"""The server's decoder of wire-format v1 batches: the protocol's rules, columnar and fast.

`protocol.decode_signed_batch` builds one `Sample` object per reading and re-encodes the batch
with the standard library; at 10 Hz from many cars that is most of the CPU of ingestion. This
decoder accepts exactly the same bodies (a differential test holds it to that) but keeps the
samples as integer columns, ready for a bulk insert, and parses and re-encodes with orjson,
whose sorted compact output is byte-identical to `protocol.canonical_json` for every value a
batch may hold (integers within 64 bits, null, and the ASCII strings the checks let through).
"""

import hashlib
import re
from dataclasses import dataclass
from itertools import accumulate
from typing import Any

import orjson

from protocol import (
    FIELDS,
    MAX_BATCH_SAMPLES,
    MAX_WIRE_INT,
    WIRE_VERSION,
    EncodeError,
    MalformedError,
    OversizeError,
    StatusReport,
    UnsupportedVersionError,
    canonical_json,
    parse_json,
    signal_from_json,
)

__all__ = ["COLUMNS", "DecodedBatch", "decode_batch"]

#: Wire columns in storage order: `time_ns`, then every optional `Sample` field.
COLUMNS: tuple[str, ...] = ("time_ns", *FIELDS)

_AGENT_RE = re.compile(r"[A-Za-z0-9.+_-]{1,32}")
_BATCH_KEYS = frozenset({"v", "device", "pub", "seq", "agent", "n", "cols", "report"})
_REQUIRED_KEYS = _BATCH_KEYS - {"report"}
_KNOWN_COLUMNS = frozenset(COLUMNS)
_MAX_I64 = 2**63 - 1
_INT_ONLY = frozenset({int})
_INT_OR_NULL = frozenset({int, type(None)})


@dataclass(frozen=True, slots=True)
class DecodedBatch:
    """A batch as received, signature not yet checked. `columns` maps each column the batch
    carries to its absolute fixed-point integers (`None` = absent); `canonical` is what was signed."""

    device_id: str
    seq: int
    public_key: bytes
    signature: bytes
    canonical: bytes
    n: int
    columns: dict[str, list[int | None]]
    report: StatusReport | None
    #: the report as sent: members a newer agent adds, which `StatusReport` does not know, survive here
    report_json: dict[str, Any] | None
    agent: str
    last_time_ns: int  # times strictly increase, so this is the latest sample

    @property
    def digest(self) -> bytes:
        """SHA-256 of the signed bytes: the batch's content id (the signature is not part of it)."""
        return hashlib.sha256(self.canonical).digest()


def _hex(obj: dict[str, Any], key: str, size: int) -> bytes:
    v = obj.get(key)
    if not isinstance(v, str) or len(v) != 2 * size:
        raise MalformedError(f"{key} must be {2 * size} hex digits")
    try:
        return bytes.fromhex(v)
    except ValueError as exc:
        raise MalformedError(f"{key} must be {2 * size} hex digits") from exc


def _column(name: str, column: Any, n: int, limit: int) -> list[int | None]:
    """Undo the delta encoding of one column, refusing anything but in-range integers and null."""
    if type(column) is not list or len(column) != n:
        raise MalformedError(f"cols.{name} must be a list of {n} values")
    kinds = set(map(type, column))
    if kinds <= _INT_ONLY:
        values: list[int | None] = list(accumulate(column))
        present: list[int] = values  # type: ignore[assignment]  # no nulls in this branch
    elif kinds <= _INT_OR_NULL:
        values = []
        acc = 0
        for v in column:
            if v is None:
                values.append(None)
            else:
                acc += v
                values.append(acc)
        present = [v for v in values if v is not None]
    else:
        bad = next(v for v in column if type(v) is not int and v is not None)
        raise MalformedError(f"cols.{name} may hold only integers and null, not {type(bad).__name__} {bad!r}")
    if present and (max(present) > limit or min(present) < -limit):
        raise MalformedError(f"cols.{name} has a value out of range")
    return values


def _columns(cols: Any, n: int) -> tuple[dict[str, list[int | None]], int]:
    if type(cols) is not dict or "time_ns" not in cols:
        raise MalformedError("cols must be an object with a time_ns column")
    unknown = cols.keys() - _KNOWN_COLUMNS
    if unknown:
        raise MalformedError(f"unknown columns: {sorted(unknown)}")
    raw_times = cols["time_ns"]
    times = _column("time_ns", raw_times, n, _MAX_I64)
    first, last = times[0], times[-1]
    if first is None or last is None or None in times or first < 0 or (n > 1 and min(raw_times[1:]) <= 0):
        raise MalformedError("time_ns must be present in every sample, non-negative, strictly increasing")
    out = {"time_ns": times}
    for name in FIELDS:
        if name in cols:
            out[name] = _column(name, cols[name], n, MAX_WIRE_INT)
    return out, last


def decode_batch(body: bytes) -> DecodedBatch:
    """Decode an uncompressed body; raises what `protocol.decode_signed_batch` raises for it
    (`MalformedError`, `OversizeError`, `UnsupportedVersionError`), without checking the signature."""
    try:
        envelope = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        parse_json(body)  # the protocol's parser says what is wrong more precisely (NaN, floats)
        raise MalformedError(f"not valid JSON: {exc}") from exc
    if type(envelope) is not dict or envelope.keys() != {"batch", "sig"}:
        raise MalformedError('body must be an object {"batch": …, "sig": …}')
    obj = envelope["batch"]
    if type(obj) is not dict:
        raise MalformedError("batch must be an object")
    version = obj.get("v")
    if type(version) is float:
        raise MalformedError(f"floats are not allowed on the wire (got v={version!r})")
    if type(version) is not int or version != WIRE_VERSION:
        raise UnsupportedVersionError(f"wire version {version!r} is not supported (this is {WIRE_VERSION})")
    if not obj.keys() <= _BATCH_KEYS or not obj.keys() >= _REQUIRED_KEYS:
        raise MalformedError(f"batch members must be {sorted(_BATCH_KEYS)} (report optional)")
    signature = _hex(envelope, "sig", 64)
    public_key = _hex(obj, "pub", 33)
    n, seq, device, agent = obj["n"], obj["seq"], obj["device"], obj["agent"]
    if type(n) is not int or n < 1:
        raise MalformedError(f"n must be a positive integer, got {n!r}")
    if n > MAX_BATCH_SAMPLES:
        raise OversizeError(f"a batch holds at most {MAX_BATCH_SAMPLES} samples, not {n}")
    if type(seq) is not int or not 0 <= seq <= _MAX_I64:
        raise MalformedError(f"seq must be a non-negative 64-bit integer, got {seq!r}")
    if type(device) is not str or len(device) != 34:
        raise MalformedError("device must be a 34-character NEO address")
    if type(agent) is not str or not _AGENT_RE.fullmatch(agent):
        raise MalformedError("agent must match [A-Za-z0-9.+_-]{1,32}")
    report = None
    report_json = None
    if "report" in obj:
        try:
            canonical_json(obj["report"])  # refuses floats anywhere in it, as the protocol's parser does
        except EncodeError as exc:
            raise MalformedError(f"report: {exc}") from exc
        signal = signal_from_json(obj["report"])
        if not isinstance(signal, StatusReport):
            raise MalformedError("report must be a status_report signal")
        report, report_json = signal, obj["report"]
    columns, last_time_ns = _columns(obj["cols"], n)
    try:
        canonical = orjson.dumps(obj, option=orjson.OPT_SORT_KEYS)
    except orjson.JSONEncodeError as exc:
        raise MalformedError(f"batch has no canonical encoding: {exc}") from exc
    return DecodedBatch(
        device, seq, public_key, signature, canonical, n, columns, report, report_json, agent, last_time_ns
    )
