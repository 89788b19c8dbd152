"""`host:port` endpoints as the collector writes them (`localhost:4317`, `[::1]:4318`, `:4317`)."""

from __future__ import annotations

import ipaddress
import logging
import socket

from summitcol.exceptions import ConfigError


def split_host_port(endpoint: str, key: str = "endpoint") -> tuple[str, int]:
    """('host', port) from `host:port`; an empty host means all interfaces, as in Go."""
    host, sep, port = endpoint.rpartition(":")
    if not sep or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise ConfigError(f"{key} '{endpoint}' is not host:port; write e.g. localhost:4317")
    host = host.strip("[]")
    return (host or "0.0.0.0"), int(port)


def validate_endpoint(endpoint: str, key: str = "endpoint") -> None:
    split_host_port(endpoint, key)


def ensure_port_free(endpoint: str) -> None:
    """Raise OSError when something already listens on `endpoint`.

    Worker processes share their listening ports with SO_REUSEPORT, which would also let a second
    collector started by the same user bind them quietly; the first worker checks with a plain
    bind before it listens, so that mistake still fails loudly."""
    host, port = split_host_port(endpoint)
    if port == 0:
        return
    family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)[0]
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        probe.bind(address)


def is_loopback(endpoint: str) -> bool:
    """Whether `endpoint` listens on loopback only (`localhost`, 127.0.0.0/8, ::1); an empty
    host, 0.0.0.0 or a name that resolves elsewhere is reachable from other machines."""
    host, _ = split_host_port(endpoint)
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:  # a host name: loopback only if every address it resolves to is
        try:
            infos = socket.getaddrinfo(host, None)
        except OSError:
            return False
        return bool(infos) and all(ipaddress.ip_address(info[4][0]).is_loopback for info in infos)


def warn_if_open(log: logging.Logger, owner: str, endpoint: str, authenticated: bool) -> None:
    """The safe-defaults warning: a listener on a non-loopback address without `auth` lets anyone
    who can reach the machine send data."""
    if not authenticated and not is_loopback(endpoint):
        log.warning("%s listens on %s, reachable from other machines, without auth: anyone who can reach it can "
                    "send data; set auth: {authenticator: …} (see the bearertokenauth extension) or bind to localhost",
                    owner, endpoint)
