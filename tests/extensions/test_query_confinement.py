"""The query interface is confined: no table function, engine, clause or setting that reaches the
host's files, other hosts or processes, for readers and admins alike; every query runs under
limits a client cannot lift; the exporter's own writes are not affected.

Attacks go over the real HTTP interface (raw HTTP and clickhouse-connect) of a running collector
and through the offline `summitcol query`. Each points at a real secret file and a real loopback
HTTP server, and the tests check that the secret never comes back, no file is written and the
server is never reached."""

from __future__ import annotations

import base64
import http.server
import os
import subprocess
import sys
import threading
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import clickhouse_connect
import pytest
from clickhouse_connect.driver.exceptions import DatabaseError

from summitcol.exceptions import ConfigError
from summitcol.extensions.chdb.config import Config, QueryLimitsConfig, UserConfig
from tests.extensions.test_chdb import send_spans
from tests.helpers import Collector, free_port, pipelines_yaml, receiver_yaml, wait_for

SECRET = "summit-secret-7f3a9c"
USERS = {"reader": "r3ad", "admin": "adm1n"}


class _Counting(http.server.BaseHTTPRequestHandler):
    hits = 0

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        type(self).hits += 1
        self.send_response(200)
        self.end_headers()
        self.wfile.write(SECRET.encode())

    do_POST = do_GET  # noqa: N815

    def log_message(self, *args: object) -> None:
        return None


@dataclass
class Target:
    role: str
    ch: int
    grpc: int
    tmp: Path
    web: int

    @property
    def secret_file(self) -> Path:
        return self.tmp / "secret.txt"

    def post(self, sql: str | None = None, body: str | None = None, params: dict[str, str] | None = None,
             method: str = "POST") -> tuple[int, str, str]:
        query = dict(params or {})
        if sql is not None:
            query["query"] = sql
        url = f"http://127.0.0.1:{self.ch}/?{urllib.parse.urlencode(query)}"
        token = base64.b64encode(f"{self.role}:{USERS[self.role]}".encode()).decode()
        data = body.encode() if body is not None else (b"" if method == "POST" else None)
        request = urllib.request.Request(url, data=data, method=method, headers={"Authorization": f"Basic {token}"})
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                return response.status, "", response.read().decode(errors="replace")
        except urllib.error.HTTPError as error:
            return error.code, error.headers.get("X-ClickHouse-Exception-Code", ""), error.read().decode(errors="replace")

    def client(self) -> clickhouse_connect.driver.Client:
        return clickhouse_connect.get_client(host="127.0.0.1", port=self.ch, username=self.role, password=USERS[self.role])


SERVICE = pipelines_yaml("otlp", "", "clickhouse").replace("service:", "service:\n  workers: 1", 1)


def _config(tmp: Path, ch: int, grpc: int, role: str) -> str:
    read_only = "true" if role == "reader" else "false"
    return f"""
receivers:
{receiver_yaml(grpc, None)}
exporters:
  clickhouse:
    storage: chdb
    sending_queue:
      enabled: false
extensions:
  chdb:
    path: {tmp / "clickhouse"}
    http:
      endpoint: 127.0.0.1:{ch}
    read_only: {read_only}
    users:
      - name: {role}
        password: {USERS[role]}
    query_limits:
      max_execution_time: 4s
      max_result_rows: 5000
      max_memory_usage: 300000000
{SERVICE}
  extensions: [chdb]
"""


@pytest.fixture(scope="module")
def web() -> Iterator[int]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Counting)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module", params=["reader", "admin"])
def target(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, web: int) -> Iterator[Target]:
    role = request.param
    tmp = tmp_path_factory.mktemp(role)
    (tmp / "secret.txt").write_text(SECRET + "\n")
    ch, grpc = free_port(), free_port()
    with Collector(tmp, _config(tmp, ch, grpc, role)):
        send_spans(grpc, "legit", 7)
        yield Target(role, ch, grpc, tmp, web)


def attacks(t: Target) -> list[tuple[str, str]]:
    """(statement, what the refusal must name): one per function, engine and clause, then bypasses."""
    f, web = t.secret_file, f"http://127.0.0.1:{t.web}"
    host = f"127.0.0.1:{t.web}"
    return [
        (f"SELECT * FROM file('{f}', 'LineAsString')", "file()"),
        (f"SELECT * FROM file('{t.tmp}/*.txt', 'LineAsString')", "file()"),
        (f"SELECT file('{f}')", "file()"),
        (f"SELECT * FROM url('{web}/metrics', 'LineAsString')", "url()"),
        (f"SELECT * FROM urlCluster('default', '{web}/x', 'LineAsString')", "urlCluster()"),
        (f"SELECT * FROM remote('{host}', system.one)", "remote()"),
        (f"SELECT * FROM remoteSecure('{host}', system.one)", "remoteSecure()"),
        ("SELECT * FROM cluster('default', system.one)", "cluster()"),
        ("SELECT * FROM clusterAllReplicas('default', system.one)", "clusterAllReplicas()"),
        (f"SELECT * FROM s3('{web}/b/k.csv', 'CSV')", "s3()"),
        (f"SELECT * FROM s3Cluster('default', '{web}/b/k.csv', 'CSV')", "s3Cluster()"),
        (f"SELECT * FROM gcs('{web}/b/k.csv', 'CSV')", "gcs()"),
        (f"SELECT * FROM azureBlobStorage('{web}', 'c', 'k.csv')", "azureBlobStorage()"),
        (f"SELECT * FROM hdfs('hdfs://{host}/k.csv', 'CSV')", "hdfs()"),
        (f"SELECT * FROM mysql('{host}', 'db', 't', 'u', 'p')", "mysql()"),
        (f"SELECT * FROM postgresql('{host}', 'db', 't', 'u', 'p')", "postgresql()"),
        (f"SELECT * FROM mongodb('{host}', 'db', 'c', 'u', 'p', 'a String')", "mongodb()"),
        (f"SELECT * FROM redis('{host}', 'k', 'k String')", "redis()"),
        (f"SELECT * FROM sqlite('{t.tmp}/x.db', 't')", "sqlite()"),
        ("SELECT * FROM odbc('DSN=x', 't')", "odbc()"),
        ("SELECT * FROM jdbc('jdbc:x', 't')", "jdbc()"),
        (f"SELECT * FROM executable('cat {f}', TSV, 'a String')", "executable()"),
        ("SELECT * FROM input('a String')", "input()"),
        (f"SELECT * FROM iceberg('{web}/t')", "iceberg()"),
        (f"SELECT * FROM deltaLake('{web}/t')", "deltaLake()"),
        (f"SELECT * FROM hudi('{web}/t')", "hudi()"),
        ("SELECT * FROM fuzzJSON('{\"a\": 1}') LIMIT 1", "fuzzJSON()"),
        ("SELECT * FROM fuzzQuery('SELECT 1') LIMIT 1", "fuzzQuery()"),
        (f"SELECT * FROM filesystem('{t.tmp}')", "filesystem()"),
        ("SELECT * FROM python(x)", "python()"),
        ("SELECT * FROM dictionary('d')", "dictionary()"),
        ("SELECT * FROM loop(numbers(3)) LIMIT 1", "loop()"),
        (f"SELECT 1 INTO OUTFILE '{t.tmp}/written.txt'", "INTO OUTFILE"),
        (f"SELECT 1 INTO OUTFILE '{t.tmp}/written.txt' FORMAT CSV", "INTO OUTFILE"),
        (f"DESCRIBE TABLE file('{f}', 'LineAsString')", "file()"),
        (f"SELECT arrayMap(x -> file(x), ['{f}'])", "file()"),
        # bypass attempts: case, comments, quoted names, nesting, CTEs, views, unions, joins
        (f"SELECT * FROM FILE('{f}', 'LineAsString')", "FILE()"),
        (f"SELECT * FROM fIlE('{f}', 'LineAsString')", "fIlE()"),
        (f"SELECT * FROM /* a */ file -- b\n ( '{f}', 'LineAsString')", "file()"),
        (f"SELECT * FROM `file`('{f}', 'LineAsString')", "file()"),
        (f"SELECT * FROM \"url\"('{web}/x', 'LineAsString')", "url()"),
        (f"SELECT * FROM (SELECT * FROM (SELECT * FROM file('{f}', 'LineAsString')))", "file()"),
        (f"SELECT (SELECT any(line) FROM file('{f}', 'LineAsString'))", "file()"),
        (f"WITH s AS (SELECT * FROM url('{web}/x', 'LineAsString')) SELECT * FROM s", "url()"),
        (f"SELECT * FROM view(SELECT * FROM file('{f}', 'LineAsString'))", "file()"),
        (f"SELECT 1 UNION ALL SELECT count() FROM file('{f}', 'LineAsString')", "file()"),
        (f"SELECT * FROM numbers(1) AS n JOIN remote('{host}', system.one) AS r ON 1", "remote()"),
        (f"SELECT 1 WHERE 1 IN (SELECT 1 FROM url('{web}/x', 'LineAsString'))", "url()"),
        (f"EXPLAIN SELECT * FROM file('{f}', 'LineAsString')", "file()"),
        (f"SELECT '--', * FROM file('{f}', 'LineAsString')", "file()"),
    ]


READER_ONLY_CODES = {"reader": "164", "admin": "497"}


def statements(t: Target) -> list[tuple[str, str]]:
    """Statements an admin may not run either (a reader gets readonly mode's 164 for each)."""
    f, web = t.secret_file, f"http://127.0.0.1:{t.web}"
    return [
        (f"CREATE TABLE otel.x (a String) ENGINE = File(LineAsString, '{f}')", "ENGINE = File"),
        (f"CREATE TABLE otel.x (a String) ENGINE = URL('{web}/x', LineAsString)", "ENGINE = URL"),
        (f"CREATE TABLE otel.x (a String) ENGINE = S3('{web}/b/k.csv', 'CSV')", "ENGINE = S3"),
        ("CREATE TABLE otel.x (a String) ENGINE = MySQL('127.0.0.1:1', 'db', 't', 'u', 'p')", "ENGINE = MySQL"),
        ("CREATE TABLE otel.x (a String) ENGINE = Distributed('default', 'otel', 'otel_traces')", "ENGINE = Distributed"),
        ("CREATE TABLE otel.x (a String) ENGINE = Executable('cat', TSV)", "ENGINE = Executable"),
        (f"CREATE TABLE otel.x AS file('{f}', 'LineAsString')", "file()"),
        (f"CREATE TABLE otel.x ENGINE = Memory AS SELECT * FROM file('{f}', 'LineAsString')", "file()"),
        (f"CREATE VIEW otel.v AS SELECT * FROM file('{f}', 'LineAsString')", "file()"),
        (f"CREATE DICTIONARY otel.d (a String) PRIMARY KEY a SOURCE(FILE(path '{f}' format 'TSV')) "
         "LAYOUT(FLAT()) LIFETIME(0)", "CREATE DICTIONARY"),
        (f"CREATE DATABASE leak ENGINE = Filesystem('{t.tmp}')", "ENGINE = Filesystem"),
        ("CREATE TABLE otel.x (a String) ENGINE = MergeTree ORDER BY a "
         f"SETTINGS disk = disk(type = 'local', path = '{t.tmp}/disk/')", "'disk'"),
        (f"INSERT INTO FUNCTION file('{t.tmp}/written.txt', 'CSV') SELECT 1", "file()"),
        (f"INSERT INTO otel.otel_traces FROM INFILE '{f}' FORMAT LineAsString", "FROM INFILE"),
        (f"INSERT INTO otel.otel_traces (SpanName) SELECT * FROM file('{f}', 'LineAsString')", "file()"),
        (f"ALTER TABLE otel.otel_traces UPDATE SpanName = file('{f}') WHERE 1", "file()"),
        (f"ALTER TABLE otel.otel_traces ADD COLUMN leak String DEFAULT file('{f}')", "file()"),
        ("ALTER TABLE otel.otel_traces MODIFY SETTING max_bytes_to_merge_at_max_space_in_pool = 1",
         "'max_bytes_to_merge_at_max_space_in_pool'"),
        ("SYSTEM FLUSH LOGS", "SYSTEM"),
        ("SYSTEM SHUTDOWN", "SYSTEM"),
        (f"ATTACH TABLE otel.x FROM '{t.tmp}' (a String) ENGINE = MergeTree ORDER BY a", "ATTACH"),
        (f"BACKUP TABLE otel.otel_traces TO File('{t.tmp}/backup')", "BACKUP"),
        (f"RESTORE TABLE otel.otel_traces FROM File('{t.tmp}/backup')", "RESTORE"),
        ("SET readonly = 0", "SET"),
        ("KILL QUERY WHERE 1", "KILL"),
        ("CREATE FUNCTION leak AS x -> x", "CREATE FUNCTION"),
    ]


def test_every_escape_is_refused(target: Target) -> None:
    failures = []
    for sql, names in attacks(target):
        status, code, body = target.post(body=sql)
        if (status, code) != (403, "497") or names not in body or SECRET in body:
            failures.append((sql, status, code, body[:200]))
    admin = target.role == "admin"
    for sql, names in statements(target):
        status, code, body = target.post(body=sql)
        expected = (403, "497") if admin else (500, "164")
        if (status, code) != expected or (admin and names not in body) or SECRET in body:
            failures.append((sql, status, code, body[:200]))
    assert failures == []
    assert _Counting.hits == 0  # nothing ever reached the "internal service"
    assert not (target.tmp / "written.txt").exists() and not (target.tmp / "backup").exists()
    client = target.client()  # nothing was created or changed on the way
    assert client.command("SELECT count() FROM system.tables WHERE database = 'otel' AND name IN ('x', 'v', 'd')") == 0
    assert client.command("SELECT count() FROM otel.otel_traces WHERE SpanName LIKE 'legit-%'") == 7
    client.close()


def test_multi_statements_and_split_queries_are_refused(target: Target) -> None:
    f = target.secret_file
    status, code, body = target.post(body=f"SELECT 1; SELECT * FROM file('{f}', 'LineAsString')")
    assert (status, code) == (400, "62") and "Multi-statements are not allowed" in body and SECRET not in body
    # the statement split between the URL and the body is checked as one
    status, code, body = target.post("SELECT * FROM", body=f"file('{f}', 'LineAsString')")
    assert (status, code) == (403, "497") and "file()" in body and SECRET not in body
    status, code, body = target.post("SELECT 1;", body=f"SELECT * FROM file('{f}', 'LineAsString')")
    assert (status, code) == (400, "62") and SECRET not in body
    # the database parameter is a name, not more SQL (chDB would run a second statement after USE)
    injected = f"otel`; SELECT 1 INTO OUTFILE '{target.tmp}/written.txt'; SELECT `1"
    status, code, _ = target.post(body="SELECT 1", params={"database": injected})
    assert (status, code) == (404, "81") and not (target.tmp / "written.txt").exists()
    # GET is read-only, and confined the same way
    status, code, body = target.post(f"SELECT * FROM file('{f}', 'LineAsString')", method="GET")
    assert (status, code) == (403, "497") and SECRET not in body


def test_settings_cannot_lift_the_limits(target: Target) -> None:
    reader = target.role == "reader"
    refused = (500, "164") if reader else (403, "497")
    for sql in ("SELECT 1 SETTINGS readonly = 0", "SELECT number FROM numbers(6000) SETTINGS max_result_rows = 0",
                "SELECT 1 SETTINGS max_execution_time = 1000", "SELECT 1 SETTINGS allow_introspection_functions = 1",
                "SELECT 1 SETTINGS MAX_MEMORY_USAGE = 0", "SELECT * FROM (SELECT 1 SETTINGS max_execution_time = 0)",
                "SELECT 1 FORMAT Protobuf SETTINGS format_schema = '/etc/passwd:M'"):
        status, code, body = target.post(body=sql)
        assert (status, code) == refused, (sql, body)
    for params in ({"readonly": "0"}, {"max_execution_time": "0"}, {"max_result_rows": "0"}, {"result_overflow_mode": "break"}):
        status, code, body = target.post(body="SELECT number FROM numbers(6000)", params=params)
        if reader or "readonly" not in params:
            assert (status, code) == refused, (params, body)
        else:
            assert (status, code) == (500, "396")  # readonly=0 is what an admin has: the limit still holds
    # a limit may be tightened, as a ClickHouse constraint's max allows (Grafana sets max_execution_time on
    # every query): readonly mode drops it from the URL (the configured limit holds); an admin's applies
    status, _, body = target.post(body="SELECT count() FROM numbers(20)", params={"max_execution_time": "3"})
    assert (status, body) == (200, "20\n")
    status, code, _ = target.post(body="SELECT number FROM numbers(20)", params={"max_result_rows": "10"})
    assert (status, code) == ((200, "") if reader else (500, "396"))
    status, code, _ = target.post(body="SELECT number FROM numbers(20) SETTINGS max_result_rows = 10")
    assert (status, code) == ((500, "164") if reader else (500, "396"))
    # a request's own readonly=1 makes it read-only; readonly=2 on a read-only interface is refused
    status, code, _ = target.post(body="CREATE TABLE otel.y (a UInt8) ENGINE = Memory", params={"readonly": "1"})
    assert (status, code) == (500, "164")
    if reader:
        assert target.post(body="SELECT 1", params={"readonly": "2"})[:2] == (500, "164")
    else:  # harmless settings stay an admin's to change
        assert target.post(body="SELECT 1 SETTINGS output_format_json_quote_64bit_integers = 0 FORMAT JSONEachRow")[0] == 200


def test_legitimate_queries_still_work(target: Target) -> None:
    status, _, body = target.post(body="SELECT count() FROM otel.otel_traces WHERE SpanName LIKE 'legit-%'")
    assert (status, body) == (200, "7\n")
    client = target.client()
    assert client.query("SELECT SpanName FROM otel.otel_traces ORDER BY SpanName LIMIT 2").result_rows == [
        ("legit-0",), ("legit-1",)
    ]
    assert client.query("SELECT sum(number) FROM numbers(10)").result_rows == [(45,)]
    assert client.query("SELECT * FROM values('a UInt8', 1, 2) ORDER BY a").result_rows == [(1,), (2,)]
    assert client.query("SELECT {n:UInt8} + 1", parameters={"n": 41}).result_rows == [(42,)]
    assert client.query_arrow("SELECT count() AS c FROM otel.otel_traces").column("c").to_pylist() == [7]
    # the same refusals reach clickhouse-connect as ClickHouse errors
    with pytest.raises(DatabaseError, match=r"Code: 497\. .*file\(\)"):
        client.query(f"SELECT * FROM file('{target.secret_file}', 'LineAsString')")
    with pytest.raises(DatabaseError, match=r"Code: 497\. .*INTO OUTFILE"):
        client.command(f"SELECT 1 INTO OUTFILE '{target.tmp}/written.txt'")
    with pytest.raises(DatabaseError, match=r"Code: 497\. .*url\(\)"):
        client.query_df(f"SELECT * FROM url('http://127.0.0.1:{target.web}/', 'LineAsString')")
    if target.role == "admin":
        client.command("CREATE TABLE otel.ok (a UInt8) ENGINE = MergeTree ORDER BY a SETTINGS index_granularity = 1024")
        client.command("INSERT INTO otel.ok VALUES (1), (2)")
        assert client.command("SELECT sum(a) FROM otel.ok") == 3
        with pytest.raises(DatabaseError, match="Code: 344"):  # VALUES data is literals only: no file() there
            client.command(f"INSERT INTO otel.ok VALUES (length(file('{target.secret_file}')))")
        assert client.command("SELECT count() FROM otel.ok") == 2
        client.command("DROP TABLE otel.ok")
    client.close()
    assert _Counting.hits == 0 and not (target.tmp / "written.txt").exists()


def test_limits_stop_a_query_and_ingestion_goes_on(target: Target) -> None:
    status, code, body = target.post(body="SELECT number FROM numbers(5001)")
    assert (status, code) == (500, "396") and "TOO_MANY_ROWS_OR_BYTES" in body
    status, code, body = target.post(body="SELECT groupArray(number) FROM numbers(100000000)")
    assert (status, code) == (500, "241") and "MEMORY_LIMIT_EXCEEDED" in body
    heavy: list[tuple[int, str, str]] = []
    query = "SELECT sum(sipHash64(number)) FROM numbers_mt(1000000000000)"
    thread = threading.Thread(target=lambda: heavy.append(target.post(body=query)))
    thread.start()
    running = "SELECT count() FROM system.processes WHERE query LIKE 'SELECT sum(sipHash64(number))%'"
    assert wait_for(lambda: target.post(body=running)[2] == "1\n", timeout=30)
    send_spans(target.grpc, "during", 50)  # acknowledged only once inserted (no sending queue)
    status, _, body = target.post(body="SELECT count() FROM otel.otel_traces WHERE SpanName LIKE 'during-%'")
    assert (status, body) == (200, "50\n")
    thread.join(60)
    status, code, body = heavy[0]
    assert (status, code) == (408, "159") and "TIMEOUT_EXCEEDED" in body


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "summitcol.cli", "query", *args], capture_output=True, text=True, timeout=120)


def test_offline_query_is_confined(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text(SECRET + "\n")
    (tmp_path / "ch").mkdir()
    where = ["--path", str(tmp_path / "ch"), "--endpoint", f"127.0.0.1:{free_port()}", "--format", "csv"]
    out = _cli("SELECT count() AS c FROM numbers(10)", *where)
    assert (out.returncode, out.stdout) == (0, '"c"\n10\n'), out.stderr
    for sql, names in ((f"SELECT * FROM file('{secret}', 'LineAsString')", "file()"),
                       (f"SELECT 1 INTO OUTFILE '{tmp_path}/written.txt'", "INTO OUTFILE"),
                       ("SELECT number FROM numbers(10) SETTINGS max_result_rows = 0", "'max_result_rows'")):
        out = _cli(sql, *where)
        assert out.returncode == 1 and "Code: 497." in out.stderr and names in out.stderr, out.stderr
        assert SECRET not in out.stdout + out.stderr
    assert not (tmp_path / "written.txt").exists()


def test_allowed_table_functions_opens_only_those(tmp_path: Path) -> None:
    handler = type("Vetted", (_Counting,), {"hits": 0})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    (tmp_path / "ch").mkdir()
    config = tmp_path / "vetted.yaml"
    config.write_text(f"""
receivers:
{receiver_yaml(free_port(), None)}
exporters:
  clickhouse:
    storage: chdb
extensions:
  chdb:
    path: {tmp_path / "ch"}
    http:
      endpoint: 127.0.0.1:{free_port()}
    allowed_table_functions: [url]
{SERVICE}
  extensions: [chdb]
""")
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/"
        out = _cli(f"SELECT * FROM url('{url}', 'LineAsString')", "--config", str(config), "--format", "csv")
        assert (out.returncode, out.stdout) == (0, f'"line"\n"{SECRET}"\n'), out.stderr
        assert handler.hits == 1
        out = _cli(f"SELECT * FROM remote('127.0.0.1:{server.server_address[1]}', system.one)", "--config", str(config))
        assert out.returncode == 1 and "Code: 497." in out.stderr and "remote()" in out.stderr
        assert handler.hits == 1
    finally:
        server.shutdown()
        server.server_close()


def test_config_validate_names_the_key() -> None:
    cases = [
        (QueryLimitsConfig(max_execution_time=timedelta(0)),
         "query_limits::max_execution_time must be greater than zero, e.g. 60s"),
        (QueryLimitsConfig(max_result_rows=0), "query_limits::max_result_rows must be greater than zero"),
        (QueryLimitsConfig(max_rows_to_read=-1), "query_limits::max_rows_to_read must be >= 0 (0 = no limit)"),
        (Config(allowed_table_functions=["url('x')"]), "allowed_table_functions: \"url('x')\" is not a table function name"),
        (Config(read_only=True, allowed_table_functions=["url"]),
         "allowed_table_functions has no effect with read_only: true (ClickHouse's readonly mode refuses table "
         "functions that read a source); remove it, or set read_only: false"),
    ]
    for config, message in cases:
        with pytest.raises(ConfigError) as error:
            config.validate()
        assert str(error.value) == message
    settings = Config(read_only=True).query_settings()
    assert list(settings)[-1] == "readonly" and settings["max_execution_time"] == 60.0
    assert settings["result_overflow_mode"] == "throw" and settings["max_result_rows"] == 1_000_000
    assert settings["readonly"] == 1 and settings["max_threads"] == max(1, len(os.sched_getaffinity(0)) // 2)
    tenant_reader = UserConfig(name="r", password="p", tenant="acme", role="reader")
    assert Config(read_only=True, users=[tenant_reader]).query_settings()["readonly"] == 2  # its row filter is a setting
    for user, message in ((UserConfig(name="r", role="reader"), "users: r: a reader reads one tenant's rows; set its tenant"),
                          (UserConfig(name="a", role="admin", tenant="acme"),
                           "users: a: an admin sees every tenant; remove its tenant or make it a reader")):
        with pytest.raises(ConfigError) as error:
            user.validate()
        assert str(error.value) == message
