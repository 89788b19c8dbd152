"""`summitcol` command line: run the collector, validate a config, list components.

    summitcol --config config/default.yaml [--config more.yaml] [--set processors.batch.timeout=1s]
    summitcol validate --config FILE
    summitcol components
    summitcol query "SQL"
    summitcol errors list|show|merge|unmerge|resolve|ignore|unresolve|train|evaluate
    summitcol ci exec|deploy|junit
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import shutil
import signal
import sys
from collections.abc import Callable, Sequence

from summitcol import __version__
from summitcol.component import Kind, Worker
from summitcol.components import default_registry
from summitcol.config.model import CollectorConfig, load_config
from summitcol.config.registry import Registry
from summitcol.config.source import Problem

log = logging.getLogger("summitcol")

_LEVELS = {"debug": logging.DEBUG, "info": logging.INFO, "warn": logging.WARNING, "error": logging.ERROR}


def _config_arguments(parser: argparse.ArgumentParser, default: object) -> None:
    """`--config`/`--set` on the main parser (default []) and on a subcommand (default SUPPRESS,
    so that `summitcol --config FILE validate` keeps the FILE given before the subcommand)."""
    parser.add_argument(
        "--config", action="append", default=default, metavar="FILE", help="config file (repeat to merge several)"
    )
    parser.add_argument(
        "--set", action="append", default=default, metavar="KEY=VALUE", help="override one key, e.g. processors.batch.timeout=2s"
    )


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="summitcol", description="Summit Collector: OTLP in, Arrow pipelines, columnar out.")
    parser.add_argument("--version", action="version", version=f"summitcol {__version__}")
    _config_arguments(parser, [])
    commands = parser.add_subparsers(dest="command")
    validate = commands.add_parser("validate", help="check a config without starting anything")
    _config_arguments(validate, argparse.SUPPRESS)
    commands.add_parser("components", help="list every component type and the signals it supports")
    query = commands.add_parser("query", help="run SQL against the embedded ClickHouse store")
    query.add_argument("sql", help='e.g. "SELECT ServiceName, count() FROM otel.otel_traces GROUP BY 1"')
    _store_arguments(query)
    query.add_argument("--format", choices=["table", "csv", "json", "arrow"], default="table", help="output format")
    _errors_parser(commands)
    from summitcol import ci_command

    ci_command.add_parser(commands)
    from summitcol import audit_command, insights_command

    audit_command.add_parser(commands)
    flaky = commands.add_parser("flaky", help="the flaky test radar: tests that passed and failed on the same commit")
    _store_arguments(flaky)
    insights_command.add_arguments(flaky)
    return parser


def _store_arguments(parser: argparse.ArgumentParser) -> None:
    """Where a command that reads the store finds it (as `summitcol query` does)."""
    _config_arguments(parser, argparse.SUPPRESS)
    parser.add_argument("--endpoint", help="host:port of a chdb http endpoint (default: from --config, else localhost:8123)")
    parser.add_argument("--path", help="data path to open when no collector answers (default: from --config, else ./data/clickhouse)")
    parser.add_argument("--user", default="", help="user for the HTTP endpoint")
    parser.add_argument("--password", default="", help="password for the HTTP endpoint")


def _errors_parser(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    errors = commands.add_parser("errors", help="error groups: list, show, merge, resolve; train and evaluate the model")
    actions = errors.add_subparsers(dest="action", required=True)

    def store_command(name: str, help_text: str) -> argparse.ArgumentParser:
        sub = actions.add_parser(name, help=help_text)
        _store_arguments(sub)
        sub.add_argument("--database", default="otel", help="database of the error tables (default: otel)")
        return sub

    listing = store_command("list", "error groups by event count")
    listing.add_argument("--service", default="", help="only this service.name")
    listing.add_argument("--since", default="", help="only groups seen within this time, e.g. 24h, 7d")
    listing.add_argument("--status", default="", choices=["", "unresolved", "resolved", "ignored"])
    listing.add_argument("--limit", type=int, default=100)
    listing.add_argument("--format", choices=["table", "json"], default="table")
    show = store_command("show", "one group: title, culprit, stack trace, counts per release and day, sample traces")
    show.add_argument("group")
    show.add_argument("--format", choices=["text", "json"], default="text")
    merge = store_command("merge", "merge group SOURCE into group TARGET (new events follow at once)")
    merge.add_argument("target")
    merge.add_argument("source")
    unmerge = store_command("unmerge", "split a group's merged fingerprints back into groups of their own")
    unmerge.add_argument("group")
    unmerge.add_argument("--fingerprint", action="append", default=[], help="only these (repeat); default: all but the founder")
    for name, text in (("resolve", "mark resolved (in its last release, or --release)"), ("ignore", "mark ignored"),
                       ("unresolve", "mark unresolved")):
        sub = store_command(name, text)
        sub.add_argument("group")
        sub.add_argument("--release", default="", help="the release the fix is in (default: the group's last release)")
    train = store_command("train", "train the grouping model on a corpus (and the store's merges with --from-store)")
    train.add_argument("--corpus", default="tests/data/errors/corpus.jsonl.gz", help="labelled corpus (JSON lines, gzip ok)")
    train.add_argument("--from-store", action="store_true", help="add the store's manual merges/unmerges as labels")
    train.add_argument("--out", default="", help="model file to write (default: the package's built-in model)")
    evaluate = actions.add_parser("evaluate", help="pairwise precision/recall/F1 on a corpus's held-out split")
    evaluate.add_argument("corpus")
    evaluate.add_argument("--model", default="", help="model file (default: the built-in model)")
    evaluate.add_argument("--split", default="test", help="which split to evaluate (default: test; 'all' for every event)")


def _report(problems: list[Problem]) -> None:
    for problem in problems:
        print(problem, file=sys.stderr)


def _load(args: argparse.Namespace, registry: Registry) -> CollectorConfig | None:
    if not args.config:
        command = "summitcol validate --config FILE" if args.command == "validate" else "summitcol --config FILE"
        print(f"summitcol: at least one --config is required; try: {command} (e.g. config/default.yaml)", file=sys.stderr)
        return None
    config, problems = load_config(args.config, registry, args.set)
    _report(problems)
    if config is None:
        errors = sum(1 for p in problems if p.severity == "error")
        print(f"summitcol: {errors} error(s) in the configuration; nothing was started", file=sys.stderr)
    return config


def _components(registry: Registry) -> int:
    for kind in Kind:
        print(f"{kind.section}:")
        for factory in sorted((f for f in registry.factories if f.kind is kind), key=lambda f: f.type):
            signals = ", ".join(sorted(factory.signals)) or "-"
            aliases = f" (alias: {', '.join(factory.aliases)})" if factory.aliases else ""
            print(f"  {factory.type}{aliases}\n    stability: {factory.stability}; signals: {signals}\n    {factory.description}")
    return 0


def _target(args: argparse.Namespace, registry: Registry, command: str):  # type: ignore[no-untyped-def]
    """The store's Target from --config / --endpoint / --path, or None (the problem printed)."""
    from summitcol import query

    config = getattr(args, "config", None)
    try:
        target = query.target_from_config(config, getattr(args, "set", []), registry) if config else query.Target(
            query.DEFAULT_HTTP_ENDPOINT, query.DEFAULT_PATH
        )
    except query.QueryFailed as exc:
        print(f"summitcol {command}: {exc}", file=sys.stderr)
        return None
    return query.Target(
        args.endpoint if args.endpoint is not None else target.endpoint,
        args.path or target.path,
        args.user or target.user,
        args.password or target.password,
        target.chdb,
    )


def _query(args: argparse.Namespace, registry: Registry) -> int:
    from summitcol import query

    target = _target(args, registry, "query")
    return 1 if target is None else query.main(args.sql, target, args.format)


def _errors(args: argparse.Namespace, registry: Registry) -> int:
    from summitcol import errors_command

    if args.action in ("train", "evaluate"):
        return errors_command.learn(args, lambda: _target(args, registry, f"errors {args.action}"))
    target = _target(args, registry, f"errors {args.action}")
    if target is None:
        return 1
    from summitcol import audit_command

    audit_command.install_from_config(getattr(args, "config", None) or [], getattr(args, "set", []), registry)
    return errors_command.run(args, target)


def _setup_logging(level: str, worker: Worker) -> None:
    where = f"worker {worker.index}\t" if not worker.owner else ""
    logging.basicConfig(
        level=_LEVELS.get(level, logging.INFO),
        format=f"%(asctime)s\t%(levelname)s\t{where}%(name)s\t%(message)s",
        stream=sys.stderr,
    )


def _worker(config: CollectorConfig) -> tuple[Worker, str]:
    """Which process of `service.workers` this is: a worker the owner started (from the
    environment), or the owner, which decides how many there are (and says why only one)."""
    from summitcol.service import workers

    started = workers.from_env()
    if started is not None:
        workers.die_with_owner(started.owner_pid)
        return started, ""
    count, why = workers.resolve(config)
    return Worker(index=0, count=count, hub=workers.hub_path() if count > 1 else "", owner_pid=os.getpid()), why


def _stop_before_service(signum: int, frame: object) -> None:
    """SIGTERM before the service has its own handler: end through `_run`'s `finally` (which
    removes the hub directory) instead of the default action, which would leave it behind."""
    raise SystemExit(128 + signum)


def _run(config: CollectorConfig, argv: list[str]) -> int:
    from summitcol.service.service import Service

    worker, why_one = _worker(config)
    if worker.owner:
        signal.signal(signal.SIGTERM, _stop_before_service)
    try:
        _setup_logging(config.service.telemetry.logs.level, worker)
        if why_one:
            log.info("running one worker process: %s", why_one)
        # Column work runs in worker threads; a shorter GIL switch interval (5 ms by default) lets
        # the event loop answer clients promptly while they compute.
        sys.setswitchinterval(0.001)
        if worker.owner:  # before anything starts: a taken port fails here, not after a half start
            from summitcol.service.ports import check_listeners

            check_listeners(config)

        async def main() -> None:
            await Service(config, worker, argv).run()

        with asyncio.Runner(loop_factory=_loop_factory()) as runner:
            runner.run(main())
    except OSError as exc:
        log.error("%s", exc)
        return 1
    finally:
        if worker.owner and worker.hub:
            shutil.rmtree(os.path.dirname(worker.hub), ignore_errors=True)
    return 0


def _loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    try:
        import uvloop

        return uvloop.new_event_loop
    except ImportError:  # pragma: no cover - uvloop is a dependency on Linux and macOS
        return None


def main(argv: Sequence[str] | None = None) -> int:
    # Workers are started with fork+exec; gRPC's fork handlers only matter for a fork that goes
    # on running Python with gRPC in it, and would log a warning at each start.
    os.environ.setdefault("GRPC_ENABLE_FORK_SUPPORT", "0")
    argv = list(sys.argv[1:] if argv is None else argv)
    args = _parser().parse_args(argv)
    registry = default_registry()
    if args.command == "components":
        return _components(registry)
    if args.command == "query":
        return _query(args, registry)
    if args.command == "errors":
        return _errors(args, registry)
    if args.command == "ci":
        from summitcol import ci_command

        return ci_command.main(args)
    if args.command == "flaky":
        from summitcol import insights_command

        target = _target(args, registry, "flaky")
        return 1 if target is None else insights_command.flaky(args, target)
    if args.command == "audit":
        from summitcol import audit_command

        return audit_command.main(args, registry)
    config = _load(args, registry)
    if config is None:
        return 1
    if args.command == "validate":
        print("summitcol: the configuration is valid", file=sys.stderr)
        return 0
    return _run(config, argv)


if __name__ == "__main__":
    sys.exit(main())
