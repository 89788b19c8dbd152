"""The README documents every component's every key, and every shipped config validates."""

from __future__ import annotations

import dataclasses
import re
import subprocess
import sys
from pathlib import Path

import pytest

from summitcol.config.registry import default_registry
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
