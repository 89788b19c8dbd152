"""The C decoder agrees with protobuf (and the Python decoder after it) on the wire forms an
encoder never writes but protobuf defines: a singular message sent as several copies (merged
field by field), an extra earlier copy (scalars: last wins; repeated fields: concatenated), a
corrupt earlier copy (the whole request is invalid), fields in any order, and field numbers
up to and past 2^29 - 1 (past it: malformed).

The requests are hypothesis-made traces and logs, re-serialized field by field by `Rewriter`
from their descriptors, so every message is a candidate: resource, scope, log body,
`KeyValue.value`, span status, and the AnyValues inside arrays and kvlists.
"""

from __future__ import annotations

import os
import random
from typing import Any

import pytest
from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import DecodeError, Message
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from summitcol.component import Signal
from summitcol.exceptions import InvalidDataError
from summitcol.pdata import fastdecode
from summitcol.pdata.codec import decode_request
from summitcol.pdata.decoded import DEFAULT_LIMITS, DecodeLimits
from summitcol.pdata.logs import logs_from_otlp
from summitcol.pdata.traces import traces_from_otlp
from tests.pdata.test_roundtrip import log_requests, trace_requests

pytestmark = pytest.mark.skipif(not fastdecode.AVAILABLE, reason="the C extension is not built")
SETTINGS = settings(max_examples=int(os.environ.get("SUMMIT_WIRE_EXAMPLES", "40")), deadline=None, suppress_health_check=list(HealthCheck))
MAX_FIELD = 2**29 - 1


def varint(n: int) -> bytes:
    out = bytearray()
    while True:
        byte, n = n & 0x7F, n >> 7
        if not n:
            return bytes(out + bytes([byte]))
        out.append(byte | 0x80)


def delimited(number: int, payload: bytes) -> bytes:
    return varint(number << 3 | 2) + varint(len(payload)) + payload


class Rewriter:
    """Serializes a message field by field, rewriting it as `mode` says:

    * ``split``: each singular message may go as two copies whose concatenation is the original
      (protobuf merges them back: the same data), and fields are interleaved in random order
      (keeping the order within one field);
    * ``extra``: a singular message may be preceded by a copy of some of its fields (the data
      changes as protobuf defines: scalars last-wins, repeated fields concatenated);
    * ``corrupt``: one singular message is preceded by a copy that protobuf refuses (cut wire
      data, or invalid UTF-8 in a string);
    * ``field``: one message gets an unknown varint field numbered `field_number`.
    """

    def __init__(self, rng: random.Random, mode: str, field_number: int = 0) -> None:
        self.rng, self.mode, self.field_number = rng, mode, field_number
        self.pending = mode in ("corrupt", "field")  # one fault, placed at a random message

    def serialize(self, message: Message) -> bytes:
        return b"".join(self.chunks(message))

    def chunks(self, message: Message) -> list[bytes]:
        per_field: list[list[bytes]] = []
        for field, value in message.ListFields():
            repeated = field.is_repeated
            items = list(value) if repeated else [value]
            if field.type == FieldDescriptor.TYPE_MESSAGE:
                per_field.append([c for item in items for c in self.message_field(field.number, item, repeated)])
            else:
                per_field.append([self.scalar(message, field, item, repeated) for item in items])
        if self.mode == "field" and self.pending and self.rng.random() < 0.2:
            self.pending = False
            per_field.append([varint(self.field_number << 3) + b"\x01"])
        return self.interleave(per_field) if self.mode == "split" else [c for chunks in per_field for c in chunks]

    def message_field(self, number: int, item: Message, repeated: bool) -> list[bytes]:
        inner = self.chunks(item)
        if repeated:
            return [delimited(number, b"".join(inner))]
        rng, out = self.rng, []
        if self.mode == "extra" and rng.random() < 0.4:
            out.append(delimited(number, b"".join(c for c in inner if rng.random() < 0.5)))
        if self.mode == "corrupt" and self.pending and rng.random() < 0.3:
            self.pending = False
            out.append(delimited(number, self.corrupt(item)))
        if self.mode == "split" and rng.random() < 0.5:
            cut = rng.randint(0, len(inner))
            return [delimited(number, b"".join(inner[:cut])), delimited(number, b"".join(inner[cut:]))]
        return [*out, delimited(number, b"".join(inner))]

    def corrupt(self, item: Message) -> bytes:
        strings = [f for f in item.DESCRIPTOR.fields if f.type == FieldDescriptor.TYPE_STRING]
        if strings and self.rng.random() < 0.5:
            return delimited(strings[0].number, b"ok\xc3\x28")  # invalid UTF-8
        return b"\x08"  # a varint field whose value is cut off

    @staticmethod
    def scalar(message: Message, field: FieldDescriptor, item: Any, repeated: bool) -> bytes:
        single = type(message)()
        if repeated:
            getattr(single, field.name).append(item)
        else:
            setattr(single, field.name, item)
        return single.SerializeToString()

    def interleave(self, per_field: list[list[bytes]]) -> list[bytes]:
        queues = [list(reversed(chunks)) for chunks in per_field if chunks]
        out = []
        while queues:
            queue = self.rng.choice(queues)
            out.append(queue.pop())
            if not queue:
                queues.remove(queue)
        return out


DECODERS = {
    Signal.TRACES: (ExportTraceServiceRequest, traces_from_otlp, fastdecode.traces_from_wire),
    Signal.LOGS: (ExportLogsServiceRequest, logs_from_otlp, fastdecode.logs_from_wire),
}


def python_decode(signal: Signal, body: bytes) -> Any:
    """protobuf then the Python decoder: the reference; None when the bytes are refused."""
    request_type, from_otlp, _ = DECODERS[signal]
    try:
        return from_otlp(request_type.FromString(body), DEFAULT_LIMITS)
    except (DecodeError, InvalidDataError):
        return None


def assert_c_equals_python(signal: Signal, body: bytes) -> Any:
    """The C decoder gives protobuf's data, or refuses what protobuf refuses (None: the codec then
    lets protobuf word the error; or its own InvalidDataError). Returns the reference result."""
    expected = python_decode(signal, body)
    try:
        got = DECODERS[signal][2](body, DEFAULT_LIMITS)
    except InvalidDataError:
        got = None
    if expected is None:
        assert got is None
        with pytest.raises(InvalidDataError):
            decode_request(signal, body, "proto")
        return None
    if got is not None:
        batch, rejections = got
        assert batch.schema.equals(expected[0].schema)
        for name in expected[0].schema.names:
            assert batch.column(name).equals(expected[0].column(name)), name
        assert (rejections.count, rejections.reasons) == (expected[1].count, expected[1].reasons)
    data, rejections = decode_request(signal, body, "proto")
    table = data.tables.get("spans" if signal is Signal.TRACES else "logs")
    assert (table.num_rows if table is not None else 0) == expected[0].num_rows
    assert rejections.count == expected[1].count
    return expected


requests = st.one_of(
    st.tuples(st.just(Signal.TRACES), trace_requests()), st.tuples(st.just(Signal.LOGS), log_requests())
)


@SETTINGS
@given(requests, st.integers(0, 2**32).map(random.Random))
def test_split_copies_merge_into_the_same_data(signal_request: tuple[Signal, Message], rng: random.Random) -> None:
    signal, request = signal_request
    body = Rewriter(rng, "split").serialize(request)
    assert DECODERS[signal][0].FromString(body) == request  # protobuf's reading: the same message
    expected = assert_c_equals_python(signal, body)
    original = python_decode(signal, request.SerializeToString())
    for name in original[0].schema.names:
        assert expected[0].column(name).equals(original[0].column(name)), name


@SETTINGS
@given(requests, st.integers(0, 2**32).map(random.Random))
def test_extra_earlier_copies_decode_as_protobuf_merges_them(signal_request: tuple[Signal, Message], rng: random.Random) -> None:
    signal, request = signal_request
    assert_c_equals_python(signal, Rewriter(rng, "extra").serialize(request))


@SETTINGS
@given(requests, st.integers(0, 2**32).map(random.Random))
def test_a_corrupt_earlier_copy_makes_the_request_invalid(signal_request: tuple[Signal, Message], rng: random.Random) -> None:
    signal, request = signal_request
    rewriter = Rewriter(rng, "corrupt")
    body = rewriter.serialize(request)
    expected = assert_c_equals_python(signal, body)
    assert (expected is None) == (not rewriter.pending)  # placed: refused; not placed: valid


@SETTINGS
@given(requests, st.integers(0, 2**32).map(random.Random), st.sampled_from([MAX_FIELD, MAX_FIELD + 1, 2**32 - 1, 2**32 + 1, 2**35, 2**61 - 1]))
def test_field_numbers_past_2_29_are_malformed(signal_request: tuple[Signal, Message], rng: random.Random, number: int) -> None:
    signal, request = signal_request
    rewriter = Rewriter(rng, "field", number)
    body = rewriter.serialize(request)
    expected = assert_c_equals_python(signal, body)
    if not rewriter.pending:  # the field was placed
        assert (expected is None) == (number > MAX_FIELD)


def test_a_trace_id_under_field_2_32_plus_1_is_not_read_as_field_1() -> None:
    """The probe's case: 2^32 + 1 truncated to 32 bits is field 1 (Span.trace_id)."""
    request = ExportTraceServiceRequest()
    request.resource_spans.add().scope_spans.add().spans.add(trace_id=b"\x01" * 16, span_id=b"\x02" * 8)
    span = request.resource_spans[0].scope_spans[0].spans[0].SerializeToString()
    span = span.replace(b"\x0a\x10", varint((2**32 + 1) << 3 | 2) + b"\x10", 1)
    body = delimited(1, delimited(2, delimited(2, span)))
    assert fastdecode.traces_from_wire(body, DEFAULT_LIMITS) is None
    with pytest.raises(InvalidDataError, match="not a valid ExportTraceServiceRequest protobuf"):
        decode_request(Signal.TRACES, body, "proto")


def test_a_column_past_the_offset_limit_is_refused_not_wrapped() -> None:
    """Arrow string offsets are int32; the C decoder refuses a request whose text in one column
    would pass them (shown with the limit lowered: a real one needs a 2 GiB request)."""
    request = ExportTraceServiceRequest()
    request.resource_spans.add().scope_spans.add().spans.add(name="n" * 64, trace_id=b"\x01" * 16, span_id=b"\x02" * 8)
    body = request.SerializeToString()
    assert fastdecode.traces_from_wire(body, DecodeLimits(max_column_bytes=64)) is not None
    with pytest.raises(InvalidDataError, match="more than 2 GiB of text into one column"):
        fastdecode.traces_from_wire(body, DecodeLimits(max_column_bytes=63))
