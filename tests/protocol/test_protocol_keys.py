"""Device identity: addresses equal neo-mamba's, signatures are NEO-format, keys never leak in repr."""

import hashlib

import pytest
from neo3.core.cryptography import ECPoint, KeyPair
from neo3.core.cryptography import verify_signature as neo_verify
from neo3.wallet.utils import public_key_to_script_hash, script_hash_to_address

from protocol import DeviceKey, KeyFormatError, neo_address, verify_signature
from protocol._keys import _ripemd160_py


@pytest.mark.parametrize("seed", range(8))
def test_address_equals_neo_mamba(seed: int) -> None:
    key = DeviceKey.from_private_bytes(hashlib.sha256(bytes([seed])).digest())
    point = ECPoint.deserialize_from_bytes(key.public_key)
    assert neo_address(key.public_key) == script_hash_to_address(public_key_to_script_hash(point))
    assert key.address.startswith("N") and len(key.address) == 34


def test_neo_mamba_keypair_agrees_on_public_key() -> None:
    secret = hashlib.sha256(b"neot").digest()
    assert DeviceKey.from_private_bytes(secret).public_key == KeyPair(secret).public_key.encode_point(True)


def test_signature_is_neo_format_and_low_s() -> None:
    key = DeviceKey.generate()
    sig = key.sign(b"payload")
    assert len(sig) == 64
    assert int.from_bytes(sig[32:], "big") <= 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551 // 2
    assert verify_signature(key.public_key, sig, b"payload")
    assert not verify_signature(key.public_key, sig, b"payloaD")
    assert not verify_signature(key.public_key, sig[:63], b"payload")
    # neo-mamba (the chain's own check) accepts it too.
    assert neo_verify(b"payload", sig, key.public_key)


def test_pem_round_trip_and_repr_hides_the_secret() -> None:
    key = DeviceKey.generate()
    again = DeviceKey.from_pem(key.to_pem())
    assert again.public_key == key.public_key and again.private_bytes() == key.private_bytes()
    assert key.private_bytes().hex() not in repr(key) and key.address in repr(key)


@pytest.mark.parametrize("bad", [b"", b"\x04" + bytes(32), b"\x02" + bytes(31), b"\x05" + bytes(32)])
def test_bad_public_keys(bad: bytes) -> None:
    with pytest.raises(KeyFormatError):
        neo_address(bad)


def test_bad_private_keys() -> None:
    with pytest.raises(KeyFormatError):
        DeviceKey.from_pem(b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n")
    with pytest.raises(KeyFormatError):
        DeviceKey.from_private_bytes(bytes(31))
    with pytest.raises(KeyFormatError):
        DeviceKey.from_private_bytes(b"\xff" * 32)


@pytest.mark.parametrize("size", [0, 3, 55, 56, 63, 64, 65, 1000])
def test_pure_ripemd160_matches_openssl(size: int) -> None:
    data = bytes(i % 251 for i in range(size))
    assert _ripemd160_py(data) == hashlib.new("ripemd160", data).digest()
