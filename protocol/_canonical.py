"""Canonical JSON: the one byte encoding that is hashed and signed.

Rules (stable forever, other implementations must match byte for byte):
UTF-8; objects with keys sorted by Unicode code point; separators `,` and `:` with no
whitespace; only integers, strings, booleans, null, arrays and objects with string keys.
Floats are refused because their text form is not unique across languages; callers quantise
to fixed-point integers first (see `protocol.FIELDS`). Strings are written by Python's JSON
encoder with `ensure_ascii=False`: only `"`, `\\` and control characters are escaped.
"""

import json
from typing import Any

from protocol._errors import EncodeError, MalformedError

__all__ = ["canonical_json", "parse_json"]

_encoder = json.JSONEncoder(ensure_ascii=False, sort_keys=True, separators=(",", ":"), allow_nan=False)


def _check(obj: object, path: str) -> None:
    match obj:
        case None | bool() | int() | str():
            return
        case list() | tuple():
            for i, item in enumerate(obj):
                _check(item, f"{path}[{i}]")
        case dict():
            for key, value in obj.items():
                if not isinstance(key, str):
                    raise EncodeError(f"{path}: object key {key!r} is not a string")
                _check(value, f"{path}.{key}")
        case float():
            raise EncodeError(f"{path}: floats have no canonical form; quantise to an integer")
        case _:
            raise EncodeError(f"{path}: {type(obj).__name__} is not a JSON value")


def canonical_json(obj: object) -> bytes:
    """Encode `obj` canonically; raises `EncodeError` for floats and non-JSON values."""
    _check(obj, "$")
    return _dumps(obj)


def _dumps(obj: object) -> bytes:
    """Canonical bytes of a value already known to be float-free (e.g. from `parse_json`)."""
    try:
        return _encoder.encode(obj).encode("utf-8")
    except UnicodeEncodeError as exc:
        raise EncodeError(f"string is not valid Unicode: {exc.reason}") from exc


def _reject_float(text: str) -> Any:
    raise MalformedError(f"floats are not allowed on the wire (got {text[:32]})")


def parse_json(data: bytes | str) -> Any:
    """Parse JSON that may contain no floats, NaN or Infinity; raises `MalformedError`."""
    try:
        return json.loads(data, parse_float=_reject_float, parse_constant=_reject_float)
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError) as exc:
        raise MalformedError(f"not valid JSON: {exc}") from exc
