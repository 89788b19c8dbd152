"""Envelope framing as Relay reads it: explicit and implicit lengths, the optional trailing
newline, and errors that name the item."""

from __future__ import annotations

import base64
import zlib

import pytest

from summitcol.sentry.envelope import EnvelopeError, StoreBodyTooLargeError, parse_envelope, parse_store


def test_explicit_and_implicit_lengths_and_no_trailing_newline() -> None:
    body = (b'{"event_id":"9ec79c33ec9942ab8353589fcb2e04dc","dsn":"https://k@h/1"}\n'
            b'{"type":"attachment","length":10,"filename":"a.txt"}\n\xef\xbb\xbfHello\r\n\n'
            b'{"type":"event"}\n{"message":"hi"}\n'
            b'{"type":"session","length":0}\n\n'
            b'{"type":"client_report"}\n{"discarded_events":[]}')
    envelope = parse_envelope(body)
    assert envelope.headers == {"event_id": "9ec79c33ec9942ab8353589fcb2e04dc", "dsn": "https://k@h/1"}
    assert envelope.event_id == "9ec79c33ec9942ab8353589fcb2e04dc"
    assert [(i.index, i.type, i.payload) for i in envelope.items] == [
        (0, "attachment", b"\xef\xbb\xbfHello\r\n"),  # a \r before the newline belongs to the payload
        (1, "event", b'{"message":"hi"}'),
        (2, "session", b""),
        (3, "client_report", b'{"discarded_events":[]}'),
    ]
    assert envelope.items[0].headers == {"type": "attachment", "length": 10, "filename": "a.txt"}
    assert envelope.items[1].json() == {"message": "hi"}


def test_headers_only_and_empty_header() -> None:
    assert parse_envelope(b"{}").items == [] and parse_envelope(b"{}\n").headers == {}


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"", "the envelope is empty; it needs at least its header line ({})"),
        (b"[]\n", "the envelope header must be a JSON object, got a JSON array"),
        (b'{}\n{"type":"event","length":50}\n{"a":1}\n', "envelope item 0 (type 'event'): header says length 50, but only 8 bytes follow; the envelope is truncated"),
        (b'{}\n{"type":"event","length":3}\n{"a":1}\n', "envelope item 0 (type 'event'): header says length 3, but the payload does not end there (no newline after it); the length header is wrong"),
        (b'{}\n{"type":"event","length":-1}\n{}\n', "envelope item 0 (type 'event'): header 'length' must be a whole number of bytes, got -1"),
        (b'{}\n{"type":"event","length":"7"}\n{}\n', "envelope item 0 (type 'event'): header 'length' must be a whole number of bytes, got '7'"),
        (b'{}\n{"type":"session"}\n{}\n{"type":""}\n{}\n', "envelope item 1: its header has no 'type'"),
        (b'{}\n{"type":"session"}\n{}\nnot json\n', "envelope item 1: its header is not valid JSON"),
    ],
)
def test_malformed_envelopes_name_the_item(body: bytes, message: str) -> None:
    with pytest.raises(EnvelopeError) as error:
        parse_envelope(body)
    assert str(error.value).startswith(message)


def test_item_payload_must_be_an_object_when_read_as_json() -> None:
    envelope = parse_envelope(b'{}\n{"type":"event"}\n"text"\n')
    with pytest.raises(EnvelopeError, match=r"^envelope item 0 \(type 'event'\): payload must be a JSON object, got a JSON string$"):
        envelope.items[0].json()
    with pytest.raises(EnvelopeError, match=r"^envelope item 0 \(type 'event'\): payload is not valid JSON"):
        parse_envelope(b'{}\n{"type":"event"}\n{nope\n').items[0].json()


def test_store_bodies_plain_and_base64_zlib_with_a_cap() -> None:
    assert parse_store(b' {"message": "x"}', 100) == {"message": "x"}
    assert parse_store(base64.b64encode(zlib.compress(b'{"message": "y"}')), 100) == {"message": "y"}
    with pytest.raises(StoreBodyTooLargeError, match="^the store body inflates to more than 1000 bytes$"):
        parse_store(base64.b64encode(zlib.compress(b'{"m": "' + b"z" * 5000 + b'"}')), 1000)
    with pytest.raises(EnvelopeError, match=r"^the store body is neither a JSON object nor base64\(zlib\(JSON\)\)$"):
        parse_store(b"garbage!", 100)
