"""A realistic OTLP corpus: spans with 10–20 semconv attributes (http, db, rpc), 5% with an
exception event and stack trace, some span events and links; log records with 100–500 byte bodies;
metrics of every type (gauge, sum, histogram, exponential histogram, summary)."""

from __future__ import annotations

import random

from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import ExportMetricsServiceRequest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue

STACK = "\n".join(f'  File "/app/service/module_{i}.py", line {10 * i}, in handler_{i}' for i in range(12))


def _kv(target, key: str, value) -> None:  # type: ignore[no-untyped-def]
    if isinstance(value, bool):
        target.add(key=key, value=AnyValue(bool_value=value))
    elif isinstance(value, int):
        target.add(key=key, value=AnyValue(int_value=value))
    elif isinstance(value, float):
        target.add(key=key, value=AnyValue(double_value=value))
    else:
        target.add(key=key, value=AnyValue(string_value=value))


def _span_attributes(rng: random.Random, i: int) -> dict:  # type: ignore[type-arg]
    kind = i % 3
    if kind == 0:
        return {
            "http.request.method": rng.choice(["GET", "POST", "PUT"]),
            "http.route": f"/api/v1/items/{{id}}/{rng.choice(['view', 'edit'])}",
            "url.full": f"https://shop.example.com/api/v1/items/{rng.randint(1, 10**6)}?user=alice@example.com",
            "http.response.status_code": rng.choice([200, 200, 200, 404, 500]),
            "server.address": "shop.example.com",
            "server.port": 443,
            "network.protocol.version": "1.1",
            "user_agent.original": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36",
            "client.address": f"10.0.{rng.randint(0, 255)}.{rng.randint(0, 255)}",
            "http.request.body.size": rng.randint(0, 5000),
            "http.response.body.size": rng.randint(0, 50000),
            "url.scheme": "https",
            "enduser.id": f"user-{rng.randint(1, 10000)}",
        }
    if kind == 1:
        return {
            "db.system.name": "postgresql",
            "db.namespace": "orders",
            "db.operation.name": "SELECT",
            "db.query.text": f"SELECT * FROM orders WHERE customer_id = {rng.randint(1, 10**6)} AND status = 'open'",
            "server.address": "db.internal",
            "server.port": 5432,
            "db.response.returned_rows": rng.randint(0, 100),
            "db.collection.name": "orders",
            "network.peer.address": "10.1.2.3",
            "db.client.connection.pool.name": "main",
        }
    return {
        "rpc.system": "grpc",
        "rpc.service": "inventory.v1.InventoryService",
        "rpc.method": rng.choice(["Reserve", "Release", "Check"]),
        "rpc.grpc.status_code": 0,
        "server.address": "inventory.internal",
        "server.port": 50051,
        "network.transport": "tcp",
        "messaging.batch.message_count": rng.randint(1, 10),
        "retry.attempt": 0,
        "feature.flag.enabled": rng.random() < 0.5,
        "sample.ratio": rng.random(),
    }


BASE_NS = 1_795_000_000_000_000_000


def trace_request(n_spans: int, seed: int = 1, base_ns: int = BASE_NS) -> ExportTraceServiceRequest:
    rng = random.Random(seed)
    request = ExportTraceServiceRequest()
    per_resource = max(1, n_spans // 4)
    made = 0
    while made < n_spans:
        rs = request.resource_spans.add()
        for key, value in {
            "service.name": f"svc-{made // per_resource}",
            "service.version": "1.4.2",
            "deployment.environment.name": "production",
            "host.name": f"node-{rng.randint(1, 50)}",
            "telemetry.sdk.language": "python",
        }.items():
            _kv(rs.resource.attributes, key, value)
        ss = rs.scope_spans.add()
        ss.scope.name, ss.scope.version = "opentelemetry.instrumentation.flask", "0.50b0"
        for _ in range(min(per_resource, n_spans - made)):
            span = ss.spans.add()
            span.trace_id = rng.randbytes(16)
            span.span_id = rng.randbytes(8)
            span.parent_span_id = rng.randbytes(8)
            span.name = f"op-{made % 40}"
            span.kind = 2
            span.start_time_unix_nano = base_ns + made * 1000
            span.end_time_unix_nano = span.start_time_unix_nano + rng.randint(1000, 10**9)
            for key, value in _span_attributes(rng, made).items():
                _kv(span.attributes, key, value)
            if made % 20 == 0:
                event = span.events.add(name="exception", time_unix_nano=span.start_time_unix_nano + 5)
                _kv(event.attributes, "exception.type", "ValueError")
                _kv(event.attributes, "exception.message", f"invalid order id {made}")
                _kv(event.attributes, "exception.stacktrace", STACK)
                span.status.code = 2
            elif made % 7 == 0:
                span.events.add(name="cache.miss", time_unix_nano=span.start_time_unix_nano + 3)
            if made % 10 == 0:
                span.links.add(trace_id=rng.randbytes(16), span_id=rng.randbytes(8))
            made += 1
    return request


def logs_request(n_logs: int, seed: int = 2, base_ns: int = BASE_NS) -> ExportLogsServiceRequest:
    rng = random.Random(seed)
    request = ExportLogsServiceRequest()
    rl = request.resource_logs.add()
    _kv(rl.resource.attributes, "service.name", "checkout")
    _kv(rl.resource.attributes, "host.name", "node-7")
    sl = rl.scope_logs.add()
    sl.scope.name = "app.logger"
    words = "order payment user cart checkout failed succeeded retry timeout card shipped".split()
    for i in range(n_logs):
        record = sl.log_records.add()
        record.time_unix_nano = base_ns + i
        record.severity_number = rng.choice([9, 9, 9, 13, 17])
        record.severity_text = {9: "INFO", 13: "WARN", 17: "ERROR"}[record.severity_number]
        record.body.string_value = " ".join(rng.choice(words) for _ in range(rng.randint(15, 70)))[:500]
        record.trace_id, record.span_id = rng.randbytes(16), rng.randbytes(8)
        _kv(record.attributes, "code.function", "handle")
        _kv(record.attributes, "thread.id", rng.randint(1, 64))
    return request


def metrics_request(n_points: int, seed: int = 3, base_ns: int = BASE_NS) -> ExportMetricsServiceRequest:
    """`n_points` data points spread over the five metric types, 10 points per metric."""
    rng = random.Random(seed)
    request = ExportMetricsServiceRequest()
    rm = request.resource_metrics.add()
    _kv(rm.resource.attributes, "service.name", "checkout")
    _kv(rm.resource.attributes, "host.name", "node-7")
    sm = rm.scope_metrics.add()
    sm.scope.name = "app.metrics"
    made = 0
    kinds = ["gauge", "sum", "histogram", "exponential_histogram", "summary"]
    while made < n_points:
        kind = kinds[(made // 10) % 5]
        metric = sm.metrics.add(name=f"app.{kind}.{made // 50}", unit="ms", description=f"a {kind}")
        for _ in range(min(10, n_points - made)):
            t = base_ns + made * 1_000_000
            if kind == "gauge":
                point = metric.gauge.data_points.add(time_unix_nano=t, as_double=rng.random() * 100)
            elif kind == "sum":
                metric.sum.aggregation_temporality = 2
                metric.sum.is_monotonic = True
                point = metric.sum.data_points.add(time_unix_nano=t, start_time_unix_nano=base_ns, as_int=rng.randint(0, 10**6))
            elif kind == "histogram":
                metric.histogram.aggregation_temporality = 2
                counts = [rng.randint(0, 100) for _ in range(8)]
                point = metric.histogram.data_points.add(
                    time_unix_nano=t, start_time_unix_nano=base_ns, count=sum(counts), sum=sum(counts) * 12.5,
                    bucket_counts=counts, explicit_bounds=[5, 10, 25, 50, 100, 250, 500],
                )
            elif kind == "exponential_histogram":
                metric.exponential_histogram.aggregation_temporality = 2
                point = metric.exponential_histogram.data_points.add(time_unix_nano=t, start_time_unix_nano=base_ns, count=20, sum=210.0, scale=3, zero_count=1)
                point.positive.offset = 2
                point.positive.bucket_counts.extend([rng.randint(0, 5) for _ in range(6)])
            else:
                point = metric.summary.data_points.add(time_unix_nano=t, start_time_unix_nano=base_ns, count=10, sum=45.0)
                point.quantile_values.add(quantile=0.5, value=4.0)
                point.quantile_values.add(quantile=0.99, value=9.0)
            _kv(point.attributes, "http.route", rng.choice(["/a", "/b", "/c"]))
            _kv(point.attributes, "http.response.status_code", rng.choice([200, 404, 500]))
            made += 1
    return request
