"""The official `@sentry/browser` SDK (bundled from tests/js by esbuild at test time) on a test
page served on loopback, in Debian's headless chromium driven by puppeteer-core → a real
collector (sentry receiver → fingerprint on logs → clickhouse on chDB): the page-load span (which SDK v11 streams
as a `span` item) with its web vitals and its replay's id, the error a click handler throws, and a session replay of several segments that
comes back complete and in order."""

from __future__ import annotations

import json
import shutil
import subprocess
import threading
import zlib
from collections.abc import Iterator
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.helpers import Collector, chdb_rows, free_port, wait_for
from tests.receiver.sentry.collector import sentry_collector

JS = Path(__file__).resolve().parents[2] / "js"
KEY = "0a1b2c3d4e5f60718293a4b5c6d7e8f9"


@pytest.fixture
def page(tmp_path: Path) -> Iterator[int]:
    """The test page and the SDK bundle, served on a loopback port."""
    assert (JS / "node_modules/@sentry/browser").is_dir(), "the JavaScript test tools are missing: run `make test`"
    site = tmp_path / "site"
    site.mkdir()
    shutil.copy(JS / "browser/page.html", site / "index.html")
    subprocess.run([str(JS / "node_modules/.bin/esbuild"), str(JS / "browser/entry.js"), "--bundle", "--format=iife",
                    f"--outfile={site / 'sentry.js'}", "--log-level=warning"], check=True, timeout=60, cwd=JS)
    port = free_port()
    server = ThreadingHTTPServer(("127.0.0.1", port), partial(SimpleHTTPRequestHandler, directory=str(site)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield port
    finally:
        server.shutdown()
        server.server_close()


def test_browser_sdk_pageload_error_and_replay(tmp_path: Path, page: int) -> None:
    chromium = shutil.which("chromium")
    assert chromium, "the tests need chromium (Debian: apt-get install chromium)"
    port, ch_port = free_port(), free_port()
    config = sentry_collector(tmp_path, port, ch_port, f"{{id: 5, keys: [{KEY}], service_name: shop-web, internal: true}}", ("logs", "traces"))

    rows = partial(chdb_rows, ch_port)

    url = f"http://127.0.0.1:{page}/index.html?dsn=http://{KEY}@127.0.0.1:{port}/5"
    with Collector(tmp_path, config) as collector:
        done = subprocess.run(["node", str(JS / "browser/run.js"), url, chromium], capture_output=True, text=True,
                              timeout=120, check=False, cwd=JS)
        assert done.returncode == 0, done.stderr + collector.log()
        replay_id = json.loads(done.stdout.strip().splitlines()[-1])["replayId"]
        errors = "SELECT ExceptionType, ExceptionMessage FROM otel.events_error_v1 WHERE ServiceName = 'shop-web'"
        assert wait_for(lambda: rows(errors) == [["Error", "cart is empty"]], timeout=30), rows(errors)
        segments = f"SELECT SegmentId, hex(Data) FROM otel.replay_segments_v1 FINAL WHERE ReplayId = '{replay_id}' ORDER BY SegmentId"
        assert wait_for(lambda: len(rows(segments)) >= 3, timeout=30), rows(segments)
        stored = rows(segments)
        pageload = rows("SELECT SpanName, SpanKind, SpanAttributes['url.path'], SpanAttributes['sentry.replay_id'] FROM otel.otel_traces "
                        "WHERE ServiceName = 'shop-web' AND SpanAttributes['sentry.op'] = 'pageload'")
        vitals = rows("SELECT arraySort(arrayFilter(k -> startsWith(k, 'browser.web_vital.') AND endsWith(k, '.value'), "
                      "mapKeys(SpanAttributes))) FROM otel.otel_traces WHERE ServiceName = 'shop-web' AND SpanAttributes['sentry.op'] = 'pageload'")
        replay = rows(f"SELECT groupUniqArray(ReplayType), countIf(has(Urls, '{url}')) > 0, min(SegmentId) "
                      f"FROM otel.replays_v1 WHERE ReplayId = '{replay_id}'")
    assert [int(segment) for segment, _ in stored] == list(range(len(stored)))  # complete and in order from 0
    events = [json.loads(zlib.decompress(bytes.fromhex(data))) for _, data in stored]
    assert all(isinstance(batch, list) and batch for batch in events)  # each segment a batch of rrweb events
    assert 2 in {event["type"] for event in events[0]}  # the first one holds the page's full snapshot
    assert replay == [["['session']", "1", "0"]]  # the first segment's event names the page
    assert pageload == [["Pageload", "Internal", "/index.html", replay_id]]  # the page-load span names its replay
    assert {"browser.web_vital.ttfb.value", "browser.web_vital.fcp.value"} <= set(json.loads(vitals[0][0].replace("'", '"')))
