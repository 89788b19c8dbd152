"""TLS and mTLS on the exporters that have `tls` settings (`otlp_grpc`, `otlp_http`, and
`loadbalancing`'s `protocol.otlp`), against a second real Summit collector with TLS receivers.

Two collectors for the whole module: a gateway with four TLS receivers (`otlp/tls`: a certificate
for localhost and 127.0.0.1 from the test CA; `otlp/mtls`: the same plus `client_ca_file`;
`otlp/named`: a certificate only for gateway.test; `otlp/untrusted`: a certificate from a CA
nobody trusts) writing to a file, and an agent with one plaintext gRPC receiver and one traces
pipeline per case, each ending in one exporter. The agent's exporters have no sending queue and no
retries, so the client that sent to the agent sees the exporter's outcome: success once the
gateway acknowledged, or the exporter's TLS error.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import grpc
import pytest
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.trace.export import SpanExportResult

from tests.helpers import Collector, free_port, spans_of_service, wait_for
from tests.receiver.otlp.test_bad_input import TRACE_METHOD
from tests.receiver.otlp.test_tls import N, make_spans
from tests.tls_certs import make_pki


@dataclass(frozen=True)
class Case:
    receiver: str  # the gateway receiver it sends to
    tls: str  # the exporter's tls keys, one a line; `{pki.x}` is filled in per run
    stored: bool
    refusal: dict[str, str] | None = None  # what the exporter's error says, per transport (grpc, http)


VERIFY_FAILED = {"grpc": "CERTIFICATE_VERIFY_FAILED", "http": "CERTIFICATE_VERIFY_FAILED"}
# A server that requires a client certificate ends the handshake; the client sees the connection close.
CLOSED = {"grpc": "Socket closed", "http": "cannot send to https://"}
CASES = {
    "ca_file": Case("tls", "ca_file: {pki.ca}", True),
    "wrong ca_file": Case("tls", "ca_file: {pki.other_ca}", False, VERIFY_FAILED),
    "system roots only": Case("tls", "", False, VERIFY_FAILED),
    "client certificate": Case("mtls", "ca_file: {pki.ca}\ncert_file: {pki.client.cert}\nkey_file: {pki.client.key}", True),
    "client certificate missing": Case("mtls", "ca_file: {pki.ca}", False, CLOSED),
    "client certificate from another CA": Case(
        "mtls", "ca_file: {pki.ca}\ncert_file: {pki.other_client.cert}\nkey_file: {pki.other_client.key}", False, CLOSED
    ),
    "server_name_override": Case("named", "ca_file: {pki.ca}\nserver_name_override: gateway.test", True),
    "name mismatch": Case(
        "named", "ca_file: {pki.ca}", False, {"grpc": "Hostname Verification Check failed", "http": "IP address mismatch"}
    ),
    "insecure_skip_verify": Case("untrusted", "insecure_skip_verify: true", True),
    "insecure_skip_verify, a name the certificate lacks": Case("named", "insecure_skip_verify: true", True),
    "insecure_skip_verify with a client certificate": Case(
        "mtls", "insecure_skip_verify: true\ncert_file: {pki.client.cert}\nkey_file: {pki.client.key}", True
    ),
}

KINDS = ("otlp_grpc", "otlp_http", "loadbalancing")


@dataclass(frozen=True)
class Route:
    agent_port: int
    case: Case
    transport: str  # the exporter's: grpc (otlp_grpc, loadbalancing) or http


@dataclass(frozen=True)
class Chain:
    gateway: Collector
    agent: Collector
    out: Path
    routes: dict[str, Route]  # "kind: case"


def exporter_yaml(kind: str, name: str, target: int, tls: str) -> str:
    """One exporter, without queue or retries, to a gateway port; `tls` holds its tls keys, one a line."""
    settings = ["timeout: 5s"]  # room for a loaded machine; a refused handshake fails at once
    if tls:
        settings += ["tls:", *(f"  {line.strip()}" for line in tls.splitlines())]
    settings += ["sending_queue:", "  enabled: false", "retry_on_failure:", "  enabled: false"]
    if kind == "loadbalancing":
        lines = ["protocol:", "  otlp:", *(f"    {s}" for s in settings)]
        lines += ["resolver:", "  static:", f"    hostnames: [127.0.0.1:{target}]"]
    else:
        endpoint = f"https://127.0.0.1:{target}" if kind == "otlp_http" else f"127.0.0.1:{target}"
        lines = [f"endpoint: {endpoint}", *settings]
    return f"  {kind}/{name}:\n" + "".join(f"    {line}\n" for line in lines)


@pytest.fixture(scope="module")
def chain(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Chain]:
    tmp = tmp_path_factory.mktemp("tls_exporter")
    pki = make_pki(tmp / "pki")
    certs = {"tls": pki.server, "mtls": pki.server, "named": pki.named_server, "untrusted": pki.other_server}
    ports = {(r, t): free_port() for r in certs for t in ("grpc", "http")}
    receivers = []
    for r, pair in certs.items():
        receivers.append(f"  otlp/{r}:\n    protocols:")
        receivers.extend(
            f"      {t}:\n        endpoint: 127.0.0.1:{ports[(r, t)]}\n        tls:\n"
            f"          cert_file: {pair.cert}\n          key_file: {pair.key}"
            + (f"\n          client_ca_file: {pki.ca}" if r == "mtls" else "")
            for t in ("grpc", "http")
        )
    out = tmp / "gateway.jsonl"
    gateway_config = (
        "receivers:\n" + "\n".join(receivers) + f"\nexporters:\n  file:\n    path: {out}\n"
        "service:\n  telemetry:\n    metrics:\n      level: none\n  pipelines:\n    traces:\n"
        f"      receivers: [{', '.join(f'otlp/{r}' for r in certs)}]\n      exporters: [file]\n"
    )
    agent_receivers, agent_exporters, pipelines, routes = [], [], [], {}
    for kind in KINDS:
        for index, (case, spec) in enumerate(CASES.items()):
            name = f"c{index}"
            agent_port = free_port()
            transport = "http" if kind == "otlp_http" else "grpc"
            agent_receivers.append(f"  otlp/{kind}_{name}:\n    protocols:\n      grpc:\n        endpoint: 127.0.0.1:{agent_port}")
            agent_exporters.append(exporter_yaml(kind, name, ports[(spec.receiver, transport)], spec.tls.format(pki=pki)))
            exporter_id = f"{kind}/{name}"
            pipelines.append(
                f"    traces/{kind}_{name}:\n      receivers: [otlp/{kind}_{name}]\n      exporters: [{exporter_id}]"
            )
            routes[f"{kind}: {case}"] = Route(agent_port, spec, transport)
    agent_config = (
        "receivers:\n" + "\n".join(agent_receivers) + "\nexporters:\n" + "".join(agent_exporters)
        + "service:\n  telemetry:\n    metrics:\n      level: none\n  pipelines:\n" + "\n".join(pipelines) + "\n"
    )
    gateway = Collector(tmp, gateway_config, "gateway").start()
    try:
        agent = Collector(tmp, agent_config, "agent").start()
        try:
            yield Chain(gateway, agent, out, routes)
        finally:
            assert agent.stop() == 0, agent.log()
    finally:
        assert gateway.stop() == 0, gateway.log()


def stored(chain: Chain, service: str) -> int:
    return spans_of_service(chain.out, service)


def send(port: int, service: str, timeout: float) -> SpanExportResult:
    exporter = OTLPSpanExporter(endpoint=f"127.0.0.1:{port}", insecure=True, timeout=timeout)
    try:
        return exporter.export(make_spans(service))
    finally:
        exporter.shutdown()


ROUTES = [f"{kind}: {case}" for kind in KINDS for case in CASES]


@pytest.mark.parametrize("route", ROUTES)
def test_exporter_tls(chain: Chain, route: str) -> None:
    """Accepted: every span stored at the gateway, exactly. Refused: the agent's exporter reports
    the TLS failure (passed back to the client as a retryable refusal) and nothing is stored."""
    service = f"tls-{uuid.uuid4().hex[:8]}"
    expected = chain.routes[route]
    if expected.case.stored:
        assert send(expected.agent_port, service, timeout=10.0) == SpanExportResult.SUCCESS, chain.agent.log()[-3000:]
        assert wait_for(lambda: stored(chain, service) == N)
        assert stored(chain, service) == N
        return
    with grpc.insecure_channel(f"127.0.0.1:{expected.agent_port}") as channel:
        with pytest.raises(grpc.RpcError) as refused:
            channel.unary_unary(TRACE_METHOD)(encode_spans(make_spans(service)).SerializeToString(), timeout=10.0)
    assert refused.value.code() == grpc.StatusCode.UNAVAILABLE, refused.value.details()
    assert expected.case.refusal is not None
    assert expected.case.refusal[expected.transport] in (refused.value.details() or "")
    # The gateway never saw the spans: a later good request through the same gateway is stored, they are not.
    marker = f"tls-{uuid.uuid4().hex[:8]}"
    good = chain.routes[route.split(":")[0] + ": ca_file"]
    assert send(good.agent_port, marker, timeout=10.0) == SpanExportResult.SUCCESS
    assert wait_for(lambda: stored(chain, marker) == N)
    assert stored(chain, service) == 0


@pytest.mark.parametrize("kind", ["otlp_grpc", "otlp_http"])
def test_an_unreadable_ca_file_stops_the_start_naming_the_key_and_file(tmp_path: Path, kind: str) -> None:
    missing = tmp_path / "nowhere.pem"
    config = f"""
receivers:
  otlp:
    protocols:
      grpc:
        endpoint: 127.0.0.1:{free_port()}
exporters:
{exporter_yaml(kind, "bad", free_port(), f"ca_file: {missing}")}
service:
  telemetry:
    metrics:
      level: none
  pipelines:
    traces:
      receivers: [otlp]
      exporters: [{kind}/bad]
"""
    collector = Collector(tmp_path, config, "bad_tls")
    with pytest.raises(RuntimeError, match="exited with 1"):
        collector.start()
    assert f"tls::ca_file: cannot read '{missing}': No such file or directory" in collector.log()
    assert "Traceback" not in collector.log()
