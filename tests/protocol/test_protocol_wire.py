"""Wire format of batches and signals: golden vectors, round trips and every way to reject bytes."""

import gzip
import hashlib
import json
import math
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from protocol import (
    FIELDS,
    MAX_BATCH_SAMPLES,
    MAX_BODY_BYTES,
    Ack,
    Batch,
    Configure,
    DecodeError,
    DeviceKey,
    EncodeError,
    MalformedError,
    OversizeError,
    Sample,
    SignatureError,
    SignedBatch,
    StatusQuery,
    StatusReport,
    UnsupportedVersionError,
    canonical_json,
    decode_signal,
    decode_signed_batch,
    encode_signal,
    gzip_body,
    neo_address,
    sign_batch,
    verify_batch,
    verify_signature,
)

VECTORS = json.loads((Path(__file__).parent / "vectors.json").read_text())
KEY = DeviceKey.from_private_bytes(bytes.fromhex(VECTORS["private_key_hex"]))


def golden_batch() -> Batch:
    samples = (
        Sample(
            1_767_225_600_000_000_000, lat=60.1699, lon=24.9384, gps_speed_kmh=36.5, heading_deg=90.0,
            hdop=0.8, satellites=9, speed_kmh=36.0, rpm=1500.25, throttle_pct=12.5, engine_load_pct=30.2,
            coolant_c=88.0, fuel_pct=61.2, maf_gs=5.12,
        ),
        Sample(1_767_225_600_100_000_000, lat=60.16991, lon=24.93842, speed_kmh=37.0, rpm=1520.0),
        Sample(1_767_225_600_200_000_000, speed_kmh=38.0),
    )  # fmt: skip
    report = StatusReport(
        config_id=7, sample_rate_hz=10, buffered_samples=3, dropped_samples=0, last_ack_seq=41,
        adapters={"obd": "ok", "gps": "no_fix"},
    )  # fmt: skip
    return Batch(KEY.address, 42, samples, "0.1.0", KEY.public_key, report)


def wire(signed: SignedBatch) -> bytes:
    return signed.to_wire()


def body_with(mutate: object) -> bytes:
    """The golden wire body, parsed, changed by `mutate(envelope)`, re-serialised."""
    envelope = json.loads(sign_batch(golden_batch(), KEY).to_wire())
    mutate(envelope)  # type: ignore[operator]
    return json.dumps(envelope).encode()


# --- golden vectors -------------------------------------------------------------------------------


def test_golden_key_and_address() -> None:
    assert KEY.public_key.hex() == VECTORS["public_key_hex"]
    assert KEY.address == VECTORS["address"] == neo_address(KEY.public_key)


def test_golden_batch_canonical_bytes_and_digest() -> None:
    signed = sign_batch(golden_batch(), KEY)
    assert signed.canonical.hex() == VECTORS["batch_canonical_hex"]
    assert signed.digest.hex() == VECTORS["batch_sha256_hex"]
    assert hashlib.sha256(bytes.fromhex(VECTORS["batch_canonical_hex"])).hexdigest() == VECTORS["batch_sha256_hex"]


def test_golden_signature_verifies_and_decodes_to_the_batch() -> None:
    canonical = bytes.fromhex(VECTORS["batch_canonical_hex"])
    signature = bytes.fromhex(VECTORS["signature_hex"])
    assert verify_signature(KEY.public_key, signature, canonical)
    body = b'{"batch":' + canonical + b',"sig":"' + VECTORS["signature_hex"].encode() + b'"}'
    decoded = decode_signed_batch(body)
    assert decoded.batch == golden_batch()
    assert decoded.canonical == canonical


def test_golden_ack() -> None:
    ack = Ack(
        seq=42, configure=Configure(config_id=8, sample_rate_hz=5, pids=("SPEED", "RPM"), upload_interval_s=60),
        query=StatusQuery(),
    )  # fmt: skip
    assert encode_signal(ack).hex() == VECTORS["ack_canonical_hex"]
    assert decode_signal(bytes.fromhex(VECTORS["ack_canonical_hex"])) == ack


def test_values_are_fixed_point_delta_columns() -> None:
    cols = json.loads(bytes.fromhex(VECTORS["batch_canonical_hex"]))["cols"]
    assert cols["time_ns"] == [1_767_225_600_000_000_000, 100_000_000, 100_000_000]
    assert cols["lat"] == [601_699_000, 100, None]  # 1e-7 degree, delta from the previous value
    assert cols["rpm"] == [6001, 79, None]  # quarter rpm
    assert cols["speed_kmh"] == [3600, 100, 100]


def test_fields_follow_sample_order() -> None:
    assert list(Sample._fields) == ["time_ns", *FIELDS]


# --- canonical JSON -------------------------------------------------------------------------------


def test_canonical_json_vectors() -> None:
    assert canonical_json({"b": 1, "a": [True, None, "é"], "A": {}}) == '{"A":{},"a":[true,null,"é"],"b":1}'.encode()
    assert canonical_json({"z": '\n"\\'}).hex() == "7b227a223a225c6e5c225c5c227d"
    assert canonical_json([]) == b"[]"


@pytest.mark.parametrize(
    ("value", "where"),
    [(1.5, "$"), ({"a": [1, 2.0]}, "$.a[1]"), ({1: 2}, "object key"), (b"x", "bytes"), (math.nan, "$")],
)
def test_canonical_json_refuses_non_json(value: object, where: str) -> None:
    with pytest.raises(EncodeError, match=where.replace("$", r"\$").replace("[", r"\[")):
        canonical_json(value)


# --- round trips ----------------------------------------------------------------------------------

_opt = st.one_of(st.none(), st.floats(min_value=-1e6, max_value=1e6, allow_nan=False))


@st.composite
def samples(draw: st.DrawFn) -> tuple[Sample, ...]:
    start = draw(st.integers(min_value=0, max_value=2**62))
    gaps = draw(st.lists(st.integers(min_value=1, max_value=10**12), min_size=0, max_size=40))
    times = [start]
    for gap in gaps:
        times.append(times[-1] + gap)
    out = []
    for t in times:
        values = {name: draw(_opt) for name in FIELDS if name != "satellites"}
        sats = draw(st.one_of(st.none(), st.integers(min_value=0, max_value=64)))
        out.append(Sample(t, satellites=sats, **values))  # type: ignore[arg-type]
    return tuple(out)


@settings(max_examples=60, deadline=None)
@given(samples(), st.integers(min_value=0, max_value=2**63 - 1), st.booleans())
def test_round_trip_equals_the_quantised_samples(batch_samples: tuple[Sample, ...], seq: int, zipped: bool) -> None:
    batch = Batch(KEY.address, seq, batch_samples, "1.2.3+dev", KEY.public_key)
    signed = sign_batch(batch, KEY)
    body = gzip_body(signed.to_wire()) if zipped else signed.to_wire()
    decoded = decode_signed_batch(body, content_encoding="gzip" if zipped else None)
    assert decoded.batch.samples == tuple(s.quantised() for s in batch_samples)
    assert decoded.canonical == signed.canonical
    # Quantising is idempotent: what the server stores re-encodes to the signed bytes.
    again = Batch(KEY.address, seq, decoded.batch.samples, "1.2.3+dev", KEY.public_key)
    assert canonical_json(again.to_json()) == signed.canonical


def test_absent_values_stay_absent() -> None:
    decoded = decode_signed_batch(sign_batch(golden_batch(), KEY).to_wire()).batch
    assert decoded.samples[2].present() == {"time_ns": 1_767_225_600_200_000_000, "speed_kmh": 38.0}
    assert decoded.samples[1].coolant_c is None


def test_gzip_is_deterministic_and_small() -> None:
    body = sign_batch(golden_batch(), KEY).to_wire()
    assert gzip_body(body) == gzip_body(body)
    assert gzip.decompress(gzip_body(body)) == body


# --- encode refusals ------------------------------------------------------------------------------


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf, 1e300])
def test_non_finite_or_huge_values_are_refused(bad: float) -> None:
    batch = Batch(KEY.address, 1, (Sample(1, speed_kmh=bad),), "0.1.0", KEY.public_key)
    with pytest.raises(EncodeError, match="speed_kmh"):
        sign_batch(batch, KEY)


def test_encode_refuses_unordered_times_empty_and_foreign_key() -> None:
    with pytest.raises(EncodeError, match="strictly increasing"):
        sign_batch(Batch(KEY.address, 1, (Sample(2), Sample(2)), "0.1.0", KEY.public_key), KEY)
    with pytest.raises(EncodeError, match=r"1\.\.10000"):
        sign_batch(Batch(KEY.address, 1, (), "0.1.0", KEY.public_key), KEY)
    other = DeviceKey.generate()
    with pytest.raises(EncodeError, match="signing key"):
        sign_batch(Batch(other.address, 1, (Sample(1),), "0.1.0", other.public_key), KEY)


# --- decode refusals: tampering, replay, oversize, malformed --------------------------------------


def test_tampered_sample_fails_the_signature() -> None:
    body = sign_batch(golden_batch(), KEY).to_wire().replace(b'"speed_kmh":[3600,', b'"speed_kmh":[3500,')
    with pytest.raises(SignatureError, match="does not verify"):
        decode_signed_batch(body)
    assert decode_signed_batch(body, verify=False).batch.samples[0].speed_kmh == 35.0


def test_tampered_seq_fails_the_signature() -> None:
    body = sign_batch(golden_batch(), KEY).to_wire().replace(b'"seq":42', b'"seq":43')
    with pytest.raises(SignatureError):
        decode_signed_batch(body)


def test_batch_claiming_another_device_is_refused() -> None:
    """Re-signing someone else's device id with my key does not make me that device."""
    mallory = DeviceKey.generate()
    forged = Batch(KEY.address, 1, (Sample(1),), "0.1.0", mallory.public_key)
    canonical = canonical_json(forged.to_json())
    with pytest.raises(SignatureError, match="not the address"):
        verify_batch(SignedBatch(forged, mallory.sign(canonical), canonical))


def test_replayed_bytes_decode_to_the_same_identity() -> None:
    """A replay is byte-identical: same (device, seq) and digest, so the server's dedup drops it."""
    body = gzip_body(sign_batch(golden_batch(), KEY).to_wire())
    first = decode_signed_batch(body, content_encoding="gzip")
    second = decode_signed_batch(body, content_encoding="gzip")
    assert (first.batch.device_id, first.batch.seq, first.digest) == (
        second.batch.device_id, second.batch.seq, second.digest,
    )  # fmt: skip


def test_oversize_bodies() -> None:
    with pytest.raises(OversizeError):
        decode_signed_batch(b" " * (MAX_BODY_BYTES + 1))
    bomb = gzip.compress(b" " * (MAX_BODY_BYTES + 10))
    assert len(bomb) < 10_000
    with pytest.raises(OversizeError, match="after decompression"):
        decode_signed_batch(bomb, content_encoding="gzip")
    with pytest.raises(OversizeError, match="at most"):
        decode_signed_batch(body_with(lambda e: e["batch"].update(n=MAX_BATCH_SAMPLES + 1)))


def test_unsupported_version() -> None:
    with pytest.raises(UnsupportedVersionError, match="2"):
        decode_signed_batch(body_with(lambda e: e["batch"].update(v=2)))


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"", "not valid JSON"),
        (b"\xff\xfe", "not valid JSON"),
        (b"[]", "body must be an object"),
        (b'{"batch":{},"sig":"00"}', "wire version"),
        (b'{"batch":{"v":1.0},"sig":"00"}', "floats"),
        (b'{"batch":{"v":NaN},"sig":"00"}', "floats"),
        (b"[" * 100_000, "not valid JSON"),
    ],
)
def test_malformed_bodies(body: bytes, message: str) -> None:
    with pytest.raises(DecodeError, match=message):
        decode_signed_batch(body)


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda e: e.update(extra=1), "body must be an object"),
        (lambda e: e.update(sig="zz" * 64), "sig must be"),
        (lambda e: e["batch"].update(pub="02" * 10), "pub must be"),
        (lambda e: e["batch"].update(pub="05" * 33), "unusable public key"),
        (lambda e: e["batch"].update(seq=-1), "seq must"),
        (lambda e: e["batch"].update(seq="1"), "seq must"),
        (lambda e: e["batch"].update(n=True), "n must"),
        (lambda e: e["batch"].update(n=2), "list of 2"),
        (lambda e: e["batch"].update(device="x"), "device must"),
        (lambda e: e["batch"].update(agent="a b"), "agent must"),
        (lambda e: e["batch"].pop("cols"), "batch members"),
        (lambda e: e["batch"]["cols"].update(speed_kmh=[1, "2", 3]), "only integers"),
        (lambda e: e["batch"]["cols"].update(speed_kmh=[1, True, 3]), "only integers"),
        (lambda e: e["batch"]["cols"].update(speed_kmh=[2**53, 0, 0]), "out of range"),
        (lambda e: e["batch"]["cols"].update(altitude_m=[1, 2, 3]), "unknown columns"),
        (lambda e: e["batch"]["cols"].update(time_ns=[5, 0, 1]), "strictly increasing"),
        (lambda e: e["batch"]["cols"].update(time_ns=[5, None, 1]), "strictly increasing"),
        (lambda e: e["batch"]["cols"].update(time_ns=[-5, 1, 1]), "non-negative"),
        (lambda e: e["batch"]["report"].update(type="ack"), "seq must"),
        (lambda e: e["batch"].update(report={"type": "status_query"}), "status_report"),
        (lambda e: e["batch"]["report"].update(sample_rate_hz=11), "sample_rate_hz"),
        (lambda e: e["batch"]["report"]["adapters"].update(obd="x y"), "adapter"),
    ],
)
def test_structurally_wrong_batches_are_refused(mutate: object, message: str) -> None:
    with pytest.raises(DecodeError, match=message):
        decode_signed_batch(body_with(mutate))


def test_bad_gzip_and_unknown_encoding() -> None:
    body = gzip_body(sign_batch(golden_batch(), KEY).to_wire())
    with pytest.raises(MalformedError, match="truncated"):
        decode_signed_batch(body[:-10], content_encoding="gzip")
    with pytest.raises(MalformedError, match="extra data"):
        decode_signed_batch(body + body, content_encoding="gzip")
    with pytest.raises(MalformedError, match="not valid gzip"):
        decode_signed_batch(b"not gzip", content_encoding="gzip")
    with pytest.raises(MalformedError, match="br"):
        decode_signed_batch(body, content_encoding="br")


# --- signals --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "signal",
    [
        Configure(config_id=1, sample_rate_hz=10, pids=("SPEED",), upload_interval_s=5),
        StatusQuery(),
        StatusReport(config_id=None, sample_rate_hz=1, buffered_samples=0, dropped_samples=5, last_ack_seq=None),
        Ack(seq=0),
        Ack(seq=9, configure=Configure(config_id=2)),
    ],
)
def test_signal_round_trip(signal: object) -> None:
    assert decode_signal(encode_signal(signal)) == signal  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b'{"type":"configure","config_id":1,"sample_rate_hz":0,"pids":[],"upload_interval_s":5}', "1..10"),
        (b'{"type":"configure","config_id":1,"sample_rate_hz":11,"pids":[],"upload_interval_s":5}', "1..10"),
        (b'{"type":"configure","config_id":1,"sample_rate_hz":1,"pids":["speed"],"upload_interval_s":5}', "pids"),
        (b'{"type":"configure","config_id":1,"sample_rate_hz":1,"pids":"SPEED","upload_interval_s":5}', "pids"),
        (b'{"type":"ack"}', "seq"),
        (b'{"type":"ack","seq":1,"configure":{"type":"ack"}}', "configure"),
        (b'{"type":"status_query","x":1}', "no members"),
        (b'{"type":"reboot"}', "unknown signal"),
        (b'"ack"', "unknown signal"),
    ],
)
def test_bad_signals(data: bytes, message: str) -> None:
    with pytest.raises(MalformedError, match=message):
        decode_signal(data)


def test_oversize_signal() -> None:
    with pytest.raises(OversizeError):
        decode_signal(b" " * 20_000)
