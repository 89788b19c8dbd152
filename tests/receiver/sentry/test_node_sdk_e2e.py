"""The official `@sentry/node` SDK (tests/js, installed by `make test`) in a real Node process →
a real collector (sentry receiver → fingerprint on logs → clickhouse on chDB): a captured error
lands as one log row and one `events_error_v1` row under the event id the SDK returned, with
V8's stack text and the in-app frames; a root span with a child (which SDK v11 streams as a `span`
item, not a transaction) lands as two spans of one
trace."""

from __future__ import annotations

import os
import shutil
import subprocess
from functools import partial
from pathlib import Path

from tests.helpers import Collector, chdb_rows, free_port, wait_for
from tests.receiver.sentry.collector import sentry_collector

JS = Path(__file__).resolve().parents[2] / "js"
KEY = "fedcba9876543210fedcba9876543210"


def test_node_sdk_error_and_transaction(tmp_path: Path) -> None:
    assert (JS / "node_modules/@sentry/node").is_dir(), "the JavaScript test tools are missing: run `make test` (npm ci --prefix tests/js)"
    node = shutil.which("node")
    assert node, "the tests need node (Debian: apt-get install nodejs)"
    port, ch_port = free_port(), free_port()
    config = sentry_collector(tmp_path, port, ch_port, f"{{id: 3, keys: [{KEY}], service_name: shop-node}}", ("logs", "traces"))

    rows = partial(chdb_rows, ch_port)

    with Collector(tmp_path, config):
        done = subprocess.run([node, str(JS / "sentry_node_app.js")], capture_output=True, text=True, timeout=60, check=False,
                              env={**os.environ, "SENTRY_DSN": f"http://{KEY}@127.0.0.1:{port}/3"}, cwd=JS)
        assert done.returncode == 0, done.stderr
        event_id = done.stdout.strip()
        assert len(event_id) == 32
        assert wait_for(lambda: rows("SELECT count() FROM otel.otel_traces WHERE ServiceName = 'shop-node'") == [["2"]], timeout=30)
        log = rows("SELECT LogAttributes['sentry.event_id'], LogAttributes['exception.type'], LogAttributes['exception.message'], "
                   "ResourceAttributes['service.version'], ResourceAttributes['telemetry.sdk.name'] FROM otel.otel_logs "
                   "WHERE ServiceName = 'shop-node'")
        assert log == [[event_id, "Error", "order 9 has no items", "shop-node@1.4.0", "sentry.javascript.node"]]
        stack = rows("SELECT startsWith(LogAttributes['exception.stacktrace'], 'Error: order 9 has no items\\n    at loadOrder ('), "
                     "position(LogAttributes['exception.stacktrace'], '    at checkout (') > 0 FROM otel.otel_logs WHERE ServiceName = 'shop-node'")
        assert wait_for(lambda: len(rows("SELECT 1 FROM otel.events_error_v1 WHERE ServiceName = 'shop-node'")) == 1, timeout=30)
        error = rows("SELECT ExceptionType, ExceptionMessage, Language, arrayFilter((f, i) -> i = 1, Frames.Function, Frames.InApp) "
                     "FROM otel.events_error_v1 WHERE ServiceName = 'shop-node'")
        spans = rows("SELECT SpanName, SpanKind, ParentSpanId = '' FROM otel.otel_traces WHERE ServiceName = 'shop-node' ORDER BY ParentSpanId")
    assert stack == [["1", "1"]]  # V8's err.stack text: the message, then `at fn (file:line:col)` innermost first
    assert error[0][:3] == ["Error", "order 9 has no items", "node"]
    assert "loadOrder" in error[0][3] and "checkout" in error[0][3]
    assert spans == [["GET /checkout", "Server", "1"], ["SELECT * FROM orders", "Client", "0"]]
