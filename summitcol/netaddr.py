"""`host:port` endpoints as the collector writes them (`localhost:4317`, `[::1]:4318`, `:4317`)."""

from __future__ import annotations

from summitcol.errors import ConfigError


def split_host_port(endpoint: str, key: str = "endpoint") -> tuple[str, int]:
    """('host', port) from `host:port`; an empty host means all interfaces, as in Go."""
    host, sep, port = endpoint.rpartition(":")
    if not sep or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise ConfigError(f"{key} '{endpoint}' is not host:port; write e.g. localhost:4317")
    host = host.strip("[]")
    return (host or "0.0.0.0"), int(port)


def validate_endpoint(endpoint: str, key: str = "endpoint") -> None:
    split_host_port(endpoint, key)
