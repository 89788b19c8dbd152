"""Requests that can never decode are refused permanently (HTTP 400, gRPC INVALID_ARGUMENT), over
real receivers: AnyValue nested past MAX_ANYVALUE_DEPTH (protobuf and OTLP/JSON), invalid UTF-8
inside an array or kvlist, a field number past 2^29 - 1. And what protobuf merges (a resource or
a log body sent as two copies) is stored merged."""

from __future__ import annotations

import http.client

import grpc
import orjson
import pytest
from google.rpc import status_pb2
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue

from summitcol.pdata import otlp_json
from summitcol.pdata.values import MAX_ANYVALUE_DEPTH
from tests.helpers import (
    Collector,
    free_port,
    pipelines_yaml,
    read_file_export,
    receiver_yaml,
    spans_by_id,
    wait_for,
)
from tests.pdata.test_wire_merge import delimited, varint

METHODS = {
    "/v1/traces": "/opentelemetry.proto.collector.trace.v1.TraceService/Export",
    "/v1/logs": "/opentelemetry.proto.collector.logs.v1.LogsService/Export",
    "/v1/metrics": "/opentelemetry.proto.collector.metrics.v1.MetricsService/Export",
}
TOO_DEEP = f"AnyValue nested deeper than {MAX_ANYVALUE_DEPTH} levels"


@pytest.fixture(scope="module")
def collector(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    tmp = tmp_path_factory.mktemp("decode-errors")
    grpc_port, http_port = free_port(), free_port()
    out = tmp / "out.jsonl"
    config = f"""
receivers:
{receiver_yaml(grpc_port, http_port)}
exporters:
  file:
    path: {out}
{pipelines_yaml("otlp", "", "file")}
  workers: 1
"""
    with Collector(tmp, config) as running:
        running.grpc_port, running.http_port, running.out = grpc_port, http_port, out  # type: ignore[attr-defined]
        yield running


def nested(depth: int, kind: str) -> bytes:
    """An AnyValue `depth` levels deep (1: a string), through arrays or kvlists, as wire bytes
    (the protobuf library cannot even build one as deep as the probe sent)."""
    value = delimited(1, b"leaf")
    for _ in range(depth - 1):
        # ArrayValue.values (1) / KeyValueList.values (1) = KeyValue(key 1, value 2)
        inner = delimited(1, value) if kind == "array" else delimited(1, delimited(1, b"k") + delimited(2, value))
        value = delimited(5 if kind == "array" else 6, inner)
    return value


def nested_json(depth: int, kind: str) -> bytes:
    """The same as OTLP/JSON text (deeper than orjson would write)."""
    if kind == "array":
        return b'{"arrayValue":{"values":[' * (depth - 1) + b'{"stringValue":"leaf"}' + b"]}}" * (depth - 1)
    return b'{"kvlistValue":{"values":[{"key":"k","value":' * (depth - 1) + b'{"stringValue":"leaf"}' + b"}]}}" * (depth - 1)


def span_request(name: str) -> ExportTraceServiceRequest:
    request = ExportTraceServiceRequest()
    rs = request.resource_spans.add()
    rs.resource.attributes.add(key="service.name", value=AnyValue(string_value="decode-errors"))
    rs.scope_spans.add().spans.add(name=name, trace_id=b"\x07" * 16, span_id=name.encode()[:8].ljust(8, b"."))
    return request


def span_body(name: str, value: bytes) -> bytes:
    """A request of one span whose attribute "v" is the AnyValue `value` (wire bytes)."""
    rs = span_request(name).resource_spans[0]
    span = rs.scope_spans[0].spans[0].SerializeToString() + delimited(9, delimited(1, b"v") + delimited(2, value))
    return delimited(1, delimited(1, rs.resource.SerializeToString()) + delimited(2, delimited(2, span)))


def log_body(value: bytes) -> bytes:
    """A logs request of one record whose body is `value` (AnyValue wire bytes)."""
    record = b"\x09" + (1).to_bytes(8, "little") + delimited(5, value)  # time_unix_nano, body
    return delimited(1, delimited(2, delimited(2, record)))


def metric_body(value: bytes) -> bytes:
    """A metrics request of one gauge point whose attribute "v" is `value`."""
    point = b"\x31" + (1).to_bytes(8, "little") + delimited(7, delimited(1, b"v") + delimited(2, value))  # as_int
    metric = delimited(1, b"m") + delimited(5, delimited(1, point))
    return delimited(1, delimited(2, delimited(2, metric)))


def post(collector, path: str, body: bytes, content_type: str = "application/x-protobuf") -> tuple[int, str]:  # type: ignore[no-untyped-def]
    connection = http.client.HTTPConnection("127.0.0.1", collector.http_port, timeout=60)
    connection.request("POST", path, body=body, headers={"Content-Type": content_type})
    response = connection.getresponse()
    payload = response.read()
    connection.close()
    if response.status == 200:
        return 200, ""
    if content_type == "application/json":
        return response.status, orjson.loads(payload)["message"]
    return response.status, status_pb2.Status.FromString(payload).message


def call(collector, path: str, body: bytes) -> tuple[grpc.StatusCode, str]:  # type: ignore[no-untyped-def]
    channel = grpc.insecure_channel(f"127.0.0.1:{collector.grpc_port}")
    try:
        channel.unary_unary(METHODS[path])(body, timeout=60)
        return grpc.StatusCode.OK, ""
    except grpc.RpcError as error:
        return error.code(), error.details()
    finally:
        channel.close()


def assert_refused(collector, path: str, body: bytes, fragment: str) -> None:  # type: ignore[no-untyped-def]
    status, message = post(collector, path, body)
    assert status == 400, message
    assert fragment in message
    code, details = call(collector, path, body)
    assert code == grpc.StatusCode.INVALID_ARGUMENT, details
    assert fragment in details


def stored_spans(collector) -> dict:  # type: ignore[no-untyped-def, type-arg]
    return {span.name: (span, resource) for span, resource, _ in spans_by_id(read_file_export(collector.out)[ExportTraceServiceRequest]).values()}


@pytest.mark.parametrize("kind", ["array", "kvlist"])
def test_anyvalue_45_deep_is_400(collector, kind: str) -> None:  # type: ignore[no-untyped-def]
    assert_refused(collector, "/v1/traces", span_body("deep", nested(45, kind)), TOO_DEEP)
    assert_refused(collector, "/v1/logs", log_body(nested(45, kind)), TOO_DEEP)
    assert_refused(collector, "/v1/metrics", metric_body(nested(45, kind)), TOO_DEEP)


def test_anyvalue_at_the_limit_is_stored_and_one_past_is_400(collector) -> None:  # type: ignore[no-untyped-def]
    at_limit = nested(MAX_ANYVALUE_DEPTH, "kvlist")
    assert post(collector, "/v1/traces", span_body("at-limit", at_limit)) == (200, "")
    assert call(collector, "/v1/traces", span_body("grpc-limit", at_limit)) == (grpc.StatusCode.OK, "")
    assert wait_for(lambda: {"at-limit", "grpc-limit"} <= stored_spans(collector).keys())
    assert stored_spans(collector)["at-limit"][0].attributes[0].value == AnyValue.FromString(at_limit)
    for kind in ("array", "kvlist"):
        assert_refused(collector, "/v1/traces", span_body("past", nested(MAX_ANYVALUE_DEPTH + 1, kind)), TOO_DEEP)


@pytest.mark.parametrize("kind", ["array", "kvlist"])
def test_deep_otlp_json_is_400(collector, kind: str) -> None:  # type: ignore[no-untyped-def]
    for depth in (MAX_ANYVALUE_DEPTH + 1, 60, 85):
        document = otlp_json.to_dict(span_request("json-deep"))
        document["resourceSpans"][0]["scopeSpans"][0]["spans"][0]["attributes"] = [{"key": "v", "value": "VALUE"}]
        body = orjson.dumps(document).replace(b'"VALUE"', nested_json(depth, kind))
        status, message = post(collector, "/v1/traces", body, "application/json")
        assert status == 400, message
        assert TOO_DEEP in message


@pytest.mark.parametrize("kind", ["array", "kvlist"])
def test_invalid_utf8_inside_an_array_or_kvlist_is_400(collector, kind: str) -> None:  # type: ignore[no-untyped-def]
    value = nested(3, kind).replace(b"leaf", b"le\xc3\x28")
    assert_refused(collector, "/v1/traces", span_body("utf8", value), "Error parsing message")
    assert_refused(collector, "/v1/logs", log_body(value), "Error parsing message")
    assert_refused(collector, "/v1/metrics", metric_body(value), "Error parsing message")


@pytest.mark.parametrize("number", [2**29, 2**32 + 1])
def test_a_field_number_past_2_29_is_400(collector, number: int) -> None:  # type: ignore[no-untyped-def]
    body = span_request("field").SerializeToString() + varint(number << 3) + b"\x01"
    assert_refused(collector, "/v1/traces", body, "not a valid ExportTraceServiceRequest protobuf")


def test_the_largest_field_number_is_an_ignored_unknown_field(collector) -> None:  # type: ignore[no-untyped-def]
    body = span_request("max-field").SerializeToString() + varint((2**29 - 1) << 3) + b"\x01"
    assert post(collector, "/v1/traces", body) == (200, "")
    assert wait_for(lambda: "max-field" in stored_spans(collector))


def test_a_resource_sent_twice_is_stored_merged(collector) -> None:  # type: ignore[no-untyped-def]
    request = span_request("two-resources")
    rs = request.resource_spans[0]
    second = type(rs.resource)()
    second.attributes.add(key="host.name", value=AnyValue(string_value="h1"))
    second.dropped_attributes_count = 3
    body = delimited(1, rs.SerializeToString() + delimited(1, second.SerializeToString()))
    expected = ExportTraceServiceRequest.FromString(body).resource_spans[0].resource  # protobuf merges
    assert [kv.key for kv in expected.attributes] == ["service.name", "host.name"]
    assert post(collector, "/v1/traces", body) == (200, "")
    assert wait_for(lambda: "two-resources" in stored_spans(collector))
    assert stored_spans(collector)["two-resources"][1] == expected


def test_a_log_body_sent_twice_is_stored_merged(collector) -> None:  # type: ignore[no-untyped-def]
    first, second = AnyValue(), AnyValue()
    first.kvlist_value.values.add(key="a", value=AnyValue(int_value=1))
    second.kvlist_value.values.add(key="b", value=AnyValue(string_value="merged-body"))
    body = delimited(1, delimited(2, delimited(2, b"\x09" + (1).to_bytes(8, "little") + delimited(5, first.SerializeToString()) + delimited(5, second.SerializeToString()))))
    expected = ExportLogsServiceRequest.FromString(body).resource_logs[0].scope_logs[0].log_records[0].body
    assert [kv.key for kv in expected.kvlist_value.values] == ["a", "b"]
    assert call(collector, "/v1/logs", body) == (grpc.StatusCode.OK, "")

    def bodies() -> list[AnyValue]:
        return [r.body for q in read_file_export(collector.out)[ExportLogsServiceRequest] for rl in q.resource_logs for sl in rl.scope_logs for r in sl.log_records]

    assert wait_for(lambda: expected in bodies())
