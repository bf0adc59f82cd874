"""Reading an upload body without ever holding more than the limit in memory.

The limit applies to the bytes on the wire and again to what they decompress to: a few kilobytes
of gzip can inflate to gigabytes, so decompression is fed chunk by chunk with an output cap and
stops one byte past the limit.
"""

import zlib
from collections.abc import AsyncIterator

from scoring_service.ingest._errors import BodyTooLargeError, MalformedBatchError, UnsupportedEncodingError

__all__ = ["read_limited_body"]

_IDENTITY = frozenset({"", "identity"})


async def read_limited_body(
    chunks: AsyncIterator[bytes], *, content_encoding: str | None, content_length: str | None, max_bytes: int
) -> bytes:
    """The body, decoded from gzip if so sent, refused with 413 as soon as it passes `max_bytes`."""
    encoding = (content_encoding or "").strip().lower()
    if encoding not in _IDENTITY and encoding != "gzip":
        raise UnsupportedEncodingError(
            f"Content-Encoding {encoding!r} is not supported; send gzip or no encoding", field="content-encoding"
        )
    if content_length is not None and content_length.isdigit() and int(content_length) > max_bytes:
        raise BodyTooLargeError(f"body of {content_length} bytes is over the limit of {max_bytes} bytes")
    if encoding == "gzip":
        return await _read_gzip(chunks, max_bytes)
    parts: list[bytes] = []
    size = 0
    async for chunk in chunks:
        size += len(chunk)
        if size > max_bytes:
            raise BodyTooLargeError(f"body is over the limit of {max_bytes} bytes")
        parts.append(chunk)
    return b"".join(parts)


async def _read_gzip(chunks: AsyncIterator[bytes], max_bytes: int) -> bytes:
    inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
    parts: list[bytes] = []
    wire_size = 0
    size = 0
    try:
        async for chunk in chunks:
            wire_size += len(chunk)
            if wire_size > max_bytes:
                raise BodyTooLargeError(f"body is over the limit of {max_bytes} bytes")
            pending = chunk
            while pending:
                if inflater.eof:
                    raise MalformedBatchError("data after the end of the gzip stream", field="body")
                out = inflater.decompress(pending, max_bytes - size + 1)
                size += len(out)
                if size > max_bytes:
                    raise BodyTooLargeError(f"decompressed body is over the limit of {max_bytes} bytes")
                parts.append(out)
                if inflater.unused_data:
                    raise MalformedBatchError("data after the end of the gzip stream", field="body")
                pending = inflater.unconsumed_tail
    except zlib.error as exc:
        raise MalformedBatchError(f"body is not valid gzip: {exc}", field="body") from exc
    if not inflater.eof:
        raise MalformedBatchError("gzip stream is truncated", field="body")
    return b"".join(parts)
