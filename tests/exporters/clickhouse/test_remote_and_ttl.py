"""Remote ClickHouse (collector A → collector B's chdb HTTP interface, the real engine on both
ends), retention by TTL, and the DDL for clusters."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import clickhouse_connect
import grpc
import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from summitcol.exceptions import ConfigError
from summitcol.exporters.clickhouse import schema
from summitcol.exporters.clickhouse.config import Config
from tests.helpers import Collector, free_port, pipelines_yaml, receiver_yaml, wait_for
from tests.sdk_client import send_with_sdk

N = 2_000
TRACE_METHOD = "/opentelemetry.proto.collector.trace.v1.TraceService/Export"


def storage_collector(tmp: Path, name: str, ch_port: int, grpc_port: int, exporter: str) -> Collector:
    return Collector(
        tmp,
        f"""
receivers:
{receiver_yaml(grpc_port, None)}
processors:
  batch:
exporters:
{exporter}
extensions:
  chdb:
    path: {tmp / name}
    http:
      endpoint: 127.0.0.1:{ch_port}
{pipelines_yaml("otlp", "batch", "clickhouse")}
  extensions: [chdb]
""",
        name,
    )


def test_remote_clickhouse_rows_match_what_a_received(tmp_path: Path) -> None:
    b_http, b_grpc, a_grpc, a_http = free_port(), free_port(), free_port(), free_port()
    b = storage_collector(tmp_path, "b", b_http, b_grpc, "  clickhouse:\n    storage: chdb\n").start()
    a = Collector(
        tmp_path,
        f"""
receivers:
{receiver_yaml(a_grpc, None)}
processors:
  batch:
exporters:
  clickhouse:
    endpoint: http://127.0.0.1:{b_http}
    database: remote_otel
    compress: lz4
{pipelines_yaml("otlp", "batch", "clickhouse")}
""",
        "a",
    ).start()
    try:
        spans, logs, _ = send_with_sdk("grpc", a_grpc, a_http, N, N)
    finally:
        assert a.stop() == 0, a.log()
    try:
        client = clickhouse_connect.get_client(host="127.0.0.1", port=b_http, database="remote_otel")
        sent = {s.span_id.hex(): s for rs in spans.resource_spans for ss in rs.scope_spans for s in ss.spans}
        rows = client.query("SELECT SpanId, SpanName, TraceId, toUnixTimestamp64Nano(Timestamp), SpanAttributes['i'] FROM otel_traces").result_rows
        assert len(rows) == N
        for span_id, name, trace_id, start, i in rows:
            span = sent[span_id]
            assert (name, trace_id, start) == (span.name, span.trace_id.hex(), span.start_time_unix_nano)
            assert i == str(next(kv.value.int_value for kv in span.attributes if kv.key == "i"))
        assert client.command("SELECT count() FROM otel_logs") == N
        assert client.command("SELECT count() FROM otel_metrics_histogram") == 1
        client.close()
    finally:
        assert b.stop() == 0, b.log()


def old_and_new_spans(now_ns: int) -> ExportTraceServiceRequest:
    request = ExportTraceServiceRequest()
    scope = request.resource_spans.add().scope_spans.add()
    for i, age in enumerate((3 * 86400, 3 * 86400, 0, 0)):
        start = now_ns - age * 1_000_000_000
        scope.spans.add(name=f"age-{age}-{i}", trace_id=bytes([i + 1]) * 16, span_id=bytes([i + 1]) * 8,
                        start_time_unix_nano=start, end_time_unix_nano=start + 1000)
    return request


def test_ttl_change_alters_the_table_and_expires_old_rows(tmp_path: Path) -> None:
    import time

    ch, grpc_port = free_port(), free_port()
    keep = storage_collector(tmp_path, "ttl", ch, grpc_port, "  clickhouse:\n    storage: chdb\n    ttl: 0\n").start()
    channel = grpc.insecure_channel(f"127.0.0.1:{grpc_port}")
    channel.unary_unary(TRACE_METHOD)(old_and_new_spans(time.time_ns()).SerializeToString(), timeout=30)
    channel.close()
    client = clickhouse_connect.get_client(host="127.0.0.1", port=ch)
    every = ["age-0-2", "age-0-3", "age-259200-0", "age-259200-1"]
    query = "SELECT SpanName FROM otel.otel_traces ORDER BY SpanName"
    assert wait_for(lambda: [r[0] for r in client.query(query).result_rows] == every)  # without a TTL all four are kept
    client.close()
    assert keep.stop() == 0

    # The same data path, now with `ttl: 1h` (and 2h for logs): the restart alters the existing
    # tables, nothing is dropped.
    config = (tmp_path / "ttl.yaml").read_text().replace("ttl: 0", "ttl: 1h\n    logs_ttl: 2h")
    with Collector(tmp_path, config, "ttl-1h"):
        client = clickhouse_connect.get_client(host="127.0.0.1", port=ch)
        ddl = client.command("SHOW CREATE TABLE otel.otel_traces")
        assert "TTL toDateTime(Timestamp) + toIntervalHour(1)" in ddl
        assert "ttl_only_drop_parts = 1" in ddl
        assert "TTL TimestampTime + toIntervalHour(2)" in client.command("SHOW CREATE TABLE otel.otel_logs")
        assert "toIntervalHour(1)" in client.command("SHOW CREATE TABLE otel.otel_metrics_sum")
        client.command("OPTIMIZE TABLE otel.otel_traces FINAL")
        names = sorted(r[0] for r in client.query("SELECT SpanName FROM otel.otel_traces").result_rows)
        assert names == ["age-0-2", "age-0-3"]  # the 3-day-old rows are gone, the fresh ones kept
        client.close()


@pytest.mark.parametrize(
    ("ttl", "clause"),
    [
        (timedelta(0), ""),
        (timedelta(hours=72), "TTL toDateTime(Timestamp) + toIntervalDay(3)"),
        (timedelta(hours=1), "TTL toDateTime(Timestamp) + toIntervalHour(1)"),
        (timedelta(minutes=90), "TTL toDateTime(Timestamp) + toIntervalMinute(90)"),
        (timedelta(seconds=61), "TTL toDateTime(Timestamp) + toIntervalSecond(61)"),
    ],
)
def test_ttl_clause(ttl: timedelta, clause: str) -> None:
    assert schema.ttl_clause("toDateTime(Timestamp)", ttl) == clause


def test_cluster_ddl_uses_on_cluster_and_distributed_tables() -> None:
    local, distributed = schema.TRACES.create("otel", "otel_traces", "ReplicatedMergeTree()", timedelta(days=7), "main")
    assert local.startswith("CREATE TABLE IF NOT EXISTS `otel`.`otel_traces_local` ON CLUSTER `main` (")
    assert "ENGINE = ReplicatedMergeTree()\nPARTITION BY toDate(Timestamp)" in local
    assert "TTL toDateTime(Timestamp) + toIntervalDay(7)" in local
    assert distributed == (
        "CREATE TABLE IF NOT EXISTS `otel`.`otel_traces` ON CLUSTER `main` AS `otel`.`otel_traces_local` "
        "ENGINE = Distributed(`main`, `otel`, `otel_traces_local`, rand())"
    )
    view = schema.trace_id_ts_view("otel", "otel_traces", "main")
    assert "ON CLUSTER `main`" in view and "FROM `otel`.`otel_traces_local`" in view


def test_exactly_one_of_storage_and_endpoint() -> None:
    for bad in (Config(), Config(storage="chdb", endpoint="http://x:8123")):
        with pytest.raises(ConfigError, match="exactly one of 'storage'"):
            bad.validate()
    with pytest.raises(ConfigError, match="must be http"):
        Config(endpoint="tcp://x:9000").validate()
    Config(storage="chdb").validate()


def test_an_insert_the_server_fails_is_refused_retryably(tmp_path: Path) -> None:
    """ClickHouse goes away after the exporter started (it created its tables): with no sending
    queue the client sees the failed insert as gRPC UNAVAILABLE with RetryInfo, so its SDK retries
    later, and the collector keeps running."""
    from google.rpc import error_details_pb2, status_pb2

    b_http, b_grpc, a_grpc = free_port(), free_port(), free_port()
    b = storage_collector(tmp_path, "b", b_http, b_grpc, "  clickhouse:\n    storage: chdb\n").start()
    exporter = f"""  clickhouse:
    endpoint: http://127.0.0.1:{b_http}
    sending_queue:
      enabled: false
    retry_on_failure:
      enabled: false
"""
    with Collector(tmp_path, f"receivers:\n{receiver_yaml(a_grpc, None)}\nexporters:\n{exporter}{pipelines_yaml('otlp', '', 'clickhouse')}", "a") as a:
        assert b.stop() == 0, b.log()
        channel = grpc.insecure_channel(f"127.0.0.1:{a_grpc}")
        with pytest.raises(grpc.RpcError) as refused:
            channel.unary_unary(TRACE_METHOD)(old_and_new_spans(1_700_000_000_000_000_000).SerializeToString(), timeout=30)
        channel.close()
        assert refused.value.code() is grpc.StatusCode.UNAVAILABLE  # type: ignore[attr-defined]
        details = dict(refused.value.trailing_metadata() or ())["grpc-status-details-bin"]  # type: ignore[attr-defined]
        kinds = [detail.type_url for detail in status_pb2.Status.FromString(details).details]
        assert f"type.googleapis.com/{error_details_pb2.RetryInfo.DESCRIPTOR.full_name}" in kinds
        assert a.process.poll() is None  # type: ignore[union-attr]
