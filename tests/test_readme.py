"""The README documents every component's every key, and every shipped config validates."""

from __future__ import annotations

import dataclasses
import re
import subprocess
import sys
from pathlib import Path

import pytest

from summitcol.components import default_registry
from summitcol.receiver.otlp.config import GRPCServerConfig, HTTPServerConfig

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()
REGISTRY = default_registry()


def section(component_type: str) -> str:
    match = re.search(rf"^### `{component_type}` .*?(?=^### |\Z)", README, re.M | re.S)
    assert match, f"README has no section '### `{component_type}` …'"
    return match.group(0)


@pytest.mark.parametrize("factory", REGISTRY.factories, ids=lambda f: f"{f.kind}/{f.type}")
def test_every_config_key_is_documented(factory) -> None:  # type: ignore[no-untyped-def]
    text = section(factory.type)
    config_types = [factory.config_type]
    if factory.type == "otlp":
        config_types += [GRPCServerConfig, HTTPServerConfig]
    for config_type in config_types:
        for field in dataclasses.fields(config_type):
            assert f"`{field.name}`" in text, f"README section for {factory.type} does not document `{field.name}`"


@pytest.mark.parametrize("path", sorted((ROOT / "config").rglob("*.yaml")), ids=lambda p: p.name)
def test_shipped_configs_validate(path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "summitcol.cli", "validate", "--config", str(path)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert "warning" not in result.stderr


def test_the_sdk_snippet_delivers_its_span(tmp_path: Path) -> None:
    """The Quick start's Python snippet, verbatim but for the port, sends one span a collector stores."""
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

    from tests.helpers import Collector, free_port, read_file_export, spans_by_id, wait_for

    snippet = re.search(r"Point any OpenTelemetry SDK at it.*?```python\n(.*?)```", README, re.S)
    assert snippet and 'endpoint="localhost:4317"' in snippet.group(1)
    port, out = free_port(), tmp_path / "out.jsonl"
    config = f"""\
        receivers:
          otlp: {{protocols: {{grpc: {{endpoint: 127.0.0.1:{port}}}}}}}
        exporters:
          file: {{path: {out}}}
        service:
          workers: 1
          telemetry: {{metrics: {{level: none}}}}
          pipelines:
            traces: {{receivers: [otlp], exporters: [file]}}
        """
    with Collector(tmp_path, config):
        code = snippet.group(1).replace('endpoint="localhost:4317"', f'endpoint="127.0.0.1:{port}"')
        result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
        assert result.returncode == 0 and result.stderr == "", result.stderr
        assert wait_for(lambda: out.exists() and len(spans_by_id(read_file_export(out)[ExportTraceServiceRequest])) == 1)
    [(span, resource, scope)] = spans_by_id(read_file_export(out)[ExportTraceServiceRequest]).values()
    assert (span.name, scope.name) == ("hello", "demo")
    assert {a.key: a.value.string_value for a in resource.attributes}["service.name"] == "sdk-demo"


def test_the_default_config_runs_and_the_curl_example_shows_up_in_query(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`config/default.yaml` run as `make run` runs it (ports and data dir moved by its documented
    environment overrides), the Quick start's curl block verbatim but for the ports: the span it
    posts is what its `summitcol query` line prints, and the health check says so."""
    import urllib.request

    from tests.helpers import Collector, free_port

    grpc_port, http_port, ch_port, health_port, metrics_port = (free_port() for _ in range(5))
    for name, value in {
        "SUMMIT_GRPC_ENDPOINT": f"127.0.0.1:{grpc_port}",
        "SUMMIT_HTTP_ENDPOINT": f"127.0.0.1:{http_port}",
        "SUMMIT_CLICKHOUSE_HTTP": f"127.0.0.1:{ch_port}",
        "SUMMIT_HEALTH_ENDPOINT": f"127.0.0.1:{health_port}",
        "SUMMIT_METRICS_ADDRESS": f"127.0.0.1:{metrics_port}",
        "SUMMIT_DATA_DIR": str(tmp_path / "data"),
    }.items():
        monkeypatch.setenv(name, value)
    block = re.search(r"or send OTLP/JSON by hand, then look at it:\n\n```sh\n(.*?)```", README, re.S)
    assert block and "http://localhost:4318/v1/traces" in block.group(1)
    script = block.group(1).replace("localhost:4318", f"127.0.0.1:{http_port}")
    script = script.replace('otel.otel_traces"', f'otel.otel_traces" --endpoint 127.0.0.1:{ch_port}')
    post, query = script.split(".venv/bin/summitcol query")
    with Collector(tmp_path, (ROOT / "config" / "default.yaml").read_text()):
        with urllib.request.urlopen(f"http://127.0.0.1:{health_port}/", timeout=10) as response:
            assert response.status == 200
        posted = subprocess.run(["bash", "-e", "-c", post], capture_output=True, text=True, timeout=60, cwd=ROOT)
        assert (posted.returncode, posted.stdout) == (0, "{}"), posted.stderr
        for _ in range(100):  # until the batch (200 ms) is inserted
            shown = subprocess.run(
                ["bash", "-e", "-c", ".venv/bin/summitcol query" + query], capture_output=True, text=True, timeout=60, cwd=ROOT
            )
            assert shown.returncode == 0, shown.stderr
            if "curl-demo" in shown.stdout:
                break
        errors = re.search(r"becomes an issue\n.*?\n\n```sh\n(.*?)```", README, re.S)
        assert errors and ".venv/bin/summitcol errors list" in errors.group(1)
        post_error = errors.group(1).replace("localhost:4318", f"127.0.0.1:{http_port}").split(".venv/bin/summitcol errors list")[0]
        posted = subprocess.run(["bash", "-e", "-c", post_error], capture_output=True, text=True, timeout=60, cwd=ROOT)
        assert (posted.returncode, posted.stdout) == (0, "{}"), posted.stderr
        for _ in range(100):  # until the batch is inserted
            listed = subprocess.run([".venv/bin/summitcol", "errors", "list", "--endpoint", f"127.0.0.1:{ch_port}"],
                                    capture_output=True, text=True, timeout=60, cwd=ROOT)
            assert listed.returncode == 0, listed.stderr
            if "ValueError" in listed.stdout:
                break
    rows = [line.split() for line in shown.stdout.splitlines() if "curl-demo" in line]
    assert rows == [["curl-demo", "hello", "1500000"]]
    [issue] = [line for line in listed.stdout.splitlines() if "ValueError" in line]
    assert "ValueError: order 7 has no items" in issue and " 1 " in issue and "curl-demo" in issue and "unresolved" in issue
