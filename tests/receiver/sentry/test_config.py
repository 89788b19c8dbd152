"""The `sentry` receiver's config: defaults, a YAML file into the full Config, and each
validate() branch's message."""

from __future__ import annotations

import json
import textwrap
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from summitcol.component import ComponentID, Kind
from summitcol.components import default_registry
from summitcol.config.model import load_config
from summitcol.receiver.sentry.config import Config, ProjectConfig
from summitcol.sentry.auth import Project


def test_defaults_are_relays_and_the_otlp_receivers() -> None:
    config = Config()
    assert (config.endpoint, config.max_request_body_size, config.max_event_size, config.include_metadata,
            config.read_timeout, config.idle_timeout, config.tls, config.projects) == (
        "localhost:3000", 64 * 1024 * 1024, 1024 * 1024, False, timedelta(seconds=30), timedelta(minutes=1), None, [])


def test_a_yaml_config_loads_into_the_full_config(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(textwrap.dedent("""\
        receivers:
          sentry:
            endpoint: 0.0.0.0:3000
            max_event_size: 2000000
            projects:
              - {id: 1, keys: [abc, def], service_name: shop}
              - {id: "22", keys: [ghi], service_name: billing}
        exporters:
          debug: {}
        service:
          pipelines:
            logs: {receivers: [sentry], exporters: [debug]}
            traces: {receivers: [sentry], exporters: [debug]}
        """))
    config, problems = load_config([str(path)], default_registry())
    assert [p for p in problems if p.severity == "error"] == []
    assert config is not None
    loaded = config.components[Kind.RECEIVER][ComponentID("sentry")].config
    assert loaded == Config(endpoint="0.0.0.0:3000", max_event_size=2000000, projects=[
        ProjectConfig(id=1, keys=["abc", "def"], service_name="shop"), ProjectConfig(id="22", keys=["ghi"], service_name="billing")])
    assert loaded.keyring() == {"abc": Project("1", "shop"), "def": Project("1", "shop"), "ghi": Project("22", "billing")}


def _load(tmp_path: Path, receiver: dict[str, Any]) -> list[str]:
    path = tmp_path / "config.json"
    path.write_text(json.dumps({"receivers": {"sentry": receiver}, "exporters": {"debug": {}},
                                "service": {"pipelines": {"logs": {"receivers": ["sentry"], "exporters": ["debug"]}}}}))
    config, problems = load_config([str(path)], default_registry())
    assert config is None
    return [str(problem) for problem in problems]


def test_an_unknown_key_in_a_project_is_an_error(tmp_path: Path) -> None:
    problems = _load(tmp_path, {"projects": [{"id": 1, "keys": ["k"], "service_name": "s", "secret": "x"}]})
    assert any("secret" in p and "projects" in p for p in problems), problems


PROJECT = {"id": 1, "keys": ["k"], "service_name": "shop"}


@pytest.mark.parametrize(
    ("receiver", "message"),
    [
        ({}, "projects: list at least one project ({id, keys, service_name}); without one every request is refused"),
        ({"projects": [{**PROJECT, "id": "a1"}]}, "projects: id 'a1' must be a number (the last part of the DSN's path)"),
        ({"projects": [{**PROJECT, "keys": []}]}, "projects: project 1 needs at least one public key in 'keys' (the DSN's user part)"),
        ({"projects": [{**PROJECT, "keys": ["a@b"]}]}, "projects: project 1: key 'a@b' is not a DSN public key (no '@', ':', '/' or spaces)"),
        ({"projects": [{**PROJECT, "service_name": ""}]}, "projects: project 1 needs a service_name (the service.name of its errors and spans)"),
        ({"projects": [PROJECT, PROJECT]}, "projects: project 1 is listed twice; merge its keys into one entry"),
        ({"projects": [PROJECT, {**PROJECT, "id": 2}]}, "projects: key 'k' is given to projects 1 and 2; a key belongs to one project"),
        ({"projects": [PROJECT], "max_request_body_size": 0}, "max_request_body_size must be greater than 0"),
        ({"projects": [PROJECT], "max_event_size": 0}, "max_event_size must be greater than 0"),
    ],
)
def test_validate_names_the_problem(tmp_path: Path, receiver: dict[str, Any], message: str) -> None:
    problems = _load(tmp_path, receiver)
    assert any(message in problem for problem in problems), problems
