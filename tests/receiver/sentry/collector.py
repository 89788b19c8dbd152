"""The collector the Sentry SDK end-to-end tests send to: the sentry receiver with one project,
(optionally) the fingerprint processor on logs, clickhouse on embedded chDB with its HTTP
interface for the assertions, and acknowledgement = insert (no sending queue)."""

from __future__ import annotations

from pathlib import Path


def sentry_collector(data: Path, port: int, ch_port: int, project: str, signals: tuple[str, ...] = ("logs", "traces"),
                     fingerprint: bool = True) -> str:
    """`project`: the flow map of one `projects` entry, e.g. `{id: 3, keys: [k], service_name: shop}`.
    `fingerprint` groups the logs pipeline's errors."""
    pipelines = "".join(
        f"    {signal}: {{receivers: [sentry], processors: [{'fingerprint' if fingerprint and signal == 'logs' else ''}], "
        f"exporters: [clickhouse]}}\n" for signal in signals)
    processors = "processors:\n  fingerprint: {storage: chdb}\n" if fingerprint else ""
    return f"""
receivers:
  sentry:
    endpoint: 127.0.0.1:{port}
    projects:
      - {project}
{processors}exporters:
  clickhouse:
    storage: chdb
    sending_queue: {{enabled: false}}
extensions:
  chdb:
    path: {data / "clickhouse"}
    http: {{endpoint: "127.0.0.1:{ch_port}"}}
service:
  telemetry: {{metrics: {{level: none}}}}
  extensions: [chdb]
  pipelines:
{pipelines}"""
