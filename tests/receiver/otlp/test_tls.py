"""TLS and mTLS on both OTLP receivers, driven by the OpenTelemetry SDK's own exporters.

One collector serves both: `otlp/tls` (server certificate only) and `otlp/mtls` (`client_ca_file`:
a client certificate from that CA is required). Each test sends spans under its own service name
and counts only those in the file exporter's output, so the tests share the collector.
A refusal is checked after a good request over the same receiver has been stored: the pipeline
has then handled everything sent before it, and the refused spans are not there.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import grpc
import pytest
import requests
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SpanExportResult

from tests.exporters.test_delivery import make_spans as delivery_spans
from tests.helpers import Collector, free_port, spans_of_service, wait_for
from tests.tls_certs import PKI, KeyPair, make_pki

N = 25


@dataclass(frozen=True)
class Gateway:
    collector: Collector
    out: Path
    pki: PKI
    ports: dict[str, int]  # "tls/grpc", "tls/http", "mtls/grpc", "mtls/http"


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    tmp = tmp_path_factory.mktemp("tls_receiver")
    pki = make_pki(tmp / "pki")
    ports = {f"{r}/{t}": free_port() for r in ("tls", "mtls") for t in ("grpc", "http")}
    out = tmp / "out.jsonl"
    server_tls = f"cert_file: {pki.server.cert}\n          key_file: {pki.server.key}"
    config = f"""
receivers:
  otlp/tls:
    protocols:
      grpc:
        endpoint: 127.0.0.1:{ports["tls/grpc"]}
        tls:
          {server_tls}
      http:
        endpoint: 127.0.0.1:{ports["tls/http"]}
        tls:
          {server_tls}
  otlp/mtls:
    protocols:
      grpc:
        endpoint: 127.0.0.1:{ports["mtls/grpc"]}
        tls:
          {server_tls}
          client_ca_file: {pki.ca}
      http:
        endpoint: 127.0.0.1:{ports["mtls/http"]}
        tls:
          {server_tls}
          client_ca_file: {pki.ca}
exporters:
  file:
    path: {out}
service:
  telemetry:
    metrics:
      level: none
  pipelines:
    traces:
      receivers: [otlp/tls, otlp/mtls]
      exporters: [file]
"""
    collector = Collector(tmp, config, "tls_gateway").start()
    try:
        yield Gateway(collector, out, pki, ports)
    finally:
        # Every refused handshake above left the collector running and able to stop cleanly.
        assert collector.stop() == 0, collector.log()


def stored(gateway: Gateway, service: str) -> int:
    return spans_of_service(gateway.out, service)


def make_spans(service: str, n: int = N) -> list[ReadableSpan]:
    return delivery_spans(n, service)


def export(
    transport: str, port: int, spans: list[ReadableSpan], ca: str, client: KeyPair | None = None, timeout: float = 5.0
) -> SpanExportResult:
    """One export with the SDK's OTLP exporter over TLS (a short timeout: a refusal is retried
    by the SDK until then)."""
    if transport == "grpc":
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter as GrpcExporter

        with open(ca, "rb") as fh:
            roots = fh.read()
        key = chain = None
        if client is not None:
            key, chain = Path(client.key).read_bytes(), Path(client.cert).read_bytes()
        credentials = grpc.ssl_channel_credentials(roots, key, chain)
        exporter = GrpcExporter(endpoint=f"localhost:{port}", credentials=credentials, timeout=timeout)
    else:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter as HttpExporter

        exporter = HttpExporter(
            endpoint=f"https://localhost:{port}/v1/traces",
            certificate_file=ca,
            client_certificate_file=client.cert if client else None,
            client_key_file=client.key if client else None,
            timeout=timeout,
            session=session_ignoring_ca_bundle_env(),
        )
    try:
        return exporter.export(spans)
    finally:
        exporter.shutdown()


def session_ignoring_ca_bundle_env() -> requests.Session:
    """requests lets REQUESTS_CA_BUNDLE / CURL_CA_BUNDLE (set on many machines) override the
    session's `verify`, i.e. the SDK's certificate_file; a test CA must not lose to them."""
    session = requests.Session()
    session.trust_env = False
    return session


def service_name() -> str:
    return f"tls-{uuid.uuid4().hex[:8]}"


def assert_refused_and_nothing_stored(gateway: Gateway, transport: str, receiver: str, service: str) -> None:
    """A good request over the same receiver is stored; the refused one is not, and never is."""
    marker = service_name()
    client = gateway.pki.client if receiver == "mtls" else None
    port = gateway.ports[f"{receiver}/{transport}"]
    assert export(transport, port, make_spans(marker), gateway.pki.ca, client) == SpanExportResult.SUCCESS
    assert wait_for(lambda: stored(gateway, marker) == N)
    assert stored(gateway, service) == 0


@pytest.mark.parametrize("transport", ["grpc", "http"])
def test_the_right_ca_is_accepted_and_every_span_stored(gateway: Gateway, transport: str) -> None:
    service = service_name()
    result = export(transport, gateway.ports[f"tls/{transport}"], make_spans(service), gateway.pki.ca)
    assert result == SpanExportResult.SUCCESS
    assert wait_for(lambda: stored(gateway, service) == N)
    assert stored(gateway, service) == N


@pytest.mark.parametrize("transport", ["grpc", "http"])
def test_a_client_trusting_another_ca_refuses_the_server(
    gateway: Gateway, transport: str, caplog: pytest.LogCaptureFixture
) -> None:
    service = service_name()
    with caplog.at_level(logging.WARNING):
        # 2.5 s: the SDK logs the cause (with the first retry) only when its timeout leaves room for one
        result = export(transport, gateway.ports[f"tls/{transport}"], make_spans(service), gateway.pki.other_ca, timeout=2.5)
    assert result == SpanExportResult.FAILURE
    assert "CERTIFICATE_VERIFY_FAILED" in caplog.text
    assert_refused_and_nothing_stored(gateway, transport, "tls", service)


@pytest.mark.parametrize("transport", ["grpc", "http"])
def test_mtls_accepts_a_client_certificate_from_client_ca_file(gateway: Gateway, transport: str) -> None:
    service = service_name()
    port = gateway.ports[f"mtls/{transport}"]
    assert export(transport, port, make_spans(service), gateway.pki.ca, gateway.pki.client) == SpanExportResult.SUCCESS
    assert wait_for(lambda: stored(gateway, service) == N)
    assert stored(gateway, service) == N


@pytest.mark.parametrize("client", ["missing", "from another CA"])
@pytest.mark.parametrize("transport", ["grpc", "http"])
def test_mtls_refuses_a_client_without_a_trusted_certificate(gateway: Gateway, transport: str, client: str) -> None:
    service = service_name()
    pair = None if client == "missing" else gateway.pki.other_client
    port = gateway.ports[f"mtls/{transport}"]
    assert export(transport, port, make_spans(service), gateway.pki.ca, pair, timeout=1.0) == SpanExportResult.FAILURE
    assert_refused_and_nothing_stored(gateway, transport, "mtls", service)


@pytest.mark.parametrize("transport", ["grpc", "http"])
def test_a_plaintext_client_is_refused(gateway: Gateway, transport: str) -> None:
    """TLS on a receiver is not optional: a client that speaks plaintext gets nothing stored."""
    service = service_name()
    port = gateway.ports[f"tls/{transport}"]
    if transport == "grpc":
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter as GrpcExporter

        exporter = GrpcExporter(endpoint=f"127.0.0.1:{port}", insecure=True, timeout=1.0)
    else:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter as HttpExporter

        exporter = HttpExporter(endpoint=f"http://127.0.0.1:{port}/v1/traces", timeout=1.0, session=session_ignoring_ca_bundle_env())  # type: ignore[assignment]
    try:
        assert exporter.export(make_spans(service)) == SpanExportResult.FAILURE
    finally:
        exporter.shutdown()
    assert_refused_and_nothing_stored(gateway, transport, "tls", service)


@pytest.mark.parametrize("transport", ["grpc", "http"])
def test_an_unreadable_certificate_stops_the_start_naming_the_key_and_file(tmp_path: Path, transport: str) -> None:
    """Before: gRPC said 'cannot listen … No such file or directory; is another collector
    running?', HTTP a bare '[Errno 2] No such file or directory'."""
    pki = make_pki(tmp_path / "pki")
    missing = tmp_path / "nowhere.pem"
    config = f"""
receivers:
  otlp:
    protocols:
      {transport}:
        endpoint: 127.0.0.1:{free_port()}
        tls:
          cert_file: {missing}
          key_file: {pki.server.key}
exporters:
  debug:
service:
  telemetry:
    metrics:
      level: none
  pipelines:
    traces:
      receivers: [otlp]
      exporters: [debug]
"""
    collector = Collector(tmp_path, config, "bad_tls")
    with pytest.raises(RuntimeError, match="exited with 1"):
        collector.start()
    assert f"tls::cert_file: cannot read '{missing}': No such file or directory" in collector.log()
    assert "Traceback" not in collector.log()
