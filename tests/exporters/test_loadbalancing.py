"""loadbalancing: every span of a trace lands on one gateway, removing a gateway moves only its
traces, and no span is lost — with three real gateway collectors on loopback."""

from __future__ import annotations

import random
from pathlib import Path

import grpc
import numpy as np
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from summitcol.exporters.loadbalancing import Ring
from tests.helpers import Collector, free_port, pipelines_yaml, read_file_export, receiver_yaml

TRACE_METHOD = "/opentelemetry.proto.collector.trace.v1.TraceService/Export"
TRACES = 300


def gateway(tmp: Path, name: str) -> tuple[Collector, int, Path]:
    port, out = free_port(), tmp / f"{name}.jsonl"
    config = f"""
receivers:
{receiver_yaml(port, None)}
exporters:
  file:
    path: {out}
    append: true
{pipelines_yaml("otlp", "", "file")}
"""
    return Collector(tmp, config, name).start(), port, out


def agent(tmp: Path, name: str, port: int, backends: list[int]) -> Collector:
    hostnames = ", ".join(f"127.0.0.1:{p}" for p in backends)
    config = f"""
receivers:
{receiver_yaml(port, None)}
exporters:
  loadbalancing:
    routing_key: traceID
    protocol:
      otlp:
        tls:
          insecure: true
        timeout: 5s
    resolver:
      static:
        hostnames: [{hostnames}]
{pipelines_yaml("otlp", "", "loadbalancing")}
"""
    return Collector(tmp, config, name).start()


def send_round(port: int, trace_ids: list[bytes], round_number: int) -> set[bytes]:
    """Three spans per trace, split over three requests, in shuffled order."""
    channel = grpc.insecure_channel(f"127.0.0.1:{port}")
    export = channel.unary_unary(TRACE_METHOD)
    sent = set()
    rng = random.Random(round_number)
    for part in range(3):
        request = ExportTraceServiceRequest()
        scope = request.resource_spans.add().scope_spans.add()
        order = list(range(len(trace_ids)))
        rng.shuffle(order)
        for t in order:
            span_id = (round_number << 40 | t << 8 | part).to_bytes(8, "big")
            scope.spans.add(name=f"r{round_number}", trace_id=trace_ids[t], span_id=span_id)
            sent.add(span_id)
        export(request.SerializeToString(), timeout=30)
    channel.close()
    return sent


def placement(outs: list[Path], round_name: str) -> tuple[dict[bytes, set[int]], set[bytes]]:
    where: dict[bytes, set[int]] = {}
    spans = set()
    for number, out in enumerate(outs):
        for request in read_file_export(out)[ExportTraceServiceRequest]:
            for rs in request.resource_spans:
                for ss in rs.scope_spans:
                    for span in ss.spans:
                        if span.name == round_name:
                            where.setdefault(span.trace_id, set()).add(number)
                            spans.add(span.span_id)
    return where, spans


def test_traces_stay_whole_and_removing_a_gateway_moves_only_its_traces(tmp_path: Path) -> None:
    gateways = [gateway(tmp_path, f"gw{i}") for i in range(3)]
    outs = [out for _, _, out in gateways]
    ports = [port for _, port, _ in gateways]
    trace_ids = [random.Random(i).randbytes(16) for i in range(TRACES)]
    agent_port = free_port()
    try:
        first = agent(tmp_path, "agent", agent_port, ports)
        sent_one = send_round(agent_port, trace_ids, 1)
        assert first.stop() == 0  # drains every backend queue
        second = agent(tmp_path, "agent-two-backends", agent_port, ports[:2])
        sent_two = send_round(agent_port, trace_ids, 2)
        assert second.stop() == 0
    finally:
        for collector, _, _ in gateways:
            collector.stop()

    before, stored_one = placement(outs, "r1")
    after, stored_two = placement(outs, "r2")
    assert stored_one == sent_one and stored_two == sent_two  # no span lost
    assert all(len(g) == 1 for g in before.values()) and all(len(g) == 1 for g in after.values())  # whole traces
    assert len({next(iter(g)) for g in before.values()}) == 3  # all three gateways got traffic
    moved = [t for t in trace_ids if before[t] != after[t]]
    assert moved and all(before[t] == {2} for t in moved)  # only the removed gateway's traces moved
    assert all(after[t] == before[t] for t in trace_ids if before[t] != {2})


def test_adding_a_backend_moves_about_a_quarter_of_the_keys() -> None:
    hashes = np.array([random.Random(i).getrandbits(32) for i in range(10_000)], dtype=np.uint32)
    three = Ring(["a:1", "b:1", "c:1"])
    four = Ring(["a:1", "b:1", "c:1", "d:1"])
    before = np.array(three.backends)[three.lookup(hashes)]
    after = np.array(four.backends)[four.lookup(hashes)]
    moved = before != after
    assert set(after[moved]) == {"d:1"}  # keys only move to the new backend
    assert 0.15 < moved.mean() < 0.35


def test_the_dns_resolver_sends_to_what_the_hostname_resolves_to(tmp_path: Path) -> None:
    """`resolver: dns` with `localhost`: every span of the round reaches the gateway listening on
    what `localhost` resolves to (127.0.0.1 here; ::1 too where /etc/hosts says so), whole traces
    and none lost."""
    gw_port, out = free_port(), tmp_path / "gw-dns.jsonl"
    gw = Collector(
        tmp_path,
        f"receivers:\n  otlp:\n    protocols:\n      grpc:\n        endpoint: localhost:{gw_port}\n"
        f"exporters:\n  file:\n    path: {out}\n{pipelines_yaml('otlp', '', 'file')}",
        "gw-dns",
    ).start()
    agent_port = free_port()
    config = f"""
receivers:
{receiver_yaml(agent_port, None)}
exporters:
  loadbalancing:
    protocol:
      otlp:
        tls:
          insecure: true
        timeout: 5s
    resolver:
      dns:
        hostname: localhost
        port: {gw_port}
        interval: 100ms
{pipelines_yaml("otlp", "", "loadbalancing")}
"""
    try:
        with Collector(tmp_path, config, "agent-dns"):
            sent = send_round(agent_port, [random.Random(i).randbytes(16) for i in range(20)], 1)
    finally:
        assert gw.stop() == 0, gw.log()
    where, stored = placement([out], "r1")
    assert stored == sent
    assert all(g == {0} for g in where.values())
