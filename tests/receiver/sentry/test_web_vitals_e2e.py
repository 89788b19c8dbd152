"""Web vitals from Sentry transactions (the measurements the JavaScript SDKs attach to a page
load) → a real collector: span attributes, `browser.web_vital.<name>` histogram points in
otel_metrics_histogram, and the `web_vitals_v1` view's p75 per page and release with
web-vitals.js's rating."""

from __future__ import annotations

import json
import time
import uuid
from functools import partial
from pathlib import Path

import numpy as np
import requests

from tests.helpers import Collector, chdb_rows, free_port, wait_for
from tests.receiver.sentry.collector import sentry_collector

KEY = "ef" * 16
LCP = {"/checkout": [1000.0, 2000.0, 3000.0, 5000.0], "/home": [900.0, 1100.0]}


def pageload(page: str, lcp: float, cls: float) -> bytes:
    now, trace = time.time(), uuid.uuid4().hex
    payload = json.dumps({
        "type": "transaction", "event_id": uuid.uuid4().hex, "transaction": page, "platform": "javascript",
        "start_timestamp": now - 2, "timestamp": now, "release": "web@3", "environment": "prod",
        "contexts": {"trace": {"trace_id": trace, "span_id": uuid.uuid4().hex[:16], "op": "pageload", "status": "ok"}},
        "measurements": {"lcp": {"value": lcp, "unit": "millisecond"}, "cls": {"value": cls, "unit": ""},
                         "ttfb": {"value": 120, "unit": "millisecond"}}}).encode()
    return b"\n".join([b"{}", json.dumps({"type": "transaction", "length": len(payload)}).encode(), payload])


def test_measurements_become_histograms_and_p75s_per_page_and_release(tmp_path: Path) -> None:
    port, ch_port = free_port(), free_port()
    config = sentry_collector(tmp_path, port, ch_port, f"{{id: 4, keys: [{KEY}], service_name: web}}", ("traces", "metrics"), fingerprint=False)

    rows = partial(chdb_rows, ch_port)

    with Collector(tmp_path, config):
        for page, values in LCP.items():
            for value in values:
                reply = requests.post(f"http://127.0.0.1:{port}/api/4/envelope/", data=pageload(page, value, 0.02), timeout=30,
                                      headers={"X-Sentry-Auth": f"Sentry sentry_version=7, sentry_key={KEY}"})
                assert reply.status_code == 200
        histograms = ("SELECT Attributes['url.path'], sum(Count), sum(Sum), sumForEach(BucketCounts) FROM otel.otel_metrics_histogram "
                      "WHERE MetricName = 'browser.web_vital.lcp' GROUP BY 1 ORDER BY 1")
        assert wait_for(lambda: len(rows(histograms)) == 2, timeout=30), rows(histograms)
        assert rows(histograms) == [
            ["/checkout", "4", "11000", "[0,0,0,0,1,0,1,1,0,1,0,0]"],  # 1000 in (800,1000], 2000 in (1800,2500], 3000 in (2500,3000], 5000 in (4000,6000]
            ["/home", "2", "2000", "[0,0,0,0,1,1,0,0,0,0,0,0]"],
        ]
        assert rows("SELECT MetricUnit, ExplicitBounds FROM otel.otel_metrics_histogram WHERE MetricName = 'browser.web_vital.cls' LIMIT 1") \
            == [["1", "[0.05,0.1,0.15,0.25,0.5,1]"]]
        vitals = rows("SELECT Page, Vital, P75, Samples, Rating FROM otel.web_vitals_v1 WHERE ServiceName = 'web' AND Release = 'web@3' "
                      "AND Vital IN ('lcp', 'cls') ORDER BY Page, Vital")
    assert vitals == [
        ["/checkout", "cls", "0.02", "4", "good"],
        ["/checkout", "lcp", f"{np.percentile(LCP['/checkout'], 75):g}", "4", "needs-improvement"],  # 3500 ms
        ["/home", "cls", "0.02", "2", "good"],
        ["/home", "lcp", f"{np.percentile(LCP['/home'], 75):g}", "2", "good"],
    ]
