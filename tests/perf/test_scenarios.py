"""Every benchmark scenario config is a valid collector config (the runner fills in ports and
paths through the environment)."""

from __future__ import annotations

from pathlib import Path

import pytest

from perf.scenarios.run import SCENARIOS
from summitcol.components import default_registry
from summitcol.config.model import load_config

HERE = Path(__file__).resolve().parents[2] / "perf" / "scenarios"


@pytest.mark.parametrize("path", sorted(HERE.glob("*.yaml")), ids=lambda p: p.name)
def test_scenario_config_validates(path: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name, value in {"GRPC_PORT": "4317", "CH_PORT": "8123", "METRICS_PORT": "8888", "GATEWAY_PORT": "4319", "DATA_DIR": str(tmp_path)}.items():
        monkeypatch.setenv(name, value)
    config, problems = load_config([str(path)], default_registry())
    assert config is not None, [str(p) for p in problems]
    assert not [p for p in problems if p.severity != "info"], [str(p) for p in problems]


def test_every_scenario_names_an_existing_config() -> None:
    for scenario in SCENARIOS.values():
        assert (HERE / scenario.config).exists()
        assert not scenario.agent or (HERE / scenario.agent).exists()
