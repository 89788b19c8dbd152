"""Sentry envelopes and the legacy store body, read as Relay reads them.

    Envelope = Headers { "\\n" Item } [ "\\n" ]        Item = Headers "\\n" Payload

Headers are one line of compact JSON. An item with a `length` header has exactly that many payload
bytes, followed by "\\n" or the end of the body; without `length` (the JS SDK's JSON items) the
payload runs to the next "\\n" or the end. Anything else is malformed, and the error names the item
(its 0-based index among the items and its type), so an SDK author can find it.

Nothing here knows about pipelines: the receiver turns the items into log records and spans.
"""

from __future__ import annotations

import base64
import binascii
import zlib
from dataclasses import dataclass
from typing import Any

import orjson

# Items the receiver turns into telemetry; every other type is skipped (and counted), as a Relay
# does with items it does not process.
EVENT, TRANSACTION = "event", "transaction"
SESSION, SESSIONS, CLIENT_REPORT, SPAN = "session", "sessions", "client_report", "span"
REPLAY_EVENT, REPLAY_RECORDING = "replay_event", "replay_recording"


class EnvelopeError(ValueError):
    """The envelope (or store body) cannot be read; the message says where."""


@dataclass(frozen=True, slots=True)
class Item:
    type: str
    headers: dict[str, Any]
    payload: bytes
    index: int  # among the envelope's items, from 0: how errors name the item

    def json(self) -> dict[str, Any]:
        """The payload as a JSON object (event, transaction); EnvelopeError naming the item if not."""
        try:
            value = orjson.loads(self.payload)
        except orjson.JSONDecodeError as exc:
            raise EnvelopeError(f"{self.name()}: payload is not valid JSON: {exc}") from None
        if not isinstance(value, dict):
            raise EnvelopeError(f"{self.name()}: payload must be a JSON object, got a JSON {_json_kind(value)}")
        return value

    def name(self) -> str:
        return f"envelope item {self.index} (type '{self.type}')"


@dataclass(frozen=True, slots=True)
class Envelope:
    headers: dict[str, Any]
    items: list[Item]

    @property
    def event_id(self) -> str:
        value = self.headers.get("event_id")
        return value if isinstance(value, str) else ""


def parse_envelope(body: bytes) -> Envelope:
    """The envelope in `body`; EnvelopeError naming the envelope header or the item at fault."""
    if not body.strip():
        raise EnvelopeError("the envelope is empty; it needs at least its header line ({})")
    end = body.find(b"\n")
    line = body if end < 0 else body[:end]
    headers = _header_object(line, "the envelope header")
    position = len(body) if end < 0 else end + 1
    items: list[Item] = []
    size = len(body)
    while position < size:
        if body[position : position + 1] == b"\n":  # blank line between items (or the trailing one)
            position += 1
            continue
        index = len(items)
        end = body.find(b"\n", position)
        line = body[position:] if end < 0 else body[position:end]
        item_headers = _header_object(line, f"envelope item {index}: its header")
        kind = item_headers.get("type")
        if not isinstance(kind, str) or not kind:
            raise EnvelopeError(f"envelope item {index}: its header has no 'type'")
        name = f"envelope item {index} (type '{kind}')"
        start = size if end < 0 else end + 1
        length = item_headers.get("length")
        if length is None:  # implicit length: up to the next newline
            stop = body.find(b"\n", start)
            stop = size if stop < 0 else stop
            payload = body[start:stop]
            position = stop + 1
        else:
            if not isinstance(length, int) or isinstance(length, bool) or length < 0:
                raise EnvelopeError(f"{name}: header 'length' must be a whole number of bytes, got {length!r}")
            if start + length > size:
                raise EnvelopeError(
                    f"{name}: header says length {length}, but only {size - start} bytes follow; "
                    "the envelope is truncated"
                )
            payload = body[start : start + length]
            after = start + length
            if after < size and body[after : after + 1] != b"\n":
                raise EnvelopeError(
                    f"{name}: header says length {length}, but the payload does not end there "
                    "(no newline after it); the length header is wrong"
                )
            position = after + 1
        items.append(Item(kind, item_headers, payload, index))
    return Envelope(headers, items)


class StoreBodyTooLargeError(EnvelopeError):
    """A base64(zlib(JSON)) store body inflates past the limit."""


def parse_store(body: bytes, limit: int) -> dict[str, Any]:
    """The event of a legacy `/store/` body: JSON, or base64(zlib(JSON)) as old SDKs send it
    without a Content-Encoding header (inflated to at most `limit` bytes)."""
    text = body.lstrip()
    if text[:1] not in (b"{", b"["):  # base64 never starts with either
        try:
            inflater = zlib.decompressobj()
            text = inflater.decompress(base64.b64decode(text, validate=False), limit + 1)
        except (binascii.Error, zlib.error, ValueError):
            raise EnvelopeError("the store body is neither a JSON object nor base64(zlib(JSON))") from None
        if len(text) > limit or inflater.unconsumed_tail:
            raise StoreBodyTooLargeError(f"the store body inflates to more than {limit} bytes")
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        raise EnvelopeError(f"the store body is not valid JSON: {exc}") from None
    if not isinstance(value, dict):
        raise EnvelopeError(f"the store body must be a JSON object, got a JSON {_json_kind(value)}")
    return value


def _header_object(line: bytes, what: str) -> dict[str, Any]:
    try:
        value = orjson.loads(line)
    except orjson.JSONDecodeError as exc:
        raise EnvelopeError(f"{what} is not valid JSON: {exc}") from None
    if not isinstance(value, dict):
        raise EnvelopeError(f"{what} must be a JSON object, got a JSON {_json_kind(value)}")
    return value


def _json_kind(value: Any) -> str:
    return {list: "array", str: "string", int: "number", float: "number", bool: "boolean"}.get(type(value), "null")
