"""Request-body decompression with a cap on the decompressed size (gzip bombs stop at the cap)."""

from __future__ import annotations

import zlib

from summitcol.errors import InvalidDataError, SummitError

SUPPORTED_ENCODINGS = ("gzip", "deflate", "zlib", "identity", "")
_AUTO_GZIP_OR_ZLIB = 32 + zlib.MAX_WBITS


class BodyTooLargeError(SummitError):
    """The body, as sent or once decompressed, is larger than the configured limit."""


class UnsupportedEncodingError(SummitError):
    """Content-Encoding names an algorithm Summit does not decompress."""


def decompress(body: bytes, content_encoding: str, limit: int) -> bytes:
    """The decompressed body; BodyTooLargeError past `limit` bytes, InvalidDataError if corrupt."""
    encoding = content_encoding.strip().lower()
    if encoding in ("", "identity"):
        if len(body) > limit:
            raise BodyTooLargeError(f"request body is {len(body)} bytes, more than the limit of {limit}")
        return body
    if encoding not in SUPPORTED_ENCODINGS:
        raise UnsupportedEncodingError(f"unsupported Content-Encoding '{content_encoding}'; send gzip, deflate or none")
    parts: list[bytes] = []
    size = 0
    data = body
    try:
        while data:
            inflater = zlib.decompressobj(_AUTO_GZIP_OR_ZLIB)
            chunk = inflater.decompress(data, limit - size + 1)
            size += len(chunk)
            if size > limit or inflater.unconsumed_tail:
                raise BodyTooLargeError(f"decompressed request body exceeds the limit of {limit} bytes")
            parts.append(chunk)
            if not inflater.eof:
                raise InvalidDataError(f"{encoding} request body is truncated")
            data = inflater.unused_data
    except zlib.error as exc:
        raise InvalidDataError(f"request body is not valid {encoding}: {exc}") from None
    return b"".join(parts)
