"""`summitcol query "SQL"`: run SQL against the embedded store.

Through the running collector's chdb HTTP endpoint when it answers, else by opening the data path
directly when no collector holds it. Output: an aligned table (default), CSV, JSON lines, or Arrow
IPC bytes.
"""

from __future__ import annotations

import base64
import io
import os
import sys
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import orjson
import pyarrow as pa

from summitcol.exceptions import SummitError
from summitcol.extensions.chdb.config import DEFAULT_HTTP_ENDPOINT, DEFAULT_PATH
from summitcol.extensions.chdb.config import Config as ChdbConfig

if TYPE_CHECKING:
    from summitcol.config.registry import Registry

FORMATS = {"table": "ArrowStream", "csv": "CSVWithNames", "json": "JSONEachRow", "arrow": "ArrowStream"}
MAX_CELL = 60


class QueryFailed(SummitError):
    """The query ran and ClickHouse refused it, or there was nowhere to run it."""


@dataclass(frozen=True, slots=True)
class Target:
    endpoint: str
    path: str
    user: str = ""
    password: str = ""
    chdb: ChdbConfig = field(default_factory=ChdbConfig)  # read_only, query_limits … for the offline path


def target_from_config(files: list[str], sets: list[str], registry: Registry) -> Target:
    """The chdb extension's endpoint and path from a config (defaults when it has none); the
    caller passes the distribution's registry (`summitcol.components`)."""
    from summitcol.component import Kind
    from summitcol.config.model import load_config

    config, problems = load_config(files, registry, sets)
    if config is None:
        raise QueryFailed("the config has errors:\n" + "\n".join(str(p) for p in problems if p.severity == "error"))
    for spec in config.components[Kind.EXTENSION].values():
        if spec.factory.type == "chdb":
            http = spec.config.http
            user = spec.config.users[0] if spec.config.users else None
            return Target(
                http.endpoint if http is not None else "",
                spec.config.path,
                user.name if user else "",
                user.password if user else "",
                spec.config,
            )
    return Target(DEFAULT_HTTP_ENDPOINT, DEFAULT_PATH)


def _via_http(target: Target, sql: str, fmt: str) -> bytes | None:
    """The output, or None when nothing answers at the endpoint."""
    if not target.endpoint:
        return None
    host, _, port = target.endpoint.rpartition(":")
    host = "127.0.0.1" if host in ("", "0.0.0.0", "localhost") else host.strip("[]")
    body = f"{sql}\nFORMAT {fmt}" if fmt else sql
    request = urllib.request.Request(f"http://{host}:{port}/", data=body.encode(), method="POST")
    if target.user:
        token = base64.b64encode(f"{target.user}:{target.password}".encode()).decode()
        request.add_header("Authorization", f"Basic {token}")
    try:
        with urllib.request.urlopen(request, timeout=300) as response:
            return response.read()
    except urllib.error.HTTPError as error:
        raise QueryFailed(error.read().decode(errors="replace").strip()) from None
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return None


def _via_path(target: Target, sql: str, fmt: str) -> bytes:
    from summitcol.extensions.chdb.confine import Confinement, Role
    from summitcol.extensions.chdb.engine import Engine, EngineBusyError, QueryError

    if not os.path.isdir(target.path):
        raise QueryFailed(
            f"nothing answers at {target.endpoint or '(no http endpoint configured)'} and there is no data at "
            f"{os.path.abspath(target.path)}; start the collector (make run) or pass --config / --path / --endpoint"
        )
    try:
        engine = Engine(target.path, query_handles=1, query_settings=target.chdb.query_settings())
    except EngineBusyError as exc:
        raise QueryFailed(
            f"{exc}. Its HTTP endpoint ({target.endpoint or 'none configured'}) did not answer: "
            "enable extensions::chdb::http in its config, or stop it and query the path directly"
        ) from None
    try:
        # Confined as over HTTP: the data path's owner may read it, but a query is no way to read the host.
        Confinement(engine, target.chdb.allowed_table_functions, target.chdb.query_limits.settings()).check(
            sql, Role.READER if target.chdb.read_only else Role.ADMIN
        )
        return engine.query(sql, fmt or "TabSeparated")
    except QueryError as exc:
        raise QueryFailed(str(exc)) from None
    finally:
        engine.close()


def execute(target: Target, sql: str) -> None:
    """Run a statement that returns nothing (an INSERT … VALUES: a FORMAT clause would be read as its input's)."""
    if _via_http(target, sql, "") is None:
        _via_path(target, sql, "")


def run_query(target: Target, sql: str, output: str) -> bytes:
    """Run `sql` where it can run; return the bytes to print in the `output` format."""
    fmt = FORMATS[output]
    raw = _via_http(target, sql, fmt)
    if raw is None:
        raw = _via_path(target, sql, fmt)
    if output == "table":
        return render_table(pa.ipc.open_stream(raw).read_all()).encode() if raw else b"(no rows)\n"
    return raw


def _cell(value: object) -> str:
    if isinstance(value, (dict, list)):
        text = orjson.dumps(value, default=str).decode()
    elif isinstance(value, bytes):
        text = value.decode(errors="replace")
    else:
        text = "" if value is None else str(value)
    text = text.replace("\n", "\\n")
    return text if len(text) <= MAX_CELL else text[: MAX_CELL - 1] + "…"


def render_table(table: pa.Table) -> str:
    """An aligned text table; numbers right-aligned, long cells cut at 60 characters."""
    names = table.schema.names
    columns = [[_cell(v) for v in table.column(i).to_pylist()] for i in range(table.num_columns)]
    numeric = [pa.types.is_integer(f.type) or pa.types.is_floating(f.type) for f in table.schema]
    widths = [max([len(n), *map(len, col)]) for n, col in zip(names, columns, strict=True)]
    out = io.StringIO()
    out.write("  ".join(n.ljust(w) for n, w in zip(names, widths, strict=True)).rstrip() + "\n")
    out.write("  ".join("-" * w for w in widths) + "\n")
    for row in range(table.num_rows):
        cells = [
            columns[i][row].rjust(widths[i]) if numeric[i] else columns[i][row].ljust(widths[i])
            for i in range(len(names))
        ]
        out.write("  ".join(cells).rstrip() + "\n")
    out.write(f"({table.num_rows} row{'s' if table.num_rows != 1 else ''})\n")
    return out.getvalue()


def main(sql: str, target: Target, output: str) -> int:
    try:
        result = run_query(target, sql, output)
    except QueryFailed as exc:
        print(f"summitcol query: {exc}", file=sys.stderr)
        return 1
    sys.stdout.buffer.write(result)
    sys.stdout.flush()
    return 0
