"""End to end: the OpenTelemetry SDK sends spans and logs full of PII to a collector with the
`redaction` processor; nothing stored in ClickHouse (embedded chDB) or written by the `file`
exporter matches any detector, and `hash` gives the same digest across requests and restarts."""

from __future__ import annotations

import hashlib
import json
import logging
from pathlib import Path

import clickhouse_connect
import pyarrow as pa
from opentelemetry.exporter.otlp.proto.grpc._log_exporter import OTLPLogExporter
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk._logs import LoggerProvider, LoggingHandler
from opentelemetry.sdk._logs.export import BatchLogRecordProcessor
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.trace import Status, StatusCode

from summitcol.pii.detectors import BUILTIN
from summitcol.pii.scrubber import Rule, Scrubber
from tests.helpers import Collector, free_port, pipelines_yaml, receiver_yaml, wait_for

N = 300
EMAIL = "jane.doe@example.com"
SECRETS = {
    "email": EMAIL,
    "card": "4111 1111 1111 1111",
    "ssn": "123-45-6789",
    "phone": "+1 415 555 0132",
    "ip": "203.0.113.77",
    "ipv6": "2001:db8::8a2e:370:7334",
    "iban": "DE89 3704 0044 0532 0130 00",
    "jwt": "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
    "password": "hunter2-Secret!",
    "aws": "AKIAIOSFODNN7EXAMPLE",
    "user": "jdoe",
}


def send(grpc_port: int, n: int, run: str) -> None:
    resource = Resource.create({"service.name": "privacy-e2e", "host.ip": SECRETS["ip"]})
    tracer_provider = TracerProvider(resource=resource)
    tracer_provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=f"127.0.0.1:{grpc_port}", insecure=True), max_export_batch_size=100))
    tracer = tracer_provider.get_tracer("privacy")
    for i in range(n):
        with tracer.start_as_current_span(f"checkout {i % 5}") as span:
            span.set_attribute("run", run)
            span.set_attribute("i", i)
            span.set_attribute("enduser.email", EMAIL)
            span.set_attribute("url.full", f"https://jdoe:{SECRETS['password']}@api.example.com/pay?card={SECRETS['card'].replace(' ', '')}&token=abc{i}")
            span.set_attribute("db.query.text", f"SELECT * FROM users WHERE ssn = '{SECRETS['ssn']}' OR phone = '{SECRETS['phone']}'")
            span.set_attribute("http.request.header.authorization", f"Bearer {SECRETS['jwt']}")
            span.set_attribute("client.address", SECRETS["ipv6"])
            span.set_attribute("payout.iban", SECRETS["iban"])
            span.set_attribute("cloud.key", f"using {SECRETS['aws']}")
            try:
                raise ValueError(f"payment for {EMAIL} with card {SECRETS['card']} failed")
            except ValueError as exc:
                span.record_exception(exc)
                span.set_status(Status(StatusCode.ERROR, f"declined for {EMAIL}"))
    tracer_provider.shutdown()

    logger_provider = LoggerProvider(resource=resource)
    logger_provider.add_log_record_processor(BatchLogRecordProcessor(OTLPLogExporter(endpoint=f"127.0.0.1:{grpc_port}", insecure=True), max_export_batch_size=100))
    logger = logging.getLogger(f"privacy.{run}")
    logger.propagate = False
    logger.setLevel(logging.INFO)
    handler = LoggingHandler(logger_provider=logger_provider)
    logger.addHandler(handler)
    try:
        for i in range(n):
            logger.info(
                "login %d for %s from %s, card %s, file /home/%s/app.log, password=%s",
                i, EMAIL, SECRETS["ip"], SECRETS["card"], SECRETS["user"], SECRETS["password"],
                extra={"run": run, "customer.phone": SECRETS["phone"]},
            )
    finally:
        logger.removeHandler(handler)
    logger_provider.shutdown()


def config(tmp: Path, grpc_port: int, ch_port: int, out: Path) -> str:
    return f"""
receivers:
{receiver_yaml(grpc_port, None)}
processors:
  redaction:
    allow_all_keys: true
    pii:
      actions: {{email: hash}}
  batch:
exporters:
  clickhouse:
    storage: chdb
  file:
    path: {out}
extensions:
  chdb:
    path: {tmp / "clickhouse"}
    http:
      endpoint: 127.0.0.1:{ch_port}
{pipelines_yaml("otlp", "redaction, batch", "clickhouse, file")}
  extensions: [chdb]
"""


def stored_strings(client) -> list[str]:  # type: ignore[no-untyped-def]
    rows = client.query(
        "SELECT SpanName, StatusMessage, mapValues(SpanAttributes), mapValues(ResourceAttributes), "
        "arrayFlatten(arrayMap(m -> mapValues(m), `Events.Attributes`)) FROM otel.otel_traces"
    ).result_rows
    texts: list[str] = []
    for name, status, span_values, resource_values, event_values in rows:
        texts += [name, status, *span_values, *resource_values, *event_values]
    for body, values in client.query("SELECT Body, mapValues(LogAttributes) FROM otel.otel_logs").result_rows:
        texts += [body, *values]
    return texts


def detections(texts: list[str]) -> dict[str, int]:
    scrubber = Scrubber([Rule(d, "replace") for d in BUILTIN], lambda s: s)
    return scrubber.scrub(pa.array(texts, pa.string())).hits


def test_no_pii_reaches_storage_and_hashes_are_stable(tmp_path: Path) -> None:
    grpc_port, ch_port = free_port(), free_port()
    out = tmp_path / "out.jsonl"
    digest = hashlib.sha256(EMAIL.encode()).hexdigest()
    for run in ("first", "after-restart"):
        with Collector(tmp_path, config(tmp_path, grpc_port, ch_port, out), name=f"collector-{run}") as collector:
            send(grpc_port, N, run)
            client = clickhouse_connect.get_client(host="127.0.0.1", port=ch_port)
            expected = N * (1 if run == "first" else 2)
            assert wait_for(
                lambda: client.command("SELECT count() FROM otel.otel_traces") == expected  # noqa: B023
                and client.command("SELECT count() FROM otel.otel_logs") == expected,  # noqa: B023
                timeout=60,
            ), collector.log()
            texts = stored_strings(client)
            # Every run's email hashes to the same digest (sha256, hash_function unset).
            emails = client.query("SELECT DISTINCT SpanAttributes['enduser.email'] FROM otel.otel_traces").result_rows
            assert emails == [(digest,)]
            client.close()
            assert collector.stop() == 0, collector.log()

    # Nothing stored matches a detector, and no secret survives anywhere.
    assert detections(texts) == {}
    joined = "\n".join(texts)
    for secret in SECRETS.values():
        assert secret not in joined
    # The stored shapes stay useful: markers in place of the secrets.
    assert any("[creditcard]" in t and digest in t for t in texts)  # the exception message
    assert f"declined for {digest}" in texts

    file_text = out.read_text()
    file_strings = []
    for line in file_text.splitlines():
        file_strings += _strings(json.loads(line))
    assert len([line for line in file_text.splitlines() if line.startswith('{"resourceSpans"')]) > 0
    assert detections(file_strings) == {}
    for secret in SECRETS.values():
        assert secret not in file_text


def _strings(node: object) -> list[str]:
    if isinstance(node, dict):
        return [s for v in node.values() for s in _strings(v)]
    if isinstance(node, list):
        return [s for v in node for s in _strings(v)]
    return [node] if isinstance(node, str) else []
