"""The `tenants` extension in a running collector, driven by the OpenTelemetry SDK's own OTLP
exporters and by raw requests, stored in the real chDB engine:

* the tenant comes from the credential (a bearer token, or a basic-auth user checked by
  `basicauth`): a client-sent `tenant.id` resource attribute is overwritten, and every row's
  `TenantId` column says whose it is;
* over its rate limit a tenant gets the OTLP throttling codes: HTTP 429 + Retry-After and gRPC
  RESOURCE_EXHAUSTED + RetryInfo, exactly once its burst is spent; what was refused is not stored;
* with two worker processes, the limit holds for the whole collector.
"""

from __future__ import annotations

import base64
import logging
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
import requests
from google.rpc import error_details_pb2, status_pb2
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter as GrpcExporter
from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter as HttpExporter
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2
from opentelemetry.sdk._logs import LoggerProvider, LoggingHandler
from opentelemetry.sdk._logs.export import SimpleLogRecordProcessor
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExportResult
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from passlib.hash import bcrypt

from tests.helpers import Collector, free_port, wait_for

TRACE_METHOD = "/opentelemetry.proto.collector.trace.v1.TraceService/Export"
PROTOBUF = {"Content-Type": "application/x-protobuf"}


def spans(n: int, service: str, **resource: str) -> list:  # type: ignore[type-arg]
    memory = InMemorySpanExporter()
    provider = TracerProvider(resource=Resource.create({"service.name": service, **resource}))
    provider.add_span_processor(SimpleSpanProcessor(memory))
    for i in range(n):
        with provider.get_tracer("tenants").start_as_current_span(f"{service}-{i}"):
            pass
    provider.shutdown()
    return list(memory.get_finished_spans())


def request_of(n: int, service: str) -> bytes:
    request = trace_service_pb2.ExportTraceServiceRequest()
    resource_spans = request.resource_spans.add()
    resource_spans.resource.attributes.add(key="service.name").value.string_value = service
    scope = resource_spans.scope_spans.add()
    for i in range(n):
        span = scope.spans.add(trace_id=bytes(range(1, 17)), span_id=(i + 1).to_bytes(8, "big"), name=f"{service}-{i}")
        span.start_time_unix_nano = span.end_time_unix_nano = 1_700_000_000_000_000_000 + i
    return request.SerializeToString()


def config(tmp: Path, ports: dict[str, int], workers: int = 1) -> str:
    htpasswd = f"ci:{bcrypt.using(rounds=4).hash('ci-pass')}"
    return f"""
extensions:
  basicauth/users:
    htpasswd: {{inline: "{htpasswd}"}}
  tenants:
    authenticator: basicauth/users
    tenants:
      acme: {{tokens: [acme-token]}}
      globex: {{tokens: [globex-token], users: [ci], internal: true}}
      tiny: {{tokens: [tiny-token], limits: {{records_per_second: 0.001, records_burst: 10}}}}
      narrow: {{tokens: [narrow-token], limits: {{bytes_per_second: 0.001, bytes_burst: 500}}}}
  chdb:
    path: {tmp / "clickhouse"}
    http: {{endpoint: "127.0.0.1:{ports['chdb']}"}}
receivers:
  otlp:
    protocols:
      grpc: {{endpoint: "127.0.0.1:{ports['grpc']}", auth: {{authenticator: tenants}}}}
      http: {{endpoint: "127.0.0.1:{ports['http']}", auth: {{authenticator: tenants}}}}
exporters:
  clickhouse:
    storage: chdb
    sending_queue: {{enabled: false}}  # acknowledged = inserted
service:
  workers: {workers}
  extensions: [basicauth/users, tenants, chdb]
  telemetry: {{metrics: {{address: "127.0.0.1:{ports['metrics']}"}}}}
  pipelines:
    traces: {{receivers: [otlp], exporters: [clickhouse]}}
    logs: {{receivers: [otlp], exporters: [clickhouse]}}
"""


class Gateway:
    def __init__(self, ports: dict[str, int]) -> None:
        self.ports = ports

    def query(self, sql: str) -> list[list[str]]:
        reply = requests.post(f"http://127.0.0.1:{self.ports['chdb']}/", data=sql + " FORMAT TSV", timeout=30)
        assert reply.status_code == 200, reply.text
        return [line.split("\t") for line in reply.text.splitlines()]

    def metric(self, name: str, **labels: str) -> float:
        """The sum of the samples of `name` with these labels."""
        with urllib.request.urlopen(f"http://127.0.0.1:{self.ports['metrics']}/metrics", timeout=10) as response:
            text = response.read().decode()
        return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines()  # summed over the other labels
                   if line.startswith(name + "{") and all(f'{k}="{v}"' in line for k, v in labels.items()))

    def post(self, token: str, body: bytes) -> requests.Response:
        return requests.post(f"http://127.0.0.1:{self.ports['http']}/v1/traces", data=body,
                             headers={**PROTOBUF, "Authorization": f"Bearer {token}"}, timeout=30)


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    tmp = tmp_path_factory.mktemp("tenants")
    ports = {name: free_port() for name in ("grpc", "http", "chdb", "metrics")}
    with Collector(tmp, config(tmp, ports)):
        yield Gateway(ports)


def test_the_credential_picks_the_tenant_and_a_client_sent_tenant_id_is_overwritten(gateway: Gateway) -> None:
    grpc_exporter = GrpcExporter(endpoint=f"127.0.0.1:{gateway.ports['grpc']}", insecure=True,
                                 headers={"authorization": "Bearer acme-token"}, timeout=10)
    assert grpc_exporter.export(spans(7, "svc-acme", **{"tenant.id": "globex"})) == SpanExportResult.SUCCESS
    basic = base64.b64encode(b"ci:ci-pass").decode()
    http_exporter = HttpExporter(endpoint=f"http://127.0.0.1:{gateway.ports['http']}/v1/traces",
                                 headers={"Authorization": f"Basic {basic}"}, timeout=10)
    assert http_exporter.export(spans(5, "svc-globex", **{"tenant.id": "acme", "tenant.internal": "false"})) == SpanExportResult.SUCCESS
    rows = gateway.query(
        "SELECT ServiceName, TenantId, ResourceAttributes['tenant.id'], ResourceAttributes['tenant.internal'], count() "
        "FROM otel.otel_traces WHERE ServiceName LIKE 'svc-%' GROUP BY ALL ORDER BY ServiceName")
    assert rows == [["svc-acme", "acme", "acme", "", "7"], ["svc-globex", "globex", "globex", "true", "5"]]
    assert gateway.metric("summitcol_tenant_accepted_spans_total", tenant="acme") == 7

    provider = LoggerProvider(resource=Resource.create({"service.name": "logs-acme", "tenant.id": "tiny"}))
    exporter = OTLPLogExporter(endpoint=f"http://127.0.0.1:{gateway.ports['http']}/v1/logs",
                               headers={"Authorization": "Bearer acme-token"}, timeout=10)
    provider.add_log_record_processor(SimpleLogRecordProcessor(exporter))
    logger = logging.getLogger("tenants-e2e")
    logger.propagate = False
    logger.addHandler(LoggingHandler(logger_provider=provider))
    for i in range(3):
        logger.warning("line %d", i)
    provider.shutdown()
    assert gateway.query("SELECT TenantId, count() FROM otel.otel_logs WHERE ServiceName = 'logs-acme' GROUP BY TenantId") \
        == [["acme", "3"]]


def test_wrong_and_missing_credentials_are_refused(gateway: Gateway) -> None:
    assert gateway.post("acme-tokenX", request_of(1, "svc-wrong")).status_code == 401
    reply = requests.post(f"http://127.0.0.1:{gateway.ports['http']}/v1/traces", data=request_of(1, "svc-wrong"),
                          headers=PROTOBUF, timeout=30)
    assert reply.status_code == 401
    basic = base64.b64encode(b"ci:wrong").decode()
    reply = requests.post(f"http://127.0.0.1:{gateway.ports['http']}/v1/traces", data=request_of(1, "svc-wrong"),
                          headers={**PROTOBUF, "Authorization": f"Basic {basic}"}, timeout=30)
    assert reply.status_code == 401
    with grpc.insecure_channel(f"127.0.0.1:{gateway.ports['grpc']}") as channel:
        call = channel.unary_unary(TRACE_METHOD)
        with pytest.raises(grpc.RpcError) as refused:
            call(request_of(1, "svc-wrong"), metadata=[("authorization", "Bearer nope")], timeout=10)
    assert refused.value.code() == grpc.StatusCode.UNAUTHENTICATED
    assert gateway.query("SELECT count() FROM otel.otel_traces WHERE ServiceName = 'svc-wrong'") == [["0"]]


def test_over_its_record_limit_a_tenant_gets_429_and_resource_exhausted_with_retry_info(gateway: Gateway) -> None:
    assert gateway.post("tiny-token", request_of(6, "svc-tiny")).status_code == 200
    assert gateway.post("tiny-token", request_of(4, "svc-tiny")).status_code == 200  # the burst of 10 is spent
    refused = gateway.post("tiny-token", request_of(1, "svc-tiny"))
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) >= 1
    status = status_pb2.Status.FromString(refused.content)
    assert status.code == grpc.StatusCode.RESOURCE_EXHAUSTED.value[0]
    assert "tenant 'tiny' is over its rate limit of records" in status.message
    with grpc.insecure_channel(f"127.0.0.1:{gateway.ports['grpc']}") as channel:
        call = channel.unary_unary(TRACE_METHOD)
        with pytest.raises(grpc.RpcError) as exhausted:
            call(request_of(1, "svc-tiny"), metadata=[("authorization", "Bearer tiny-token")], timeout=10)
    assert exhausted.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    details = dict(exhausted.value.trailing_metadata())["grpc-status-details-bin"]
    info = error_details_pb2.RetryInfo()
    assert status_pb2.Status.FromString(details).details[0].Unpack(info)
    assert info.retry_delay.seconds >= 1  # a record a thousand seconds at 0.001/s
    # another tenant is not held back by this one
    assert gateway.post("acme-token", request_of(2, "svc-acme-beside-tiny")).status_code == 200
    assert gateway.query("SELECT TenantId, count() FROM otel.otel_traces WHERE ServiceName = 'svc-tiny' GROUP BY TenantId") \
        == [["tiny", "10"]]
    assert gateway.metric("summitcol_tenant_refused_requests_total", tenant="tiny", reason="rate_limited") == 2


def test_over_its_byte_limit_a_tenant_is_refused_before_decoding(gateway: Gateway) -> None:
    body = request_of(3, "svc-narrow")
    assert 200 < len(body) < 250
    assert gateway.post("narrow-token", body).status_code == 200
    assert gateway.post("narrow-token", body).status_code == 200
    assert gateway.post("narrow-token", body).status_code == 429  # 3 bodies are more than 500 bytes
    assert gateway.query("SELECT count() FROM otel.otel_traces WHERE TenantId = 'narrow'") == [["6"]]


def test_with_two_workers_the_limit_holds_for_the_whole_collector(tmp_path: Path) -> None:
    ports = {name: free_port() for name in ("grpc", "http", "chdb", "metrics")}
    with Collector(tmp_path, config(tmp_path, ports, workers=2)) as collector:
        gateway = Gateway(ports)
        codes = [gateway.post("tiny-token", request_of(1, "svc-spread")).status_code for _ in range(30)]  # a connection each
        assert "Worker 1 of 2 is ready." in collector.log()
        assert sorted(codes) == [200] * 10 + [429] * 20
        assert wait_for(lambda: gateway.query("SELECT count() FROM otel.otel_traces WHERE TenantId = 'tiny'") == [["10"]])
