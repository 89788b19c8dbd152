"""The compiled traces and logs decoders give exactly the Python decoders' batch and rejections, on
generated requests, on every value kind (including what it hands back to Python), on invalid
spans; malformed bytes and invalid UTF-8 fall back to the protobuf library's error."""

from __future__ import annotations

import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue

from summitcol.component import Signal
from summitcol.exceptions import InvalidDataError
from summitcol.pdata import fastdecode
from summitcol.pdata.codec import decode_request
from summitcol.pdata.decoded import DEFAULT_LIMITS, DecodeLimits
from summitcol.pdata.logs import logs_from_otlp
from summitcol.pdata.traces import traces_from_otlp
from tests.pdata.test_roundtrip import log_requests, trace_requests

pytestmark = pytest.mark.skipif(not fastdecode.AVAILABLE, reason="the C extension is not built")
SETTINGS = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def assert_same(request: ExportTraceServiceRequest, limits: DecodeLimits = DEFAULT_LIMITS) -> None:
    expected, expected_rejections = traces_from_otlp(request, limits)
    got = fastdecode.traces_from_wire(request.SerializeToString(), limits)
    assert got is not None
    batch, rejections = got
    for name in expected.schema.names:
        assert batch.column(name).equals(expected.column(name)), name
    assert batch.schema.equals(expected.schema)
    assert (rejections.count, rejections.reasons) == (expected_rejections.count, expected_rejections.reasons)


@SETTINGS
@given(trace_requests())
def test_equal_to_the_python_decoder(request: ExportTraceServiceRequest) -> None:
    assert_same(request)


@SETTINGS
@given(trace_requests(), st.integers(0, 3))
def test_same_rejections_with_a_small_attribute_limit(request: ExportTraceServiceRequest, limit: int) -> None:
    assert_same(request, DecodeLimits(max_attributes=limit))


def test_every_value_kind() -> None:
    request = ExportTraceServiceRequest()
    span = request.resource_spans.add().scope_spans.add().spans.add(trace_id=b"\x01" * 16, span_id=b"\x02" * 8)
    doubles = [0.0, -0.0, 1.0, 0.1, 1e21, 1e22, 1e300, 5e-324, 1.5e-7, 123456789.125, math.inf, -math.inf, math.nan]
    for i, value in enumerate(doubles):
        span.attributes.add(key=f"d{i}", value=AnyValue(double_value=value))
    for i, value in enumerate([0, -1, 2**63 - 1, -(2**63)]):
        span.attributes.add(key=f"i{i}", value=AnyValue(int_value=value))
    for i, value in enumerate([b"", b"a", b"ab", b"abc", bytes(range(256))]):
        span.attributes.add(key=f"b{i}", value=AnyValue(bytes_value=value))
    nested = AnyValue()
    nested.kvlist_value.values.add(key="k", value=AnyValue(string_value="v"))
    array = AnyValue()
    array.array_value.values.extend([AnyValue(int_value=1), nested])
    span.attributes.extend([KeyValue(key="kv", value=nested), KeyValue(key="arr", value=array), KeyValue(key="empty"), KeyValue(key="unset", value=AnyValue())])
    span.attributes.add(key="ünï", value=AnyValue(string_value="çødé ✓ 𝄞"))
    span.attributes.add(key="t", value=AnyValue(bool_value=True))
    span.attributes.add(key="f", value=AnyValue(bool_value=False))
    span.kind = 9  # unknown enum numbers are kept as their digits
    span.status.code = 7
    assert_same(request)


def test_invalid_spans_are_rejected_like_python() -> None:
    request = ExportTraceServiceRequest()
    spans = request.resource_spans.add().scope_spans.add().spans
    spans.add(name="ok", trace_id=b"\x01" * 16, span_id=b"\x02" * 8)
    spans.add(name="short trace", trace_id=b"\x01" * 3, span_id=b"\x02" * 8)
    spans.add(name="no span id", trace_id=b"\x01" * 16)
    spans.add(name="bad parent", trace_id=b"\x01" * 16, span_id=b"\x02" * 8, parent_span_id=b"\x03")
    link_bad = spans.add(name="bad link", trace_id=b"\x01" * 16, span_id=b"\x02" * 8)
    link_bad.links.add(trace_id=b"\x01", span_id=b"\x02" * 8)
    spans.add(name="bad link span", trace_id=b"\x01" * 16, span_id=b"\x02" * 8).links.add(trace_id=b"\x01" * 16, span_id=b"\x02" * 3)
    spans.add(name="trace-only link", trace_id=b"\x01" * 16, span_id=b"\x02" * 8).links.add(trace_id=b"\x04" * 16)
    # a resource whose only span is invalid must not appear at all
    request.resource_spans.add().scope_spans.add().spans.add(name="alone", trace_id=b"")
    assert_same(request)
    batch, rejections = fastdecode.traces_from_wire(request.SerializeToString(), DEFAULT_LIMITS)  # type: ignore[misc]
    assert batch.column("SpanName").to_pylist() == ["ok", "trace-only link"] and rejections.count == 6
    assert batch.column("Links.SpanId").to_pylist() == [[], [""]]


@pytest.mark.parametrize(
    "body",
    [
        b"\x0a\x05\x12\x03",  # truncated nested message
        b"\x0a\xff\xff\xff\xff\x0f",  # length beyond the end
        b"\x0b",  # wire type 3 (groups)
        b"\x0a\x0c\x12\x0a\x12\x08\x2a\x02\xc3\x28" + b"\x0a\x00\x12\x00",  # invalid UTF-8 in a span name
    ],
)
def test_malformed_bytes_fall_back_to_the_protobuf_error(body: bytes) -> None:
    assert fastdecode.traces_from_wire(body, DEFAULT_LIMITS) is None
    with pytest.raises(InvalidDataError):
        decode_request(Signal.TRACES, body, "proto")


def test_invalid_utf8_anywhere_is_refused() -> None:
    request = ExportTraceServiceRequest()
    span = request.resource_spans.add().scope_spans.add().spans.add(name="PLACEHOLDER", trace_id=b"\x01" * 16, span_id=b"\x02" * 8)
    span.attributes.add(key="k", value=AnyValue(string_value="vvvv"))
    body = request.SerializeToString()
    for good, bad in [(b"PLACEHOLDER", b"PLACEHOL\xed\xa0\x80"), (b"vvvv", b"v\xc0\xafv")]:
        broken = body.replace(good, bad)
        assert fastdecode.traces_from_wire(broken, DEFAULT_LIMITS) is None
        with pytest.raises(InvalidDataError):
            decode_request(Signal.TRACES, broken, "proto")


def test_double_texts_match_python_on_hard_values() -> None:
    """Every power of two (lopsided rounding intervals), subnormals, random bit patterns."""
    import random
    import struct

    from summitcol.pdata.values import format_double

    rng = random.Random(11)
    values = [math.ldexp(1.0, k) for k in range(-1074, 1024)] + [-math.ldexp(1.0, k) for k in range(-1074, 1024, 7)]
    values += [struct.unpack("<d", rng.randbytes(8))[0] for _ in range(20000)]
    values += [math.ldexp(rng.random(), -1022 - rng.randint(0, 52)) for _ in range(2000)]
    values += [round(rng.random() * 1000, rng.randint(0, 6)) for _ in range(5000)]
    values = [v for v in values if math.isfinite(v)]
    for start in range(0, len(values), 5000):
        part = values[start : start + 5000]
        request = ExportTraceServiceRequest()
        span = request.resource_spans.add().scope_spans.add().spans.add(trace_id=b"\x01" * 16, span_id=b"\x02" * 8)
        for i, value in enumerate(part):
            span.attributes.add(key=str(i), value=AnyValue(double_value=value))
        got = fastdecode.traces_from_wire(request.SerializeToString(), DecodeLimits(max_attributes=10_000))
        assert got is not None
        texts = got[0].column("SpanAttributes").items.field("value").to_pylist()
        assert texts == [format_double(v) for v in part]


def assert_same_logs(request: ExportLogsServiceRequest, limits: DecodeLimits = DEFAULT_LIMITS) -> None:
    expected, expected_rejections = logs_from_otlp(request, limits)
    got = fastdecode.logs_from_wire(request.SerializeToString(), limits)
    assert got is not None
    batch, rejections = got
    for name in expected.schema.names:
        assert batch.column(name).equals(expected.column(name)), name
    assert (rejections.count, rejections.reasons) == (expected_rejections.count, expected_rejections.reasons)


@SETTINGS
@given(log_requests(), st.integers(0, 3))
def test_logs_equal_to_the_python_decoder(request: ExportLogsServiceRequest, limit: int) -> None:
    assert_same_logs(request)
    assert_same_logs(request, DecodeLimits(max_attributes=limit))


def test_logs_bodies_and_invalid_records() -> None:
    request = ExportLogsServiceRequest()
    records = request.resource_logs.add().scope_logs.add().log_records
    records.add(time_unix_nano=1)  # no body at all: BodyType null
    records.add(time_unix_nano=2, body=AnyValue())  # a present, empty body
    records.add(time_unix_nano=3, body=AnyValue(int_value=7), trace_id=b"\x01" * 16, span_id=b"\x02" * 8)
    kv = AnyValue()
    kv.kvlist_value.values.add(key="k", value=AnyValue(double_value=1.5))
    records.add(time_unix_nano=4, body=kv, event_name="e", severity_text="WARN", severity_number=13)
    records.add(time_unix_nano=5, trace_id=b"\x01" * 3)  # rejected: short trace id
    records.add(time_unix_nano=6, span_id=b"\x02" * 9)  # rejected: long span id
    assert_same_logs(request)
