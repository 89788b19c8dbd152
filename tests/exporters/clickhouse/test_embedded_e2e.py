"""SDK → summitcol → embedded ClickHouse, queried with clickhouse-connect over the chdb HTTP
interface; the same data in Parquet equals the ClickHouse rows."""

from __future__ import annotations

from pathlib import Path

import clickhouse_connect
import duckdb
import grpc
import pyarrow as pa
import pyarrow.dataset as ds
import pytest
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import ExportMetricsServiceRequest

from summitcol.exporters.clickhouse.projection import project
from tests.helpers import Collector, free_port, pipelines_yaml, receiver_yaml, wait_for
from tests.sdk_client import send_with_sdk

N = 10_000
METRICS_METHOD = "/opentelemetry.proto.collector.metrics.v1.MetricsService/Export"


def summary_request() -> ExportMetricsServiceRequest:
    request = ExportMetricsServiceRequest()
    rm = request.resource_metrics.add()
    rm.resource.attributes.add(key="service.name").value.string_value = "summary-svc"
    metric = rm.scope_metrics.add().metrics.add(name="rpc.latency.summary", unit="s")
    point = metric.summary.data_points.add(count=10, sum=4.5, time_unix_nano=1_795_000_000_123_456_789)
    point.quantile_values.add(quantile=0.5, value=0.3)
    point.quantile_values.add(quantile=0.99, value=1.2)
    return request


@pytest.fixture(scope="module")
def stored(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    tmp = tmp_path_factory.mktemp("ch-e2e")
    grpc_port, http_port, ch_port = free_port(), free_port(), free_port()
    config = f"""
receivers:
{receiver_yaml(grpc_port, http_port)}
processors:
  batch:
exporters:
  clickhouse:
    storage: chdb
  parquet:
    path: {tmp / "parquet"}
    roll:
      max_age: 1s
extensions:
  chdb:
    path: {tmp / "clickhouse"}
    http:
      endpoint: 127.0.0.1:{ch_port}
{pipelines_yaml("otlp", "batch", "clickhouse, parquet")}
  extensions: [chdb]
"""
    collector = Collector(tmp, config).start()
    try:
        spans, logs, metrics = send_with_sdk("grpc", grpc_port, http_port, N, N)
        channel = grpc.insecure_channel(f"127.0.0.1:{grpc_port}")
        channel.unary_unary(METRICS_METHOD)(summary_request().SerializeToString(), timeout=30)
        channel.close()
        client = clickhouse_connect.get_client(host="127.0.0.1", port=ch_port)
        # The exporter's sending queue acknowledges before it inserts: wait for the inserts.
        assert wait_for(
            lambda: client.command("SELECT count() FROM otel.otel_traces") == N
            and client.command("SELECT count() FROM otel.otel_logs") == N
            and client.command("SELECT count() FROM otel.otel_metrics_summary") == 1,
            timeout=60,
        )
        yield client, spans, logs, metrics, tmp
        client.close()
    finally:
        assert collector.stop() == 0, collector.log()


def test_counts_are_exact(stored) -> None:  # type: ignore[no-untyped-def]
    client = stored[0]
    assert client.query("SELECT count() FROM otel.otel_traces").result_rows == [(N,)]
    assert client.query("SELECT count(DISTINCT SpanId) FROM otel.otel_traces").result_rows == [(N,)]
    assert client.query("SELECT count() FROM otel.otel_logs").result_rows == [(N,)]
    for table, metric, points in [
        ("otel_metrics_sum", "requests", 1),
        ("otel_metrics_histogram", "latency", 1),
        ("otel_metrics_exponential_histogram", "latency.exp", 1),
        ("otel_metrics_gauge", "temperature", 1),
        ("otel_metrics_summary", "rpc.latency.summary", 1),
    ]:
        assert client.query(f"SELECT count() FROM otel.{table} WHERE MetricName = '{metric}'").result_rows == [(points,)]


def test_sampled_spans_hold_the_right_values(stored) -> None:  # type: ignore[no-untyped-def]
    client, spans = stored[0], stored[1]
    sent = [s for rs in spans.resource_spans for ss in rs.scope_spans for s in ss.spans]
    with_event = next(s for s in sent if s.events)
    with_link = next(s for s in sent if s.links)
    with_error = next(s for s in sent if s.status.code == 2)
    for span in (sent[0], with_event, with_link, with_error, sent[-1]):
        rows = client.query(
            "SELECT TraceId, ParentSpanId, SpanName, SpanKind, toUnixTimestamp64Nano(Timestamp), Duration, StatusCode, "
            "StatusMessage, SpanAttributes, ResourceAttributes['service.name'], ScopeName, ScopeVersion, "
            "Events.Name, arrayMap(t -> toUnixTimestamp64Nano(t), Events.Timestamp), Events.Attributes, "
            "Links.TraceId, Links.SpanId, Links.Attributes "
            "FROM otel.otel_traces WHERE SpanId = {id:String}",
            parameters={"id": span.span_id.hex()},
        ).result_rows
        assert len(rows) == 1
        row = rows[0]
        assert row[0] == span.trace_id.hex()
        assert row[1] == span.parent_span_id.hex()
        assert row[2] == span.name
        assert row[3] == ["Unspecified", "Internal", "Server", "Client", "Producer", "Consumer"][span.kind]
        assert row[4] == span.start_time_unix_nano
        assert row[5] == span.end_time_unix_nano - span.start_time_unix_nano
        assert row[6] == ["Unset", "Ok", "Error"][span.status.code] and row[7] == span.status.message
        attributes = {kv.key: kv.value for kv in span.attributes}
        assert row[8]["i"] == str(attributes["i"].int_value)
        assert row[8]["ok"] == ("true" if attributes["ok"].bool_value else "false")
        assert row[8]["tags"] == '["a","b","' + str(attributes["i"].int_value) + '"]'
        assert float(row[8]["ratio"]) == attributes["ratio"].double_value
        assert row[9] == "e2e-svc" and (row[10], row[11]) == ("e2e.tracer", "1.2.3")
        assert row[12] == [e.name for e in span.events]
        assert row[13] == [e.time_unix_nano for e in span.events]
        assert row[14] == [{kv.key: (kv.value.string_value or str(kv.value.int_value)) for kv in e.attributes} for e in span.events]
        assert row[15] == [link.trace_id.hex() for link in span.links]
        assert row[16] == [link.span_id.hex() for link in span.links]
        assert row[17] == [{kv.key: str(kv.value.int_value) for kv in link.attributes} for link in span.links]


def test_logs_and_metric_values(stored) -> None:  # type: ignore[no-untyped-def]
    client, logs = stored[0], stored[2]
    record = logs.resource_logs[0].scope_logs[0].log_records[3]
    rows = client.query(
        "SELECT Body, SeverityNumber, SeverityText, toUnixTimestamp64Nano(Timestamp), LogAttributes['n'] "
        "FROM otel.otel_logs WHERE Body = {b:String}",
        parameters={"b": record.body.string_value},
    ).result_rows
    assert rows == [(record.body.string_value, record.severity_number, record.severity_text, record.time_unix_nano, "3")]
    histogram = client.query(
        "SELECT Count, Sum, Min, Max, BucketCounts, ExplicitBounds FROM otel.otel_metrics_histogram WHERE MetricName = 'latency'"
    ).result_rows[0]
    assert histogram[:4] == (100, 5050.0, 1.0, 100.0)
    assert sum(histogram[4]) == 100 and len(histogram[4]) == len(histogram[5]) + 1
    exp = client.query(
        "SELECT Count, Sum, Scale, arraySum(PositiveBucketCounts) FROM otel.otel_metrics_exponential_histogram"
    ).result_rows[0]
    assert (exp[0], exp[1], exp[3]) == (100, 5050.0, 100)
    summary = client.query(
        "SELECT Count, Sum, ValueAtQuantiles.Quantile, ValueAtQuantiles.Value, toUnixTimestamp64Nano(TimeUnix) "
        "FROM otel.otel_metrics_summary"
    ).result_rows
    assert summary == [(10, 4.5, [0.5, 0.99], [0.3, 1.2], 1_795_000_000_123_456_789)]
    assert client.query("SELECT Value FROM otel.otel_metrics_gauge WHERE MetricName = 'temperature'").result_rows == [(42.5,)]
    assert client.query("SELECT Value, IsMonotonic FROM otel.otel_metrics_sum").result_rows == [(5050.0, True)]


def test_trace_id_lookup_table(stored) -> None:  # type: ignore[no-untyped-def]
    client = stored[0]
    distinct = client.query("SELECT count(DISTINCT TraceId) FROM otel.otel_traces").result_rows[0][0]
    assert client.query("SELECT count(DISTINCT TraceId) FROM otel.otel_traces_trace_id_ts").result_rows == [(distinct,)]


def test_query_arrow_and_df(stored) -> None:  # type: ignore[no-untyped-def]
    client = stored[0]
    table = client.query_arrow("SELECT ServiceName, count() AS n FROM otel.otel_traces GROUP BY ServiceName")
    assert table.to_pylist() == [{"ServiceName": "e2e-svc", "n": N}]
    frame = client.query_df("SELECT SeverityText, count() AS n FROM otel.otel_logs GROUP BY SeverityText ORDER BY SeverityText")
    assert dict(zip(frame["SeverityText"], frame["n"], strict=True)) == {"INFO": N - N // 3 - 1, "WARN": N // 3 + 1}


def _parquet_spans(root: Path) -> pa.Table:
    assert wait_for(lambda: not list(root.rglob("*.inprogress")), timeout=30), "parquet files did not roll"
    return ds.dataset(root / "signal=traces", format="parquet", partitioning="hive").to_table()


def test_parquet_equals_clickhouse_rows(stored) -> None:  # type: ignore[no-untyped-def]
    client, tmp = stored[0], stored[4]
    table = _parquet_spans(tmp / "parquet")
    assert table.num_rows == N
    columns = ["TraceId", "SpanId", "SpanName", "SpanAttributes", "Events.Name", "Events.Attributes", "Links.SpanId", "Duration"]
    from_parquet = project("spans", table.drop_columns(["date", "hour"]).combine_chunks().to_batches()[0]).select(columns)
    ordered = from_parquet.sort_by("SpanId").to_pylist()
    rows = client.query_arrow(f"SELECT {', '.join('`' + c + '`' for c in columns)} FROM otel.otel_traces ORDER BY SpanId")
    from_clickhouse = rows.to_pylist()
    assert len(from_clickhouse) == N
    normalize = lambda row: {k: (sorted(v) if k == "SpanAttributes" else v) for k, v in row.items()}  # noqa: E731
    assert [normalize(r) for r in ordered] == [normalize(r) for r in from_clickhouse]


def test_parquet_reads_back_with_duckdb_and_typed_attributes(stored) -> None:  # type: ignore[no-untyped-def]
    tmp = stored[4]
    _parquet_spans(tmp / "parquet")
    pattern = str(tmp / "parquet" / "signal=traces" / "**" / "*.parquet")
    con = duckdb.connect()
    count, services = con.execute(
        f"SELECT count(*), count(DISTINCT ServiceName) FROM read_parquet('{pattern}', hive_partitioning = true)"
    ).fetchone()
    assert (count, services) == (N, 1)
    typed = con.execute(
        f"SELECT SpanAttributes['i'].type, SpanAttributes['i'].value, SpanAttributes['ok'].type "
        f"FROM read_parquet('{pattern}') WHERE SpanName = 'op-7' LIMIT 1"
    ).fetchone()
    assert typed[0] == 2 and typed[1].isdigit() and typed[2] == 4  # int and bool keep their OTLP type
