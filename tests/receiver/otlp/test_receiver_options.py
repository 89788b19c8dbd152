"""Receiver options the README documents (issue #13 item 9), against one real collector: HTTP
`read_timeout` (408), `deflate` bodies, `response_headers`, custom URL paths; gRPC requests sent
gzip-compressed by the client; and a memory_limiter refusal over HTTP (503 with a Retry-After in
whole seconds), from a second receiver whose pipeline has a limit below what any collector needs."""

from __future__ import annotations

import http.client
import socket
import zlib

import grpc
import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)

from tests.helpers import Collector, free_port, read_file_export, spans_by_id, wait_for
from tests.receiver.otlp.test_bad_input import TRACE_METHOD, good_request


@pytest.fixture(scope="module")
def collector(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    tmp = tmp_path_factory.mktemp("receiver-options")
    grpc_port, http_port, limited_port, keepalive_port = free_port(), free_port(), free_port(), free_port()
    out = tmp / "out.jsonl"
    config = f"""
receivers:
  otlp:
    protocols:
      grpc:
        endpoint: 127.0.0.1:{grpc_port}
      http:
        endpoint: 127.0.0.1:{http_port}
        read_timeout: 300ms
        traces_url_path: /custom/traces
        response_headers:
          X-Collector: summit
  otlp/limited:
    protocols:
      http:
        endpoint: 127.0.0.1:{limited_port}
  otlp/keepalive:
    protocols:
      grpc:
        endpoint: 127.0.0.1:{keepalive_port}
        keepalive:
          server_parameters:
            max_connection_age: 500ms
            max_connection_age_grace: 200ms
processors:
  memory_limiter:
    check_interval: 100ms
    limit_mib: 64   # below any collector's idle RSS: every request is refused, retryably
exporters:
  file:
    path: {out}
service:
  telemetry:
    metrics:
      level: none
  pipelines:
    traces:
      receivers: [otlp]
      exporters: [file]
    traces/limited:
      receivers: [otlp/limited]
      processors: [memory_limiter]
      exporters: [file]
    traces/keepalive:
      receivers: [otlp/keepalive]
      exporters: [file]
"""
    with Collector(tmp, config) as running:
        running.grpc_port, running.http_port, running.limited_port, running.out = grpc_port, http_port, limited_port, out  # type: ignore[attr-defined]
        running.keepalive_port = keepalive_port  # type: ignore[attr-defined]
        yield running


def request(port: int, path: str, body: bytes, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    connection.request("POST", path, body=body, headers={"Content-Type": "application/x-protobuf", **(headers or {})})
    response = connection.getresponse()
    payload = response.read()
    connection.close()
    return response.status, dict(response.getheaders()), payload


def stored_names(collector) -> set[str]:  # type: ignore[no-untyped-def]
    if not collector.out.exists():
        return set()
    return {span.name for span, _, _ in spans_by_id(read_file_export(collector.out).get(ExportTraceServiceRequest, [])).values()}


def test_custom_traces_path_and_response_headers(collector) -> None:  # type: ignore[no-untyped-def]
    status, headers, payload = request(collector.http_port, "/custom/traces", good_request("custom").SerializeToString())
    assert status == 200, payload
    assert headers["X-Collector"] == "summit"
    assert ExportTraceServiceResponse.FromString(payload) == ExportTraceServiceResponse()
    assert wait_for(lambda: "custom-0" in stored_names(collector))
    status, headers, _ = request(collector.http_port, "/v1/traces", good_request("default-path").SerializeToString())
    assert status == 404  # the default path is replaced, not added
    assert headers["X-Collector"] == "summit"  # on every response


def test_a_deflate_body_is_accepted(collector) -> None:  # type: ignore[no-untyped-def]
    body = zlib.compress(good_request("deflated", 3).SerializeToString())
    status, _, payload = request(collector.http_port, "/custom/traces", body, {"Content-Encoding": "deflate"})
    assert status == 200, payload
    assert wait_for(lambda: {"deflated-0", "deflated-1", "deflated-2"} <= stored_names(collector))


def test_a_body_that_does_not_arrive_within_read_timeout_is_408(collector) -> None:  # type: ignore[no-untyped-def]
    with socket.create_connection(("127.0.0.1", collector.http_port), timeout=30) as sock:
        sock.sendall(
            b"POST /custom/traces HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-protobuf\r\nContent-Length: 1000\r\n\r\n" + b"\x0a" * 10
        )
        answer = sock.recv(4096)
    assert answer.startswith(b"HTTP/1.1 408"), answer
    status, _, _ = request(collector.http_port, "/custom/traces", good_request("after-408").SerializeToString())
    assert status == 200


def test_a_gzip_compressed_grpc_request_is_accepted(collector) -> None:  # type: ignore[no-untyped-def]
    with grpc.insecure_channel(f"127.0.0.1:{collector.grpc_port}", compression=grpc.Compression.Gzip) as channel:
        export = channel.unary_unary(TRACE_METHOD)
        reply = export(good_request("gzip-grpc", 4).SerializeToString(), timeout=30)
    assert ExportTraceServiceResponse.FromString(reply) == ExportTraceServiceResponse()
    assert wait_for(lambda: {f"gzip-grpc-{i}" for i in range(4)} <= stored_names(collector))


def test_a_memory_limiter_refusal_over_http_is_503_with_retry_after(collector) -> None:  # type: ignore[no-untyped-def]
    status, headers, payload = request(collector.limited_port, "/v1/traces", good_request("limited").SerializeToString())
    assert status == 503, payload
    assert headers["Retry-After"].isdigit() and int(headers["Retry-After"]) >= 1
    assert "limited-0" not in stored_names(collector)


def test_grpc_keepalive_max_connection_age_closes_the_connection(collector) -> None:  # type: ignore[no-untyped-def]
    """`keepalive::server_parameters::max_connection_age` (500 ms): the server ends the connection
    after it (GOAWAY), and the channel goes idle; a channel to the receiver without keepalive,
    opened at the same time, is still connected when that happens."""
    def connected(port: int) -> tuple[grpc.Channel, list[grpc.ChannelConnectivity]]:
        channel = grpc.insecure_channel(f"127.0.0.1:{port}")
        states: list[grpc.ChannelConnectivity] = []
        channel.subscribe(states.append, try_to_connect=False)
        channel.unary_unary(TRACE_METHOD)(good_request(f"keepalive-{port}").SerializeToString(), timeout=30)
        return channel, states

    aged, aged_states = connected(collector.keepalive_port)
    plain, plain_states = connected(collector.grpc_port)
    ready = grpc.ChannelConnectivity.READY
    assert wait_for(lambda: ready in aged_states and grpc.ChannelConnectivity.IDLE in aged_states[aged_states.index(ready):], timeout=20)
    assert plain_states[-1] is ready
    aged.close()
    plain.close()
