"""Config loading: env expansion, merging, --set, and every problem reported at once with file:line."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from datetime import timedelta
from pathlib import Path

import pytest

from summitcol.component import ComponentID, Kind
from summitcol.components import default_registry
from summitcol.config.decode import parse_duration
from summitcol.config.model import load_config
from summitcol.exceptions import ConfigError
from summitcol.processors import batch

REGISTRY = default_registry()

BASE = """\
receivers:
  otlp:
    protocols:
      grpc:
processors:
  batch:
exporters:
  debug:
service:
  pipelines:
    traces:
      receivers: [otlp]
      processors: [batch]
      exporters: [debug]
"""


def write(tmp_path: Path, text: str, name: str = "config.yaml") -> str:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return str(path)


def errors_of(problems) -> list[str]:  # type: ignore[no-untyped-def]
    return [str(p) for p in problems if p.severity == "error"]


def test_valid_config_loads_with_defaults(tmp_path: Path) -> None:
    config, problems = load_config([write(tmp_path, BASE)], REGISTRY)
    assert config is not None and errors_of(problems) == []
    otlp = config.components[Kind.RECEIVER][ComponentID("otlp")].config
    assert otlp.protocols.grpc.endpoint == "localhost:4317"
    assert otlp.protocols.grpc.max_recv_msg_size_mib == 64
    assert otlp.protocols.http is None
    assert config.components[Kind.PROCESSOR][ComponentID("batch")].config == batch.Config()


def test_validate_reports_three_mistakes_with_their_lines(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """\
        receivers:
          otlp:
            protocols:
              grpc:
                endpointt: localhost:4317
        processors:
          batch:
            timeout: soon
        exporters:
          debug:
        service:
          pipelines:
            traces:
              receivers: [otlp]
              processors: [batch]
              exporters: [debug, kafka]
        """,
    )
    result = subprocess.run(
        [sys.executable, "-m", "summitcol.cli", "validate", "--config", path], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 1
    lines = [line for line in result.stderr.splitlines() if line.startswith(path)]
    assert lines == [
        f"{path}:5: receivers::otlp::protocols::grpc::endpointt: unknown key 'endpointt'; did you mean 'endpoint'? "
        "(valid keys: auth, endpoint, include_metadata, keepalive, max_concurrent_streams, max_recv_msg_size_mib, "
        "read_buffer_size, tls, transport, write_buffer_size)",
        f"{path}:8: processors::batch::timeout: 'soon' is not a duration; write e.g. 200ms, 5s, 1m30s or 2h",
        f'{path}:16: service::pipelines::traces::exporters::1: references exporter "kafka" which is not configured; '
        "define it under exporters",
    ]
    assert "3 error(s) in the configuration" in result.stderr


def test_validate_accepts_a_good_config(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "summitcol.cli", "validate", "--config", write(tmp_path, BASE)],
        capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "the configuration is valid" in result.stderr


def test_unknown_type_wrong_type_and_unused_component(tmp_path: Path) -> None:
    text = BASE.replace("  debug:\n", "  debug:\n    verbosity: loud\n  nope:\n") + "extensions:\n  health_check:\n"
    config, problems = load_config([write(tmp_path, text)], REGISTRY)
    assert config is None
    messages = [str(p) for p in problems]
    assert any(":9: exporters::debug::verbosity: expected one of 'basic', 'normal', 'detailed', got 'loud'" in m for m in messages)
    assert any(":10: exporters::nope: unknown exporter type 'nope'" in m for m in messages)
    warnings = [p for p in problems if p.severity == "warning"]
    assert [w.path for w in warnings] == ["extensions::health_check"]
    assert "defined but not used" in warnings[0].message


def test_pipeline_rules(tmp_path: Path) -> None:
    text = BASE.replace("    traces:\n", "    spans:\n      receivers: [otlp]\n      exporters: [debug]\n    traces/2:\n      receivers: [otlp]\n      processors: [batch, batch]\n      exporters: []\n    traces:\n")
    _, problems = load_config([write(tmp_path, text)], REGISTRY)
    messages = errors_of(problems)
    assert any("pipeline id 'spans' must start with traces, metrics or logs" in m for m in messages)
    assert any('service::pipelines::traces/2::processors::1: references processor "batch" multiple times' in m for m in messages)
    assert any("service::pipelines::traces/2: must have at least one exporter" in m for m in messages)


def test_env_expansion(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GRPC_ENDPOINT", "127.0.0.1:9999")
    monkeypatch.setenv("BATCH_SIZE", "123")
    monkeypatch.delenv("UNSET_VAR", raising=False)
    text = BASE.replace("      grpc:\n", "      grpc:\n        endpoint: ${env:GRPC_ENDPOINT}\n      http:\n        endpoint: ${UNSET_VAR:-127.0.0.1:4999}\n").replace(
        "  batch:\n", "  batch:\n    send_batch_size: ${env:BATCH_SIZE}\n    send_batch_max_size: ${env:UNSET_VAR:-1000}\n"
    ).replace("  debug:\n", "  file:\n    path: /tmp/$$HOME/${env:UNSET_VAR}x/$HOME\n  debug:\n").replace("exporters: [debug]", "exporters: [debug, file]")
    config, problems = load_config([write(tmp_path, text)], REGISTRY)
    assert config is not None, errors_of(problems)
    otlp = config.components[Kind.RECEIVER][ComponentID("otlp")].config
    assert otlp.protocols.grpc.endpoint == "127.0.0.1:9999"
    assert otlp.protocols.http.endpoint == "127.0.0.1:4999"
    batch_config = config.components[Kind.PROCESSOR][ComponentID("batch")].config
    assert (batch_config.send_batch_size, batch_config.send_batch_max_size) == (123, 1000)
    assert config.components[Kind.EXPORTER][ComponentID("file")].config.path == "/tmp/$HOME/x/$HOME"


def test_unsupported_provider_is_an_error(tmp_path: Path) -> None:
    text = BASE.replace("  debug:\n", "  debug:\n    verbosity: ${file:/etc/passwd}\n")
    _, problems = load_config([write(tmp_path, text)], REGISTRY)
    assert any("unsupported config provider 'file'" in m for m in errors_of(problems))


def test_several_files_merge_and_set_overrides(tmp_path: Path) -> None:
    first = write(tmp_path, BASE, "a.yaml")
    second = write(tmp_path, "processors:\n  batch:\n    timeout: 1s\n    send_batch_size: 10\n", "b.yaml")
    config, problems = load_config([first, second], REGISTRY, ["processors.batch.timeout=2s", "processors::batch::send_batch_max_size=20"])
    assert config is not None, errors_of(problems)
    assert config.components[Kind.PROCESSOR][ComponentID("batch")].config == batch.Config(
        timeout=timedelta(seconds=2), send_batch_size=10, send_batch_max_size=20
    )


def validate_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """`summitcol validate …` as a user runs it."""
    return subprocess.run(
        [sys.executable, "-m", "summitcol.cli", *args], capture_output=True, text=True, timeout=60, env=env
    )


def test_missing_file_and_bad_yaml(tmp_path: Path) -> None:
    """An unreadable file is the only problem: "missing 'service' section" and the like would be
    false, since the file may well have had them."""
    missing, bad = str(tmp_path / "missing.yaml"), write(tmp_path, "receivers: [\n")
    _, problems = load_config([missing, bad, write(tmp_path, BASE, "good.yaml")], REGISTRY)
    assert [str(p) for p in problems] == [
        f"{missing}: cannot read config file: No such file or directory",
        f"{bad}:2: invalid YAML at column 1: expected the node content, but found '<stream end>', while parsing a flow node",
    ]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("receivers:\n  otlp:\n    protocols: [grpc\n", ":4: invalid YAML at column 1: expected ',' or ']', but got '<stream end>', "
         "while parsing a flow sequence that starts at line 3"),
        (None, ": cannot read config file: No such file or directory"),
    ],
    ids=["yaml-syntax", "missing-file"],
)
def test_validate_names_the_file_and_adds_no_false_errors(tmp_path: Path, text: str | None, message: str) -> None:
    path = write(tmp_path, text) if text is not None else str(tmp_path / "nope.yaml")
    result = validate_cli("validate", "--config", path)
    assert result.returncode == 1
    assert result.stderr == f"{path}{message}\nsummitcol: 1 error(s) in the configuration; nothing was started\n"


def test_unset_environment_variable_is_named(tmp_path: Path) -> None:
    """otelcol expands an unset variable to nothing and warns; the error that follows says which."""
    text = BASE.replace("      grpc:\n", "      grpc:\n        endpoint: ${env:SUMMIT_TEST_NOPE}\n").replace(
        "  debug:\n", "  debug:\n  file:\n    path: /tmp/${SUMMIT_TEST_EMPTY}x\n"
    ).replace("exporters: [debug]", "exporters: [debug, file]")
    path = write(tmp_path, text)
    env = {k: v for k, v in os.environ.items() if k != "SUMMIT_TEST_NOPE"} | {"SUMMIT_TEST_EMPTY": ""}
    result = validate_cli("validate", "--config", path, env=env)
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        f"{path}:5: receivers::otlp::protocols::grpc::endpoint: expected a string, but the environment variable "
        "SUMMIT_TEST_NOPE is not set (${env:SUMMIT_TEST_NOPE}); set it, or give a default: ${env:SUMMIT_TEST_NOPE:-value}",
        f"{path}:11: warning: exporters::file::path: the environment variable SUMMIT_TEST_EMPTY is set but empty "
        "(${env:SUMMIT_TEST_EMPTY}): it expands to an empty string",
        "summitcol: 1 error(s) in the configuration; nothing was started",
    ]


def test_a_later_file_replaces_an_empty_variable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SUMMIT_TEST_NOPE", raising=False)
    first = write(tmp_path, BASE.replace("  batch:\n", "  batch:\n    timeout: ${env:SUMMIT_TEST_NOPE}\n"), "a.yaml")
    config, problems = load_config([first, write(tmp_path, "processors:\n  batch:\n    timeout: 1s\n", "b.yaml")], REGISTRY)
    assert config is not None and [str(p) for p in problems] == []
    _, problems = load_config([write(tmp_path, "- a list\n", "list.yaml")], REGISTRY)
    assert [str(p) for p in problems] == [f"{tmp_path}/list.yaml:1: the top level of a config file must be a mapping"]


def test_validate_without_config_suggests_validate() -> None:
    result = validate_cli("validate")
    assert (result.returncode, result.stderr) == (
        1,
        "summitcol: at least one --config is required; try: summitcol validate --config FILE (e.g. config/default.yaml)\n",
    )


def test_problems_in_set_values_are_located_at_set(tmp_path: Path) -> None:
    sets = ["receivers.nope.x=1", "service.pipelines.traces.exporters=[debug, kafka]", "exporters.debug.verbosity=loud"]
    _, problems = load_config([write(tmp_path, BASE)], REGISTRY, sets)
    assert errors_of(problems) == [
        "--set receivers.nope.x: receivers::nope: unknown receiver type 'nope' (available: circleci, github, gitlab, otlp, sentry; see `summitcol components`)",
        "--set exporters.debug.verbosity: exporters::debug::verbosity: expected one of 'basic', 'normal', 'detailed', got 'loud'",
        '--set service.pipelines.traces.exporters: service::pipelines::traces::exporters::1: references exporter "kafka" '
        "which is not configured; define it under exporters",
    ]


def test_config_given_before_the_subcommand_counts(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from summitcol import cli

    assert cli.main(["--config", write(tmp_path, BASE), "validate"]) == 0
    assert capsys.readouterr().err == "summitcol: the configuration is valid\n"
    parsed = cli._parser().parse_args(["--config", "a.yaml", "query", "SELECT 1", "--set", "x=1"])
    assert (parsed.config, parsed.set) == (["a.yaml"], ["x=1"])
    parsed = cli._parser().parse_args(["query", "SELECT 1"])
    assert (parsed.config, parsed.set) == ([], [])


@pytest.mark.parametrize(
    ("text", "expected"),
    [("200ms", timedelta(milliseconds=200)), ("1m30s", timedelta(seconds=90)), ("1.5h", timedelta(hours=1.5)), ("0", timedelta(0)), ("300us", timedelta(microseconds=300))],
)
def test_durations(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["5", "fast", "1x", "s", ""])
def test_bad_durations(text: str) -> None:
    with pytest.raises(ConfigError, match="is not a duration"):
        parse_duration(text)


def test_batch_validate_message() -> None:
    with pytest.raises(ConfigError) as error:
        batch.Config(send_batch_size=1000, send_batch_max_size=100).validate()
    assert str(error.value) == (
        "send_batch_max_size (100) must be >= send_batch_size (1000); raise send_batch_max_size, or set it to 0 for no limit"
    )


def test_receiver_needs_a_protocol(tmp_path: Path) -> None:
    text = BASE.replace("    protocols:\n      grpc:\n", "    protocols:\n")
    _, problems = load_config([write(tmp_path, text)], REGISTRY)
    assert any("must specify at least one protocol when using the OTLP receiver" in m for m in errors_of(problems))


def test_components_command_lists_every_type_with_signals() -> None:
    result = subprocess.run([sys.executable, "-m", "summitcol.cli", "components"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0
    out = result.stdout
    for section in ("receivers:", "processors:", "exporters:", "extensions:"):
        assert section in out
    assert "  otlp_grpc (alias: otlp)\n    stability: stable; signals: logs, metrics, traces" in out
    assert "  health_check\n" in out
