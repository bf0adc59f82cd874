"""Device identity: a secp256r1 key pair whose NEO N3 address is the device id.

The address is computed here without the chain SDK, so the in-car agent and the offline
verifier need only `cryptography`: verification script `0C 21 <33-byte compressed key> 41
<System.Crypto.CheckSig id 56e7b327>`, script hash = RIPEMD-160(SHA-256(script)), address =
Base58Check(0x35 ‖ script hash).
"""

import hashlib
from typing import Self

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature, encode_dss_signature

from protocol._errors import KeyFormatError

__all__ = ["DeviceKey", "neo_address", "verify_signature"]

_ADDRESS_VERSION = 0x35
_CHECKSIG_SYSCALL = bytes.fromhex("56e7b327")
_B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_CURVE_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551


def _ripemd160(data: bytes) -> bytes:
    try:
        return hashlib.new("ripemd160", data).digest()
    except ValueError:  # OpenSSL 3 builds without the legacy provider
        return _ripemd160_py(data)


def neo_address(public_key: bytes) -> str:
    """The NEO N3 address of a 33-byte compressed secp256r1 public key."""
    if len(public_key) != 33 or public_key[0] not in (2, 3):
        raise KeyFormatError("public key must be 33 bytes, compressed (02/03 prefix)")
    script = b"\x0c\x21" + public_key + b"\x41" + _CHECKSIG_SYSCALL
    payload = bytes([_ADDRESS_VERSION]) + _ripemd160(hashlib.sha256(script).digest())
    checksum = hashlib.sha256(hashlib.sha256(payload).digest()).digest()[:4]
    return _base58(payload + checksum)


def _base58(data: bytes) -> str:
    n = int.from_bytes(data, "big")
    out = []
    while n:
        n, r = divmod(n, 58)
        out.append(_B58[r])
    pad = len(data) - len(data.lstrip(b"\0"))
    return "1" * pad + "".join(reversed(out))


def _load_public(public_key: bytes) -> ec.EllipticCurvePublicKey:
    try:
        return ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), public_key)
    except ValueError as exc:
        raise KeyFormatError("public key is not a point on secp256r1") from exc


def verify_signature(public_key: bytes, signature: bytes, data: bytes) -> bool:
    """Whether `signature` (64 bytes r ‖ s, NEO's format) is `public_key`'s ECDSA over SHA-256(data)."""
    if len(signature) != 64:
        return False
    r, s = int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
    try:
        _load_public(public_key).verify(encode_dss_signature(r, s), data, ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        return False
    return True


class DeviceKey:
    """A device's private key. Its repr never shows key material; `to_pem` is for the key file only."""

    __slots__ = ("_key", "address", "public_key")

    def __init__(self, key: ec.EllipticCurvePrivateKey) -> None:
        if not isinstance(key.curve, ec.SECP256R1):
            raise KeyFormatError(f"device keys are secp256r1, not {key.curve.name}")
        self._key = key
        self.public_key: bytes = key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.CompressedPoint
        )
        self.address: str = neo_address(self.public_key)

    @classmethod
    def generate(cls) -> Self:
        """A fresh random key."""
        return cls(ec.generate_private_key(ec.SECP256R1()))

    @classmethod
    def from_pem(cls, pem: bytes) -> Self:
        """Load an unencrypted PKCS#8 PEM key (what `to_pem` writes)."""
        try:
            key = serialization.load_pem_private_key(pem, password=None)
        except (ValueError, TypeError) as exc:
            raise KeyFormatError("not an unencrypted PEM private key") from exc
        if not isinstance(key, ec.EllipticCurvePrivateKey):
            raise KeyFormatError("not an elliptic-curve private key")
        return cls(key)

    @classmethod
    def from_private_bytes(cls, secret: bytes) -> Self:
        """The key whose 32-byte private scalar is `secret` (NEO wallets' raw form)."""
        if len(secret) != 32:
            raise KeyFormatError("a raw private key is 32 bytes")
        try:
            return cls(ec.derive_private_key(int.from_bytes(secret, "big"), ec.SECP256R1()))
        except ValueError as exc:
            raise KeyFormatError("private scalar out of range") from exc

    def to_pem(self) -> bytes:
        """Unencrypted PKCS#8 PEM: write it to a 0600 file, never to a log."""
        return self._key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )

    def private_bytes(self) -> bytes:
        """The 32-byte private scalar (for importing into a NEO wallet)."""
        return self._key.private_numbers().private_value.to_bytes(32, "big")

    def sign(self, data: bytes) -> bytes:
        """ECDSA over SHA-256(data) as 64 bytes r ‖ s, with low s so each signature has one form."""
        r, s = decode_dss_signature(self._key.sign(data, ec.ECDSA(hashes.SHA256())))
        s = min(s, _CURVE_ORDER - s)
        return r.to_bytes(32, "big") + s.to_bytes(32, "big")

    def __repr__(self) -> str:
        return f"DeviceKey(address={self.address!r})"


# RIPEMD-160 (Dobbertin, Bosselaers, Preneel 1996) for Pythons whose OpenSSL lacks it.
_RL = [
    *range(16),
    *(7, 4, 13, 1, 10, 6, 15, 3, 12, 0, 9, 5, 2, 14, 11, 8),
    *(3, 10, 14, 4, 9, 15, 8, 1, 2, 7, 0, 6, 13, 11, 5, 12),
    *(1, 9, 11, 10, 0, 8, 12, 4, 13, 3, 7, 15, 14, 5, 6, 2),
    *(4, 0, 5, 9, 7, 12, 2, 10, 14, 1, 3, 8, 11, 6, 15, 13),
]
_RR = [
    *(5, 14, 7, 0, 9, 2, 11, 4, 13, 6, 15, 8, 1, 10, 3, 12),
    *(6, 11, 3, 7, 0, 13, 5, 10, 14, 15, 8, 12, 4, 9, 1, 2),
    *(15, 5, 1, 3, 7, 14, 6, 9, 11, 8, 12, 2, 10, 0, 4, 13),
    *(8, 6, 4, 1, 3, 11, 15, 0, 5, 12, 2, 13, 9, 7, 10, 14),
    *(12, 15, 10, 4, 1, 5, 8, 7, 6, 2, 13, 14, 0, 3, 9, 11),
]
_SL = [
    *(11, 14, 15, 12, 5, 8, 7, 9, 11, 13, 14, 15, 6, 7, 9, 8),
    *(7, 6, 8, 13, 11, 9, 7, 15, 7, 12, 15, 9, 11, 7, 13, 12),
    *(11, 13, 6, 7, 14, 9, 13, 15, 14, 8, 13, 6, 5, 12, 7, 5),
    *(11, 12, 14, 15, 14, 15, 9, 8, 9, 14, 5, 6, 8, 6, 5, 12),
    *(9, 15, 5, 11, 6, 8, 13, 12, 5, 12, 13, 14, 11, 8, 5, 6),
]
_SR = [
    *(8, 9, 9, 11, 13, 15, 15, 5, 7, 7, 8, 11, 14, 14, 12, 6),
    *(9, 13, 15, 7, 12, 8, 9, 11, 7, 7, 12, 7, 6, 15, 13, 11),
    *(9, 7, 15, 11, 8, 6, 6, 14, 12, 13, 5, 14, 13, 13, 7, 5),
    *(15, 5, 8, 11, 14, 14, 6, 14, 6, 9, 12, 9, 12, 5, 15, 8),
    *(8, 5, 12, 9, 12, 5, 14, 6, 8, 13, 6, 5, 15, 13, 11, 11),
]
_KL = (0x00000000, 0x5A827999, 0x6ED9EBA1, 0x8F1BBCDC, 0xA953FD4E)
_KR = (0x50A28BE6, 0x5C4DD124, 0x6D703EF3, 0x7A6D76E9, 0x00000000)
_M32 = 0xFFFFFFFF


def _f(j: int, x: int, y: int, z: int) -> int:
    match j:
        case 0:
            return x ^ y ^ z
        case 1:
            return (x & y) | (~x & z)
        case 2:
            return (x | ~y) ^ z
        case 3:
            return (x & z) | (y & ~z)
        case _:
            return x ^ (y | ~z)


def _rol(x: int, n: int) -> int:
    return ((x << n) | (x >> (32 - n))) & _M32


def _ripemd160_py(data: bytes) -> bytes:
    h = [0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476, 0xC3D2E1F0]
    msg = data + b"\x80" + b"\0" * ((55 - len(data)) % 64) + (8 * len(data)).to_bytes(8, "little")
    for off in range(0, len(msg), 64):
        x = [int.from_bytes(msg[off + 4 * i : off + 4 * i + 4], "little") for i in range(16)]
        al, bl, cl, dl, el = h
        ar, br, cr, dr, er = h
        for j in range(80):
            rnd = j // 16
            t = _rol((al + _f(rnd, bl, cl, dl) + x[_RL[j]] + _KL[rnd]) & _M32, _SL[j]) + el
            al, el, dl, cl, bl = el, dl, _rol(cl, 10), bl, t & _M32
            t = _rol((ar + _f(4 - rnd, br, cr, dr) + x[_RR[j]] + _KR[rnd]) & _M32, _SR[j]) + er
            ar, er, dr, cr, br = er, dr, _rol(cr, 10), br, t & _M32
        t = (h[1] + cl + dr) & _M32
        h[1] = (h[2] + dl + er) & _M32
        h[2] = (h[3] + el + ar) & _M32
        h[3] = (h[4] + al + br) & _M32
        h[4] = (h[0] + bl + cr) & _M32
        h[0] = t
    return b"".join(v.to_bytes(4, "little") for v in h)
