"""The safe-defaults warning: which endpoints count as reachable from other machines, and a
collector that binds one without auth says so, naming it."""

from __future__ import annotations

from pathlib import Path

import pytest

from summitcol.netaddr import is_loopback
from tests.helpers import Collector, free_port


@pytest.mark.parametrize(("endpoint", "loopback"), [
    ("localhost:4317", True), ("127.0.0.1:4317", True), ("127.9.9.9:1", True), ("[::1]:4318", True),
    (":4317", False), ("0.0.0.0:4317", False), ("[::]:4317", False), ("10.1.2.3:4317", False),
])
def test_is_loopback(endpoint: str, loopback: bool) -> None:
    assert is_loopback(endpoint) is loopback


def test_an_open_listener_without_auth_is_named_in_a_warning(tmp_path: Path) -> None:
    open_port, closed_port = free_port(), free_port()
    config = f"""
extensions:
  bearertokenauth: {{token: t}}
receivers:
  otlp:
    protocols:
      http: {{endpoint: "0.0.0.0:{open_port}"}}
      grpc: {{endpoint: "0.0.0.0:{closed_port}", auth: {{authenticator: bearertokenauth}}}}
exporters:
  debug: {{}}
service:
  extensions: [bearertokenauth]
  telemetry: {{metrics: {{level: none}}}}
  pipelines:
    traces: {{receivers: [otlp], exporters: [debug]}}
"""
    with Collector(tmp_path, config) as collector:
        log = collector.log()
    assert f"OTLP/HTTP receiver otlp listens on 0.0.0.0:{open_port}, reachable from other machines, without auth" in log
    assert f"0.0.0.0:{closed_port}, reachable" not in log
