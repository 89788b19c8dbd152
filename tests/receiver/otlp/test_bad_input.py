"""Bad input gets its specific error, and the collector keeps serving the next good request.

Drives a real `summitcol` over loopback with raw HTTP (http.client) and raw gRPC calls, so the
exact status codes, headers and bodies are visible.
"""

from __future__ import annotations

import gzip
import http.client
import struct
import zlib

import grpc
import orjson
import pytest
from google.rpc import status_pb2
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue

from summitcol.pdata.traces import traces_from_otlp
from tests.helpers import (
    Collector,
    free_port,
    pipelines_yaml,
    read_file_export,
    receiver_yaml,
    spans_by_id,
    wait_for,
)

GRPC_LIMIT_MIB = 2
TRACE_METHOD = "/opentelemetry.proto.collector.trace.v1.TraceService/Export"


def good_request(name: str, n: int = 1) -> ExportTraceServiceRequest:
    request = ExportTraceServiceRequest()
    rs = request.resource_spans.add()
    rs.resource.attributes.add(key="service.name", value=AnyValue(string_value="bad-input-test"))
    scope = rs.scope_spans.add()
    for i in range(n):
        scope.spans.add(name=f"{name}-{i}", trace_id=bytes([7]) * 16, span_id=bytes([i + 1]) * 8)
    return request


@pytest.fixture(scope="module")
def collector(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    tmp = tmp_path_factory.mktemp("bad-input")
    grpc_port, http_port = free_port(), free_port()
    out = tmp / "out.jsonl"
    config = f"""
receivers:
{receiver_yaml(grpc_port, http_port)}
        max_recv_msg_size_mib: {GRPC_LIMIT_MIB}
exporters:
  file:
    path: {out}
{pipelines_yaml("otlp", "", "file")}
"""
    config = config.replace(
        f"      http:\n        endpoint: 127.0.0.1:{http_port}\n        max_recv_msg_size_mib: {GRPC_LIMIT_MIB}",
        f"      http:\n        endpoint: 127.0.0.1:{http_port}",
    )
    config = config.replace(
        f"      grpc:\n        endpoint: 127.0.0.1:{grpc_port}\n",
        f"      grpc:\n        endpoint: 127.0.0.1:{grpc_port}\n        max_recv_msg_size_mib: {GRPC_LIMIT_MIB}\n",
    )
    with Collector(tmp, config) as running:
        running.grpc_port, running.http_port, running.out = grpc_port, http_port, out  # type: ignore[attr-defined]
        yield running


def post(collector, body: bytes, content_type: str = "application/x-protobuf", method: str = "POST", headers=None, path="/v1/traces"):  # type: ignore[no-untyped-def]
    connection = http.client.HTTPConnection("127.0.0.1", collector.http_port, timeout=60)
    all_headers = {"Content-Type": content_type, **(headers or {})}
    connection.request(method, path, body=body, headers=all_headers)
    response = connection.getresponse()
    payload = response.read()
    connection.close()
    return response.status, dict(response.getheaders()), payload


def assert_still_serving(collector, name: str) -> None:  # type: ignore[no-untyped-def]
    status, _, payload = post(collector, good_request(name).SerializeToString())
    assert status == 200, payload
    assert ExportTraceServiceResponse.FromString(payload) == ExportTraceServiceResponse()
    assert wait_for(lambda: any(s.name == f"{name}-0" for s, _, _ in spans_by_id(read_file_export(collector.out)[ExportTraceServiceRequest]).values()))


def status_of(payload: bytes) -> status_pb2.Status:
    return status_pb2.Status.FromString(payload)


def test_truncated_protobuf_is_400_with_status(collector) -> None:  # type: ignore[no-untyped-def]
    body = good_request("t", 3).SerializeToString()[:-5]
    status, headers, payload = post(collector, body)
    assert status == 400
    assert headers["Content-Type"] == "application/x-protobuf"
    rpc_status = status_of(payload)
    assert rpc_status.code == grpc.StatusCode.INVALID_ARGUMENT.value[0]
    assert "not a valid ExportTraceServiceRequest protobuf" in rpc_status.message
    assert_still_serving(collector, "after-truncated")


def test_json_with_wrong_type_is_400_in_json(collector) -> None:  # type: ignore[no-untyped-def]
    body = b'{"resourceSpans":[{"scopeSpans":[{"spans":[{"name":5,"traceId":"00000000000000000000000000000001","spanId":"0000000000000001"}]}]}]}'
    status, headers, payload = post(collector, body, "application/json")
    assert status == 400
    assert headers["Content-Type"] == "application/json"
    assert orjson.loads(payload) == {"code": 3, "message": "request body is not valid OTLP/JSON: Span.name: expected a string, got 5"}
    assert_still_serving(collector, "after-json")


def test_text_plain_is_415(collector) -> None:  # type: ignore[no-untyped-def]
    status, _, payload = post(collector, b"hello", "text/plain")
    assert status == 415
    assert b"application/x-protobuf or application/json" in payload
    assert_still_serving(collector, "after-415")


def test_get_is_405(collector) -> None:  # type: ignore[no-untyped-def]
    status, headers, _ = post(collector, b"", method="GET")
    assert status == 405
    assert headers["Allow"] == "POST"
    assert_still_serving(collector, "after-405")


def test_100_mb_body_is_413(collector) -> None:  # type: ignore[no-untyped-def]
    status, _, payload = post(collector, b"\0" * (100 * 1024 * 1024))
    assert status == 413
    assert "max_request_body_size" in status_of(payload).message
    assert_still_serving(collector, "after-413")


def gzip_of_zeros(mib: int) -> bytes:
    """A valid gzip stream of `mib` MiB of zeros, built in ~0.4 s instead of gzip.compress's ~5 s
    for 1 GiB: after a full flush deflate starts afresh, so each further MiB of zeros compresses to
    the same bytes and is repeated; the trailer's CRC-32 and size are those of the whole input."""
    zeros = bytes(1 << 20)
    deflate = zlib.compressobj(9, zlib.DEFLATED, 31)  # wbits 31: gzip header and trailer
    first = deflate.compress(zeros) + deflate.flush(zlib.Z_FULL_FLUSH)
    repeated = deflate.compress(zeros) + deflate.flush(zlib.Z_FULL_FLUSH)
    last_block = deflate.flush()[:-8]  # without the trailer, which counts only the 2 MiB given
    crc = 0
    for _ in range(mib):
        crc = zlib.crc32(zeros, crc)
    return first + repeated * (mib - 1) + last_block + struct.pack("<II", crc, (mib << 20) & 0xFFFFFFFF)


def test_gzip_of_zeros_is_what_it_says() -> None:
    assert gzip.decompress(gzip_of_zeros(3)) == bytes(3 << 20)


def test_gzip_bomb_is_413(collector) -> None:  # type: ignore[no-untyped-def]
    bomb = gzip_of_zeros(1024)
    assert len(bomb) < 1.1 * 1024 * 1024  # ~1 MB on the wire, 1 GiB once inflated
    status, _, payload = post(collector, bomb, headers={"Content-Encoding": "gzip"})
    assert status == 413
    assert "max_request_body_size" in status_of(payload).message
    assert_still_serving(collector, "after-bomb")


def test_gzip_request_is_accepted(collector) -> None:  # type: ignore[no-untyped-def]
    body = gzip.compress(good_request("gzipped").SerializeToString())
    status, _, _ = post(collector, body, headers={"Content-Encoding": "gzip"})
    assert status == 200
    assert wait_for(lambda: any(s.name == "gzipped-0" for s, _, _ in spans_by_id(read_file_export(collector.out)[ExportTraceServiceRequest]).values()))


def test_invalid_utf8_is_400(collector) -> None:  # type: ignore[no-untyped-def]
    body = good_request("AAAA").SerializeToString().replace(b"AAAA-0", b"\xff\xfe\xfdA-0")
    status, _, payload = post(collector, body)
    assert status == 400
    assert "UTF-8" in status_of(payload).message
    channel = grpc.insecure_channel(f"127.0.0.1:{collector.grpc_port}")
    with pytest.raises(grpc.RpcError) as error:
        channel.unary_unary(TRACE_METHOD)(body, timeout=10)
    assert error.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    channel.close()
    assert_still_serving(collector, "after-utf8")


def test_span_with_100000_attributes_is_a_partial_success(collector) -> None:  # type: ignore[no-untyped-def]
    request = good_request("huge", 3)
    huge = request.resource_spans[0].scope_spans[0].spans[1]
    huge.attributes.extend(KeyValue(key=f"k{i}", value=AnyValue(int_value=i)) for i in range(100_000))
    status, _, payload = post(collector, request.SerializeToString())
    assert status == 200
    response = ExportTraceServiceResponse.FromString(payload)
    assert response.partial_success.rejected_spans == 1
    assert "100000 attributes" in response.partial_success.error_message
    def stored_names() -> set[str]:
        return {s.name for s, _, _ in spans_by_id(read_file_export(collector.out)[ExportTraceServiceRequest]).values()}
    assert wait_for(lambda: {"huge-0", "huge-2"} <= stored_names())
    assert "huge-1" not in stored_names()
    assert_still_serving(collector, "after-huge")


def test_grpc_message_over_limit_is_resource_exhausted(collector) -> None:  # type: ignore[no-untyped-def]
    request = good_request("big")
    request.resource_spans[0].scope_spans[0].spans[0].attributes.add(
        key="blob", value=AnyValue(string_value="x" * (GRPC_LIMIT_MIB * 1024 * 1024 + 10))
    )
    channel = grpc.insecure_channel(f"127.0.0.1:{collector.grpc_port}", options=[("grpc.max_send_message_length", -1)])
    with pytest.raises(grpc.RpcError) as error:
        channel.unary_unary(TRACE_METHOD)(request.SerializeToString(), timeout=10)
    assert error.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    reply = channel.unary_unary(TRACE_METHOD)(good_request("grpc-after-big").SerializeToString(), timeout=10)
    assert ExportTraceServiceResponse.FromString(reply) == ExportTraceServiceResponse()
    channel.close()


def test_unknown_path_is_404(collector) -> None:  # type: ignore[no-untyped-def]
    status, _, _ = post(collector, b"", path="/v1/nothing")
    assert status == 404


def test_invalid_span_ids_are_rejected_per_span() -> None:
    request = good_request("ids", 2)
    request.resource_spans[0].scope_spans[0].spans[0].trace_id = b"short"
    batch, rejections = traces_from_otlp(request)
    assert batch.column("SpanName").to_pylist() == ["ids-1"]
    assert rejections.count == 1 and "trace_id must be 16 bytes, got 5" in rejections.message()
