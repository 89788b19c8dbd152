"""A clean stop (SIGTERM) under load loses nothing that was acknowledged.

Four client threads send OTLP/gRPC requests as fast as they can while the collector holds data
in a batch processor (2 s timeout); SIGTERM arrives mid-stream. Every span whose request
got an OK must be in the file exporter's output; nothing stored was never sent.
"""

from __future__ import annotations

import threading
from pathlib import Path

import grpc
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue

from tests.helpers import (
    Collector,
    free_port,
    pipelines_yaml,
    read_file_export,
    receiver_yaml,
    spans_by_id,
    wait_for,
)

TRACE_METHOD = "/opentelemetry.proto.collector.trace.v1.TraceService/Export"
SPANS_PER_REQUEST = 50


def request_for(client: int, n: int) -> ExportTraceServiceRequest:
    request = ExportTraceServiceRequest()
    rs = request.resource_spans.add()
    rs.resource.attributes.add(key="service.name", value=AnyValue(string_value=f"client-{client}"))
    scope = rs.scope_spans.add()
    for i in range(SPANS_PER_REQUEST):
        span_id = (client << 48 | n << 16 | i).to_bytes(8, "big")
        scope.spans.add(name="load", trace_id=span_id * 2, span_id=span_id)
    return request


def test_sigterm_under_load_keeps_every_acknowledged_span(tmp_path: Path) -> None:
    grpc_port = free_port()
    out = tmp_path / "out.jsonl"
    config = f"""
receivers:
{receiver_yaml(grpc_port, None)}
processors:
  batch:
    timeout: 2s
    send_batch_size: 100000
exporters:
  file:
    path: {out}
{pipelines_yaml("otlp", "batch", "file")}
"""
    collector = Collector(tmp_path, config).start()
    acknowledged: set[bytes] = set()
    sent: set[bytes] = set()
    lock = threading.Lock()
    stop = threading.Event()

    def client(number: int) -> None:
        channel = grpc.insecure_channel(f"127.0.0.1:{grpc_port}")
        export = channel.unary_unary(TRACE_METHOD)
        n = 0
        while not stop.is_set() and n < 2000:
            request = request_for(number, n)
            ids = {s.span_id for s in request.resource_spans[0].scope_spans[0].spans}
            with lock:
                sent.update(ids)
            try:
                export(request.SerializeToString(), timeout=60)
            except grpc.RpcError:
                break  # the collector is stopping; an unacknowledged request is the client's to keep
            with lock:
                acknowledged.update(ids)
            n += 1
        channel.close()

    threads = [threading.Thread(target=client, args=(c,)) for c in range(4)]
    for thread in threads:
        thread.start()
    def a_batch_is_out_and_the_next_pending() -> bool:
        stored = len(spans_by_id(read_file_export(out)[ExportTraceServiceRequest]))
        with lock:
            return 0 < stored < len(acknowledged)

    # The stop must find one 2 s batch flushed and acknowledged data held in the next.
    assert wait_for(a_batch_is_out_and_the_next_pending, timeout=30)
    assert collector.stop() == 0, collector.log()
    stop.set()
    for thread in threads:
        thread.join(60)

    stored = set(spans_by_id(read_file_export(out)[ExportTraceServiceRequest]))
    assert acknowledged, "no request was acknowledged before the stop"
    assert acknowledged <= stored, f"{len(acknowledged - stored)} acknowledged spans were lost"
    assert stored <= sent
    assert "Shutdown complete." in collector.log()
