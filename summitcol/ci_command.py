"""`summitcol ci exec|deploy|junit`: the CI agent. Sends OTLP/HTTP spans to a collector, shaped so
that its CI span recognition (summitcol/cicd/spans.py) stores steps, deployments and test results.

    summitcol ci exec --name STEP [--endpoint URL] -- CMD ARGS...
    summitcol ci deploy --endpoint URL --service S --environment E --version V --revision SHA [--status succeeded|failed] [--id ID]
    summitcol ci junit FILE... --endpoint URL [--run-id ... --attempt ... --job ... --provider ...]

The run context (provider, run id, attempt, job, revision, branch, repository) comes from the CI's
own environment variables (`cicd.junit.RunContext.from_env`); the options override it.
"""

from __future__ import annotations

import argparse
import dataclasses
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from summitcol.cicd import junit

PROGRESS_EVERY = 1000  # test spans between progress lines of `ci junit`


def add_parser(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    ci = commands.add_parser("ci", help="CI agent: run a step in a span, record a deployment, upload JUnit results")
    actions = ci.add_subparsers(dest="action", required=True)

    def common(sub: argparse.ArgumentParser) -> None:
        sub.add_argument("--endpoint", default="",
                         help="the collector's OTLP/HTTP URL, e.g. http://collector:4318 "
                              "(default: OTEL_EXPORTER_OTLP_ENDPOINT)")
        sub.add_argument("--run-id", default=None, help="the pipeline run id (default: from the CI's environment)")
        sub.add_argument("--attempt", type=int, default=None, help="the run attempt (default: from the environment, else 1)")
        sub.add_argument("--job", default=None, help="the job id (default: from the environment)")
        sub.add_argument("--provider", default=None, help="github, gitlab, circleci, jenkins or your CI's name")

    run = actions.add_parser("exec", help="run CMD inside a step span; TRACEPARENT/TRACESTATE are passed to it")
    run.add_argument("--name", required=True, help="the step's name")
    common(run)
    run.add_argument("argv", nargs=argparse.REMAINDER, metavar="-- CMD ARGS", help="the command to run")
    deploy = actions.add_parser("deploy", help="record one deployment")
    common(deploy)
    deploy.add_argument("--service", required=True)
    deploy.add_argument("--environment", required=True, help="production, staging, ...")
    deploy.add_argument("--version", required=True, help="the version deployed")
    deploy.add_argument("--revision", required=True, help="the commit SHA deployed")
    deploy.add_argument("--status", choices=["succeeded", "failed"], default="succeeded")
    deploy.add_argument("--id", default="", help="the deployment's id")
    junit = actions.add_parser("junit", help="upload JUnit XML results (pytest, Maven Surefire, jest-junit)")
    junit.add_argument("files", nargs="+", metavar="FILE")
    common(junit)


def run_context(args: argparse.Namespace, environ: dict[str, str]) -> junit.RunContext:
    """RunContext from the environment, with the options given on the command line on top."""
    context = junit.RunContext.from_env(environ) or junit.RunContext()
    overrides: dict[str, Any] = {"run_id": args.run_id, "attempt": args.attempt, "job_id": args.job}
    if args.provider is not None:
        from summitcol.cicd.spans import provider_of

        overrides["provider"], overrides["provider_name"] = provider_of(args.provider), args.provider
    return dataclasses.replace(context, **{k: v for k, v in overrides.items() if v is not None})


def _spawn(command: Sequence[str], env: dict[str, str]) -> int:
    code = subprocess.call(list(command), env=env)
    return 128 - code if code < 0 else code  # killed by a signal: the shell's 128 + N


def main(args: argparse.Namespace, *, environ: dict[str, str] | None = None,
         spawn: Callable[[Sequence[str], dict[str, str]], int] = _spawn) -> int:
    from summitcol.cicd import emit

    env = emit.environment() if environ is None else environ
    where = f"summitcol ci {args.action}"
    try:
        url = emit.traces_url(args.endpoint, env)
        run = run_context(args, env)
        if args.action == "exec":
            return _exec(args, url, run, env, spawn, where)
        if args.action == "deploy":
            sender = emit.Sender(url, emit.resource_attributes(run, args.service) | {"service.version": args.version})
            emit.deployment_span(sender, service=args.service, environment=args.environment, version=args.version,
                                 revision=args.revision, status=args.status, deployment_id=args.id, environ=env,
                                 run=run)
            sender.flush()
            sender.shutdown()
            print(f"{where}: recorded {args.service} {args.version} → {args.environment} ({args.status})",
                  file=sys.stderr)
            return 0
        return _upload(args, url, run, env, where)
    except emit.SendError as exc:
        print(f"{where}: {exc}", file=sys.stderr)
        return 1
    except ImportError as exc:  # summitcol.cicd.junit (RunContext, parse) ships with issue #16's JUnit work
        print(f"{where}: this build lacks {exc.name or 'summitcol.cicd.junit'}: {exc}", file=sys.stderr)
        return 1


def _exec(args: argparse.Namespace, url: str, run: junit.RunContext, env: dict[str, str],
          spawn: Callable[[Sequence[str], dict[str, str]], int], where: str) -> int:
    from summitcol.cicd import emit

    command = list(args.argv)
    if command and command[0] == "--":
        command = command[1:]
    if not command:
        print(f"{where}: no command; usage: summitcol ci exec --name STEP -- CMD ARGS...", file=sys.stderr)
        return 2
    sender = emit.Sender(url, emit.resource_attributes(run))
    try:
        code = emit.run_step(sender, args.name, command, run, env, spawn)
    except OSError as exc:
        print(f"{where}: cannot run {command[0]!r}: {exc}", file=sys.stderr)
        code = 127 if isinstance(exc, FileNotFoundError) else 126
    try:
        sender.flush()
    except emit.SendError as exc:
        # The command ran; its exit code is what the CI must see. The lost span is reported.
        print(f"{where}: {exc}", file=sys.stderr)
        return code or 1
    finally:
        sender.shutdown()
    return code


def _upload(args: argparse.Namespace, url: str, run: Any, env: dict[str, str], where: str) -> int:  # noqa: ANN401
    from summitcol.cicd import emit
    from summitcol.cicd.model import build_pb2 as pb

    observed = datetime.now(UTC)
    events = []
    for name in args.files:
        try:
            data = Path(name).read_bytes()
        except OSError as exc:
            print(f"{where}: cannot read {name}: {exc.strerror}", file=sys.stderr)
            return 1
        try:
            events.extend(junit.parse(data, run=run, observed=observed))
        except ValueError as exc:
            print(f"{where}: {name} is not a JUnit XML report: {exc}", file=sys.stderr)
            return 1
    sender = emit.Sender(url, emit.resource_attributes(run))
    emit.test_case_spans(sender, events, env, time.time_ns())
    total = len(events)

    def progress(sent: int) -> None:
        if total > PROGRESS_EVERY:
            print(f"{where}: sent {sent}/{total} test results", file=sys.stderr)

    try:
        sender.flush(progress=progress)
    finally:
        sender.shutdown()
    counts = {r: sum(1 for e in events if e.test_case.result == r) for r in
              (pb.TEST_RESULT_PASS, pb.TEST_RESULT_FAIL, pb.TEST_RESULT_ERROR, pb.TEST_RESULT_SKIP)}
    print(f"{where}: sent {total} test results from {len(args.files)} file(s) to {url}: "
          f"{counts[pb.TEST_RESULT_PASS]} passed, {counts[pb.TEST_RESULT_FAIL]} failed, "
          f"{counts[pb.TEST_RESULT_ERROR]} errors, {counts[pb.TEST_RESULT_SKIP]} skipped")
    return 0
