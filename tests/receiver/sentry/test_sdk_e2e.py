"""The real Python `sentry-sdk` (its default HTTP transport, br-compressed since `brotli` is
installed) → a real collector (sentry receiver → fingerprint on logs → clickhouse on chDB):
exceptions (chained too), a message and a transaction with child spans land as exact rows in
otel_logs, events_error_v1 and otel_traces, under the ids the SDK returned."""

from __future__ import annotations

import gzip
import json
import traceback
import urllib.error
import urllib.request
import warnings
from collections.abc import Iterator
from typing import Any

import clickhouse_connect
import pytest
import sentry_sdk

from tests.helpers import Collector, free_port, wait_for

KEY = "5b1c2f7d9e3a4b6c8d0e1f2a3b4c5d6e"
PROJECT = 42
RELEASE, ENVIRONMENT = "shop@2.4.1", "staging"


class OrderError(Exception):
    pass


def lookup(orders: dict[str, int], order_id: str) -> int:
    return orders[order_id]


def checkout(order_id: str) -> int:
    try:
        return lookup({}, order_id)
    except KeyError as exc:
        raise OrderError(f"order {order_id} cannot be checked out") from exc


def divide(a: int, b: int) -> float:
    return a / b


@pytest.fixture(scope="module")
def collector(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[int, Any]]:
    tmp = tmp_path_factory.mktemp("sentry-e2e")
    port, ch_port = free_port(), free_port()
    config = f"""
receivers:
  sentry:
    endpoint: 127.0.0.1:{port}
    projects:
      - {{id: {PROJECT}, keys: [{KEY}], service_name: shop}}
processors:
  fingerprint: {{storage: chdb}}
exporters:
  clickhouse:
    storage: chdb
    sending_queue: {{num_consumers: 1}}
extensions:
  chdb:
    path: {tmp / "clickhouse"}
    http:
      endpoint: 127.0.0.1:{ch_port}
service:
  telemetry: {{metrics: {{level: none}}}}
  extensions: [chdb]
  pipelines:
    logs: {{receivers: [sentry], processors: [fingerprint], exporters: [clickhouse]}}
    traces: {{receivers: [sentry], exporters: [clickhouse]}}
"""
    running = Collector(tmp, config).start()
    try:
        yield port, clickhouse_connect.get_client(host="127.0.0.1", port=ch_port)
    finally:
        assert running.stop() == 0, running.log()


@pytest.fixture
def sdk(collector: tuple[int, Any]) -> Iterator[Any]:
    port, client = collector
    sentry_sdk.init(dsn=f"http://{KEY}@127.0.0.1:{port}/{PROJECT}", release=RELEASE, environment=ENVIRONMENT,
                    traces_sample_rate=1.0, default_integrations=False, auto_enabling_integrations=False)
    try:
        yield client
    finally:
        sentry_sdk.get_client().close()


def python_prints(exc: BaseException) -> str:
    """What `traceback.format_exception` prints, without 3.11's caret lines (no source columns in Sentry's frames)."""
    lines = "".join(traceback.format_exception(exc)).splitlines(keepends=True)
    return "".join(line for line in lines if not (line.strip() and set(line.strip()) <= set("^~")))


def one(client: Any, query: str) -> tuple[Any, ...]:
    rows = client.query(query).result_rows
    assert len(rows) == 1, rows
    return rows[0]


def test_a_chained_exception_is_one_log_record_and_one_error_row_under_the_returned_id(sdk: Any) -> None:
    client = sdk
    try:
        checkout("a-17")
    except OrderError as exc:
        caught = exc
        event_id = sentry_sdk.capture_exception(exc)
    sentry_sdk.flush()
    assert event_id is not None and len(event_id) == 32
    where = f"LogAttributes['sentry.event_id'] = '{event_id}'"
    assert wait_for(lambda: client.command(f"SELECT count() FROM otel.otel_logs WHERE {where}") == 1, timeout=60)
    row = one(client, f"SELECT Body, SeverityText, SeverityNumber, ServiceName, ResourceAttributes['service.version'],"
                      f" ResourceAttributes['deployment.environment.name'], LogAttributes['exception.type'],"
                      f" LogAttributes['exception.message'], LogAttributes['exception.stacktrace'], TraceId, SpanId"
                      f" FROM otel.otel_logs WHERE {where}")
    name = f"{__name__}.OrderError"
    assert row[:8] == ("OrderError: order a-17 cannot be checked out", "ERROR", 17, "shop", RELEASE, ENVIRONMENT,
                       "OrderError", "order a-17 cannot be checked out")
    assert row[8] == python_prints(caught)  # the chain as Python prints it
    assert row[8].endswith(f"{name}: order a-17 cannot be checked out\n")
    assert "The above exception was the direct cause of the following exception:" in row[8]
    trace_id, span_id = row[9], row[10]
    assert len(trace_id) == 32 and len(span_id) == 16  # the SDK's propagation context
    assert wait_for(lambda: client.command(f"SELECT count() FROM otel.events_error_v1 WHERE TraceId = '{trace_id}'") == 1, timeout=60)
    error = one(client, "SELECT ServiceName, ServiceVersion, DeploymentEnvironment, SpanId, ExceptionType, ExceptionMessage,"
                        f" Language, Frames.Function FROM otel.events_error_v1 WHERE TraceId = '{trace_id}'")
    assert error == ("shop", RELEASE, ENVIRONMENT, span_id, "OrderError", "order a-17 cannot be checked out", "python",
                     ["test_a_chained_exception_is_one_log_record_and_one_error_row_under_the_returned_id", "checkout"])


def test_a_plain_exception_a_fingerprint_and_a_message(sdk: Any) -> None:
    client = sdk
    try:
        divide(1, 0)
    except ZeroDivisionError as exc:
        caught = exc
        with sentry_sdk.new_scope() as scope:
            scope.fingerprint = ["{{ default }}", "division"]
            scope.set_tag("region", "eu-west")
            scope.set_user({"id": "u-42", "email": "dev@example.com"})
            error_id = sentry_sdk.capture_exception(exc)
    message_id = sentry_sdk.capture_message("inventory sync finished late", level="warning")
    sentry_sdk.flush()
    ids = f"('{error_id}', '{message_id}')"
    assert wait_for(lambda: client.command(f"SELECT count() FROM otel.otel_logs WHERE LogAttributes['sentry.event_id'] IN {ids}") == 2, timeout=60)
    error = one(client, "SELECT Body, LogAttributes['exception.stacktrace'], LogAttributes['sentry.fingerprint'],"
                        " LogAttributes['sentry.tag.region'], LogAttributes['user.id'], LogAttributes['user.email']"
                        f" FROM otel.otel_logs WHERE LogAttributes['sentry.event_id'] = '{error_id}'")
    assert error == ("ZeroDivisionError: division by zero", python_prints(caught), '["{{ default }}","division"]',
                     "eu-west", "u-42", "dev@example.com")
    message = one(client, "SELECT Body, SeverityText, SeverityNumber, mapContains(LogAttributes, 'exception.type'),"
                          f" ServiceName FROM otel.otel_logs WHERE LogAttributes['sentry.event_id'] = '{message_id}'")
    assert message == ("inventory sync finished late", "WARN", 13, False, "shop")


def test_a_transaction_with_child_spans_is_a_local_root_and_its_children(sdk: Any) -> None:
    client = sdk
    with sentry_sdk.start_transaction(op="http.server", name="POST /checkout") as transaction:
        transaction.set_tag("region", "eu")
        with warnings.catch_warnings():  # deprecated in the Python SDK, still what the browser SDKs send vitals as
            warnings.simplefilter("ignore", DeprecationWarning)
            transaction.set_measurement("cart.items", 3, "none")
        with sentry_sdk.start_span(op="db", name="SELECT * FROM orders WHERE id = %s") as query:
            query.set_data("db.system", "postgresql")
        with sentry_sdk.start_span(op="http.client", name="POST https://payments.example/charge") as call:
            call.set_status("deadline_exceeded")
        transaction.set_status("internal_error")
    sentry_sdk.flush()
    trace_id, root_id = transaction.trace_id, transaction.span_id
    assert wait_for(lambda: client.command(f"SELECT count() FROM otel.otel_traces WHERE TraceId = '{trace_id}'") == 3, timeout=60)
    rows = client.query(
        "SELECT SpanName, SpanId, ParentSpanId, SpanKind, ServiceName, StatusCode, StatusMessage, SpanAttributes['sentry.op'],"
        " SpanAttributes['db.system'], ResourceAttributes['service.version']"
        f" FROM otel.otel_traces WHERE TraceId = '{trace_id}' ORDER BY Timestamp").result_rows
    assert rows == [
        ("POST /checkout", root_id, "", "Server", "shop", "Error", "internal_error", "http.server", "", RELEASE),
        ("SELECT * FROM orders WHERE id = %s", query.span_id, root_id, "Client", "shop", "Unset", "", "db", "postgresql", RELEASE),
        ("POST https://payments.example/charge", call.span_id, root_id, "Client", "shop", "Error", "deadline_exceeded",
         "http.client", "", RELEASE),
    ]
    root = one(client, "SELECT SpanAttributes['sentry.measurement.cart.items'], SpanAttributes['sentry.measurement.cart.items.unit'],"
                       " SpanAttributes['sentry.tag.region'], SpanAttributes['sentry.transaction.source'], Duration > 0"
                       f" FROM otel.otel_traces WHERE SpanId = '{root_id}'")
    assert root == ("3", "none", "eu", "custom", True)
    # the spans' timestamps are the SDK's: the children lie within the root
    bounds = one(client, "SELECT min(Timestamp) = anyIf(Timestamp, ParentSpanId = ''),"
                         " max(toUnixTimestamp64Nano(Timestamp) + Duration) = anyIf(toUnixTimestamp64Nano(Timestamp) + Duration, ParentSpanId = '')"
                         f" FROM otel.otel_traces WHERE TraceId = '{trace_id}'")
    assert bounds == (True, True)


def test_an_error_inside_a_transaction_links_to_its_span(sdk: Any) -> None:
    client = sdk
    with sentry_sdk.start_transaction(op="task", name="nightly-report") as transaction:
        with sentry_sdk.start_span(op="function", name="render") as span:
            try:
                divide(2, 0)
            except ZeroDivisionError as exc:
                event_id = sentry_sdk.capture_exception(exc)
    sentry_sdk.flush()
    where = f"LogAttributes['sentry.event_id'] = '{event_id}'"
    assert wait_for(lambda: client.command(f"SELECT count() FROM otel.otel_logs WHERE {where}") == 1, timeout=60)
    assert one(client, f"SELECT TraceId, SpanId FROM otel.otel_logs WHERE {where}") == (transaction.trace_id, span.span_id)
    assert wait_for(lambda: client.command(f"SELECT count() FROM otel.otel_traces WHERE SpanId = '{span.span_id}'") == 1, timeout=60)


def post_raw(port: int, body: bytes, headers: dict[str, str]) -> tuple[int, dict[str, Any]]:
    request = urllib.request.Request(f"http://127.0.0.1:{port}/api/{PROJECT}/envelope/", data=body, method="POST", headers={
        "X-Sentry-Auth": f"Sentry sentry_version=7, sentry_key={KEY}", "Content-Type": "application/x-sentry-envelope", **headers})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return int(response.status), json.loads(response.read())
    except urllib.error.HTTPError as error:
        return int(error.code), json.loads(error.read())


def raw_envelope(items: list[tuple[str, bytes]]) -> bytes:
    parts = [b"{}"]
    for kind, payload in items:
        parts += [json.dumps({"type": kind, "length": len(payload)}).encode(), payload]
    return b"\n".join(parts) + b"\n"


def test_a_1000_item_gzip_envelope_with_unknown_items_lands_whole(collector: tuple[int, Any]) -> None:
    """500 exception events, 300 transactions (root + 1 child), 200 items of a type no one knows."""
    port, client = collector
    items: list[tuple[str, bytes]] = []
    for i in range(500):
        items.append(("event", json.dumps({
            "event_id": f"{i:032x}", "platform": "python", "timestamp": 1764756000.0 + i,
            "exception": {"values": [{"type": "ValueError", "value": f"bad quantity {i}", "stacktrace": {"frames": [
                {"abs_path": "/srv/app/cart.py", "function": "parse_quantity", "lineno": 12, "context_line": "return int(text)"}]}}]},
            "contexts": {"trace": {"trace_id": f"0abc{i:028x}", "span_id": f"{i + 1:016x}"}}}).encode()))
        if i < 300:
            items.append(("transaction", json.dumps({
                "type": "transaction", "transaction": "GET /cart", "start_timestamp": 1764756000.0 + i, "timestamp": 1764756000.5 + i,
                "contexts": {"trace": {"trace_id": f"0def{i:028x}", "span_id": f"{i + 1:016x}", "op": "http.server"}},
                "spans": [{"span_id": f"{i + 5000:016x}", "op": "db", "description": "SELECT cart",
                           "start_timestamp": 1764756000.1 + i, "timestamp": 1764756000.2 + i}]}).encode()))
        if i < 200:
            items.append(("future_item", b"\x00opaque\x01"))
    assert len(items) == 1000
    status, reply = post_raw(port, gzip.compress(raw_envelope(items)), {"Content-Encoding": "gzip"})
    assert (status, reply) == (200, {"id": f"{0:032x}"})
    assert wait_for(lambda: client.command("SELECT count() FROM otel.events_error_v1 WHERE startsWith(TraceId, '0abc')") == 500, timeout=120)
    assert client.command("SELECT count() FROM otel.otel_logs WHERE startsWith(TraceId, '0abc')") == 500
    assert client.query("SELECT uniqExact(Fingerprint), any(ExceptionType), any(MessageTemplate) FROM otel.events_error_v1"
                        " WHERE startsWith(TraceId, '0abc')").result_rows == [(1, "ValueError", "bad quantity <int>")]
    assert wait_for(lambda: client.command("SELECT count() FROM otel.otel_traces WHERE startsWith(TraceId, '0def')") == 600, timeout=120)
    assert client.command("SELECT count() FROM otel.otel_traces WHERE startsWith(TraceId, '0def') AND ParentSpanId = ''") == 300


def test_bad_input_is_refused_and_nothing_of_it_stored(collector: tuple[int, Any]) -> None:
    port, client = collector
    event = json.dumps({"event_id": "f" * 32, "message": "never stored", "contexts": {"trace": {"trace_id": "0bad" + "0" * 28}}}).encode()
    good = raw_envelope([("event", event)])
    truncated = good[:-20]
    wrong_length = good.replace(f'"length": {len(event)}'.encode(), f'"length": {len(event) - 5}'.encode())
    bomb = gzip.compress(raw_envelope([("event", b'{"message": "' + b"x" * (80 * 1024 * 1024) + b'"}')]))
    assert post_raw(port, truncated, {})[0] == 400
    assert post_raw(port, wrong_length, {}) == (400, {"detail": f"envelope item 0 (type 'event'): header says length {len(event) - 5}, "
                                                               "but the payload does not end there (no newline after it); the length header is wrong"})
    assert post_raw(port, bomb, {"Content-Encoding": "gzip"}) == (
        413, {"detail": "request body is larger than max_request_body_size (67108864 bytes) once decompressed"})
    assert post_raw(port, good, {"X-Sentry-Auth": "Sentry sentry_key=unknown"})[0] == 403
    assert post_raw(port, good, {"X-Sentry-Auth": ""})[0] == 401
    # a good envelope after them is stored: the refusals left the receiver as it was
    marker = json.dumps({"event_id": "e" * 32, "message": "stored", "contexts": {"trace": {"trace_id": "0bad" + "1" * 28}}}).encode()
    assert post_raw(port, raw_envelope([("event", marker)]), {}) == (200, {"id": "e" * 32})
    assert wait_for(lambda: client.command("SELECT count() FROM otel.otel_logs WHERE startsWith(TraceId, '0bad')") == 1, timeout=60)
    assert client.query("SELECT Body FROM otel.otel_logs WHERE startsWith(TraceId, '0bad')").result_rows == [("stored",)]


def test_the_sdk_fingerprint_decides_the_group(sdk: Any) -> None:
    """`scope.fingerprint = ["checkout-timeout"]` puts two different exceptions in one group;
    `["{{ default }}", "<tenant>"]` splits one exception into a group per tenant."""
    client = sdk
    ids: dict[str, str | None] = {}
    for name, error, parts in [
        ("key", KeyError("cart-1"), ["checkout-timeout"]),
        ("value", ValueError("bad total"), ["checkout-timeout"]),
        ("tenant-a", ZeroDivisionError("division by zero"), ["{{ default }}", "tenant-a"]),
        ("tenant-b", ZeroDivisionError("division by zero"), ["{{default}}", "tenant-b"]),
        ("plain", ZeroDivisionError("division by zero"), None),
    ]:
        try:
            raise error
        except Exception as exc:  # noqa: BLE001 - each one is captured
            with sentry_sdk.new_scope() as scope:
                if parts is not None:
                    scope.fingerprint = parts
                ids[name] = sentry_sdk.capture_exception(exc)
    sentry_sdk.flush()
    where = "LogAttributes['sentry.event_id'] = '{}'"
    assert wait_for(lambda: all(client.command(f"SELECT count() FROM otel.otel_logs WHERE {where.format(i)}") == 1
                                for i in ids.values()), timeout=60)
    group = {name: client.command(f"SELECT LogAttributes['exception.group_id'] FROM otel.otel_logs WHERE {where.format(i)}")
             for name, i in ids.items()}
    assert all(len(g) == 16 for g in group.values()), group
    assert group["key"] == group["value"]
    assert len({group["key"], group["tenant-a"], group["tenant-b"], group["plain"]}) == 4
