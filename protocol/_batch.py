"""Batches of samples: the signed unit a device uploads, and its wire encoding.

Wire format, version 1 (the HTTP body of `POST /v1/ingest/batches`, optionally gzip-compressed
with `Content-Encoding: gzip`)::

    {"batch": <batch object>, "sig": "<128 hex digits: ECDSA r ‖ s>"}

    batch object = {"v": 1, "device": <NEO address>, "pub": <66 hex: compressed public key>,
                    "seq": <int ≥ 0>, "agent": <agent version>, "n": <sample count>,
                    "cols": {<field>: [<int or null> x n], ...},
                    "report": <status_report signal, optional>}

The signature is secp256r1 ECDSA over SHA-256 of `canonical_json(batch object)`; the body as a
whole is canonical JSON too. `cols` is columnar: `time_ns` is required and strictly increasing;
any other `Sample` field appears only if some sample has it. Every value is the fixed-point
integer of `protocol.FIELDS` (`round(value * scale)`), delta-encoded along its column: the
first non-null value is absolute, each later non-null value is the difference from the previous
non-null value; null means absent. Small repeating deltas make 10 Hz data compress to a few
bytes per sample.
"""

import gzip
import hashlib
import re
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import accumulate, pairwise, repeat
from typing import Any

from protocol._canonical import _dumps, canonical_json, parse_json
from protocol._errors import (
    EncodeError,
    KeyFormatError,
    MalformedError,
    OversizeError,
    SignatureError,
    UnsupportedVersionError,
)
from protocol._keys import DeviceKey, neo_address, verify_signature
from protocol._sample import FIELDS, MAX_WIRE_INT, Sample, quantise
from protocol._signals import StatusReport, signal_from_json, signal_to_json

__all__ = [
    "MAX_BATCH_SAMPLES",
    "MAX_BODY_BYTES",
    "WIRE_VERSION",
    "Batch",
    "SignedBatch",
    "decode_signed_batch",
    "gzip_body",
    "sign_batch",
    "verify_batch",
]

WIRE_VERSION = 1
#: Most samples in one batch (over 16 minutes at 10 Hz).
MAX_BATCH_SAMPLES = 10_000
#: Largest body accepted, compressed or not, and largest body after decompression.
MAX_BODY_BYTES = 4 * 1024 * 1024

_AGENT_RE = re.compile(r"[A-Za-z0-9.+_-]{1,32}")
_BATCH_KEYS = frozenset({"v", "device", "pub", "seq", "agent", "n", "cols", "report"})
_MAX_TIME_NS = 2**63 - 1
_NONE_TYPE = type(None)


@dataclass(frozen=True, slots=True)
class Batch:
    """Samples from one device under one sequence number (strictly increasing per device, never
    reused). `device_id` is the NEO address of `public_key`; `report` optionally acknowledges a
    Configure or answers a StatusQuery."""

    device_id: str
    seq: int
    samples: tuple[Sample, ...]
    agent_version: str
    public_key: bytes
    report: StatusReport | None = None

    def to_json(self) -> dict[str, Any]:
        """The batch object of the wire format (the value that is signed)."""
        if not 0 < len(self.samples) <= MAX_BATCH_SAMPLES:
            raise EncodeError(f"a batch holds 1..{MAX_BATCH_SAMPLES} samples, not {len(self.samples)}")
        if type(self.seq) is not int or not 0 <= self.seq <= _MAX_TIME_NS:
            raise EncodeError(f"seq must be a non-negative 64-bit integer, got {self.seq!r}")
        if not _AGENT_RE.fullmatch(self.agent_version):
            raise EncodeError(f"agent version {self.agent_version!r} is not of [A-Za-z0-9.+_-]{{1,32}}")
        times = [s.time_ns for s in self.samples]
        if any(b <= a for a, b in pairwise(times)) or not 0 <= times[0] <= _MAX_TIME_NS:
            raise EncodeError("sample times must be non-negative and strictly increasing")
        cols: dict[str, list[int | None]] = {"time_ns": _delta(times)}
        for name in FIELDS:
            column = [quantise(name, getattr(s, name)) for s in self.samples]
            if any(v is not None for v in column):
                cols[name] = _delta(column)
        obj: dict[str, Any] = {
            "v": WIRE_VERSION,
            "device": self.device_id,
            "pub": self.public_key.hex(),
            "seq": self.seq,
            "agent": self.agent_version,
            "n": len(self.samples),
            "cols": cols,
        }
        if self.report is not None:
            obj["report"] = signal_to_json(self.report)
        return obj


@dataclass(frozen=True, slots=True)
class SignedBatch:
    """A batch with its signature and the exact canonical bytes that were signed."""

    batch: Batch
    signature: bytes
    canonical: bytes

    @property
    def digest(self) -> bytes:
        """SHA-256 of the canonical bytes: what the signature covers; the batch's content id."""
        return hashlib.sha256(self.canonical).digest()

    def to_wire(self) -> bytes:
        """The uncompressed HTTP body (canonical JSON). Re-send these same bytes until acked."""
        return b'{"batch":' + self.canonical + b',"sig":"' + self.signature.hex().encode() + b'"}'


def _delta(column: Sequence[int | None]) -> list[int | None]:
    out: list[int | None] = []
    prev = 0
    for v in column:
        if v is None:
            out.append(None)
        else:
            out.append(v - prev)
            prev = v
    return out


def _undelta(name: str, column: Any, n: int, limit: int) -> list[Any]:
    if not isinstance(column, list) or len(column) != n:
        raise MalformedError(f"cols.{name} must be a list of {n} values")
    kinds = set(map(type, column))
    if not kinds <= {int, _NONE_TYPE}:
        raise MalformedError(f"cols.{name} may hold only integers and null")
    values: list[Any]
    if _NONE_TYPE in kinds:
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
        values = present = list(accumulate(column))
    if present and (max(present) > limit or min(present) < -limit):
        raise MalformedError(f"cols.{name} has a value out of range")
    return values


def sign_batch(batch: Batch, key: DeviceKey) -> SignedBatch:
    """Encode and sign `batch` with the device key; raises `EncodeError` if it cannot be encoded
    or the batch names another device."""
    if batch.public_key != key.public_key or batch.device_id != key.address:
        raise EncodeError("batch device id / public key do not belong to the signing key")
    canonical = canonical_json(batch.to_json())
    return SignedBatch(batch, key.sign(canonical), canonical)


def verify_batch(signed: SignedBatch) -> Batch:
    """The batch if its signature verifies and its device id is its key's address, else `SignatureError`."""
    batch = signed.batch
    try:
        address = neo_address(batch.public_key)
    except KeyFormatError as exc:
        raise SignatureError(f"unusable public key: {exc}") from exc
    if address != batch.device_id:
        raise SignatureError("device id is not the address of the batch's public key")
    try:
        ok = verify_signature(batch.public_key, signed.signature, signed.canonical)
    except KeyFormatError as exc:
        raise SignatureError(f"unusable public key: {exc}") from exc
    if not ok:
        raise SignatureError("signature does not verify")
    return batch


def gzip_body(body: bytes) -> bytes:
    """Gzip a body deterministically (no timestamp): the same batch gives the same bytes."""
    return gzip.compress(body, compresslevel=9, mtime=0)


def _gunzip(body: bytes) -> bytes:
    d = zlib.decompressobj(wbits=31)
    try:
        out = d.decompress(body, MAX_BODY_BYTES + 1)
    except zlib.error as exc:
        raise MalformedError(f"not valid gzip: {exc}") from exc
    if len(out) > MAX_BODY_BYTES:
        raise OversizeError(f"body larger than {MAX_BODY_BYTES} bytes after decompression")
    if not d.eof or d.unused_data:
        raise MalformedError("gzip stream truncated or followed by extra data")
    return out


def _hex(obj: dict[str, Any], key: str, size: int) -> bytes:
    v = obj.get(key)
    if not isinstance(v, str) or len(v) != 2 * size:
        raise MalformedError(f"{key} must be {2 * size} hex digits")
    try:
        return bytes.fromhex(v)
    except ValueError as exc:
        raise MalformedError(f"{key} must be {2 * size} hex digits") from exc


def _samples(cols: Any, n: int) -> tuple[Sample, ...]:
    if not isinstance(cols, dict) or "time_ns" not in cols:
        raise MalformedError("cols must be an object with a time_ns column")
    unknown = cols.keys() - FIELDS.keys() - {"time_ns"}
    if unknown:
        raise MalformedError(f"unknown columns: {sorted(unknown)}")
    raw_times = cols["time_ns"]
    times = _undelta("time_ns", raw_times, n, _MAX_TIME_NS)
    if None in times or times[0] < 0 or (n > 1 and min(raw_times[1:]) <= 0):
        raise MalformedError("time_ns must be present in every sample, non-negative, strictly increasing")
    columns: list[Iterable[Any]] = [times]
    for name, scale in FIELDS.items():
        if name not in cols:
            columns.append(repeat(None, n))
            continue
        values = _undelta(name, cols[name], n, MAX_WIRE_INT)
        if scale != 1:
            values = [None if v is None else v / scale for v in values]
        columns.append(values)
    return tuple(map(Sample._make, zip(*columns, strict=False)))


def decode_signed_batch(body: bytes, *, content_encoding: str | None = None, verify: bool = True) -> SignedBatch:
    """Decode an HTTP body into a signed batch, verifying the signature unless `verify=False`.

    Raises a `DecodeError` subclass saying what is wrong: `OversizeError`, `MalformedError`,
    `UnsupportedVersionError` or `SignatureError`.
    """
    if len(body) > MAX_BODY_BYTES:
        raise OversizeError(f"body larger than {MAX_BODY_BYTES} bytes")
    match (content_encoding or "identity").strip().lower():
        case "identity":
            pass
        case "gzip":
            body = _gunzip(body)
        case other:
            raise MalformedError(f"unsupported content encoding {other!r} (use gzip or none)")
    envelope = parse_json(body)
    if not isinstance(envelope, dict) or envelope.keys() != {"batch", "sig"}:
        raise MalformedError('body must be an object {"batch": …, "sig": …}')
    obj = envelope["batch"]
    if not isinstance(obj, dict):
        raise MalformedError("batch must be an object")
    if obj.get("v") != WIRE_VERSION:
        raise UnsupportedVersionError(f"wire version {obj.get('v')!r} is not supported (this is {WIRE_VERSION})")
    if not obj.keys() <= _BATCH_KEYS or not obj.keys() >= _BATCH_KEYS - {"report"}:
        raise MalformedError(f"batch members must be {sorted(_BATCH_KEYS)} (report optional)")
    signature = _hex(envelope, "sig", 64)
    public_key = _hex(obj, "pub", 33)
    n, seq, device, agent = obj["n"], obj["seq"], obj["device"], obj["agent"]
    if type(n) is not int or n < 1:
        raise MalformedError(f"n must be a positive integer, got {n!r}")
    if n > MAX_BATCH_SAMPLES:
        raise OversizeError(f"a batch holds at most {MAX_BATCH_SAMPLES} samples, not {n}")
    if type(seq) is not int or not 0 <= seq <= _MAX_TIME_NS:
        raise MalformedError(f"seq must be a non-negative 64-bit integer, got {seq!r}")
    if not isinstance(device, str) or len(device) != 34:
        raise MalformedError("device must be a 34-character NEO address")
    if not isinstance(agent, str) or not _AGENT_RE.fullmatch(agent):
        raise MalformedError("agent must match [A-Za-z0-9.+_-]{1,32}")
    report = None
    if "report" in obj:
        sig = signal_from_json(obj["report"])
        if not isinstance(sig, StatusReport):
            raise MalformedError("report must be a status_report signal")
        report = sig
    batch = Batch(device, seq, _samples(obj["cols"], n), agent, public_key, report)
    signed = SignedBatch(batch, signature, _dumps(obj))
    if verify:
        verify_batch(signed)
    return signed
