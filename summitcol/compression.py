"""Request-body decompression with a cap on the decompressed size (gzip bombs stop at the cap)
and on the number of concatenated members (a body of 100,000 empty gzip members is refused).

The members are read in one pass over the body: each member's decompressor is fed a slice that
starts small and doubles, so the input left over after a member (`unused_data`, a copy) is at
most as large as what that member consumed plus 1 KiB. Feeding the whole rest of the body to
every member, as a plain loop does, copies it once per member: quadratic (100,000 empty members
in 2 MiB took 10 s).
"""

from __future__ import annotations

import zlib

from summitcol.exceptions import InvalidDataError, SummitError

SUPPORTED_ENCODINGS = ("gzip", "deflate", "zlib", "identity", "")
# gzip (RFC 1952) allows concatenated members and Go's gzip reader reads them all; clients send one.
MAX_MEMBERS = 1000
_AUTO_GZIP_OR_ZLIB = 32 + zlib.MAX_WBITS
_FIRST_FEED = 1024
_MAX_FEED = 256 * 1024


class BodyTooLargeError(SummitError):
    """The body, as sent or once decompressed, is larger than the configured limit."""


class UnsupportedEncodingError(SummitError):
    """Content-Encoding names an algorithm Summit does not decompress."""


def decompress(body: bytes, content_encoding: str, limit: int, max_members: int = MAX_MEMBERS,
               also: tuple[str, ...] = ()) -> bytes:
    """The decompressed body; BodyTooLargeError past `limit` bytes, InvalidDataError if corrupt
    or made of more than `max_members` concatenated members. `also` admits `br` and/or `zstd`
    (the Sentry SDKs send them; otelcol's OTLP receiver takes neither br nor, here, zstd)."""
    encoding = content_encoding.strip().lower()
    if encoding in ("", "identity"):
        if len(body) > limit:
            raise BodyTooLargeError(f"request body is {len(body)} bytes, more than the limit of {limit}")
        return body
    if encoding == "br" and "br" in also:
        return _brotli(body, limit)
    if encoding == "zstd" and "zstd" in also:
        return _zstd(body, limit)
    if encoding not in SUPPORTED_ENCODINGS:
        raise UnsupportedEncodingError(f"unsupported Content-Encoding '{content_encoding}'; send gzip, deflate or none")
    parts: list[bytes] = []
    position = members = size = 0
    view = memoryview(body)
    try:
        while position < len(body):
            members += 1
            if members > max_members:
                raise InvalidDataError(
                    f"{encoding} request body has more than {max_members} concatenated members; send one"
                )
            position, size = _inflate_member(view, position, size, limit, parts, encoding)
    except zlib.error as exc:
        raise InvalidDataError(f"request body is not valid {encoding}: {exc}") from None
    return b"".join(parts)


def _inflate_member(
    view: memoryview, position: int, size: int, limit: int, parts: list[bytes], encoding: str
) -> tuple[int, int]:
    """Inflate the member starting at `position` into `parts` (which hold `size` bytes so far);
    the position after the member and the new size."""
    inflater = zlib.decompressobj(_AUTO_GZIP_OR_ZLIB)
    feed = _FIRST_FEED
    while not inflater.eof:
        if position >= len(view):
            raise InvalidDataError(f"{encoding} request body is truncated")
        piece = view[position : position + feed]
        chunk = inflater.decompress(piece, limit - size + 1)
        size += len(chunk)
        if size > limit or inflater.unconsumed_tail:
            raise BodyTooLargeError(f"decompressed request body exceeds the limit of {limit} bytes")
        if chunk:
            parts.append(chunk)
        position += len(piece) - len(inflater.unused_data)
        feed = min(feed * 2, _MAX_FEED)
    return position, size


def _brotli(body: bytes, limit: int) -> bytes:
    import brotli  # type: ignore[import-not-found]  # imported when a br body arrives

    inflater = brotli.Decompressor()
    parts: list[bytes] = []
    size = 0
    try:
        chunk = inflater.process(body, output_buffer_limit=limit + 1)
        while True:
            size += len(chunk)
            if size > limit:
                raise BodyTooLargeError(f"decompressed request body exceeds the limit of {limit} bytes")
            parts.append(chunk)
            if inflater.is_finished() or inflater.can_accept_more_data():
                break
            chunk = inflater.process(b"", output_buffer_limit=limit - size + 1)
    except brotli.error as exc:
        raise InvalidDataError(f"request body is not valid br: {exc}") from None
    if not inflater.is_finished():
        raise InvalidDataError("br request body is truncated")
    return b"".join(parts)


def _zstd(body: bytes, limit: int) -> bytes:
    import zstandard

    try:
        with zstandard.ZstdDecompressor().stream_reader(body) as reader:
            data = reader.read(limit + 1)
    except zstandard.ZstdError as exc:
        raise InvalidDataError(f"request body is not valid zstd: {exc}") from None
    if len(data) > limit:
        raise BodyTooLargeError(f"decompressed request body exceeds the limit of {limit} bytes")
    return data
