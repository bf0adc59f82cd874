"""The server's columnar decoder accepts exactly what `protocol.decode_signed_batch` accepts,
and reads the same values and the same signed bytes from it."""

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from protocol import (
    FIELDS,
    Batch,
    DecodeError,
    DeviceKey,
    Sample,
    StatusReport,
    decode_signed_batch,
    gzip_body,
    quantise,
    sign_batch,
)
from scoring_service.ingest import COLUMNS, decode_batch

KEY = DeviceKey.from_private_bytes(bytes(range(7, 39)))
T0_NS = 1_767_268_800 * 1_000_000_000

_RANGES = {
    "lat": (-90.0, 90.0),
    "lon": (-180.0, 180.0),
    "satellites": (0, 40),
}


def _value(name: str) -> st.SearchStrategy[Any]:
    if name == "satellites":
        return st.none() | st.integers(0, 40)
    lo, hi = _RANGES.get(name, (-1e6, 1e6))
    return st.none() | st.floats(lo, hi, allow_nan=False, allow_infinity=False)


@st.composite
def batches(draw: st.DrawFn) -> Batch:
    n = draw(st.integers(1, 40))
    gaps = draw(st.lists(st.integers(1, 10**10), min_size=n, max_size=n))
    times = [T0_NS + sum(gaps[: i + 1]) for i in range(n)]
    rows = [{name: draw(_value(name)) for name in FIELDS} for _ in range(n)]
    report = draw(
        st.none()
        | st.builds(
            StatusReport,
            config_id=st.none() | st.integers(0, 2**63 - 1),
            sample_rate_hz=st.integers(1, 10),
            buffered_samples=st.integers(0, 10**9),
            dropped_samples=st.integers(0, 10**9),
            last_ack_seq=st.none() | st.integers(0, 2**63 - 1),
            adapters=st.dictionaries(st.sampled_from(["obd", "gps", "replay"]), st.sampled_from(["ok", "no_fix"])),
        )
    )
    seq = draw(st.integers(0, 2**63 - 1))
    samples = tuple(Sample(t, **row) for t, row in zip(times, rows, strict=True))
    return Batch(KEY.address, seq, samples, "agent-0.1", KEY.public_key, report)


@settings(max_examples=40, deadline=None)
@given(batches())
def test_same_values_and_signed_bytes_as_the_protocol(batch: Batch) -> None:
    body = sign_batch(batch, KEY).to_wire()
    reference = decode_signed_batch(body)
    ours = decode_batch(body)

    assert (ours.canonical, ours.digest, ours.signature) == (
        reference.canonical,
        reference.digest,
        reference.signature,
    )
    assert (ours.device_id, ours.seq, ours.public_key, ours.n, ours.report) == (
        reference.batch.device_id,
        reference.batch.seq,
        reference.batch.public_key,
        len(reference.batch.samples),
        reference.batch.report,
    )
    for name in COLUMNS:
        expected = [
            s.time_ns if name == "time_ns" else quantise(name, getattr(s, name)) for s in reference.batch.samples
        ]
        assert ours.columns.get(name, [None] * ours.n) == expected, name


def _signed_body() -> dict[str, Any]:
    samples = tuple(Sample(T0_NS + i, lat=60.0 + i / 1e5, rpm=None if i % 3 else 900.0) for i in range(6))
    obj: dict[str, Any] = json.loads(sign_batch(Batch(KEY.address, 3, samples, "a-1", KEY.public_key), KEY).to_wire())
    return obj


def _set(path: str, value: Any) -> Any:
    def change(obj: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        for p in parents:
            obj = obj[p]
        obj[last] = value

    return change


def _drop(path: str) -> Any:
    def change(obj: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        for p in parents:
            obj = obj[p]
        del obj[last]

    return change


MUTATIONS: dict[str, Any] = {
    "unchanged": lambda o: None,
    "extra-envelope-key": _set("extra", 1),
    "extra-batch-key": _set("batch.extra", 1),
    "with-report": _set(
        "batch.report",
        {
            "type": "status_report",
            "config_id": 4,
            "sample_rate_hz": 10,
            "buffered_samples": 0,
            "dropped_samples": 2,
            "last_ack_seq": 2,
            "adapters": {"obd": "ok"},
        },
    ),
    "v-float": _set("batch.v", 1.0),
    "v-2": _set("batch.v", 2),
    "no-v": _drop("batch.v"),
    "seq-huge": _set("batch.seq", 2**63),
    "seq-bool": _set("batch.seq", False),
    "seq-float": _set("batch.seq", 3.0),
    "n-zero": _set("batch.n", 0),
    "n-over": _set("batch.n", 10_001),
    "n-mismatch": _set("batch.n", 5),
    "device-short": _set("batch.device", "Nshort"),
    "device-int": _set("batch.device", 7),
    "agent-space": _set("batch.agent", "a 1"),
    "agent-empty": _set("batch.agent", ""),
    "pub-odd": _set("batch.pub", "0" * 65),
    "pub-nonhex": _set("batch.pub", "zz" * 33),
    "sig-short": _set("sig", "00" * 63),
    "sig-int": _set("sig", 5),
    "cols-list": _set("batch.cols", []),
    "no-time": _drop("batch.cols.time_ns"),
    "time-null": _set("batch.cols.time_ns", [T0_NS, None, 1, 1, 1, 1]),
    "time-not-increasing": _set("batch.cols.time_ns", [T0_NS, 1, 0, 1, 1, 1]),
    "time-negative": _set("batch.cols.time_ns", [-5, 1, 1, 1, 1, 1]),
    "time-overflow": _set("batch.cols.time_ns", [2**63 - 3, 1, 1, 1, 1, 1]),
    "lat-bool": _set("batch.cols.lat", [True, 1, 1, 1, 1, 1]),
    "lat-float": _set("batch.cols.lat", [600000000.0, 1, 1, 1, 1, 1]),
    "lat-string": _set("batch.cols.lat", ["6", 1, 1, 1, 1, 1]),
    "lat-short": _set("batch.cols.lat", [1, 1]),
    "lat-huge": _set("batch.cols.lat", [2**53, 1, 1, 1, 1, 1]),
    "lat-huger": _set("batch.cols.lat", [2**64 + 1, 1, 1, 1, 1, 1]),
    "lat-all-null": _set("batch.cols.lat", [None] * 6),
    "unknown-column": _set("batch.cols.boost_kpa", [1] * 6),
    "report-wrong-type": _set("batch.report", {"type": "ack", "seq": 1}),
    "report-not-object": _set("batch.report", 5),
    "report-float": _set(
        "batch.report",
        {
            "type": "status_report",
            "config_id": None,
            "sample_rate_hz": 1.0,
            "buffered_samples": 0,
            "dropped_samples": 0,
            "last_ack_seq": None,
            "adapters": {},
        },
    ),
}


@pytest.mark.parametrize("mutation", MUTATIONS.values(), ids=MUTATIONS.keys())
def test_accepts_and_refuses_what_the_protocol_does(mutation: Any) -> None:
    obj = _signed_body()
    mutation(obj)
    body = json.dumps(obj).encode()
    try:
        reference: object = decode_signed_batch(body, verify=False)
    except DecodeError as exc:
        reference = type(exc)
    try:
        ours: object = decode_batch(body)
    except DecodeError as exc:
        ours = type(exc)
    if isinstance(reference, type):
        assert ours is reference
    else:
        assert not isinstance(ours, type), ours


def test_refuses_a_boolean_version_which_the_protocol_lets_through() -> None:
    # `true == 1` in Python; the version is an integer on the wire, so ours is stricter here.
    obj = _signed_body()
    obj["batch"]["v"] = True
    with pytest.raises(DecodeError):
        decode_batch(json.dumps(obj).encode())


@pytest.mark.parametrize(
    "body",
    [b"", b"{", b"[]", b"null", b'{"batch": 1, "sig": 2}', b"\xef\xbb\xbf{}", b'"\\ud800"', b"[" * 5000 + b"]" * 5000],
    ids=["empty", "open", "array", "null", "scalars", "bom", "surrogate", "deep"],
)
def test_refuses_non_batches_as_the_protocol_does(body: bytes) -> None:
    with pytest.raises(DecodeError) as reference:
        decode_signed_batch(body, verify=False)
    with pytest.raises(DecodeError) as ours:
        decode_batch(body)
    assert type(ours.value) is type(reference.value)


def test_gzip_is_not_its_business() -> None:
    # Decompression happens while reading the body, under the size limit; the decoder sees JSON.
    with pytest.raises(DecodeError):
        decode_batch(gzip_body(json.dumps(_signed_body()).encode()))
