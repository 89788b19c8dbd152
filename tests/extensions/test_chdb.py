"""The chdb extension: ClickHouse HTTP interface, read_only, users, the data-path lock, restarts,
and `summitcol query`."""

from __future__ import annotations

import base64
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import clickhouse_connect
import pytest
from clickhouse_connect.driver.exceptions import DatabaseError

from tests.helpers import Collector, free_port, pipelines_yaml, receiver_yaml
from tests.receiver.otlp.test_bad_input import good_request

TRACE_METHOD = "/opentelemetry.proto.collector.trace.v1.TraceService/Export"


def chdb_config(tmp: Path, ch_port: int, grpc_port: int, extra: str = "") -> str:
    return f"""
receivers:
{receiver_yaml(grpc_port, None)}
exporters:
  clickhouse:
    storage: chdb
    sending_queue:
      enabled: false  # acknowledged = inserted, so tests can count right after sending
extensions:
  chdb:
    path: {tmp / "clickhouse"}
    http:
      endpoint: 127.0.0.1:{ch_port}
{extra}
{pipelines_yaml("otlp", "", "clickhouse")}
  extensions: [chdb]
"""


def http(port: int, query: str | None = None, body: bytes | None = None, headers: dict | None = None) -> tuple[int, dict, bytes]:  # type: ignore[type-arg]
    url = f"http://127.0.0.1:{port}/" + (f"?query={urllib.request.quote(query)}" if query else "")
    request = urllib.request.Request(url, data=body, headers=headers or {}, method="POST" if body is not None else "GET")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def send_spans(grpc_port: int, name: str, n: int) -> None:
    import grpc

    channel = grpc.insecure_channel(f"127.0.0.1:{grpc_port}")
    channel.unary_unary(TRACE_METHOD)(good_request(name, n).SerializeToString(), timeout=30)
    channel.close()


def test_http_interface_speaks_clickhouse(tmp_path: Path) -> None:
    ch, grpc_port = free_port(), free_port()
    with Collector(tmp_path, chdb_config(tmp_path, ch, grpc_port)):
        status, headers, body = http(ch, "SELECT 1")
        assert (status, body, headers["X-ClickHouse-Format"]) == (200, b"1\n", "TabSeparated")
        assert http(ch, "SELECT number FROM numbers(3) FORMAT CSV")[2] == b"0\n1\n2\n"
        status, headers, body = http(ch, "SELECT nope")
        assert status == 404  # UNKNOWN_IDENTIFIER, as ClickHouse maps it
        assert body.startswith(b"Code: 47. DB::Exception:") and headers["X-ClickHouse-Exception-Code"] == "47"
        status, headers, body = http(ch, "SELECT * FROM otel.nothing_here")
        assert (status, headers["X-ClickHouse-Exception-Code"]) == (404, "60")
        # GET is read-only, as in ClickHouse; POST may write.
        status, headers, body = http(ch, "CREATE TABLE otel.x (a UInt8) ENGINE=Memory")
        assert (status, headers["X-ClickHouse-Exception-Code"]) == (500, "164") and b"(READONLY)" in body
        assert http(ch, body=b"CREATE TABLE otel.x (a UInt8) ENGINE=MergeTree ORDER BY a")[0] == 200
        assert http(ch, "INSERT INTO otel.x FORMAT CSV", body=b"1\n2\n3\n")[0] == 200
        assert http(ch, body=b"INSERT INTO otel.x FORMAT JSONEachRow\n{\"a\": 4}")[0] == 200
        assert http(ch, "SELECT sum(a) FROM otel.x")[2] == b"10\n"
        assert http(ch, "SELECT {v:UInt8} + 1")[0] != 200  # a parameter without its value is an error
        with urllib.request.urlopen(f"http://127.0.0.1:{ch}/?query=SELECT+%7Bv%3AUInt8%7D+%2B+1&param_v=41", timeout=30) as r:
            assert r.read() == b"42\n"

        client = clickhouse_connect.get_client(host="127.0.0.1", port=ch, database="otel", compress="lz4")
        assert client.command("SELECT count() FROM x") == 4
        assert client.query("SELECT a FROM x ORDER BY a").result_rows == [(1,), (2,), (3,), (4,)]
        client.close()


def test_read_only_and_users(tmp_path: Path) -> None:
    ch, grpc_port = free_port(), free_port()
    extra = "    read_only: true\n    users:\n      - name: reader\n        password: s3cret\n"
    config = chdb_config(tmp_path, ch, grpc_port).replace("      endpoint: 127.0.0.1:" + str(ch) + "\n", "      endpoint: 127.0.0.1:" + str(ch) + "\n" + extra, 1)
    with Collector(tmp_path, config):
        send_spans(grpc_port, "ro", 3)  # the exporter writes through the engine, not the read-only HTTP front
        client = clickhouse_connect.get_client(host="127.0.0.1", port=ch, username="reader", password="s3cret")
        assert client.command("SELECT count() FROM otel.otel_traces") == 3
        with pytest.raises(DatabaseError) as error:
            client.command("DROP TABLE otel.otel_traces")
        assert "Code: 164" in str(error.value) and "READONLY" in str(error.value)
        assert client.command("SELECT count() FROM otel.otel_traces") == 3
        client.close()

        token = base64.b64encode(b"reader:wrong").decode()
        status, headers, body = http(ch, "SELECT 1", headers={"Authorization": f"Basic {token}"})
        assert (status, headers["X-ClickHouse-Exception-Code"]) == (403, "516")  # as ClickHouse answers
        assert b"AUTHENTICATION_FAILED" in body
        status, headers, body = http(ch, "SELECT 1", headers={"X-ClickHouse-User": "reader"})
        assert (status, headers["X-ClickHouse-Exception-Code"]) == (401, "194") and b"REQUIRED_PASSWORD" in body
        status, _, _ = http(ch, "SELECT 1", headers={"X-ClickHouse-User": "reader", "X-ClickHouse-Key": "s3cret"})
        assert status == 200
        with pytest.raises(DatabaseError, match="516"):
            clickhouse_connect.get_client(host="127.0.0.1", port=ch, username="reader", password="nope")


def test_data_survives_restart_and_the_path_is_locked(tmp_path: Path) -> None:
    ch, grpc_port = free_port(), free_port()
    config = chdb_config(tmp_path, ch, grpc_port)
    first = Collector(tmp_path, config, "first").start()
    send_spans(grpc_port, "persist", 5)
    second = Collector(tmp_path, chdb_config(tmp_path, free_port(), free_port()), "second")
    with pytest.raises(RuntimeError) as error:
        second.start()
    assert str(tmp_path / "clickhouse") in str(error.value)
    assert f"in use by another process (pid {first.process.pid})" in str(error.value)  # type: ignore[union-attr]
    assert first.stop() == 0

    with Collector(tmp_path, config, "again"):
        client = clickhouse_connect.get_client(host="127.0.0.1", port=ch)
        assert client.query("SELECT SpanName FROM otel.otel_traces ORDER BY SpanName").result_rows == [
            (f"persist-{i}",) for i in range(5)
        ]
        client.close()
        # summitcol query reaches the running collector over HTTP
        out = subprocess.run(
            [sys.executable, "-m", "summitcol.cli", "query", "SELECT SpanName, length(SpanName) AS n FROM otel.otel_traces ORDER BY SpanName LIMIT 2",
             "--config", str(tmp_path / "again.yaml")],
            capture_output=True, text=True, timeout=60,
        )
        assert out.returncode == 0, out.stderr
        assert out.stdout == "SpanName   n\n---------  -\npersist-0  9\npersist-1  9\n(2 rows)\n"

    # …and opens the path itself when no collector holds it
    out = subprocess.run(
        [sys.executable, "-m", "summitcol.cli", "query", "SELECT count() AS c FROM otel.otel_traces", "--path",
         str(tmp_path / "clickhouse"), "--endpoint", f"127.0.0.1:{free_port()}", "--format", "csv"],
        capture_output=True, text=True, timeout=60,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout == '"c"\n5\n'


def test_query_says_what_to_do_when_nothing_answers(tmp_path: Path) -> None:
    out = subprocess.run(
        [sys.executable, "-m", "summitcol.cli", "query", "SELECT 1", "--path", str(tmp_path / "none"), "--endpoint", f"127.0.0.1:{free_port()}"],
        capture_output=True, text=True, timeout=60,
    )
    assert out.returncode == 1
    assert "there is no data at" in out.stderr and "start the collector" in out.stderr


def test_queries_do_not_block_ingestion(tmp_path: Path) -> None:
    """Every query handle busy with a 3-second query; an OTLP request is still stored and
    acknowledged before any of those queries finishes (ingestion has its own handle)."""
    import threading

    ch, grpc_port = free_port(), free_port()
    with Collector(tmp_path, chdb_config(tmp_path, ch, grpc_port)):
        results: list[int] = []
        queries = [threading.Thread(target=lambda: results.append(http(ch, "SELECT sleep(3)")[0])) for _ in range(4)]
        for query in queries:
            query.start()
        send_spans(grpc_port, "during-queries", 3)
        acknowledged_while_querying = all(q.is_alive() for q in queries)
        for query in queries:
            query.join(30)
        assert results == [200, 200, 200, 200]
        assert acknowledged_while_querying
        assert http(ch, "SELECT count() FROM otel.otel_traces")[2] == b"3\n"
