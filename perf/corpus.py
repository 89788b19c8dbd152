"""A realistic OTLP corpus: spans with 10–20 semconv attributes (http, db, rpc), 5% with an
exception event and stack trace, some span events and links; log records with 100–500 byte bodies;
metrics of every type (gauge, sum, histogram, exponential histogram, summary)."""

from __future__ import annotations

import random

from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import ExportMetricsServiceRequest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue

STACK = "\n".join(f'  File "/app/service/module_{i}.py", line {10 * i}, in handler_{i}' for i in range(12))


def _kv(target, key: str, value) -> None:  # type: ignore[no-untyped-def]
    if isinstance(value, bool):
        target.add(key=key, value=AnyValue(bool_value=value))
    elif isinstance(value, int):
        target.add(key=key, value=AnyValue(int_value=value))
    elif isinstance(value, float):
        target.add(key=key, value=AnyValue(double_value=value))
    else:
        target.add(key=key, value=AnyValue(string_value=value))


def _span_attributes(rng: random.Random, i: int) -> dict:  # type: ignore[type-arg]
    kind = i % 3
    if kind == 0:
        return {
            "http.request.method": rng.choice(["GET", "POST", "PUT"]),
            "http.route": f"/api/v1/items/{{id}}/{rng.choice(['view', 'edit'])}",
            "url.full": f"https://shop.example.com/api/v1/items/{rng.randint(1, 10**6)}?user=alice@example.com",
            "http.response.status_code": rng.choice([200, 200, 200, 404, 500]),
            "server.address": "shop.example.com",
            "server.port": 443,
            "network.protocol.version": "1.1",
            "user_agent.original": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36",
            "client.address": f"10.0.{rng.randint(0, 255)}.{rng.randint(0, 255)}",
            "http.request.body.size": rng.randint(0, 5000),
            "http.response.body.size": rng.randint(0, 50000),
            "url.scheme": "https",
            "enduser.id": f"user-{rng.randint(1, 10000)}",
        }
    if kind == 1:
        return {
            "db.system.name": "postgresql",
            "db.namespace": "orders",
            "db.operation.name": "SELECT",
            "db.query.text": f"SELECT * FROM orders WHERE customer_id = {rng.randint(1, 10**6)} AND status = 'open'",
            "server.address": "db.internal",
            "server.port": 5432,
            "db.response.returned_rows": rng.randint(0, 100),
            "db.collection.name": "orders",
            "network.peer.address": "10.1.2.3",
            "db.client.connection.pool.name": "main",
        }
    return {
        "rpc.system": "grpc",
        "rpc.service": "inventory.v1.InventoryService",
        "rpc.method": rng.choice(["Reserve", "Release", "Check"]),
        "rpc.grpc.status_code": 0,
        "server.address": "inventory.internal",
        "server.port": 50051,
        "network.transport": "tcp",
        "messaging.batch.message_count": rng.randint(1, 10),
        "retry.attempt": 0,
        "feature.flag.enabled": rng.random() < 0.5,
        "sample.ratio": rng.random(),
    }


BASE_NS = 1_795_000_000_000_000_000


def trace_request(n_spans: int, seed: int = 1, base_ns: int = BASE_NS) -> ExportTraceServiceRequest:
    rng = random.Random(seed)
    request = ExportTraceServiceRequest()
    per_resource = max(1, n_spans // 4)
    made = 0
    while made < n_spans:
        rs = request.resource_spans.add()
        for key, value in {
            "service.name": f"svc-{made // per_resource}",
            "service.version": "1.4.2",
            "deployment.environment.name": "production",
            "host.name": f"node-{rng.randint(1, 50)}",
            "telemetry.sdk.language": "python",
        }.items():
            _kv(rs.resource.attributes, key, value)
        ss = rs.scope_spans.add()
        ss.scope.name, ss.scope.version = "opentelemetry.instrumentation.flask", "0.50b0"
        for _ in range(min(per_resource, n_spans - made)):
            span = ss.spans.add()
            span.trace_id = rng.randbytes(16)
            span.span_id = rng.randbytes(8)
            span.parent_span_id = rng.randbytes(8)
            span.name = f"op-{made % 40}"
            span.kind = 2
            span.start_time_unix_nano = base_ns + made * 1000
            span.end_time_unix_nano = span.start_time_unix_nano + rng.randint(1000, 10**9)
            for key, value in _span_attributes(rng, made).items():
                _kv(span.attributes, key, value)
            if made % 20 == 0:
                event = span.events.add(name="exception", time_unix_nano=span.start_time_unix_nano + 5)
                _kv(event.attributes, "exception.type", "ValueError")
                _kv(event.attributes, "exception.message", f"invalid order id {made}")
                _kv(event.attributes, "exception.stacktrace", STACK)
                span.status.code = 2
            elif made % 7 == 0:
                span.events.add(name="cache.miss", time_unix_nano=span.start_time_unix_nano + 3)
            if made % 10 == 0:
                span.links.add(trace_id=rng.randbytes(16), span_id=rng.randbytes(8))
            made += 1
    return request


def logs_request(n_logs: int, seed: int = 2, base_ns: int = BASE_NS) -> ExportLogsServiceRequest:
    rng = random.Random(seed)
    request = ExportLogsServiceRequest()
    rl = request.resource_logs.add()
    _kv(rl.resource.attributes, "service.name", "checkout")
    _kv(rl.resource.attributes, "host.name", "node-7")
    sl = rl.scope_logs.add()
    sl.scope.name = "app.logger"
    words = "order payment user cart checkout failed succeeded retry timeout card shipped".split()
    for i in range(n_logs):
        record = sl.log_records.add()
        record.time_unix_nano = base_ns + i
        record.severity_number = rng.choice([9, 9, 9, 13, 17])
        record.severity_text = {9: "INFO", 13: "WARN", 17: "ERROR"}[record.severity_number]
        record.body.string_value = " ".join(rng.choice(words) for _ in range(rng.randint(15, 70)))[:500]
        record.trace_id, record.span_id = rng.randbytes(16), rng.randbytes(8)
        _kv(record.attributes, "code.function", "handle")
        _kv(record.attributes, "thread.id", rng.randint(1, 64))
    return request


def metrics_request(n_points: int, seed: int = 3, base_ns: int = BASE_NS) -> ExportMetricsServiceRequest:
    """`n_points` data points spread over the five metric types, 10 points per metric."""
    rng = random.Random(seed)
    request = ExportMetricsServiceRequest()
    rm = request.resource_metrics.add()
    _kv(rm.resource.attributes, "service.name", "checkout")
    _kv(rm.resource.attributes, "host.name", "node-7")
    sm = rm.scope_metrics.add()
    sm.scope.name = "app.metrics"
    made = 0
    kinds = ["gauge", "sum", "histogram", "exponential_histogram", "summary"]
    while made < n_points:
        kind = kinds[(made // 10) % 5]
        metric = sm.metrics.add(name=f"app.{kind}.{made // 50}", unit="ms", description=f"a {kind}")
        for _ in range(min(10, n_points - made)):
            t = base_ns + made * 1_000_000
            if kind == "gauge":
                point = metric.gauge.data_points.add(time_unix_nano=t, as_double=rng.random() * 100)
            elif kind == "sum":
                metric.sum.aggregation_temporality = 2
                metric.sum.is_monotonic = True
                point = metric.sum.data_points.add(time_unix_nano=t, start_time_unix_nano=base_ns, as_int=rng.randint(0, 10**6))
            elif kind == "histogram":
                metric.histogram.aggregation_temporality = 2
                counts = [rng.randint(0, 100) for _ in range(8)]
                point = metric.histogram.data_points.add(
                    time_unix_nano=t, start_time_unix_nano=base_ns, count=sum(counts), sum=sum(counts) * 12.5,
                    bucket_counts=counts, explicit_bounds=[5, 10, 25, 50, 100, 250, 500],
                )
            elif kind == "exponential_histogram":
                metric.exponential_histogram.aggregation_temporality = 2
                point = metric.exponential_histogram.data_points.add(time_unix_nano=t, start_time_unix_nano=base_ns, count=20, sum=210.0, scale=3, zero_count=1)
                point.positive.offset = 2
                point.positive.bucket_counts.extend([rng.randint(0, 5) for _ in range(6)])
            else:
                point = metric.summary.data_points.add(time_unix_nano=t, start_time_unix_nano=base_ns, count=10, sum=45.0)
                point.quantile_values.add(quantile=0.5, value=4.0)
                point.quantile_values.add(quantile=0.99, value=9.0)
            _kv(point.attributes, "http.route", rng.choice(["/a", "/b", "/c"]))
            _kv(point.attributes, "http.response.status_code", rng.choice([200, 404, 500]))
            made += 1
    return request


# -- error storm (issue #15, item 9): every span an exception --------------------------------------

STORM_BUGS = 50
STORM_LANGUAGES = (("python", 70), ("java", 15), ("nodejs", 15))  # share of spans, percent
_PY_MODULES = ("orders", "payments", "inventory", "users", "cart", "shipping", "search", "auth", "billing", "catalog")
_PY_ERRORS = (("KeyError", "'{p}'"), ("ValueError", "invalid order id {p}"), ("TimeoutError", "timed out after {p} ms"),
              ("RuntimeError", "worker {p} is gone"), ("PermissionError", "user {p} may not do this"))
_JAVA_ERRORS = (("java.lang.IllegalStateException", "order {p} is closed"), ("java.lang.NullPointerException", "Cannot invoke \"Item.price()\" because item {p} is null"),
                ("java.util.NoSuchElementException", "no value for key {p}"))
_NODE_ERRORS = (("TypeError", "Cannot read properties of undefined (reading 'id{p}')"), ("Error", "ECONNREFUSED 10.0.0.{p}:5432"),
                ("RangeError", "offset {p} is out of range"))


def storm_text(language: str, k: int, shape: str) -> tuple[str, str, str]:
    """Distinct text number `k` (type, message, stack trace as the SDK writes it) in `language`.

    shape "bugs": 50 bugs (k % 50); the texts of one bug differ only by the message parameter and
    the line numbers (few fingerprints, many texts). shape "unique": every k its own function names,
    so every text is a new fingerprint (the grouping model runs for each)."""
    bug, variant = k % STORM_BUGS, k // STORM_BUGS
    fn = f"handle_{bug}" if shape == "bugs" else f"handle_{k}"
    inner = f"check_{bug % 7}" if shape == "bugs" else f"check_{k}"
    line = 20 + variant % 400 if shape == "bugs" else 20 + k % 400
    param = f"{variant * 7919 % 1_000_003}" if shape == "bugs" else f"{k}"
    mod = _PY_MODULES[bug % len(_PY_MODULES)]
    if language == "python":
        exc, template = _PY_ERRORS[bug % len(_PY_ERRORS)]
        message = template.format(p=param)
        text = (
            "Traceback (most recent call last):\n"
            '  File "/usr/lib/python3.11/site-packages/flask/app.py", line 1484, in full_dispatch_request\n'
            "    rv = self.dispatch_request()\n"
            '  File "/usr/lib/python3.11/site-packages/flask/app.py", line 1469, in dispatch_request\n'
            "    return self.ensure_sync(self.view_functions[rule.endpoint])(**view_args)\n"
            f'  File "/srv/app/{mod}/views.py", line {line}, in {fn}\n'
            f"    result = service.{inner}(request.args)\n"
            f'  File "/srv/app/{mod}/service.py", line {line + 31}, in {inner}\n'
            f"    return self.repo.load(key)\n"
            f'  File "/srv/app/{mod}/repo.py", line {line // 2 + 5}, in load\n'
            f"    raise {exc}(key)\n"
            f"{exc}: {message}\n"
        )
    elif language == "java":
        exc, template = _JAVA_ERRORS[bug % len(_JAVA_ERRORS)]
        message = template.format(p=param)
        cls = f"com.example.{mod}.{mod.capitalize()}Service"
        text = (
            f"{exc}: {message}\n"
            f"\tat {cls}.{inner}({mod.capitalize()}Service.java:{line})\n"
            f"\tat {cls}.{fn}({mod.capitalize()}Service.java:{line + 12})\n"
            f"\tat com.example.{mod}.{mod.capitalize()}Controller.post({mod.capitalize()}Controller.java:{line // 3 + 40})\n"
            "\tat java.base/jdk.internal.reflect.DirectMethodHandleAccessor.invoke(DirectMethodHandleAccessor.java:103)\n"
            "\tat java.base/java.lang.reflect.Method.invoke(Method.java:580)\n"
            "\tat org.springframework.web.method.support.InvocableHandlerMethod.doInvoke(InvocableHandlerMethod.java:255)\n"
            "\tat org.springframework.web.servlet.FrameworkServlet.service(FrameworkServlet.java:885)\n"
            "\tat java.base/java.lang.Thread.run(Thread.java:1583)\n"
        )
    else:
        exc, template = _NODE_ERRORS[bug % len(_NODE_ERRORS)]
        message = template.format(p=param)
        text = (
            f"{exc}: {message}\n"
            f"    at {inner} (/srv/app/src/{mod}/service.js:{line}:17)\n"
            f"    at {fn} (/srv/app/src/{mod}/routes.js:{line + 9}:24)\n"
            "    at Layer.handle [as handle_request] (/srv/app/node_modules/express/lib/router/layer.js:95:5)\n"
            "    at next (/srv/app/node_modules/express/lib/router/route.js:149:13)\n"
            "    at process.processTicksAndRejections (node:internal/process/task_queues:95:5)\n"
        )
    return exc, message, text


def error_storm_request(n_spans: int, first: int = 0, distinct: int = 1000, shape: str = "bugs",
                        base_ns: int = BASE_NS) -> ExportTraceServiceRequest:
    """`n_spans` spans, every one with an `exception` event; span i carries distinct text number
    (first + i) % distinct, so consecutive requests walk through all `distinct` texts. The span's
    resource says its language (70% Python, 15% Java, 15% Node.js, by text number)."""
    rng = random.Random(first)
    request = ExportTraceServiceRequest()
    by_language: dict[str, list[int]] = {}
    for i in range(n_spans):
        k = (first + i) % distinct
        share = (k % STORM_BUGS) * 2 if shape == "bugs" else k * 7 % 100  # a bug stays in one language
        language = "python" if share < 70 else "java" if share < 85 else "nodejs"
        by_language.setdefault(language, []).append(k)
    made = 0
    for language, ks in by_language.items():
        rs = request.resource_spans.add()
        for key, value in {"service.name": f"svc-{language}", "service.version": "1.4.2",
                           "deployment.environment.name": "production", "telemetry.sdk.language": language}.items():
            _kv(rs.resource.attributes, key, value)
        ss = rs.scope_spans.add()
        ss.scope.name = "storm"
        for k in ks:
            span = ss.spans.add()
            span.trace_id = rng.randbytes(16)
            span.span_id = rng.randbytes(8)
            span.name = f"POST /api/{k % 40}"
            span.kind = 2
            span.start_time_unix_nano = base_ns + made * 1000
            span.end_time_unix_nano = span.start_time_unix_nano + 1_000_000
            _kv(span.attributes, "http.request.method", "POST")
            _kv(span.attributes, "http.response.status_code", 500)
            exc, message, text = storm_text(language, k, shape)
            event = span.events.add(name="exception", time_unix_nano=span.start_time_unix_nano + 5)
            _kv(event.attributes, "exception.type", exc)
            _kv(event.attributes, "exception.message", message)
            _kv(event.attributes, "exception.stacktrace", text)
            span.status.code = 2
            made += 1
    return request
