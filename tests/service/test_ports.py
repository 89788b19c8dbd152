"""A second collector on the same host fails before starting anything, naming the port and its key."""

from __future__ import annotations

import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from summitcol.components import default_registry
from summitcol.config.model import load_config
from summitcol.service.ports import check_listeners, listeners
from tests.helpers import Collector, free_port


def config_text(grpc: int, http: int, health: int, chdb: int, metrics: str, tmp_path: Path) -> str:
    return f"""\
receivers:
  otlp:
    protocols:
      grpc: {{endpoint: 127.0.0.1:{grpc}}}
      http: {{endpoint: 127.0.0.1:{http}}}
exporters:
  debug:
  otlp: {{endpoint: 127.0.0.1:{grpc}}}
extensions:
  health_check: {{endpoint: 127.0.0.1:{health}}}
  chdb: {{path: {tmp_path}/clickhouse, http: {{endpoint: 127.0.0.1:{chdb}}}}}
service:
  workers: 1
  extensions: [health_check, chdb]
  telemetry:
    metrics:
{metrics}
  pipelines:
    traces: {{receivers: [otlp], exporters: [debug]}}
    logs: {{receivers: [otlp], exporters: [debug]}}
"""


@contextmanager
def listening(port: int) -> Iterator[None]:
    """Something else listening on 127.0.0.1:port, as another collector would."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", port))
        sock.listen()
        yield


@pytest.fixture()
def ports() -> dict[str, int]:
    return {name: free_port() for name in ("grpc", "http", "health", "chdb", "metrics")}


def load(tmp_path: Path, ports: dict[str, int], metrics: str | None = None):  # type: ignore[no-untyped-def]
    metrics = metrics or f"      address: 127.0.0.1:{ports['metrics']}"
    path = tmp_path / "config.yaml"
    path.write_text(config_text(ports["grpc"], ports["http"], ports["health"], ports["chdb"], metrics, tmp_path))
    config, problems = load_config([str(path)], default_registry())
    assert config is not None, [str(p) for p in problems]
    return config


def test_every_listener_is_found_with_its_key(tmp_path: Path, ports: dict[str, int]) -> None:
    """The exporter's endpoint is where it connects to, not a listener; receivers count once."""
    assert listeners(load(tmp_path, ports)) == [
        ("service::telemetry::metrics::address", f"127.0.0.1:{ports['metrics']}"),
        ("extensions::health_check::endpoint", f"127.0.0.1:{ports['health']}"),
        ("extensions::chdb::http::endpoint", f"127.0.0.1:{ports['chdb']}"),
        ("receivers::otlp::protocols::grpc::endpoint", f"127.0.0.1:{ports['grpc']}"),
        ("receivers::otlp::protocols::http::endpoint", f"127.0.0.1:{ports['http']}"),
    ]
    readers = f"      readers: [{{pull: {{exporter: {{prometheus: {{host: 127.0.0.1, port: {ports['metrics']}}}}}}}}}]"
    assert listeners(load(tmp_path, ports, readers))[0] == (
        "service::telemetry::metrics::readers", f"127.0.0.1:{ports['metrics']}"
    )


@pytest.mark.parametrize(
    ("taken", "key"),
    [
        ("metrics", "service::telemetry::metrics::address"),
        ("health", "extensions::health_check::endpoint"),
        ("chdb", "extensions::chdb::http::endpoint"),
        ("http", "receivers::otlp::protocols::http::endpoint"),
    ],
)
def test_a_taken_port_is_named_with_its_key(tmp_path: Path, ports: dict[str, int], taken: str, key: str) -> None:
    config = load(tmp_path, ports)
    check_listeners(config)  # all free
    with listening(ports[taken]), pytest.raises(OSError) as error:
        check_listeners(config)
    endpoint = f"127.0.0.1:{ports[taken]}"
    assert str(error.value) == (
        f"cannot listen on {endpoint} ({key}): Address already in use; is another collector running? "
        f"If not, set {key} to a free port"
    )


def test_two_listeners_on_one_port_is_an_error(tmp_path: Path, ports: dict[str, int]) -> None:
    ports["health"] = ports["metrics"]
    with pytest.raises(OSError) as error:
        check_listeners(load(tmp_path, ports))
    assert str(error.value) == (
        "service::telemetry::metrics::address and extensions::health_check::endpoint both listen on "
        f"127.0.0.1:{ports['metrics']}; give one of them another port"
    )


def test_second_collector_fails_before_starting_anything(tmp_path: Path, private_tmpdir: Path) -> None:
    """The real case: `make run` twice. The second exits 1 with one line, no traceback and no
    shutdown lines (it started nothing), and the first keeps running. Neither leaves its hub
    directory (worker sockets) in the temp directory."""
    temp = private_tmpdir
    metrics, grpc = free_port(), free_port()
    config = f"""\
        receivers:
          otlp: {{protocols: {{grpc: {{endpoint: 127.0.0.1:{grpc}}}}}}}
        exporters:
          debug:
        service:
          workers: 2
          telemetry: {{metrics: {{address: 127.0.0.1:{metrics}}}}}
          pipelines:
            traces: {{receivers: [otlp], exporters: [debug]}}
        """
    with Collector(tmp_path, config, "first") as first:
        assert first.process is not None
        assert [p.name for p in temp.glob("summitcol-*/hub.sock")] == ["hub.sock"]
        assert next(temp.iterdir()).name.startswith(f"summitcol-{first.process.pid}-")
        second = subprocess.run(
            [sys.executable, "-m", "summitcol.cli", "--config", str(first.config_path)],
            capture_output=True, text=True, timeout=60,
        )
        assert second.returncode == 1
        lines = second.stderr.splitlines()
        assert len(lines) == 1, second.stderr
        assert lines[0].endswith(
            f"\tERROR\tsummitcol\tcannot listen on 127.0.0.1:{metrics} (service::telemetry::metrics::address): "
            "Address already in use; is another collector running? If not, set "
            "service::telemetry::metrics::address to a free port"
        ), second.stderr
        assert first.process.poll() is None
        assert len(list(temp.iterdir())) == 1  # the second one's is gone
    assert first.process.returncode == 0, first.log()
    assert list(temp.iterdir()) == []
