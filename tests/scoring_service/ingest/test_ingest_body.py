"""Reading a body under a size limit, however the bytes are split into chunks."""

import asyncio
import gzip
from collections.abc import AsyncIterator

import pytest

from scoring_service.ingest import (
    BodyTooLargeError,
    MalformedBatchError,
    UnsupportedEncodingError,
    read_limited_body,
)

PAYLOAD = b'{"batch": ' + b"[1, 2, 3], " * 2000 + b'"end": true}'


async def _chunks(data: bytes, size: int) -> AsyncIterator[bytes]:
    for i in range(0, len(data), size):
        yield data[i : i + size]


def _read(data: bytes, size: int, *, encoding: str | None, max_bytes: int, length: str | None = None) -> bytes:
    return asyncio.run(
        read_limited_body(_chunks(data, size), content_encoding=encoding, content_length=length, max_bytes=max_bytes)
    )


@pytest.mark.parametrize("size", [1, 7, 4096, 1 << 20])
def test_gzip_body_is_inflated_across_any_chunking(size: int) -> None:
    assert _read(gzip.compress(PAYLOAD), size, encoding="gzip", max_bytes=len(PAYLOAD)) == PAYLOAD
    assert _read(PAYLOAD, size, encoding=None, max_bytes=len(PAYLOAD)) == PAYLOAD


@pytest.mark.parametrize("size", [7, 65536])
def test_inflating_past_the_limit_stops_at_the_limit(size: int) -> None:
    with pytest.raises(BodyTooLargeError, match="decompressed"):
        _read(gzip.compress(PAYLOAD), size, encoding="gzip", max_bytes=len(PAYLOAD) - 1)
    with pytest.raises(BodyTooLargeError):
        _read(PAYLOAD, size, encoding="identity", max_bytes=len(PAYLOAD) - 1)


def test_declared_length_over_the_limit_is_refused_before_reading() -> None:
    with pytest.raises(BodyTooLargeError, match="body of 999 bytes"):
        _read(b"", 1, encoding=None, max_bytes=998, length="999")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (gzip.compress(PAYLOAD)[:-9], "truncated"),
        (gzip.compress(PAYLOAD) + b"x", "after the end"),
        (gzip.compress(PAYLOAD) + gzip.compress(b"{}"), "after the end"),
        (b"plain text", "not valid gzip"),
    ],
    ids=["truncated", "trailing-byte", "second-member", "not-gzip"],
)
def test_broken_gzip_is_malformed(data: bytes, message: str) -> None:
    with pytest.raises(MalformedBatchError, match=message):
        _read(data, 5, encoding="gzip", max_bytes=1 << 20)


def test_other_encodings_are_unsupported() -> None:
    with pytest.raises(UnsupportedEncodingError, match="br"):
        _read(PAYLOAD, 100, encoding="br", max_bytes=1 << 20)
