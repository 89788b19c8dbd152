"""Sends telemetry with the official OpenTelemetry Python SDK and returns the SDK's own encoding of it."""

from __future__ import annotations

import logging

from opentelemetry.exporter.otlp.proto.common._log_encoder import encode_logs
from opentelemetry.exporter.otlp.proto.common.metrics_encoder import encode_metrics
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import ExportMetricsServiceRequest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.sdk._logs import LoggerProvider, LoggingHandler
from opentelemetry.sdk._logs.export import (
    BatchLogRecordProcessor,
    InMemoryLogRecordExporter,
    SimpleLogRecordProcessor,
)
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader, PeriodicExportingMetricReader
from opentelemetry.sdk.metrics.view import ExponentialBucketHistogramAggregation, View
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import Link, SpanKind, Status, StatusCode

from tests.helpers import spans_by_id

RESOURCE = Resource.create({"service.name": "e2e-svc", "deployment.environment.name": "test", "host.cores": 2})


def _exporters(transport: str, grpc_port: int, http_port: int):  # type: ignore[no-untyped-def]
    if transport == "grpc":
        from opentelemetry.exporter.otlp.proto.grpc._log_exporter import OTLPLogExporter
        from opentelemetry.exporter.otlp.proto.grpc.metric_exporter import OTLPMetricExporter
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter

        endpoint = f"127.0.0.1:{grpc_port}"
        return (
            OTLPSpanExporter(endpoint=endpoint, insecure=True),
            OTLPLogExporter(endpoint=endpoint, insecure=True),
            OTLPMetricExporter(endpoint=endpoint, insecure=True),
        )
    from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter
    from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    base = f"http://127.0.0.1:{http_port}"
    return (
        OTLPSpanExporter(endpoint=f"{base}/v1/traces"),
        OTLPLogExporter(endpoint=f"{base}/v1/logs"),
        OTLPMetricExporter(endpoint=f"{base}/v1/metrics"),
    )


def send_with_sdk(
    transport: str, grpc_port: int, http_port: int, n_spans: int = 10_000, n_logs: int = 10_000
) -> tuple[ExportTraceServiceRequest, ExportLogsServiceRequest, ExportMetricsServiceRequest]:
    """Send everything; return the SDK's own OTLP encoding of what it sent."""
    span_exporter, log_exporter, metric_exporter = _exporters(transport, grpc_port, http_port)

    spans_seen = InMemorySpanExporter()
    tracer_provider = TracerProvider(resource=RESOURCE)
    tracer_provider.add_span_processor(BatchSpanProcessor(span_exporter, max_queue_size=n_spans * 2, max_export_batch_size=512))
    tracer_provider.add_span_processor(SimpleSpanProcessor(spans_seen))
    tracer = tracer_provider.get_tracer("e2e.tracer", "1.2.3", attributes={"scope.attr": "yes"})
    previous = None
    for i in range(n_spans):
        links = [Link(previous.get_span_context(), {"link.n": i})] if previous is not None and i % 7 == 0 else []
        with tracer.start_as_current_span(
            f"op-{i % 50}",
            kind=SpanKind(i % 5),
            links=links,
            attributes={
                "i": i,
                "http.request.method": "GET",
                "ratio": i / 7,
                "ok": i % 2 == 0,
                "tags": ["a", "b", str(i)],
                "codes": [i, i + 1],
                "weights": [0.5, 1.5],
            },
        ) as span:
            if i % 10 == 0:
                span.add_event("checkpoint", {"n": i, "note": "ünïcødé ✓"})
            if i % 20 == 0:
                span.set_status(Status(StatusCode.ERROR, f"failed {i}"))
            previous = span
    tracer_provider.shutdown()

    logs_seen = InMemoryLogRecordExporter()
    logger_provider = LoggerProvider(resource=RESOURCE)
    logger_provider.add_log_record_processor(BatchLogRecordProcessor(log_exporter, max_queue_size=n_logs * 2, max_export_batch_size=512))
    logger_provider.add_log_record_processor(SimpleLogRecordProcessor(logs_seen))
    logger = logging.getLogger(f"e2e.logs.{transport}")
    logger.propagate = False
    logger.setLevel(logging.INFO)
    handler = LoggingHandler(logger_provider=logger_provider)
    logger.addHandler(handler)
    try:
        for i in range(n_logs):
            (logger.warning if i % 3 == 0 else logger.info)("log %d of the e2e run", i, extra={"n": i, "user.tier": "gold"})
    finally:
        logger.removeHandler(handler)
    logger_provider.shutdown()

    metrics_seen = InMemoryMetricReader()
    meter_provider = MeterProvider(
        resource=RESOURCE,
        metric_readers=[PeriodicExportingMetricReader(metric_exporter, export_interval_millis=600_000), metrics_seen],
        views=[View(instrument_name="latency.exp", aggregation=ExponentialBucketHistogramAggregation())],
    )
    meter = meter_provider.get_meter("e2e.meter", "0.1")
    counter = meter.create_counter("requests", unit="1", description="requests served")
    histogram = meter.create_histogram("latency", unit="ms")
    gauge = meter.create_gauge("temperature", unit="Cel")
    exponential = meter.create_histogram("latency.exp", unit="ms")
    for value in range(1, 101):
        counter.add(value, {"route": "/a"})
        histogram.record(value, {"route": "/a"})
        exponential.record(value, {"route": "/a"})
    gauge.set(42.5, {"room": "lab"})
    sent_metrics = encode_metrics(metrics_seen.get_metrics_data())
    meter_provider.shutdown()

    return encode_spans(spans_seen.get_finished_spans()), encode_logs(logs_seen.get_finished_logs()), sent_metrics


def logs_by_body(requests: list[ExportLogsServiceRequest]) -> dict[str, tuple]:  # type: ignore[type-arg]
    out = {}
    for request in requests:
        for rl in request.resource_logs:
            for sl in rl.scope_logs:
                for record in sl.log_records:
                    out[record.body.string_value] = (record, rl.resource, sl.scope)
    return out


def metric_points(requests: list[ExportMetricsServiceRequest]) -> dict[str, object]:
    out = {}
    for request in requests:
        for rm in request.resource_metrics:
            for sm in rm.scope_metrics:
                for metric in sm.metrics:
                    out[metric.name] = metric
    return out


def assert_stored_exactly(
    stored: dict, sent_spans: ExportTraceServiceRequest, sent_logs: ExportLogsServiceRequest, n_spans: int, n_logs: int
) -> None:  # type: ignore[type-arg]
    """The file exporter's output holds exactly what the SDK sent: every span and log record, equal."""
    expected = spans_by_id([sent_spans])
    got = spans_by_id(stored[ExportTraceServiceRequest])
    assert len(expected) == n_spans
    assert set(got) == set(expected)
    assert sum(len(ss.spans) for r in stored[ExportTraceServiceRequest] for rs in r.resource_spans for ss in rs.scope_spans) == n_spans
    for span_id, (span, resource, scope) in expected.items():
        assert got[span_id] == (span, resource, scope)

    expected_logs = logs_by_body([sent_logs])
    got_logs = logs_by_body(stored[ExportLogsServiceRequest])
    assert len(expected_logs) == n_logs
    assert sum(len(sl.log_records) for r in stored[ExportLogsServiceRequest] for rl in r.resource_logs for sl in rl.scope_logs) == n_logs
    assert got_logs == expected_logs

    metrics = metric_points(stored[ExportMetricsServiceRequest])
    counter = metrics["requests"]
    assert counter.sum.is_monotonic and counter.description == "requests served"
    assert [(p.as_int, {a.key: a.value.string_value for a in p.attributes}) for p in counter.sum.data_points] == [(5050, {"route": "/a"})]
    hist = metrics["latency"].histogram.data_points[0]
    assert (hist.count, hist.sum, hist.min, hist.max) == (100, 5050.0, 1.0, 100.0)
    assert sum(hist.bucket_counts) == 100 and len(hist.bucket_counts) == len(hist.explicit_bounds) + 1
    gauge = metrics["temperature"]
    assert gauge.unit == "Cel"
    assert [p.as_double for p in gauge.gauge.data_points] == [42.5]
