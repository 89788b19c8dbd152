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
