"""The exception tree of the wire protocol.

ProtocolError                 anything this package refuses
├── EncodeError               a value that has no canonical encoding (NaN, float, out of range)
├── KeyFormatError            a device key or public key that cannot be loaded
├── MerkleError               an impossible tree or audit path (empty tree, index outside it)
├── VerificationError         a proof that does not check out; `.reason` names the part at fault
├── TripFileError             a recorded trip file (CSV, GPX) that cannot be read; names file and line
└── DecodeError               bytes from the wire that must be rejected (a 4xx on the server)
    ├── OversizeError         over a size limit, before or after decompression
    ├── MalformedError        not the documented structure (bad JSON, wrong types, bad columns)
    │   └── MalformedProofError  a proof document that is not one (`protocol._proof`)
    ├── UnsupportedVersionError  a version header this code does not speak
    └── SignatureError        signature invalid, or device id not the key's address

`MerkleError` lives in `protocol._merkle`, the proof errors in `protocol._proof`.
"""

__all__ = [
    "DecodeError",
    "EncodeError",
    "KeyFormatError",
    "MalformedError",
    "OversizeError",
    "ProtocolError",
    "SignatureError",
    "TripFileError",
    "UnsupportedVersionError",
]


class ProtocolError(Exception):
    """Base of every error raised by `protocol`."""


class EncodeError(ProtocolError, ValueError):
    """The value cannot be encoded canonically; the message names the offending field."""


class KeyFormatError(ProtocolError, ValueError):
    """A private or public key in an unexpected format."""


class TripFileError(ProtocolError, ValueError):
    """A recorded trip file is unreadable or malformed; the message says where and what."""


class DecodeError(ProtocolError, ValueError):
    """Received bytes are not an acceptable message; the message says what is wrong."""


class OversizeError(DecodeError):
    """The message exceeds a documented size limit."""


class MalformedError(DecodeError):
    """The message does not follow the documented structure."""


class UnsupportedVersionError(DecodeError):
    """The message's version header is not one this code understands."""


class SignatureError(DecodeError):
    """The signature does not verify, or the claimed device id is not the signing key's address."""
