"""`summitcol audit verify [--config FILE… | --file LEDGER]`: check the audit ledger's chain, and
where `summitcol errors` and other commands find the ledger the collector writes."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from summitcol.audit import Ledger, ledger, verify
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


def ledger_path(files: list[str], sets: list[str], registry: Registry) -> str | None:
    """The `audit` extension's file in a config, or None when it has none (or the config has errors)."""
    if not files:
        return None
    config, _ = load_config(files, registry, sets)
    if config is None:
        return None
    for spec in config.components[Kind.EXTENSION].values():
        if spec.factory.type == "audit":
            return str(spec.config.path)
    return None


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
    for problem in problems:
        print(f"{path}: {problem}", file=sys.stderr)
    if problems:
        print(f"{path}: {count} record(s), {len(problems)} problem(s): the ledger was changed", file=sys.stderr)
        return 1
    print(f"{path}: {count} record(s), chain intact")
    return 0
