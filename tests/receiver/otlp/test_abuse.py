"""Abusive and malformed requests over real sockets: each gets the code its protocol names, is
counted in `summitcol_receiver_refused_requests_total{reason}` and logged (one line, rate-limited,
no traceback), and a well-behaved client beside it keeps being served.

One collector (gRPC + HTTP, file exporter, one worker) serves every test; counters are compared
before and after each test, so the values asserted are exact."""

from __future__ import annotations

import gzip
import http.client
import socket
import struct
import threading
import urllib.request
from collections.abc import Callable

import grpc
import h2.config
import h2.connection
import h2.events
import orjson
import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from prometheus_client.parser import text_string_to_metric_families

from tests.helpers import Collector, free_port, pipelines_yaml, read_file_export, receiver_yaml, wait_for
from tests.receiver.otlp.test_bad_input import TRACE_METHOD, good_request

REFUSED = "summitcol_receiver_refused_requests_total"
GRPC_HEADERS = [
    (":method", "POST"),
    (":scheme", "http"),
    (":path", TRACE_METHOD),
    (":authority", "summit"),
    ("content-type", "application/grpc"),
    ("te", "trailers"),
]
RST_STREAM, GOAWAY, REFUSED_STREAM = 3, 7, 7
MAX_RECORDS = 1000


@pytest.fixture(scope="module")
def collector(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    tmp = tmp_path_factory.mktemp("abuse")
    grpc_port, http_port, metrics_port = free_port(), free_port(), free_port()
    out = tmp / "out.jsonl"
    config = f"""
receivers:
{receiver_yaml(grpc_port, http_port, f"    max_records_per_request: {MAX_RECORDS}")}
exporters:
  file:
    path: {out}
{pipelines_yaml("otlp", "", "file", metrics_port)}
  workers: 1
"""
    with Collector(tmp, config) as running:
        running.grpc_port, running.http_port, running.metrics_port, running.out = grpc_port, http_port, metrics_port, out  # type: ignore[attr-defined]
        yield running


def refused(collector) -> dict[tuple[str, str], float]:  # type: ignore[no-untyped-def]
    """(transport, reason) → refused requests so far."""
    with urllib.request.urlopen(f"http://127.0.0.1:{collector.metrics_port}/metrics", timeout=10) as response:
        text = response.read().decode()
    return {
        (sample.labels["transport"], sample.labels["reason"]): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == REFUSED
    }


def delta(before: dict[tuple[str, str], float], after: dict[tuple[str, str], float]) -> dict[tuple[str, str], float]:
    return {key: value - before.get(key, 0) for key, value in after.items() if value != before.get(key, 0)}


def post(collector, body: bytes, content_type: str = "application/x-protobuf", headers=None, path: str = "/v1/traces"):  # type: ignore[no-untyped-def]
    connection = http.client.HTTPConnection("127.0.0.1", collector.http_port, timeout=60)
    connection.request("POST", path, body=body, headers={"Content-Type": content_type, **(headers or {})})
    response = connection.getresponse()
    payload = response.read()
    connection.close()
    return response.status, payload


def raw_http(collector, data: bytes, close_after_send: bool = False) -> bytes:  # type: ignore[no-untyped-def]
    """Send raw bytes; everything the server answers until it closes (or b"" if we close first)."""
    with socket.create_connection(("127.0.0.1", collector.http_port), timeout=30) as sock:
        sock.sendall(data)
        if close_after_send:
            return b""
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
        return b"".join(chunks)


def stored_span_names(collector) -> set[str]:  # type: ignore[no-untyped-def]
    """Names of every stored span (good_request reuses span ids, so not keyed by id)."""
    return {
        span.name
        for request in read_file_export(collector.out)[ExportTraceServiceRequest]
        for rs in request.resource_spans
        for ss in rs.scope_spans
        for span in ss.spans
    }


def grpc_export(port: int, name: str) -> ExportTraceServiceResponse:
    with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
        reply = channel.unary_unary(TRACE_METHOD)(good_request(name).SerializeToString(), timeout=30)
    return ExportTraceServiceResponse.FromString(reply)


def test_malformed_requests_are_refused_counted_and_logged(collector) -> None:  # type: ignore[no-untyped-def]
    before = refused(collector)
    truncated = good_request("t", 3).SerializeToString()[:-5]
    for _ in range(3):
        assert post(collector, truncated)[0] == 400
    with grpc.insecure_channel(f"127.0.0.1:{collector.grpc_port}") as channel:
        for _ in range(2):
            with pytest.raises(grpc.RpcError) as error:
                channel.unary_unary(TRACE_METHOD)(truncated, timeout=30)
            assert error.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert post(collector, b"hello", "text/plain")[0] == 415
    assert post(collector, b"x", headers={"Content-Encoding": "br"})[0] == 415
    assert post(collector, b"\x1f\x8b not gzip", headers={"Content-Encoding": "gzip"})[0] == 400
    assert delta(before, refused(collector)) == {
        ("http", "malformed"): 4,
        ("grpc", "malformed"): 2,
        ("http", "unsupported_media_type"): 1,
        ("http", "unsupported_encoding"): 1,
    }
    log = collector.log()
    http_lines = [line for line in log.splitlines() if "refused a request over http from 127.0.0.1 (malformed)" in line]
    grpc_lines = [line for line in log.splitlines() if "refused a request over grpc from 127.0.0.1 (malformed)" in line]
    assert http_lines and len(http_lines) < 4, log  # rate-limited: not one line per request
    assert grpc_lines and len(grpc_lines) < 2 + 1, log
    assert "not a valid ExportTraceServiceRequest protobuf" in http_lines[0]
    assert "\tINFO\t" in http_lines[0]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (b'{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"5b8efff7 98038103 d269b633 813fc60c","spanId":"eee19b7ec3c1b174"}]}]}]}', "Span.traceId"),
        (b'{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b17"}]}]}]}', "Span.spanId"),
        (b'{"resourceSpans":[{"resource":{"attributes":[{"key":"k","value":{"bytesValue":"%%%not-base64%%%"}}]}}]}', "AnyValue.bytesValue"),
    ],
)
def test_bad_json_ids_and_bytes_are_400_naming_the_field(collector, body: bytes, field: str) -> None:  # type: ignore[no-untyped-def]
    before = refused(collector)
    status, payload = post(collector, body, "application/json")
    assert status == 400
    assert orjson.loads(payload)["code"] == 3
    assert orjson.loads(payload)["message"].startswith(f"request body is not valid OTLP/JSON: {field}: expected ")
    assert delta(before, refused(collector)) == {("http", "malformed"): 1}


def test_http_protocol_garbage_is_one_line_without_traceback(collector) -> None:  # type: ignore[no-untyped-def]
    before = refused(collector)
    head = b"POST /v1/traces HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-protobuf\r\n"
    answers = [
        raw_http(collector, head + b"Content-Length: abc\r\n\r\n"),
        raw_http(collector, head + b"X-Nul: a\x00b\r\nContent-Length: 0\r\n\r\n"),
        raw_http(collector, b"POST /" + b"a" * 9000 + b" HTTP/1.1\r\nHost: x\r\n\r\n"),
    ]
    assert all(answer.startswith(b"HTTP/1.0 400 Bad Request\r\n") for answer in answers), answers
    raw_http(collector, head + b"Content-Length: 100\r\n\r\nonly-part-of-the-body", close_after_send=True)
    assert wait_for(lambda: delta(before, refused(collector)) == {("http", "protocol_error"): 4}), delta(before, refused(collector))
    log = collector.log()
    assert "Traceback" not in log and "\tERROR\t" not in log, log
    lines = [line for line in log.splitlines() if "(protocol_error)" in line]
    assert 1 <= len(lines) < 4, lines
    assert "refused a request over http from 127.0.0.1 (protocol_error): " in lines[0]
    assert post(collector, good_request("after-garbage").SerializeToString())[0] == 200


def test_100000_gzip_members_are_refused_and_others_served(collector) -> None:  # type: ignore[no-untyped-def]
    before = refused(collector)
    many = gzip.compress(b"") * 100_000  # 2 MB: 10 s of quadratic work before the fix
    results: list[int] = []

    def well_behaved() -> None:
        results.extend(post(collector, good_request(f"beside-members-{i}").SerializeToString())[0] for i in range(20))

    neighbour = threading.Thread(target=well_behaved)
    neighbour.start()
    status, payload = post(collector, many, headers={"Content-Encoding": "gzip"})
    neighbour.join()
    assert status == 400
    assert b"more than 1000 concatenated members" in payload
    assert results == [200] * 20
    assert delta(before, refused(collector)) == {("http", "malformed"): 1}
    # 1000 members are still read: one request, then empty members
    body = gzip.compress(good_request("thousand-members").SerializeToString()) + gzip.compress(b"") * 999
    assert post(collector, body, headers={"Content-Encoding": "gzip"})[0] == 200
    assert wait_for(lambda: {"thousand-members-0", "beside-members-19-0"} <= stored_span_names(collector))


def test_too_many_records_are_refused_whole_for_every_signal(collector) -> None:  # type: ignore[no-untyped-def]
    from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
    from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import ExportMetricsServiceRequest

    before = refused(collector)
    empty_spans = ExportTraceServiceRequest()
    spans = empty_spans.resource_spans.add().scope_spans.add().spans
    for _ in range(1_000_000):  # 2 MB; every span without ids: 10 s of per-span Python before the bound
        spans.add()
    status, payload = post(collector, empty_spans.SerializeToString())
    assert status == 400
    assert status_message(payload) == (
        f"request holds 1000000 spans, more than max_records_per_request ({MAX_RECORDS}); send smaller batches"
    )
    logs = ExportLogsServiceRequest()
    records = logs.resource_logs.add().scope_logs.add().log_records
    for i in range(MAX_RECORDS + 1):
        records.add(body={"string_value": f"r{i}"})
    status, payload = post(collector, logs.SerializeToString(), path="/v1/logs")
    assert status == 400
    assert status_message(payload).startswith(f"request holds {MAX_RECORDS + 1} log records, more than")
    metrics = ExportMetricsServiceRequest()
    points = metrics.resource_metrics.add().scope_metrics.add().metrics.add(name="m").gauge.data_points
    for i in range(MAX_RECORDS + 1):
        points.add(as_int=i, time_unix_nano=1)
    status, payload = post(collector, metrics.SerializeToString(), path="/v1/metrics")
    assert status == 400
    assert status_message(payload).startswith(f"request holds {MAX_RECORDS + 1} metric points, more than")
    assert delta(before, refused(collector)) == {("http", "malformed"): 3}
    # at the limit: accepted
    assert post(collector, good_request("at-limit", 200).SerializeToString())[0] == 200


def test_resource_and_scope_attribute_limits(collector) -> None:  # type: ignore[no-untyped-def]
    from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue

    request = good_request("kept", 2)
    huge = request.resource_spans.add()
    huge.resource.attributes.extend(KeyValue(key=f"k{i}", value=AnyValue(int_value=i)) for i in range(5000))
    for i in range(3):
        huge.scope_spans.add().spans.add(name=f"huge-resource-{i}", trace_id=b"\1" * 16, span_id=b"\2" * 8)
    wide_scope = request.resource_spans[0].scope_spans.add()
    wide_scope.scope.attributes.extend(KeyValue(key=f"s{i}", value=AnyValue(bool_value=True)) for i in range(1025))
    wide_scope.spans.add(name="wide-scope-0", trace_id=b"\1" * 16, span_id=b"\3" * 8)
    status, payload = post(collector, request.SerializeToString())
    assert status == 200
    response = ExportTraceServiceResponse.FromString(payload)
    assert response.partial_success.rejected_spans == 4
    assert response.partial_success.error_message == (
        "a resource has 5000 attributes, more than 1024 (receiver setting max_attributes_per_record); "
        "an instrumentation scope has 1025 attributes, more than 1024 (receiver setting max_attributes_per_record)"
        " (and 2 more)"
    )
    assert wait_for(lambda: {"kept-0", "kept-1"} <= stored_span_names(collector))
    assert not {"huge-resource-0", "wide-scope-0"} & stored_span_names(collector)


def test_rejections_are_counted_exactly_and_worded_five_times() -> None:
    from summitcol.component import Signal
    from summitcol.pdata.codec import decode_request

    request = good_request("ids", 10)
    for span in request.resource_spans[0].scope_spans[0].spans[:7]:
        span.trace_id = b""
    data, rejections = decode_request(Signal.TRACES, request.SerializeToString(), "proto")
    assert data.item_count() == 3
    assert rejections.count == 7
    assert rejections.message().count("trace_id must be 16 bytes, got 0") == 5
    assert rejections.message().endswith("(and 2 more)")


def status_message(payload: bytes) -> str:
    from google.rpc import status_pb2

    return status_pb2.Status.FromString(payload).message


def h2_connect(port: int) -> tuple[socket.socket, h2.connection.H2Connection]:
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    connection = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True, header_encoding="utf-8"))
    connection.initiate_connection()
    sock.sendall(connection.data_to_send())
    return sock, connection


def read_frames(sock: socket.socket, until: Callable[[list[tuple[int, int, bytes]]], bool]) -> list[tuple[int, int, bytes]]:
    """Raw HTTP/2 frames (type, stream id, payload) until `until(frames)` or the socket's timeout."""
    frames: list[tuple[int, int, bytes]] = []
    buffer = b""
    try:
        while not until(frames):
            chunk = sock.recv(65536)
            if not chunk:
                break
            buffer += chunk
            while len(buffer) >= 9 and len(buffer) >= 9 + int.from_bytes(buffer[:3], "big"):
                length = int.from_bytes(buffer[:3], "big")
                frames.append((buffer[3], struct.unpack(">I", buffer[5:9])[0] & 0x7FFFFFFF, buffer[9 : 9 + length]))
                buffer = buffer[9 + length :]
    except TimeoutError:
        pass
    return frames


def test_grpc_length_prefix_longer_than_the_stream_is_answered_at_once(collector) -> None:  # type: ignore[no-untyped-def]
    before = refused(collector)
    sock, connection = h2_connect(collector.grpc_port)
    body = good_request("cut").SerializeToString()
    connection.send_headers(1, GRPC_HEADERS)
    connection.send_data(1, b"\x00" + struct.pack(">I", len(body) + 100) + body, end_stream=True)
    sock.sendall(connection.data_to_send())
    events: list[h2.events.Event] = []
    sock.settimeout(5)  # before the fix: no answer until the client gave up
    try:
        while not any(isinstance(e, h2.events.StreamEnded) for e in events):
            chunk = sock.recv(65536)
            if not chunk:
                break
            events += connection.receive_data(chunk)
            sock.sendall(connection.data_to_send())
    except TimeoutError:
        pass
    sock.close()
    headers = {k: v for e in events if isinstance(e, (h2.events.ResponseReceived, h2.events.TrailersReceived)) for k, v in e.headers}
    assert headers.get("grpc-status") == str(grpc.StatusCode.INTERNAL.value[0]), events
    assert headers["grpc-message"] == "unexpected EOF: the stream ended before a whole request message arrived"
    assert delta(before, refused(collector)) == {("grpc", "malformed"): 1}


def test_rapid_reset_flood_is_refused_on_its_connection_only(collector) -> None:  # type: ignore[no-untyped-def]
    sock, connection = h2_connect(collector.grpc_port)
    events: list[h2.events.Event] = []
    while not any(isinstance(e, h2.events.RemoteSettingsChanged) for e in events):
        events += connection.receive_data(sock.recv(65536))
    sock.sendall(connection.data_to_send())  # the SETTINGS ack: a client in good standing
    for stream_id in range(1, 2 * 5000, 2):
        connection.send_headers(stream_id, GRPC_HEADERS)
        connection.reset_stream(stream_id)
    results: list[ExportTraceServiceResponse] = []
    neighbour = threading.Thread(target=lambda: results.extend(grpc_export(collector.grpc_port, f"beside-reset-{i}") for i in range(10)))
    neighbour.start()
    sock.sendall(connection.data_to_send())
    sock.settimeout(3)
    frames = read_frames(sock, lambda frames: sum(1 for f in frames if f[0] == RST_STREAM) >= 100)
    sock.close()
    neighbour.join()
    refusals = [f for f in frames if f[0] == RST_STREAM and struct.unpack(">I", f[2])[0] == REFUSED_STREAM]
    assert len(refusals) >= 100, frames[:20]  # past max_concurrent_streams (250) the streams are refused
    assert min(f[1] for f in refusals) > 2 * 250  # the first 250 streams were taken
    assert results == [ExportTraceServiceResponse()] * 10
    assert grpc_export(collector.grpc_port, "after-reset") == ExportTraceServiceResponse()
    assert wait_for(lambda: {"after-reset-0", "beside-reset-9-0"} <= stored_span_names(collector))


def test_refusal_log_is_rate_limited_per_reason() -> None:
    """Exact suppression counts with a fake clock: one line per reason per interval."""
    import logging

    from summitcol.receiver.otlp.status import Refusals
    from summitcol.telemetry import Telemetry

    class Lines(logging.Handler):
        def __init__(self) -> None:
            super().__init__()
            self.lines: list[str] = []

        def emit(self, record: logging.LogRecord) -> None:
            self.lines.append(record.getMessage())

    now = [100.0]
    logger = logging.getLogger("test.refusals")
    logger.setLevel(logging.INFO)
    handler = Lines()
    logger.addHandler(handler)
    telemetry = Telemetry()
    refusals = Refusals("otlp", "http", telemetry, logger, interval=10.0, clock=lambda: now[0])
    for _ in range(5):
        refusals.refused("malformed", "10.0.0.1", "bad\nbytes")
    refusals.refused("too_large", "10.0.0.2", "big")
    now[0] += 10.0
    refusals.refused("malformed", "10.0.0.3", "again")
    logger.removeHandler(handler)
    assert handler.lines == [
        "otlp refused a request over http from 10.0.0.1 (malformed): bad bytes",
        "otlp refused a request over http from 10.0.0.2 (too_large): big",
        "otlp refused a request over http from 10.0.0.3 (malformed): again (and 4 more for this reason since the last such line)",
    ]
    assert telemetry.value(REFUSED, receiver="otlp", transport="http", reason="malformed") == 6
    assert telemetry.value(REFUSED, receiver="otlp", transport="http", reason="too_large") == 1
