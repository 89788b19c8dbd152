"""The official OpenTelemetry Python SDK records real exceptions (`span.record_exception`, and the
logging handler's `logger.exception`) → summitcol (otlp → fingerprint → clickhouse on chDB):
every occurrence is one `events_error_v1` row, grouped into the expected issues.

The bugs, raised by real code in this module:
  * `lookup_order` raises KeyError with a different order id each time, reached from an HTTP
    handler and from a background job (two call paths, one bug);
  * `parse_quantity` raises ValueError (int() of a bad string) at one site;
  * `apply_discount` raises ValueError with the *same* message template as parse_quantity's own
    ValueError, at another site: a near miss that must stay a separate issue;
  * `apply_discount` also raises ZeroDivisionError at the same site: another type, another issue.
"""

from __future__ import annotations

import contextlib
import logging
from pathlib import Path

import clickhouse_connect
import pytest
from opentelemetry.exporter.otlp.proto.grpc._log_exporter import OTLPLogExporter
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk._logs import LoggerProvider, LoggingHandler
from opentelemetry.sdk._logs.export import BatchLogRecordProcessor
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor

from tests.helpers import Collector, free_port, receiver_yaml, wait_for

ORDERS = {"a-1": 3}
SPANS_PER_BUG = 20
LOGGED = 10


def lookup_order(order_id: str) -> int:
    return ORDERS[order_id]


def service_total(order_id: str) -> int:
    return lookup_order(order_id) * 2


def http_handler(order_id: str) -> int:
    return service_total(order_id)


def nightly_job(order_id: str) -> int:
    return lookup_order(order_id)


def parse_quantity(text: str) -> int:
    return int(text)


def apply_discount(price: int, percent: int, raw: str) -> float:
    if raw:
        raise ValueError(f"invalid literal for int() with base 10: '{raw}'")
    return price / percent


def config(tmp: Path, grpc_port: int, ch_port: int, model: str = "builtin", workers: int = 1, remote: int = 0) -> str:
    """otlp → fingerprint → clickhouse on the embedded engine, or (`remote`: a port) on another
    collector's ClickHouse HTTP interface, as on a ClickHouse server."""
    store = f"endpoint: http://127.0.0.1:{remote}" if remote else "storage: chdb"
    return f"""
receivers:
{receiver_yaml(grpc_port, None)}
processors:
  fingerprint:
    {store}
    grouping: {{model: {model}}}
exporters:
  clickhouse:
    {store}
extensions:
  chdb:
    path: {tmp / "clickhouse"}
    http:
      endpoint: 127.0.0.1:{ch_port}
service:
  telemetry: {{metrics: {{level: none}}}}
  workers: {workers}
  extensions: [chdb]
  pipelines:
    traces: {{receivers: [otlp], processors: [fingerprint], exporters: [clickhouse]}}
    logs: {{receivers: [otlp], processors: [fingerprint], exporters: [clickhouse]}}
"""


def send_real_exceptions(grpc_port: int, release: str = "1.0.0") -> int:
    """Record every bug's exceptions through the SDK; returns how many were recorded."""
    resource = Resource.create({"service.name": "shop", "service.version": release})
    tracer_provider = TracerProvider(resource=resource)
    tracer_provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=f"127.0.0.1:{grpc_port}", insecure=True)))
    tracer = tracer_provider.get_tracer("shop")
    recorded = 0
    calls = [
        *[(http_handler, (f"order-{i}",)) for i in range(SPANS_PER_BUG)],
        *[(nightly_job, (f"job-{i * 7}",)) for i in range(SPANS_PER_BUG)],
        *[(parse_quantity, (f"{i}x",)) for i in range(SPANS_PER_BUG)],
        *[(apply_discount, (10, 5, f"{i}y")) for i in range(SPANS_PER_BUG)],
        *[(apply_discount, (10, 0, "")) for _ in range(SPANS_PER_BUG)],
    ]
    for function, args in calls:
        with tracer.start_as_current_span("request", record_exception=False) as span:
            try:
                function(*args)
            except Exception as exc:  # noqa: BLE001 - the SDK records whatever was raised
                span.record_exception(exc)
                recorded += 1
    tracer_provider.shutdown()

    logger_provider = LoggerProvider(resource=resource)
    logger_provider.add_log_record_processor(BatchLogRecordProcessor(OTLPLogExporter(endpoint=f"127.0.0.1:{grpc_port}", insecure=True)))
    logger = logging.getLogger("shop.errors")
    logger.propagate = False
    handler = LoggingHandler(logger_provider=logger_provider)
    logger.addHandler(handler)
    try:
        for i in range(LOGGED):
            try:
                http_handler(f"logged-{i}")
            except KeyError:
                logger.exception("order lookup failed")
                recorded += 1
    finally:
        logger.removeHandler(handler)
    logger_provider.shutdown()
    return recorded


@pytest.mark.parametrize("where", ["embedded", "remote"])
def test_sdk_exceptions_are_stored_and_grouped(tmp_path: Path, where: str) -> None:
    grpc_port, ch_port = free_port(), free_port()
    server = contextlib.nullcontext()
    if where == "remote":  # a second collector holds the store and serves ClickHouse's HTTP interface
        store_port = free_port()
        (tmp_path / "server").mkdir()
        server = Collector(tmp_path / "server", config(tmp_path / "server", free_port(), store_port), "server")
        ch_port, query_port = store_port, store_port
    else:
        query_port = ch_port
    with server, Collector(tmp_path, config(tmp_path, grpc_port, free_port() if where == "remote" else ch_port,
                                            remote=ch_port if where == "remote" else 0)) as collector:
        recorded = send_real_exceptions(grpc_port)
        client = clickhouse_connect.get_client(host="127.0.0.1", port=query_port)
        assert wait_for(lambda: client.command("SELECT count() FROM otel.events_error_v1") == recorded, timeout=60)
        rows = client.query(
            "SELECT ExceptionType, Source, count(), uniqExact(Fingerprint), uniqExact(GroupId), any(Language), "
            "any(ServiceVersion) FROM otel.events_error_v1 GROUP BY ExceptionType, Source ORDER BY 1, 2"
        ).result_rows
        groups = client.query(
            "SELECT ExceptionType, Count, Culprit, Status FROM otel.error_groups ORDER BY ExceptionType, Culprit"
        ).result_rows
        tagged = client.command(
            "SELECT countIf(Events.Attributes[1]['exception.group_id'] != '') FROM otel.otel_traces"
        )
        client.close()
        assert collector.stop() == 0, collector.log()
    assert recorded == 5 * SPANS_PER_BUG + LOGGED
    assert rows == [
        ("KeyError", "log", LOGGED, 1, 1, "python", "1.0.0"),
        ("KeyError", "span_event", 2 * SPANS_PER_BUG, 2, 1, "python", "1.0.0"),
        ("ValueError", "span_event", 2 * SPANS_PER_BUG, 2, 2, "python", "1.0.0"),
        ("ZeroDivisionError", "span_event", SPANS_PER_BUG, 1, 1, "python", "1.0.0"),
    ]
    assert groups == [
        ("KeyError", 2 * SPANS_PER_BUG + LOGGED, "test_e2e_errors.py:lookup_order", "unresolved"),
        ("ValueError", SPANS_PER_BUG, "test_e2e_errors.py:apply_discount", "unresolved"),
        ("ValueError", SPANS_PER_BUG, "test_e2e_errors.py:parse_quantity", "unresolved"),
        ("ZeroDivisionError", SPANS_PER_BUG, "test_e2e_errors.py:apply_discount", "unresolved"),
    ]
    assert tagged == 5 * SPANS_PER_BUG
