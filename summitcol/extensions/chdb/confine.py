"""What a query user may run: no files, no network, no processes, no lifted limits.

chDB is clickhouse-local: it has no users, grants or settings profiles (`CREATE SETTINGS
PROFILE` is ACCESS_DENIED), and local mode lets `file()` read any path and `INTO OUTFILE` write
one. So the confinement has two layers:

1. ClickHouse's own, on the query handles (`Engine(query_settings=…)`): the resource limits, and
   `readonly = 1` for a read-only interface. readonly=1 refuses table functions that read a
   source (file, url, remote, s3, executable … and views over them), DDL and every change of a
   setting (`SETTINGS readonly = 0` included). It does not refuse the `file()` scalar function
   or `INTO OUTFILE`, and an admin interface cannot use it at all: hence
2. A check of the statement with ClickHouse's own parser, for readers and admins alike:
   `formatQuerySingleLine` parses it as ONE statement (multi-statements are a syntax error) and
   prints it canonically (comments gone, keywords upper case, literals escaped); the tokens of
   that text give the statement kind, INTO OUTFILE / FROM INFILE, ENGINE names, SETTINGS and
   every function call; `EXPLAIN AST` of it (safe: the canonical text has no INTO OUTFILE by
   then) gives the tree, where only vetted table functions may stand in a table's place. Both run
   on the engine's parser handle (`Engine.parse`: readonly = 2, outside the query limits).

A refusal is ClickHouse's `Code: 497 … (ACCESS_DENIED)` (HTTP 403), or `Code: 164 … (READONLY)`
where ClickHouse itself would refuse for readonly mode; the message names what was refused.
"""

from __future__ import annotations

import enum
import re
import threading
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from summitcol.extensions.chdb.engine import QueryError
from summitcol.sqltext import sql_string

if TYPE_CHECKING:
    from summitcol.extensions.chdb.engine import Engine

ACCESS_DENIED = 497
READONLY = 164

# Table functions that read nothing but their arguments or tables the user may read anyway.
HARMLESS_TABLE_FUNCTIONS = frozenset({
    "numbers", "numbers_mt", "zeros", "zeros_mt", "generate_series", "generateseries", "primes", "values",
    "sqlstandardvalues", "null", "view", "viewexplain", "merge", "generaterandom", "format",
})
# Engines of tables and databases whose data stays in the data path.
LOCAL_ENGINES = frozenset({
    "mergetree", "replacingmergetree", "summingmergetree", "aggregatingmergetree", "collapsingmergetree",
    "versionedcollapsingmergetree", "coalescingmergetree", "memory", "null", "set", "join", "log", "tinylog",
    "stripelog", "buffer", "merge", "view", "materializedview", "generaterandom", "atomic",
})
# Scalar functions that read the host (file) or the process's memory (introspection).
DENIED_FUNCTIONS = frozenset({"file", "addresstoline", "addresstolinewithinlines", "addresstosymbol", "demangle", "disk"})
# Keywords that share a name with an engine and come before "(" in harmless SQL (`JOIN (…)`, `ALIAS (…)`).
CALL_LIKE_KEYWORDS = frozenset({"alias", "join", "set", "values", "view", "memory", "null", "format", "dictionary"})

# Statements by their canonical first keyword(s).
READ_STATEMENTS = frozenset({"SELECT", "WITH", "SHOW", "DESCRIBE", "DESC", "EXISTS", "EXPLAIN"})
ADMIN_STATEMENTS = frozenset({"CREATE", "INSERT", "ALTER", "DROP", "TRUNCATE", "RENAME", "EXCHANGE", "OPTIMIZE",
                              "DELETE", "UPDATE", "UNDROP", "CHECK"})
CREATABLE = frozenset({"TABLE", "VIEW", "MATERIALIZED", "DATABASE"})
REFUSED_STATEMENTS = {
    "SYSTEM": "it controls the engine the collector writes through",
    "ATTACH": "it can attach a table from any path",
    "DETACH": "attached tables cannot be reattached here",
    "BACKUP": "it writes files or reaches other hosts",
    "RESTORE": "it reads files or reaches other hosts",
    "SET": "query handles are shared: use a SETTINGS clause",
    "USE": "query handles are shared: use the `database` URL parameter",
    "KILL": "it could stop the collector's own statements",
}
DROPPABLE = frozenset({"TABLE", "VIEW", "DATABASE", "DICTIONARY"})

# A tenant's reader: table functions that read only their arguments (not merge(), view(), which
# reach tables by name or by a query the tree does not resolve), and no functions that read a
# table or dictionary by name.
TENANT_TABLE_FUNCTIONS = frozenset({
    "numbers", "numbers_mt", "zeros", "zeros_mt", "generate_series", "generateseries", "primes", "values",
    "sqlstandardvalues", "null", "generaterandom", "format",
})
# What the analyzer reads for a SELECT without FROM: one constant row, nobody's data.
TENANT_IMPLICIT_TABLES = frozenset({"system.one"})
TENANT_DENIED_FUNCTIONS = re.compile(r"dict.*|joinget.*|hascolumnintable", re.I)
IN_FUNCTIONS = frozenset({"in", "notin", "globalin", "globalnotin", "nullin", "notnullin", "globalnullin", "globalnotnullin"})

# Settings nobody may set in a query: the limits, what lifts them, and what reaches files or hosts.
PROTECTED_SETTINGS = re.compile(
    r"readonly|allow_.*|max_.*|.*_overflow_mode|min_execution_speed.*|timeout_.*|.*timeout|.*memory.*"
    r"|.*format_schema.*|format_template_.*|input_format_values_.*|.*_path|disk|storage_policy"
    r"|(s3|azure|hdfs|remote|distributed|parallel_replicas|cluster|external|odbc|mysql|postgresql|function)_.*",
    re.I,
)

_TOKEN = re.compile(
    r"""(?P<ws>\s+)
    |(?P<string>'(?:[^'\\]|\\.|'')*')
    |(?P<quoted>`(?:[^`\\]|\\.|``)*`|"(?:[^"\\]|\\.|"")*")
    |(?P<number>\d[\w.]*)
    |(?P<word>[A-Za-z_][A-Za-z0-9_$]*)
    |(?P<punct>.)""",
    re.X | re.S,
)
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "0": "\0", "b": "\b", "f": "\f", "a": "\a", "v": "\v"}


class Role(enum.Enum):
    """What a request may do, as ClickHouse's `readonly` setting says it."""

    READER = "reader"  # readonly = 1: queries only, no settings (a read_only interface, `readonly=1`)
    READER_WITH_SETTINGS = "reader_with_settings"  # readonly = 2: queries, with unprotected settings (GET)
    ADMIN = "admin"  # readonly = 0: DDL and DML on the collector's tables too


@dataclass(frozen=True, slots=True)
class Token:
    kind: str  # string, quoted, number, word, punct
    text: str

    @property
    def name(self) -> str:
        """The identifier this word or quoted token names ('' for other tokens)."""
        if self.kind == "word":
            return self.text
        if self.kind == "quoted":
            return _unescape(self.text[1:-1], self.text[0])
        return ""

    @property
    def keyword(self) -> str:
        return self.text.upper() if self.kind == "word" else ""


def _unescape(body: str, quote: str) -> str:
    body = body.replace(quote * 2, quote)
    return re.sub(r"\\(.)", lambda m: _ESCAPES.get(m.group(1), m.group(1)), body, flags=re.S)


def tokens(canonical: str) -> list[Token]:
    """The tokens of `formatQuerySingleLine` output (no comments; strings and names quoted)."""
    return [Token(m.lastgroup or "punct", m.group()) for m in _TOKEN.finditer(canonical) if m.lastgroup != "ws"]


def denied(what: str, why: str) -> QueryError:
    return QueryError(
        f"Code: {ACCESS_DENIED}. DB::Exception: {what} is not allowed over the query interface ({why}). (ACCESS_DENIED)",
        ACCESS_DENIED,
    )


def readonly_denied(what: str) -> QueryError:
    return QueryError(f"Code: {READONLY}. DB::Exception: {what} in readonly mode. (READONLY)", READONLY)


class Confinement:
    """Checks a statement before a query handle runs it (blocking: two queries on the engine's parser handle)."""

    def check_tenant(self, sql: str, tenant: str, params: dict[str, str] | None = None, database: str | None = None) -> str:
        """The statement a reader of `tenant` may run, with the engine's row filter on every tenant
        table it reads (`additional_table_filters` … TenantId = tenant); QueryError for anything else.

        Only SELECT: its text checked as a reader's (no SETTINGS, no files …); every table and
        table function it names found with the engine's parser (EXPLAIN AST, which runs nothing)
        and then resolved by its analyzer (EXPLAIN QUERY TREE, with the row filter on: the analyzer
        evaluates scalar subqueries) — each must be a table with a TenantId column, or a harmless
        table function. Anything the parser names but the tree does not confirm is refused."""
        canonical = self.engine.parse(f"SELECT formatQuerySingleLine({sql_string(sql)})", "RawBLOB").decode()
        toks = tokens(canonical)
        if not toks or toks[0].keyword not in ("SELECT", "WITH"):
            raise readonly_denied("Cannot execute query") if toks and toks[0].keyword not in READ_STATEMENTS else \
                denied(toks[0].text if toks else "an empty statement", "a tenant's reader may run SELECT only")
        self._check_clauses(toks, Role.READER)
        self._check_calls(toks)
        for tok, nxt in zip(toks, toks[1:], strict=False):
            if nxt.text == "(" and tok.name and TENANT_DENIED_FUNCTIONS.fullmatch(tok.name):
                raise denied(f"{tok.name}()", "it reads a table or dictionary by name")
        tables = self.tenant_tables()
        current = database or "default"
        existing = self._tables_of(current)
        ast = self.engine.parse(f"EXPLAIN AST {canonical}", "TSVRaw", params).decode()
        for name in _ast_tables(ast):
            qualified = name if "." in name else f"{current}.{name}"
            if qualified not in tables and ("." in name or name in existing):
                raise denied(f"the table {qualified}", f"a reader of tenant {tenant!r} reads only tables with a TenantId column")
        self._check_tree(ast, TENANT_TABLE_FUNCTIONS)
        statement = f"{canonical} SETTINGS additional_table_filters = {tenant_filters(tables, tenant)}"
        tree = self.engine.query(f"EXPLAIN QUERY TREE {statement}", "TSVRaw", params, database).decode()
        for kind, name in _tree_tables(tree):
            if kind == "TABLE" and name not in tables and name not in TENANT_IMPLICIT_TABLES:
                raise denied(f"the table {name}", f"a reader of tenant {tenant!r} reads only tables with a TenantId column")
            if kind == "TABLE_FUNCTION" and name.lower() not in TENANT_TABLE_FUNCTIONS:
                raise denied(f"table function {name}()", "a tenant's reader may use only table functions that read their arguments")
        return statement

    def tenant_tables(self) -> frozenset[str]:
        """`db.table` of every MergeTree table with a TenantId column (the tables Summit writes)."""
        raw = self.engine.parse(
            "SELECT concat(c.database, '.', c.table) FROM system.columns AS c "
            "INNER JOIN system.tables AS t ON c.database = t.database AND c.table = t.name "
            "WHERE c.name = 'TenantId' AND t.engine LIKE '%MergeTree' "
            "AND c.database NOT IN ('system', 'information_schema', 'INFORMATION_SCHEMA')").decode()
        return frozenset(raw.split("\n")) - {""}

    def _tables_of(self, database: str) -> frozenset[str]:
        raw = self.engine.parse(f"SELECT name FROM system.tables WHERE database = {sql_string(database)}").decode()
        return frozenset(raw.split("\n")) - {""}

    def __init__(
        self, engine: Engine, allowed_table_functions: Iterable[str] = (), limits: Mapping[str, object] | None = None
    ) -> None:
        """`limits`: the query handles' limit settings; a client may tighten them, as a ClickHouse
        constraint with a `max` allows (Grafana sets max_execution_time on every query)."""
        self.engine = engine
        self.allowed = HARMLESS_TABLE_FUNCTIONS | {name.lower() for name in allowed_table_functions}
        self.limits = dict(limits or {})
        self._denied: frozenset[str] | None = None
        self._lock = threading.Lock()

    def check(self, sql: str, role: Role, params: dict[str, str] | None = None) -> None:
        """Refuse (QueryError) what `role` may not run; parse errors come back as ClickHouse's.
        `params` are the statement's `{name:Type}` values (EXPLAIN AST substitutes them)."""
        canonical = self.engine.parse(f"SELECT formatQuerySingleLine({sql_string(sql)})", "RawBLOB").decode()
        toks = tokens(canonical)
        self._check_statement(toks, role)
        self._check_clauses(toks, role)
        self._check_calls(toks)
        tree = self.engine.parse(f"EXPLAIN AST {canonical}", "TSVRaw", params).decode()
        self._check_tree(tree)

    def _denied_names(self) -> frozenset[str]:
        """Every table function and engine outside the allowed ones, and the denied scalar functions.

        Names that are also harmless scalar functions (`format`, `log` …) or keywords are left to the
        tree check and to readonly mode."""
        with self._lock:
            if self._denied is None:
                def names(table: str) -> set[str]:
                    raw = self.engine.parse(f"SELECT lower(name) FROM system.{table}").decode()
                    return set(raw.split())

                remote = names("table_functions") | names("table_engines") | names("database_engines")
                remote -= self.allowed | LOCAL_ENGINES  # an engine named like an allowed function stays an ENGINE check
                self._denied = frozenset((remote - names("functions") - CALL_LIKE_KEYWORDS) | DENIED_FUNCTIONS)
            return self._denied

    def _check_statement(self, toks: list[Token], role: Role) -> None:
        if not toks:
            return
        first = toks[0].keyword
        second = toks[1].keyword if len(toks) > 1 else ""
        if first in READ_STATEMENTS:
            return
        if role is not Role.ADMIN:
            raise readonly_denied("Cannot execute query")
        if first not in ADMIN_STATEMENTS:
            why = REFUSED_STATEMENTS.get(first, "only queries and DDL/DML on the collector's tables may run")
            raise denied(first or toks[0].text, why)
        rest = [t.keyword for t in toks[1:5]]
        if first == "CREATE":
            kind = next((k for k in rest if k not in ("OR", "REPLACE", "TEMPORARY")), "")
            if kind not in CREATABLE:
                raise denied(f"CREATE {kind}", "only tables, views and databases may be created")
        if first == "DROP" and next((k for k in rest if k != "TEMPORARY"), "") not in DROPPABLE:
            raise denied(f"DROP {second}", "only tables, views, databases and dictionaries may be dropped")

    def _check_clauses(self, toks: list[Token], role: Role) -> None:
        for i, tok in enumerate(toks):
            keyword = tok.keyword
            if tok.kind == "quoted" and any(ord(c) < 32 for c in tok.name):
                raise denied(f"the identifier {tok.text}", "names may not hold control characters")
            nxt = toks[i + 1].keyword if i + 1 < len(toks) else ""
            if keyword == "INTO" and nxt == "OUTFILE":
                raise denied("INTO OUTFILE", "it writes a file on the collector's host")
            if keyword == "FROM" and nxt == "INFILE":
                raise denied("FROM INFILE", "it reads a file on the collector's host")
            if tok.text == "ENGINE" and i + 2 < len(toks) and toks[i + 1].text == "=" and toks[i + 2].name:
                engine = toks[i + 2].name
                if engine.lower() not in LOCAL_ENGINES:
                    raise denied(f"ENGINE = {engine}", "only engines whose data stays in the data path may be used")
            if keyword in ("SETTINGS", "SETTING"):  # SETTING: ALTER TABLE … MODIFY SETTING
                for name, value in _settings(toks, i + 1):
                    self._check_setting(name, value, role)

    def within_limits(self, name: str, value: str | None) -> bool:
        """True when setting `name` to `value` keeps or tightens a configured limit."""
        if name not in self.limits or value is None:
            return False
        limit = self.limits[name]
        if isinstance(limit, str):
            return value.strip("'") == limit
        try:
            number = float(value)
        except ValueError:
            return False
        return 0 < number <= float(limit) or (float(limit) == 0 and number >= 0)  # type: ignore[arg-type]

    def _check_setting(self, name: str, value: str | None, role: Role) -> None:
        if role is Role.READER:
            raise readonly_denied(f"Cannot modify '{name}' setting")
        if self.within_limits(name, value):
            return
        if PROTECTED_SETTINGS.fullmatch(name):
            raise denied(f"the setting '{name}'", "query limits and access are set in the chdb extension's config; "
                                                   "a query may only lower a limit")
        if value is None:
            raise denied(f"the value of setting '{name}'", "setting values must be literals")

    def _check_calls(self, toks: list[Token]) -> None:
        deny = self._denied_names()
        for tok, nxt in zip(toks, toks[1:], strict=False):
            if nxt.text == "(" and tok.name and tok.name.lower() in deny:
                raise denied(f"{tok.name}()", "it reads files, other hosts or processes")

    def _check_tree(self, tree: str, allowed: frozenset[str] | None = None) -> None:
        """Only allowed table functions where a table stands (FROM/JOIN, INSERT INTO FUNCTION, CREATE … AS)."""
        allowed = self.allowed if allowed is None else allowed
        for node in _walk(tree):
            parent = node.parents[-1].split(" ", 1)[0] if node.parents else ""
            if node.text.startswith("Function ") and parent in ("TableExpression", "InsertQuery", "CreateQuery"):
                name = node.text[len("Function ") :]
                if name.lower() not in allowed:
                    raise denied(f"table function {name}()", "not a vetted table function; see allowed_table_functions")


def tenant_filters(tables: Iterable[str], tenant: str) -> str:
    """The `additional_table_filters` map: each table's rows of `tenant` only."""
    condition = sql_string(f"TenantId = {sql_string(tenant)}")
    return "{" + ", ".join(f"{sql_string(table)}: {condition}" for table in sorted(tables)) + "}"


@dataclass(frozen=True, slots=True)
class _Node:
    """One line of `EXPLAIN AST`: `Function in`, `TableIdentifier otel.t` (alias and child count
    left out), its ancestors' lines (nearest last) and its place among its siblings (from 1)."""

    text: str
    parents: tuple[str, ...]
    position: int


def _walk(tree: str) -> Iterator[_Node]:
    """The nodes of an `EXPLAIN AST` output, in order; nesting is the indentation."""
    stack: list[list] = []  # [depth, text, children seen]  # type: ignore[type-arg]
    for line in tree.splitlines():
        text = line.lstrip(" ")
        depth = len(line) - len(text)
        while stack and stack[-1][0] >= depth:
            stack.pop()
        if stack:
            stack[-1][2] += 1
        node = text.split(" (", 1)[0]
        yield _Node(node, tuple(entry[1] for entry in stack), stack[-1][2] if stack else 1)
        stack.append([depth, node, 0])


def _ast_tables(ast: str) -> list[str]:
    """Names the parser takes for tables: `TableIdentifier`s, and an identifier right of IN (a set
    read from a table). CTE names come out too (unqualified)."""
    names: list[str] = []
    for node in _walk(ast):
        if node.text.startswith("TableIdentifier "):
            names.append(node.text[len("TableIdentifier "):])
        elif (node.text.startswith("Identifier ") and len(node.parents) >= 2 and node.parents[-1] == "ExpressionList"
              and node.position == 2 and node.parents[-2].lower() in _IN_NODES):
            names.append(node.text[len("Identifier "):])
    return names


_IN_NODES = frozenset(f"function {name}" for name in IN_FUNCTIONS)


def _tree_tables(tree: str) -> list[tuple[str, str]]:
    """(TABLE, db.table) and (TABLE_FUNCTION, name) of every table expression the analyzer resolved."""
    found = []
    for line in tree.splitlines():
        text = line.strip()
        if text.startswith("TABLE id:") and "table_name: " in text:
            found.append(("TABLE", text.split("table_name: ", 1)[1].split(",", 1)[0]))
        elif text.startswith("TABLE_FUNCTION id:") and "table_function_name: " in text:
            found.append(("TABLE_FUNCTION", text.split("table_function_name: ", 1)[1].split(",", 1)[0]))
    return found


def _settings(toks: list[Token], start: int) -> list[tuple[str, str | None]]:
    """The `name = value` pairs of a SETTINGS list from `start`: (name, the literal value or None)."""
    pairs: list[tuple[str, str | None]] = []
    i = start
    while i + 1 < len(toks) and toks[i].name and toks[i + 1].text == "=":
        name, i = toks[i].name, i + 2
        if i < len(toks) and toks[i].text in ("-", "+"):
            i += 1
        if i >= len(toks):
            pairs.append((name, None))
            break
        sign = "-" if toks[i - 1].text == "-" else ""
        literal = toks[i].kind in ("string", "number") or (toks[i].kind == "word" and not _is_call(toks, i))
        value: str | None = sign + toks[i].text if literal else None
        if toks[i].text in ("(", "[", "{"):
            value, i = None, _skip_group(toks, i)
        else:
            i += 1
        pairs.append((name, value))
        if i < len(toks) and toks[i].text == ",":
            i += 1
            continue
        break
    return pairs


def _is_call(toks: list[Token], i: int) -> bool:
    return i + 1 < len(toks) and toks[i + 1].text == "("


def _skip_group(toks: list[Token], i: int) -> int:
    depth = 0
    while i < len(toks):
        if toks[i].text in ("(", "[", "{"):
            depth += 1
        elif toks[i].text in (")", "]", "}"):
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    return i
