"""OTLP/JSON bodies from the OTLP specification's examples are accepted over HTTP, ids decoded as hex."""

from __future__ import annotations

import http.client
from pathlib import Path

import orjson
import pytest
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import ExportMetricsServiceRequest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from summitcol.component import Signal
from summitcol.exceptions import InvalidDataError
from summitcol.pdata.codec import decode_request
from tests.helpers import Collector, free_port, pipelines_yaml, read_file_export, receiver_yaml, wait_for

TESTDATA = Path(__file__).parent / "testdata"
TRACE_ID = bytes.fromhex("5b8efff798038103d269b633813fc60c")
SPAN_ID = bytes.fromhex("eee19b7ec3c1b174")


def test_spec_examples_over_http(tmp_path: Path) -> None:
    http_port = free_port()
    out = tmp_path / "out.jsonl"
    config = f"""
receivers:
{receiver_yaml(None, http_port)}
exporters:
  file:
    path: {out}
{pipelines_yaml("otlp", "", "file")}
"""
    with Collector(tmp_path, config):
        for name, path in (("trace", "/v1/traces"), ("logs", "/v1/logs"), ("metrics", "/v1/metrics")):
            connection = http.client.HTTPConnection("127.0.0.1", http_port, timeout=30)
            connection.request("POST", path, body=(TESTDATA / f"{name}.json").read_bytes(), headers={"Content-Type": "application/json"})
            response = connection.getresponse()
            assert response.status == 200
            assert response.getheader("Content-Type") == "application/json"
            assert orjson.loads(response.read()) == {}
            connection.close()
        assert wait_for(lambda: all(read_file_export(out).values()))

    stored = read_file_export(out)
    span = stored[ExportTraceServiceRequest][0].resource_spans[0].scope_spans[0].spans[0]
    assert (span.trace_id, span.span_id, span.parent_span_id) == (TRACE_ID, SPAN_ID, bytes.fromhex("eee19b7ec3c1b173"))
    assert (span.name, span.kind, span.start_time_unix_nano, span.end_time_unix_nano) == (
        "I'm a server span", 2, 1544712660000000000, 1544712661000000000
    )
    scope_logs = stored[ExportLogsServiceRequest][0].resource_logs[0].scope_logs[0]
    assert scope_logs.scope.attributes[0].value.string_value == "some scope attribute"
    record = scope_logs.log_records[0]
    assert (record.trace_id, record.span_id, record.severity_number) == (TRACE_ID, SPAN_ID, 10)
    attributes = {kv.key: kv.value for kv in record.attributes}
    assert attributes["int.attribute"].int_value == 10
    assert attributes["double.attribute"].double_value == 637.704
    assert attributes["boolean.attribute"].bool_value is True
    assert [v.string_value for v in attributes["array.attribute"].array_value.values] == ["many", "values"]
    assert attributes["map.attribute"].kvlist_value.values[0].key == "some.map.key"
    metrics = {m.name: m for m in stored[ExportMetricsServiceRequest][0].resource_metrics[0].scope_metrics[0].metrics}
    assert metrics["my.counter"].sum.data_points[0].as_double == 5
    assert metrics["my.histogram"].histogram.data_points[0].exemplars[0].trace_id == TRACE_ID
    assert list(metrics["my.exponential.histogram"].exponential_histogram.data_points[0].positive.bucket_counts) == [0, 2]


def test_ids_are_case_insensitive_hex_in_arrow() -> None:
    data, _ = decode_request(Signal.TRACES, (TESTDATA / "trace.json").read_bytes(), "json")
    batch = data.tables["spans"]
    assert batch.column("TraceId").to_pylist() == [TRACE_ID.hex()]
    assert batch.column("SpanId").to_pylist() == [SPAN_ID.hex()]


def test_int64_as_number_or_string_and_unknown_fields() -> None:
    body = b"""{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"5b8efff798038103d269b633813fc60c",
      "spanId":"eee19b7ec3c1b174","name":"n","startTimeUnixNano":1544712660000000000,
      "endTimeUnixNano":"1544712660000000001","futureField":{"x":1},"attributes":[{"key":"k","value":{"intValue":12}}]}]}]}]}"""
    data, _ = decode_request(Signal.TRACES, body, "json")
    batch = data.tables["spans"]
    assert batch.column("Duration").to_pylist() == [1]
    assert batch.column("SpanAttributes").to_pylist() == [[("k", {"type": 2, "value": "12"})]]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"{not json", "not valid JSON"),
        (b"[]", "must be a JSON object"),
        (b'{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"zz"}]}]}]}', "Span.traceId: expected 32 hex digits"),
        (b'{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"5b8efff7 98038103 d269b633 813fc60c"}]}]}]}', "Span.traceId: expected 32 hex digits"),
        (b'{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"5b8efff798038103d269b633813fc6"}]}]}]}', "Span.traceId: expected 32 hex digits"),
        (b'{"resourceSpans":[{"scopeSpans":[{"spans":[{"spanId":"eee19b7ec3c1b1740"}]}]}]}', "Span.spanId: expected 16 hex digits"),
        (b'{"resourceSpans":[{"scopeSpans":[{"spans":[{"parentSpanId":" eee19b7ec3c1b17"}]}]}]}', "Span.parentSpanId: expected 16 hex digits"),
        (b'{"resourceSpans":[{"scopeSpans":[{"spans":[{"links":[{"spanId":"eee19b7ec3c1b17g"}]}]}]}]}', "Link.spanId: expected 16 hex digits"),
        (b'{"resourceSpans":[{"resource":{"attributes":[{"key":"k","value":{"bytesValue":"!!not base64!!"}}]}}]}', "AnyValue.bytesValue: expected base64"),
        (b'{"resourceSpans":[{"resource":{"attributes":[{"key":"k","value":{"bytesValue":"aGVs bG8="}}]}}]}', "AnyValue.bytesValue: expected base64"),
        (b'{"resourceSpans":[{"scopeSpans":[{"spans":[{"droppedAttributesCount":"abc"}]}]}]}', "Span.droppedAttributesCount: expected an integer"),
        (b'{"resourceSpans":{"a":1}}', "ExportTraceServiceRequest.resourceSpans: expected a list"),
        (b'{"resourceSpans":[{"scopeSpans":[{"spans":[{"kind":"x"}]}]}]}', "Span.kind: expected an integer"),
        (b'\xff\xfe{"resourceSpans":[]}', "not valid JSON"),
    ],
)
def test_bad_json_names_the_problem(body: bytes, message: str) -> None:
    with pytest.raises(InvalidDataError, match=message):
        decode_request(Signal.TRACES, body, "json")


def test_valid_base64_and_empty_ids_are_read() -> None:
    """Padded, unpadded and URL-safe base64 are all proto3 JSON; an empty id means "not set"."""
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest as Request

    from summitcol.pdata import otlp_json

    for text, expected in (("aGVsbG8=", b"hello"), ("aGVsbG8", b"hello"), ("-_8", b"\xfb\xff"), ("+/8=", b"\xfb\xff")):
        body = b'{"resourceSpans":[{"resource":{"attributes":[{"key":"k","value":{"bytesValue":"%s"}}]},"scopeSpans":[{"spans":[{"parentSpanId":""}]}]}]}' % text.encode()
        request = otlp_json.parse(body, Request())
        assert request.resource_spans[0].resource.attributes[0].value.bytes_value == expected
        assert request.resource_spans[0].scope_spans[0].spans[0].parent_span_id == b""
