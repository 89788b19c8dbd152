"""Every registered component: default config validates (or names what is missing), creates,
starts and shuts down — like otelcol's generated_component_test.go."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import timedelta

import pytest

from summitcol.component import ComponentID, CreateSettings, Kind, Signal
from summitcol.components import default_registry
from summitcol.config.registry import Registry
from summitcol.exceptions import ConfigError
from summitcol.telemetry import Telemetry
from tests.helpers import free_port

REGISTRY = default_registry()

# Settings a test run needs: free ports, and what has no default in otelcol either (REQUIRED).
OVERRIDES = {
    "file": lambda tmp: {"path": str(tmp / "out.jsonl")},
    "parquet": lambda tmp: {"path": str(tmp / "parquet")},
    "clickhouse": lambda tmp: {"storage": "chdb"},
    "fingerprint": lambda tmp: {"storage": "chdb"},
    "memory_limiter": lambda tmp: {"check_interval": timedelta(seconds=1), "limit_mib": 4000},
    "file_storage": lambda tmp: {"directory": str(tmp / "storage")},
    "tail_sampling": lambda tmp: {"policies": [{"name": "all", "type": "always_sample"}]},
    "loadbalancing": lambda tmp: {"resolver": _static_resolver()},
    "otlp_grpc": lambda tmp: {"endpoint": f"127.0.0.1:{free_port()}"},
    "otlp_http": lambda tmp: {"endpoint": f"http://127.0.0.1:{free_port()}"},
    "health_check": lambda tmp: {"endpoint": f"127.0.0.1:{free_port()}"},
    "github": lambda tmp: {"webhook": _webhook("github")},
    "gitlab": lambda tmp: {"webhook": _webhook("gitlab")},
    "circleci": lambda tmp: {"webhook": _webhook("circleci")},
    "bearertokenauth": lambda tmp: {"token": "t"},
    "basicauth": lambda tmp: {"htpasswd": _htpasswd()},
    "tenants": lambda tmp: {"tenants": {"acme": _tenant()}},
    "audit": lambda tmp: {"path": str(tmp / "audit" / "audit.jsonl")},
    "sentry": lambda tmp: {"endpoint": f"127.0.0.1:{free_port()}", "projects": [_sentry_project()]},
    "attributes": lambda tmp: {"actions": [_action()]},
    "resource": lambda tmp: {"attributes": [_action()]},
}
REQUIRED = {"sentry", "bearertokenauth", "basicauth", "tenants", "file", "otlp_grpc", "otlp_http", "parquet", "clickhouse", "fingerprint", "memory_limiter", "tail_sampling", "loadbalancing", "attributes", "resource"}


def _tenant():  # type: ignore[no-untyped-def]
    from summitcol.extensions.tenants import TenantConfig

    return TenantConfig(tokens=["t"])


def _action():  # type: ignore[no-untyped-def]
    from summitcol.processors.attraction import ActionConfig

    return ActionConfig(key="k", value="v", action="insert")


def _htpasswd():  # type: ignore[no-untyped-def]
    from summitcol.extensions.basicauth import HtpasswdConfig

    return HtpasswdConfig(inline="ada:plain")


def _webhook(provider: str):  # type: ignore[no-untyped-def]
    """The CI receivers' webhook block on a free port (their default, localhost:8080, is shared)."""
    config_type = REGISTRY.get(Kind.RECEIVER, provider).config_type  # type: ignore[union-attr]
    return dataclasses.replace(config_type().webhook, endpoint=f"127.0.0.1:{free_port()}")


def _sentry_project():  # type: ignore[no-untyped-def]
    from summitcol.receiver.sentry.config import ProjectConfig

    return ProjectConfig(id=1, keys=["k"], service_name="s")


def _static_resolver():  # type: ignore[no-untyped-def]
    from summitcol.exporters.loadbalancing import ResolverConfig, StaticResolver

    return ResolverConfig(static=StaticResolver(hostnames=[f"127.0.0.1:{free_port()}"]))


class Host:
    def __init__(self, extensions: dict | None = None) -> None:  # type: ignore[type-arg]
        self.extensions = extensions or {}

    def extension(self, id_):  # type: ignore[no-untyped-def]
        return self.extensions[id_]

    def pipelines_ready(self) -> bool:
        return True


class Sink:
    async def consume(self, data) -> None:  # type: ignore[no-untyped-def]
        return None


@pytest.mark.parametrize("factory", REGISTRY.factories, ids=lambda f: f"{f.kind}/{f.type}")
def test_lifecycle(factory, tmp_path, chdb_path) -> None:  # type: ignore[no-untyped-def]
    config = factory.config_type()
    if factory.type == "chdb":
        config = dataclasses.replace(config, path=chdb_path)
    if factory.type == "otlp" and factory.kind is Kind.RECEIVER:
        from summitcol.receiver.otlp.config import GRPCServerConfig, HTTPServerConfig, ProtocolsConfig

        config = dataclasses.replace(
            config,
            protocols=ProtocolsConfig(
                grpc=GRPCServerConfig(endpoint=f"127.0.0.1:{free_port()}"),
                http=HTTPServerConfig(endpoint=f"127.0.0.1:{free_port()}"),
            ),
        )
    elif factory.type in OVERRIDES:
        if factory.type in REQUIRED:
            with pytest.raises(ConfigError):
                config.validate()
        config = dataclasses.replace(config, **OVERRIDES[factory.type](tmp_path))
    if hasattr(config, "validate"):
        config.validate()
    settings = CreateSettings(id=ComponentID(factory.type), telemetry=Telemetry(), signals=factory.signals)
    extra = {}
    if factory.kind is Kind.RECEIVER:
        extra["consumers"] = {signal: Sink() for signal in Signal}
    elif factory.kind is Kind.PROCESSOR:
        extra["next_consumer"] = Sink()
    component = factory.create(settings, config, **extra)

    async def run() -> None:
        extensions = {}
        if factory.type in ("clickhouse", "fingerprint"):
            chdb = REGISTRY.get(Kind.EXTENSION, "chdb")
            storage = chdb.create(CreateSettings(id=ComponentID("chdb"), telemetry=Telemetry()), chdb.config_type(path=chdb_path))
            await storage.start(Host())
            extensions[ComponentID("chdb")] = storage
        await component.start(Host(extensions))
        await component.shutdown()
        for extension in extensions.values():
            await extension.shutdown()

    asyncio.run(run())


def test_duplicate_factories_are_rejected() -> None:
    factory = REGISTRY.factories[0]
    with pytest.raises(ValueError, match=f"duplicate component factory '{factory.type}'"):
        Registry([factory, factory])


def test_aliases_resolve_to_the_same_factory() -> None:
    assert REGISTRY.get(Kind.EXPORTER, "otlp") is REGISTRY.get(Kind.EXPORTER, "otlp_grpc")
    assert REGISTRY.get(Kind.EXPORTER, "otlphttp") is REGISTRY.get(Kind.EXPORTER, "otlp_http")
