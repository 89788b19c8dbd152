"""`summitcol audit verify [--config FILE… | --file LEDGER]`: check the audit ledger's chain, and
where `summitcol errors` and other commands find the ledger the collector writes."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any

import orjson

from summitcol import query
from summitcol.audit import Ledger, ledger, table, verify
from summitcol.component import Kind
from summitcol.config.model import load_config

if TYPE_CHECKING:
    from summitcol.config.registry import Registry


def add_parser(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    audit = commands.add_parser("audit", help="the audit ledger: verify its hash chain")
    actions = audit.add_subparsers(dest="action", required=True)
    check = actions.add_parser("verify", help="check every record's hash, the chain and the sequence; exit 1 on any break")
    check.add_argument("--config", action="append", default=[], help="the collector's config (its audit extension names the file)")
    check.add_argument("--set", action="append", default=[], help="override a config value, as for the collector")
    check.add_argument("--file", help="the ledger file itself")


def _audit_config(files: list[str], sets: list[str], registry: Registry) -> Any:  # noqa: ANN401 - the extension's Config
    if not files:
        return None
    config, _ = load_config(files, registry, sets)
    if config is None:
        return None
    return next((spec.config for spec in config.components[Kind.EXTENSION].values() if spec.factory.type == "audit"), None)


def ledger_path(files: list[str], sets: list[str], registry: Registry) -> str | None:
    """The `audit` extension's file in a config, or None when it has none (or the config has errors)."""
    audit_config = _audit_config(files, sets, registry)
    return None if audit_config is None else str(audit_config.path)


def _against_table(args: argparse.Namespace, registry: Registry, path: str) -> list[str]:
    """Problems between the file and its copy in <database>.audit_v1: the table's last record
    must be in the file, with the same hash (a file cut short at its end fails here)."""
    audit_config = _audit_config(args.config, args.set, registry)
    if audit_config is None or not audit_config.storage:
        return []
    target = query.target_from_config(args.config, args.set, registry)
    sql = f"SELECT max(Seq) AS seq, argMax(Hash, Seq) AS hash FROM `{audit_config.database}`.`{table.TABLE}` FINAL"
    try:
        raw = query.run_query(target, sql, "json")
    except query.QueryFailed as exc:
        return [f"cannot read {audit_config.database}.{table.TABLE} to compare: {exc}"]
    head = orjson.loads(raw.splitlines()[0]) if raw.strip() else {"seq": 0}
    seq = int(head["seq"] or 0)
    if not seq:
        return []
    hashes = ledger.hashes(path)
    if seq not in hashes:
        return [f"{audit_config.database}.{table.TABLE} holds records up to {seq} but the file ends at "
                f"{max(hashes, default=0)}: records were removed from its end"]
    if hashes[seq] != head["hash"]:
        return [f"record {seq} differs between the file and {audit_config.database}.{table.TABLE}"]
    return []


def install_from_config(files: list[str], sets: list[str], registry: Registry) -> None:
    """Let a command's own actions (an error-group merge) be recorded where the collector records."""
    path = ledger_path(files, sets, registry)
    if path is not None:
        ledger.install(Ledger(path))


def main(args: argparse.Namespace, registry: Registry) -> int:
    path = args.file or ledger_path(args.config, args.set, registry)
    if path is None:
        print("summitcol audit verify: name the ledger with --file, or a --config with an audit extension", file=sys.stderr)
        return 1
    try:
        count, problems = verify(path)
    except OSError as exc:
        print(f"summitcol audit verify: cannot read {path}: {exc.strerror}", file=sys.stderr)
        return 1
    problems = [str(p) for p in problems] + (_against_table(args, registry, path) if not args.file else [])
    for problem in problems:
        print(f"{path}: {problem}", file=sys.stderr)
    if problems:
        print(f"{path}: {count} record(s), {len(problems)} problem(s): the ledger was changed", file=sys.stderr)
        return 1
    print(f"{path}: {count} record(s), chain intact")
    return 0
