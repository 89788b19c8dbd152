"""`auth: {authenticator: …}` on the otlp receiver with the `bearertokenauth` and `basicauth`
extensions (contrib's config), driven by the OpenTelemetry SDK's own OTLP exporters and by raw
requests: right, wrong, missing credentials on gRPC and HTTP, a token file changed while running,
htpasswd entries in bcrypt, Apache MD5 and plain text, and the refusal counter.

One collector serves every receiver; each test sends spans under its own service name and counts
only those. A refusal is checked after a good request on the same receiver has been stored: the
pipeline has then handled everything sent before it, and the refused spans are not there.
"""

from __future__ import annotations

import base64
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import grpc
import pytest
import requests
from google.rpc import status_pb2
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter as GrpcExporter
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter as HttpExporter
from opentelemetry.sdk.trace.export import SpanExportResult
from passlib.hash import apr_md5_crypt, bcrypt

from tests.exporters.test_delivery import make_spans
from tests.helpers import Collector, free_port, spans_of_service, wait_for

N = 10
TOKENS = ("t0ken-one", "t0ken-two")
TRACE_METHOD = "/opentelemetry.proto.collector.trace.v1.TraceService/Export"


@dataclass(frozen=True)
class Gateway:
    collector: Collector
    out: Path
    token_file: Path
    ports: dict[str, int]

    def stored(self, service: str) -> int:
        return spans_of_service(self.out, service)

    def refused(self, receiver: str, transport: str) -> int:
        url = f"http://127.0.0.1:{self.ports['metrics']}/metrics"
        with urllib.request.urlopen(url, timeout=10) as response:
            text = response.read().decode()
        for line in text.splitlines():
            if (line.startswith("summitcol_receiver_refused_requests_total{") and f'receiver="{receiver}"' in line
                    and f'transport="{transport}"' in line and 'reason="unauthenticated"' in line):
                return int(float(line.rsplit(" ", 1)[1]))
        return 0


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    tmp = tmp_path_factory.mktemp("auth")
    ports = {name: free_port() for name in ("bearer/grpc", "bearer/http", "basic/http", "file/http", "metrics")}
    token_file = tmp / "tokens.txt"
    token_file.write_text("file-token-1\n")
    htpasswd = "\n".join([
        f"ada:{bcrypt.using(rounds=4).hash('bcrypt-pass')}",
        f"bob:{apr_md5_crypt.hash('md5-pass')}",
        "cy:plain-pass",
    ])
    out = tmp / "out.jsonl"
    config = f"""
extensions:
  bearertokenauth:
    tokens: [{", ".join(TOKENS)}]
  bearertokenauth/file:
    filename: {token_file}
  basicauth:
    htpasswd:
      inline: |
{"".join(f"        {line}{chr(10)}" for line in htpasswd.splitlines())}
receivers:
  otlp/bearer:
    protocols:
      grpc:
        endpoint: 127.0.0.1:{ports["bearer/grpc"]}
        auth: {{authenticator: bearertokenauth}}
      http:
        endpoint: 127.0.0.1:{ports["bearer/http"]}
        auth: {{authenticator: bearertokenauth}}
  otlp/basic:
    protocols:
      http:
        endpoint: 127.0.0.1:{ports["basic/http"]}
        auth: {{authenticator: basicauth}}
  otlp/file:
    protocols:
      http:
        endpoint: 127.0.0.1:{ports["file/http"]}
        auth: {{authenticator: bearertokenauth/file}}
exporters:
  file:
    path: {out}
service:
  extensions: [bearertokenauth, bearertokenauth/file, basicauth]
  telemetry:
    metrics:
      address: 127.0.0.1:{ports["metrics"]}
  pipelines:
    traces:
      receivers: [otlp/bearer, otlp/basic, otlp/file]
      exporters: [file]
"""
    collector = Collector(tmp, config, "auth_gateway").start()
    try:
        yield Gateway(collector, out, token_file, ports)
    finally:
        assert collector.stop() == 0, collector.log()


def service() -> str:
    return f"auth-{uuid.uuid4().hex[:8]}"


def sdk_export(transport: str, port: int, name: str, headers: dict[str, str] | None) -> SpanExportResult:
    """One export of N spans with the SDK's exporter (a short timeout: a refusal is not retried
    past it)."""
    if transport == "grpc":
        exporter = GrpcExporter(endpoint=f"127.0.0.1:{port}", insecure=True, headers=headers, timeout=5)
    else:
        exporter = HttpExporter(endpoint=f"http://127.0.0.1:{port}/v1/traces", headers=headers, timeout=5)
    try:
        return exporter.export(make_spans(N, name))
    finally:
        exporter.shutdown()


def test_bearer_token_over_grpc_and_http_with_the_sdk(gateway: Gateway) -> None:
    for transport in ("grpc", "http"):
        port = gateway.ports[f"bearer/{transport}"]
        good, wrong, missing = service(), service(), service()
        assert sdk_export(transport, port, wrong, {"authorization": "Bearer not-a-token"}) == SpanExportResult.FAILURE
        assert sdk_export(transport, port, missing, None) == SpanExportResult.FAILURE
        assert sdk_export(transport, port, good, {"authorization": f"Bearer {TOKENS[1]}"}) == SpanExportResult.SUCCESS
        assert wait_for(lambda name=good: gateway.stored(name) == N)
        assert (gateway.stored(wrong), gateway.stored(missing)) == (0, 0)
        assert gateway.refused("otlp/bearer", transport) >= 2


def test_grpc_code_and_http_status_body(gateway: Gateway) -> None:
    with grpc.insecure_channel(f"127.0.0.1:{gateway.ports['bearer/grpc']}") as channel:
        call = channel.unary_unary(TRACE_METHOD)
        with pytest.raises(grpc.RpcError) as caught:
            call(b"", metadata=(("authorization", f"Basic {TOKENS[0]}"),), timeout=10)
        assert (caught.value.code(), caught.value.details()) == (grpc.StatusCode.UNAUTHENTICATED, "scheme or token does not match")
        with pytest.raises(grpc.RpcError) as caught:
            call(b"", timeout=10)
        assert (caught.value.code(), caught.value.details()) == (
            grpc.StatusCode.UNAUTHENTICATED, "missing or empty authorization header")
        assert call(b"", metadata=(("authorization", f"Bearer {TOKENS[0]}"),), timeout=10) == b""
    url = f"http://127.0.0.1:{gateway.ports['bearer/http']}/v1/traces"
    reply = requests.post(url, data=b"", headers={"Content-Type": "application/x-protobuf", "Authorization": "Bearer x"}, timeout=10)
    status = status_pb2.Status.FromString(reply.content)
    assert (reply.status_code, status.code, status.message) == (401, grpc.StatusCode.UNAUTHENTICATED.value[0], "scheme or token does not match")
    # before the path and the method: nothing about the server is told to a stranger
    reply = requests.get(url.replace("/v1/traces", "/admin"), timeout=10)
    assert (reply.status_code, reply.text) == (401, "missing or empty authorization header")
    # a token differing in its last byte, or a prefix of one, is no token
    for token in (TOKENS[0][:-1] + "X", TOKENS[0][:-1], TOKENS[0] + "X"):
        reply = requests.post(url, data=b"", headers={"Content-Type": "application/x-protobuf", "Authorization": f"Bearer {token}"}, timeout=10)
        assert reply.status_code == 401


@pytest.mark.parametrize(("user", "password"), [("ada", "bcrypt-pass"), ("bob", "md5-pass"), ("cy", "plain-pass")])
def test_basic_auth_against_htpasswd(gateway: Gateway, user: str, password: str) -> None:
    port = gateway.ports["basic/http"]
    good, wrong = service(), service()
    basic = "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()
    wrong_basic = "Basic " + base64.b64encode(f"{user}:{password}x".encode()).decode()
    assert sdk_export("http", port, wrong, {"authorization": wrong_basic}) == SpanExportResult.FAILURE
    assert sdk_export("http", port, good, {"authorization": basic}) == SpanExportResult.SUCCESS
    assert sdk_export("http", port, good, {"authorization": basic}) == SpanExportResult.SUCCESS  # the remembered check
    assert wait_for(lambda: gateway.stored(good) == 2 * N)
    assert gateway.stored(wrong) == 0


@pytest.mark.parametrize(("header", "message"), [
    (None, "no basic auth provided"),
    ("Bearer abc", "invalid authorization scheme prefix"),
    ("Basic !!!", "invalid authorization format"),
    ("Basic " + base64.b64encode(b"no-colon").decode(), "invalid authorization format"),
    ("Basic " + base64.b64encode(b"zed:whatever").decode(), "invalid credentials"),
])
def test_basic_auth_refusals_say_why(gateway: Gateway, header: str | None, message: str) -> None:
    headers = {"Content-Type": "application/json"}
    if header is not None:
        headers["Authorization"] = header
    reply = requests.post(f"http://127.0.0.1:{gateway.ports['basic/http']}/v1/traces", data=b"{}", headers=headers, timeout=10)
    assert (reply.status_code, reply.json()["message"]) == (401, message)


def test_token_file_is_reread_when_it_changes(gateway: Gateway) -> None:
    port = gateway.ports["file/http"]
    first = service()
    assert sdk_export("http", port, first, {"authorization": "Bearer file-token-1"}) == SpanExportResult.SUCCESS
    gateway.token_file.write_text("file-token-2\n")
    second, old = service(), service()
    assert wait_for(lambda: sdk_export("http", port, second, {"authorization": "Bearer file-token-2"}) == SpanExportResult.SUCCESS)
    assert sdk_export("http", port, old, {"authorization": "Bearer file-token-1"}) == SpanExportResult.FAILURE
    assert wait_for(lambda: gateway.stored(first) == N and gateway.stored(second) >= N)
    assert gateway.stored(old) == 0


def test_a_missing_authenticator_stops_the_start(tmp_path: Path) -> None:
    port = free_port()
    config = f"""
receivers:
  otlp:
    protocols:
      http:
        endpoint: 127.0.0.1:{port}
        auth: {{authenticator: bearertokenauth/nope}}
exporters:
  debug: {{}}
service:
  telemetry: {{metrics: {{level: none}}}}
  pipelines:
    traces: {{receivers: [otlp], exporters: [debug]}}
"""
    collector = Collector(tmp_path, config)
    with pytest.raises(RuntimeError) as caught:
        collector.start()
    assert "failed to resolve authenticator 'bearertokenauth/nope': authenticator not found" in str(caught.value)
