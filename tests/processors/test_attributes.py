"""attributes / resource: contrib README examples give contrib's documented results."""

from __future__ import annotations

import asyncio
import hashlib
import struct

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from summitcol.component import ComponentID, CreateSettings, Signal
from summitcol.pdata.codec import CODECS, to_message
from summitcol.pdata.decoded import DEFAULT_LIMITS
from summitcol.pdata.signal import SignalData
from summitcol.processors.attraction import ActionConfig
from summitcol.processors.attributes import AttributesProcessor
from summitcol.processors.attributes import Config as AttributesConfig
from summitcol.processors.matching import AttributeMatch, MatchProperties
from summitcol.processors.resource import Config as ResourceConfig
from summitcol.processors.resource import ResourceProcessor
from summitcol.telemetry import Telemetry
from tests.processors.test_redaction import as_dict, key_values


class Sink:
    def __init__(self) -> None:
        self.items: list[SignalData] = []

    async def consume(self, data: SignalData) -> None:
        self.items.append(data)


def request(spans: list[tuple[str, str, dict]]) -> ExportTraceServiceRequest:
    """spans: (service, span name, attributes); one resource per span."""
    req = ExportTraceServiceRequest()
    for i, (service, name, attributes) in enumerate(spans):
        rs = req.resource_spans.add()
        rs.resource.attributes.extend(key_values({"service.name": service, "host.name": "h1"}))
        span = rs.scope_spans.add().spans.add(name=name, trace_id=b"\x01" * 16, span_id=(i + 1).to_bytes(8, "big"))
        span.attributes.extend(key_values(attributes))
    return req


def run(processor_type, config, req):  # type: ignore[no-untyped-def]
    sink = Sink()
    settings = CreateSettings(id=ComponentID("p"), telemetry=Telemetry())
    processor = processor_type(settings, config, next_consumer=sink)
    tables, _ = CODECS[Signal.TRACES].from_otlp(req, DEFAULT_LIMITS)
    asyncio.run(processor.consume(SignalData(Signal.TRACES, tables)))
    return to_message(sink.items[0]), sink.items[0]


def test_contrib_readme_actions() -> None:
    config = AttributesConfig(
        actions=[
            ActionConfig(key="db.table", action="delete"),
            ActionConfig(key="redacted_span", value=True, action="upsert"),
            ActionConfig(key="copy_key", from_attribute="key_original", action="update"),
            ActionConfig(key="account_id", value=2245, action="insert"),
            ActionConfig(key="account_password", action="delete"),
            ActionConfig(key="account_email", action="hash"),
            ActionConfig(key="http.status_code", action="convert", converted_type="int"),
            ActionConfig(key="retries", action="convert", converted_type="double"),
            ActionConfig(key="bad", action="convert", converted_type="int"),
        ]
    )
    attributes = {
        "db.table": "users",
        "copy_key": "old",
        "key_original": "orig",
        "account_password": "hunter2",
        "account_email": "a@example.com",
        "http.status_code": "404",
        "retries": 3,
        "bad": "not a number",
        "count": 7,
    }
    out, _ = run(AttributesProcessor, config, request([("svc", "op", attributes), ("svc", "op2", {"account_id": 1, "count": 7})]))
    first = as_dict(out.resource_spans[0].scope_spans[0].spans[0].attributes)
    assert first == {
        "copy_key": "orig",
        "key_original": "orig",
        "account_email": hashlib.sha256(b"a@example.com").hexdigest(),
        "http.status_code": 404,
        "retries": 3.0,
        "bad": "not a number",
        "count": 7,
        "redacted_span": True,
        "account_id": 2245,
    }
    second = as_dict(out.resource_spans[1].scope_spans[0].spans[0].attributes)
    assert second == {"account_id": 1, "count": 7, "redacted_span": True}  # insert does not overwrite


def test_hash_of_typed_values_matches_contrib_encoding() -> None:
    config = AttributesConfig(actions=[ActionConfig(key="n", action="hash"), ActionConfig(key="b", action="hash")])
    out, _ = run(AttributesProcessor, config, request([("svc", "op", {"n": 42, "b": True})]))
    attrs = as_dict(out.resource_spans[0].scope_spans[0].spans[0].attributes)
    assert attrs == {"n": hashlib.sha256(struct.pack("<q", 42)).hexdigest(), "b": hashlib.sha256(b"\x01").hexdigest()}


def test_extract_named_groups() -> None:
    config = AttributesConfig(actions=[ActionConfig(key="http.url", pattern=r"^/api/v1/document/(?P<documentId>.*)/update$", action="extract")])
    out, _ = run(AttributesProcessor, config, request([("svc", "op", {"http.url": "/api/v1/document/12345678/update"}), ("svc", "op", {"http.url": "/health"})]))
    spans = [s for rs in out.resource_spans for s in rs.scope_spans[0].spans]
    assert as_dict(spans[0].attributes) == {"http.url": "/api/v1/document/12345678/update", "documentId": "12345678"}
    assert as_dict(spans[1].attributes) == {"http.url": "/health"}


def test_include_exclude_select_rows() -> None:
    config = AttributesConfig(
        actions=[ActionConfig(key="team", value="auth", action="insert")],
        include=MatchProperties(match_type="regexp", services=["auth-.*"]),
        exclude=MatchProperties(match_type="strict", attributes=[AttributeMatch(key="internal", value=True)]),
    )
    out, _ = run(
        AttributesProcessor,
        config,
        request([("auth-service", "login", {}), ("billing", "charge", {}), ("auth-admin", "x", {"internal": True})]),
    )
    spans = [as_dict(rs.scope_spans[0].spans[0].attributes) for rs in out.resource_spans]
    assert spans == [{"team": "auth"}, {}, {"internal": True}]


def test_resource_processor_and_service_name_column() -> None:
    config = ResourceConfig(
        attributes=[
            ActionConfig(key="deployment.environment", value="prod", action="insert"),
            ActionConfig(key="host.name", action="delete"),
            ActionConfig(key="service.name", value="renamed", action="update"),
        ]
    )
    out, data = run(ResourceProcessor, config, request([("svc", "op", {"a": 1})]))
    assert as_dict(out.resource_spans[0].resource.attributes) == {"service.name": "renamed", "deployment.environment": "prod"}
    assert data.tables["spans"].column("ServiceName").to_pylist() == ["renamed"]


def test_from_context_over_real_receivers(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """A client's address and request metadata become attributes (gRPC metadata, HTTP headers)."""
    import urllib.request

    import grpc

    from tests.helpers import Collector, free_port, pipelines_yaml, read_file_export, receiver_yaml

    grpc_port, http_port = free_port(), free_port()
    out = tmp_path / "out.jsonl"
    config = f"""
receivers:
{receiver_yaml(grpc_port, http_port)}
processors:
  attributes:
    actions:
      - key: tenant
        from_context: metadata.x-tenant
        action: upsert
      - key: peer
        from_context: client.address
        action: insert
      - key: user
        from_context: auth.subject
        action: insert
exporters:
  file:
    path: {out}
{pipelines_yaml("otlp", "attributes", "file")}
"""
    config = config.replace(f"endpoint: 127.0.0.1:{grpc_port}", f"endpoint: 127.0.0.1:{grpc_port}\n        include_metadata: true")
    config = config.replace(f"endpoint: 127.0.0.1:{http_port}", f"endpoint: 127.0.0.1:{http_port}\n        include_metadata: true")
    with Collector(tmp_path, config) as collector:
        channel = grpc.insecure_channel(f"127.0.0.1:{grpc_port}")
        channel.unary_unary("/opentelemetry.proto.collector.trace.v1.TraceService/Export")(
            request([("svc", "via-grpc", {})]).SerializeToString(), metadata=(("x-tenant", "acme"),), timeout=10
        )
        channel.close()
        post = urllib.request.Request(
            f"http://127.0.0.1:{http_port}/v1/traces",
            data=request([("svc", "via-http", {"tenant": "old"})]).SerializeToString(),
            headers={"Content-Type": "application/x-protobuf", "X-Tenant": "globex"},
        )
        with urllib.request.urlopen(post, timeout=10) as response:
            assert response.status == 200
        assert collector.stop() == 0
    spans = {
        span.name: as_dict(span.attributes)
        for req in read_file_export(out)[ExportTraceServiceRequest]
        for rs in req.resource_spans
        for span in rs.scope_spans[0].spans
    }
    assert spans == {
        "via-grpc": {"tenant": "acme", "peer": "127.0.0.1"},
        "via-http": {"tenant": "globex", "peer": "127.0.0.1"},
    }
