"""Collector chains: SDK → summitcol agent → summitcol gateway → file, over otlp_grpc and otlp_http.

Exactly the records the SDK sent arrive at the gateway. When the gateway is down, the agent
refuses with a retryable status (UNAVAILABLE + RetryInfo, HTTP 503 + Retry-After), so the SDK
keeps the data instead of losing it.
"""

from __future__ import annotations

import http.client
from pathlib import Path

import grpc
import pytest
from google.rpc import error_details_pb2, status_pb2
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from tests.helpers import Collector, free_port, pipelines_yaml, read_file_export, receiver_yaml
from tests.receiver.otlp.test_bad_input import TRACE_METHOD, good_request
from tests.sdk_client import assert_stored_exactly, send_with_sdk

N = 2_000

EXPORTERS = {
    "otlp_grpc": "  otlp_grpc:\n    endpoint: 127.0.0.1:{grpc}\n    tls:\n      insecure: true\n",
    "otlp_http/proto": "  otlp_http:\n    endpoint: http://127.0.0.1:{http}\n    encoding: proto\n",
    "otlp_http/json": "  otlphttp:\n    endpoint: http://127.0.0.1:{http}\n    encoding: json\n    compression: none\n",
}


def gateway_config(grpc_port: int, http_port: int, out: Path) -> str:
    return f"""
receivers:
{receiver_yaml(grpc_port, http_port)}
processors:
  batch:
exporters:
  file:
    path: {out}
{pipelines_yaml("otlp", "batch", "file")}
"""


def agent_config(grpc_port: int, exporter_yaml: str) -> str:
    exporter_id = exporter_yaml.strip().split(":")[0]
    return f"""
receivers:
{receiver_yaml(grpc_port, None)}
processors:
  batch:
    timeout: 50ms
exporters:
{exporter_yaml}
{pipelines_yaml("otlp", "batch", exporter_id)}
"""


@pytest.mark.parametrize("exporter", list(EXPORTERS))
def test_chain_delivers_exactly_what_was_sent(tmp_path: Path, exporter: str) -> None:
    gw_grpc, gw_http, agent_grpc = free_port(), free_port(), free_port()
    out = tmp_path / "gateway.jsonl"
    gateway = Collector(tmp_path, gateway_config(gw_grpc, gw_http, out), "gateway").start()
    agent = Collector(tmp_path, agent_config(agent_grpc, EXPORTERS[exporter].format(grpc=gw_grpc, http=gw_http)), "agent").start()
    try:
        sent_spans, sent_logs, _ = send_with_sdk("grpc", agent_grpc, 0, N, N)
    finally:
        assert agent.stop() == 0, agent.log()
        assert gateway.stop() == 0, gateway.log()
    assert_stored_exactly(read_file_export(out), sent_spans, sent_logs, N, N)


def test_agent_refuses_retryably_while_the_gateway_is_down(tmp_path: Path) -> None:
    """Without a sending queue the refusal reaches the client at once (with a queue, see
    tests/exporters/helper: the agent keeps the data and retries)."""
    agent_grpc, agent_http, dead = free_port(), free_port(), free_port()
    config = f"""
receivers:
{receiver_yaml(agent_grpc, agent_http)}
exporters:
  otlp:
    endpoint: 127.0.0.1:{dead}
    tls:
      insecure: true
    timeout: 2s
    sending_queue:
      enabled: false
    retry_on_failure:
      enabled: false
{pipelines_yaml("otlp", "", "otlp")}
"""
    with Collector(tmp_path, config, "agent"):
        channel = grpc.insecure_channel(f"127.0.0.1:{agent_grpc}")
        with pytest.raises(grpc.RpcError) as error:
            channel.unary_unary(TRACE_METHOD)(good_request("down").SerializeToString(), timeout=30)
        assert error.value.code() == grpc.StatusCode.UNAVAILABLE
        details = dict(error.value.trailing_metadata())["grpc-status-details-bin"]
        status = status_pb2.Status.FromString(details)
        info = error_details_pb2.RetryInfo()
        assert status.details[0].Unpack(info) and info.retry_delay.seconds >= 1
        channel.close()

        connection = http.client.HTTPConnection("127.0.0.1", agent_http, timeout=30)
        connection.request("POST", "/v1/traces", body=good_request("down").SerializeToString(), headers={"Content-Type": "application/x-protobuf"})
        response = connection.getresponse()
        assert response.status == 503
        assert int(response.getheader("Retry-After")) >= 1
        assert status_pb2.Status.FromString(response.read()).code == grpc.StatusCode.UNAVAILABLE.value[0]
        connection.close()


def test_one_failing_branch_of_a_fan_out_is_reported_to_the_client(tmp_path: Path) -> None:
    """With two exporters, one failing makes the request fail retryably (at-least-once: the other
    branch already wrote it, and will write it again when the client retries; queues come later)."""
    agent_grpc, dead = free_port(), free_port()
    out = tmp_path / "fanout.jsonl"
    config = f"""
receivers:
{receiver_yaml(agent_grpc, None)}
exporters:
  file:
    path: {out}
  otlp:
    endpoint: 127.0.0.1:{dead}
    tls:
      insecure: true
    timeout: 1s
    sending_queue:
      enabled: false
    retry_on_failure:
      enabled: false
{pipelines_yaml("otlp", "", "file, otlp")}
"""
    with Collector(tmp_path, config, "fanout"):
        channel = grpc.insecure_channel(f"127.0.0.1:{agent_grpc}")
        with pytest.raises(grpc.RpcError) as error:
            channel.unary_unary(TRACE_METHOD)(good_request("fan").SerializeToString(), timeout=30)
        assert error.value.code() == grpc.StatusCode.UNAVAILABLE
        channel.close()
    assert len(read_file_export(out)[ExportTraceServiceRequest]) == 1


def test_partial_success_travels_back_through_the_chain(tmp_path: Path) -> None:
    """The gateway rejects one span as invalid; the agent (no queue) tells the client exactly that."""
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceResponse
    from opentelemetry.proto.common.v1.common_pb2 import AnyValue

    gw_grpc, agent_grpc, gw_out = free_port(), free_port(), tmp_path / "gw.jsonl"
    gateway = Collector(
        tmp_path,
        f"""
receivers:
{receiver_yaml(gw_grpc, None, "    max_attributes_per_record: 5")}
exporters:
  file:
    path: {gw_out}
{pipelines_yaml("otlp", "", "file")}
""",
        "gateway",
    ).start()
    agent = Collector(
        tmp_path,
        f"""
receivers:
{receiver_yaml(agent_grpc, None)}
processors:
  batch:
    timeout: 10ms
    wait_for_result: true   # the peer's partial success reaches the client only if requests wait for it
exporters:
  otlp_grpc:
    endpoint: 127.0.0.1:{gw_grpc}
    tls:
      insecure: true
    sending_queue:
      enabled: false
{pipelines_yaml("otlp", "batch", "otlp_grpc")}
""",
        "agent",
    ).start()
    try:
        request = good_request("partial", 3)
        wide = request.resource_spans[0].scope_spans[0].spans[1]
        for i in range(10):
            wide.attributes.add(key=f"k{i}", value=AnyValue(int_value=i))
        channel = grpc.insecure_channel(f"127.0.0.1:{agent_grpc}")
        reply = ExportTraceServiceResponse.FromString(channel.unary_unary(TRACE_METHOD)(request.SerializeToString(), timeout=30))
        channel.close()
    finally:
        agent.stop()
        gateway.stop()
    assert reply.partial_success.rejected_spans == 1
    assert "10 attributes, more than the limit of 5" in reply.partial_success.error_message
    stored = [s.name for r in read_file_export(gw_out)[ExportTraceServiceRequest] for rs in r.resource_spans for ss in rs.scope_spans for s in ss.spans]
    assert sorted(stored) == ["partial-0", "partial-2"]
