"""The ClickHouse HTTP interface in front of the embedded engine.

Enough of https://clickhouse.com/docs/interfaces/http for clickhouse-connect (`query`,
`query_arrow`, `query_df`, `command`, `insert_arrow`), curl and Grafana: the statement comes in
the `query` URL parameter and/or the POST body (for an INSERT, the body after the statement is
its data); `FORMAT x` or `default_format` picks the output format (TabSeparated by default);
`database` sets the current database; `param_<name>` binds `{name:Type}` parameters; request
bodies may be gzip, deflate, br, lz4 or zstd (`Content-Encoding`); errors come back as ClickHouse
sends them: `Code: N. DB::Exception: …` with `X-ClickHouse-Exception-Code` and its HTTP status.
Authentication: HTTP basic auth, `X-ClickHouse-User`/`X-ClickHouse-Key`, or `user`/`password`
parameters. GET requests are read-only, as in ClickHouse. Every statement is confined first
(`confine.Confinement`: no files, other hosts, processes or lifted limits) and runs under the
query limits of the engine's query handles.
"""

from __future__ import annotations

import asyncio
import base64
import gzip
import hashlib
import logging
import re
import secrets
import uuid
import zlib
from typing import TYPE_CHECKING

import orjson
from aiohttp import web

from summitcol import audit
from summitcol.auth.throttle import FailureThrottle
from summitcol.extensions.chdb.confine import Confinement, Role, readonly_denied
from summitcol.extensions.chdb.engine import QueryError
from summitcol.netaddr import is_loopback, split_host_port
from summitcol.sqltext import sql_string

if TYPE_CHECKING:
    from summitcol.extensions.chdb.config import Config
    from summitcol.extensions.chdb.engine import Engine

log = logging.getLogger("summitcol.extension.chdb.http")

READ_ONLY_KEYWORDS = ("SELECT", "SHOW", "DESCRIBE", "DESC", "EXISTS", "WITH", "EXPLAIN")
_FORMAT = re.compile(r"\bFORMAT\s+([A-Za-z0-9_]+)\s*;?\s*$", re.I | re.S)
_INSERT = re.compile(r"^\s*INSERT\s+INTO\b", re.I)
_INSERT_FORMAT = re.compile(r"\bFORMAT\s+([A-Za-z0-9_]+)[ \t]*(?:\r?\n|$)", re.I)
_LEADING_COMMENTS = re.compile(r"^(\s|--[^\n]*\n|/\*.*?\*/)*", re.S)
_SETTINGS_PARAMS_IGNORED = {"query", "database", "default_format", "user", "password", "query_id", "session_id",
                            "session_timeout", "session_check", "compress", "decompress", "enable_http_compression",
                            "wait_end_of_query", "buffer_size", "quota_key", "readonly"}

# ClickHouse's HTTP status for an error code (src/Server/HTTP/exceptionCodeToHTTPStatus.cpp);
# anything else, READONLY included, is 500.
_HTTP_STATUS = {
    194: 401,  # REQUIRED_PASSWORD
    192: 403, 193: 403, 516: 403, 497: 403,  # UNKNOWN_USER, WRONG_PASSWORD, AUTHENTICATION_FAILED, ACCESS_DENIED
    6: 400, 8: 400, 15: 400, 25: 400, 26: 400, 27: 400, 36: 400, 38: 400, 41: 400, 44: 400, 53: 400, 62: 400,
    72: 400, 117: 400,  # CANNOT_PARSE_*, THERE_IS_NO_COLUMN, BAD_ARGUMENTS, SYNTAX_ERROR, TYPE_MISMATCH, …
    46: 404, 47: 404, 50: 404, 56: 404, 60: 404, 63: 404, 73: 404, 78: 404, 81: 404, 115: 404, 336: 404,  # UNKNOWN_*
    48: 501,  # NOT_IMPLEMENTED
    209: 503,  # SOCKET_TIMEOUT
    159: 408,  # TIMEOUT_EXCEEDED
}


def http_status(code: int) -> int:
    return _HTTP_STATUS.get(code, 500)


def statement_keyword(sql: str) -> str:
    stripped = _LEADING_COMMENTS.sub("", sql)
    stripped = stripped.lstrip("( \t\r\n")
    word = re.match(r"[A-Za-z]+", stripped)  # `select/* … */count()`: the keyword ends where the word does
    return word.group().upper() if word else (stripped.split(None, 1)[0].upper() if stripped.strip() else "")


def decompress_body(body: bytes, encoding: str) -> bytes:
    encoding = encoding.strip().lower()
    if encoding in ("", "identity"):
        return body
    if encoding == "gzip":
        return gzip.decompress(body)
    if encoding == "deflate":
        return zlib.decompress(body)
    if encoding == "br":
        import brotli  # type: ignore[import-not-found]

        return brotli.decompress(body)
    if encoding == "lz4":
        import lz4.frame

        return lz4.frame.decompress(body)
    if encoding == "zstd":
        import zstandard

        return zstandard.ZstdDecompressor().decompressobj().decompress(body)
    raise QueryError(f"Code: 36. DB::Exception: Unknown Content-Encoding: {encoding}. (BAD_ARGUMENTS)", 36)


def _audit_query(request: web.Request, user: str, sql: str, outcome: str, tenant: str = "") -> None:
    """A statement by a query user in the audit ledger: who (and for a tenant's reader, which
    tenant), from where, the statement's digest (not its text, which may hold data) and keyword.
    Inserts are ingestion, not queries."""
    if _INSERT.match(sql):
        return
    digest = hashlib.sha256(sql.strip().encode()).hexdigest()
    details = {"sha256": digest, "keyword": statement_keyword(sql)} | ({"tenant": tenant} if tenant else {})
    audit.record(user, "query", "chdb http", request.remote or "", outcome, details)


class ClickHouseHTTP:
    def __init__(self, engine: Engine, config: Config) -> None:
        self.engine = engine
        self.config = config
        self.users = {u.name: u.password for u in config.users}
        self.tenants = {u.name: u.tenant for u in config.users if u.scoped}  # readers bound to a tenant
        self.throttle = FailureThrottle()
        self.confinement = Confinement(engine, config.allowed_table_functions, config.query_limits.settings())
        self._runner: web.AppRunner | None = None

    async def start(self) -> None:
        assert self.config.http is not None
        app = web.Application(client_max_size=self.config.http.max_request_body_size)
        app.router.add_route("*", "/", self._query)
        app.router.add_get("/ping", self._ok)
        app.router.add_get("/replicas_status", self._ok)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        host, port = split_host_port(self.config.http.endpoint, "chdb::http::endpoint")
        try:
            await web.TCPSite(self._runner, host, port, reuse_address=True).start()
        except OSError as exc:
            raise OSError(
                f"cannot serve the ClickHouse HTTP interface on {self.config.http.endpoint}: {exc.strerror}; "
                "is another ClickHouse or collector using that port?"
            ) from None
        log.info("ClickHouse HTTP interface on http://%s (data in %s)", self.config.http.endpoint, self.engine.path)
        if not self.users and not is_loopback(self.config.http.endpoint):
            log.warning("the ClickHouse HTTP interface on %s is reachable from other machines and has no users: anyone "
                        "who can reach it can query every table; add chdb::users or bind http::endpoint to localhost",
                        self.config.http.endpoint)

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _ok(self, request: web.Request) -> web.Response:
        return web.Response(text="Ok.\n")

    async def _authenticate_throttled(self, request: web.Request) -> str:
        """`_authenticate`, with repeated failures from one address answered later and later
        (summitcol.auth.throttle), as on the receivers: guessing passwords costs the guesser time."""
        address = request.remote or ""
        try:
            user = self._authenticate(request)
        except QueryError as exc:
            if exc.code == 516:
                delay = self.throttle.failed(address)
                if delay:
                    await asyncio.sleep(delay)
            raise
        if self.users:
            self.throttle.succeeded(address)
        return user

    def _authenticate(self, request: web.Request) -> str:
        user = request.headers.get("X-ClickHouse-User") or request.query.get("user")
        password = request.headers.get("X-ClickHouse-Key") or request.query.get("password") or ""
        authorization = request.headers.get("Authorization", "")
        if authorization.lower().startswith("basic "):
            try:
                user, _, password = base64.b64decode(authorization[6:]).decode().partition(":")
            except ValueError:
                user, password = "", ""
        user = user or "default"
        if not self.users:
            return user
        expected = self.users.get(user)
        if expected and not password:
            raise QueryError(f"Code: 194. DB::Exception: {user}: Password required for user {user}. (REQUIRED_PASSWORD)", 194)
        # compared even for an unknown user, so the time does not say which names exist
        matched = secrets.compare_digest((expected or "\0" + password).encode(), password.encode())
        if expected is None or not matched:
            audit.record(user, "auth.failure", "chdb http", request.remote or "", "invalid_credentials")
            raise QueryError(
                f"Code: 516. DB::Exception: {user}: Authentication failed: password is incorrect, "
                "or there is no user with such name. (AUTHENTICATION_FAILED)",
                516,
            )
        return user

    async def _query(self, request: web.Request) -> web.Response:
        query_id = request.query.get("query_id") or str(uuid.uuid4())
        try:
            user = await self._authenticate_throttled(request)
            body = await request.read()
            body = decompress_body(body, request.headers.get("Content-Encoding", ""))
            sql = request.query.get("query", "")
            data: bytes | None = None
            if request.method == "POST" and body:
                if sql and _INSERT.match(sql):
                    data = body
                elif sql:
                    sql = f"{sql}\n{body.decode()}"
                else:
                    sql = body.decode()
            if not sql.strip():
                return web.Response(text="Ok.\n")
            if _INSERT.match(sql) and data is None:
                sql, data = _split_inline_data(sql)
            role = self._role(request)
            tenant = self.tenants.get(user, "")
            if tenant:
                role = Role.READER  # whatever the request asks: a tenant's reader never writes or sets
            if role is not Role.ADMIN and statement_keyword(sql) not in READ_ONLY_KEYWORDS:
                why = "readonly mode" if self.config.read_only else "readonly mode (GET requests are read-only; use POST)"
                raise QueryError(f"Code: 164. DB::Exception: Cannot execute query in {why}. (READONLY)", 164)
            try:
                output = await asyncio.to_thread(self._run, sql, data, request, role, tenant)
            except QueryError as exc:
                _audit_query(request, user, sql, f"error {exc.code}", tenant)
                raise
            _audit_query(request, user, sql, "ok", tenant)
        except QueryError as exc:
            message = str(exc)
            if not message.startswith("Code:"):
                message = f"Code: {exc.code}. DB::Exception: {message}"
            return web.Response(
                status=http_status(exc.code),
                text=message + "\n",
                headers={"X-ClickHouse-Exception-Code": str(exc.code), "X-ClickHouse-Query-Id": query_id},
            )
        except (UnicodeDecodeError, OSError, ValueError, zlib.error) as exc:
            return web.Response(
                status=400,
                text=f"Code: 27. DB::Exception: Cannot parse the request: {exc}. (CANNOT_PARSE_INPUT_ASSERTION_FAILED)\n",
                headers={"X-ClickHouse-Exception-Code": "27"},
            )
        payload, fmt = output
        headers = {
            "X-ClickHouse-Query-Id": query_id,
            "X-ClickHouse-Timezone": "UTC",
            "X-ClickHouse-Server-Display-Name": "summitcol-chdb",
            "X-ClickHouse-Summary": orjson.dumps({"read_rows": "0", "written_rows": "0"}).decode(),
        }
        if fmt:
            headers["X-ClickHouse-Format"] = fmt
        return web.Response(body=payload, headers=headers, content_type=_content_type(fmt))

    def _role(self, request: web.Request) -> Role:
        """readonly = 1 on a read_only interface; else as the `readonly` URL parameter or GET make it."""
        readonly = request.query.get("readonly", "").strip()
        if self.config.read_only:
            if readonly not in ("", "1"):
                raise readonly_denied("Cannot modify 'readonly' setting")
            return Role.READER
        if readonly == "1":
            return Role.READER
        if readonly == "2" or request.method == "GET":
            return Role.READER_WITH_SETTINGS
        if readonly not in ("", "0"):
            raise QueryError(f"Code: 36. DB::Exception: readonly must be 0, 1 or 2, not {readonly!r}. (BAD_ARGUMENTS)", 36)
        return Role.ADMIN

    def _run(self, sql: str, data: bytes | None, request: web.Request, role: Role, tenant: str = "") -> tuple[bytes, str]:
        """Check the statement as it will run (URL settings included), then run it on a query handle;
        a tenant's reader's statement runs with its row filter."""
        database = request.query.get("database")
        if tenant and data is not None:
            raise readonly_denied("Cannot execute query")
        if data is not None:
            match = _INSERT_FORMAT.search(sql)
            if match is None:
                raise QueryError("Code: 62. DB::Exception: INSERT with data needs a FORMAT clause. (SYNTAX_ERROR)", 62)
            self.confinement.check(sql[: match.end()].strip(), role)
            self.engine.insert_bytes(sql[: match.start()].strip(), match.group(1), data, database)
            return b"", ""
        params = {k[len("param_") :]: v for k, v in request.query.items() if k.startswith("param_")}
        fmt = request.query.get("default_format", "TabSeparated")
        match = _FORMAT.search(sql)
        if match is not None:
            fmt = match.group(1)
            sql = sql[: match.start()]
        pairs = _url_settings(request) if statement_keyword(sql) in ("SELECT", "WITH") else []
        if role is Role.READER:  # readonly mode: a limit the client only tightens is dropped, the configured one holds
            pairs = [(k, v) for k, v in pairs if not self.confinement.within_limits(k, v)]
        statement = sql.rstrip().rstrip(";") + _settings_clause(pairs)
        if tenant:
            statement = self.confinement.check_tenant(statement, tenant, params or None, database)
            return self.engine.query(statement, fmt, params or None, database), fmt
        self.confinement.check(statement, role, params or None)
        return self.engine.query(statement, fmt, params or None, database), fmt


def _split_inline_data(sql: str) -> tuple[str, bytes | None]:
    """`INSERT … FORMAT CSV\\n1,2` → the statement and its inline data (None for INSERT … SELECT/VALUES)."""
    match = _INSERT_FORMAT.search(sql)
    if match is None:
        return sql, None
    return sql[: match.end()], sql[match.end() :].encode()


def _url_settings(request: web.Request) -> list[tuple[str, str]]:
    """URL parameters that are ClickHouse settings (applied to SELECTs)."""
    return [
        (k, v)
        for k, v in request.query.items()
        if k not in _SETTINGS_PARAMS_IGNORED and not k.startswith("param_") and re.fullmatch(r"[a-z_0-9]+", k)
    ]


def _settings_clause(pairs: list[tuple[str, str]]) -> str:
    """Settings as a SETTINGS clause ("" for none)."""
    if not pairs:
        return ""
    rendered = ", ".join(f"{k} = {v if re.fullmatch(r'-?[0-9.]+', v) else sql_string(v)}" for k, v in pairs)
    return f" SETTINGS {rendered}"


def _content_type(fmt: str) -> str:
    if fmt.startswith("JSON"):
        return "application/json"
    if fmt in ("TabSeparated", "TSV", "CSV", "TabSeparatedWithNames", "TabSeparatedWithNamesAndTypes", "Pretty", "PrettyCompact"):
        return "text/plain"
    return "application/octet-stream"
