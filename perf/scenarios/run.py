"""Benchmark scenarios S1–S6 and the transport ceiling, with the open-loop load generator.

    python -m perf.scenarios.run [--scenarios s1,s3] [--mode max|soak] [--rate 16700] [--duration 600]

* `max`: offer `--start-rate` records/s, then ×`--growth` every `--step` seconds, until p99 >
  `--p99-ms` (100) or any error; report the last good step.
* `soak`: offer `--rate` for `--duration` seconds.

Every run ends with the loss check (records acknowledged vs records stored in ClickHouse, or vs
the sampler's output where the scenario samples), and every result is also given as a ratio to
the ceiling: the same load generator against a no-op gRPC sink, in the same invocation.
Results are printed as a table and appended (JSON lines) to `--out`.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import asdict, dataclass
from pathlib import Path

from perf.loadgen.__main__ import stored_count, wait_stored
from perf.loadgen.core import LoadResult, run_load
from perf.loadgen.procstat import Sampler, Usage

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
PYTHON = sys.executable


@dataclass(frozen=True, slots=True)
class Scenario:
    name: str
    config: str
    signal: str
    description: str
    sampled_by: str = ""  # a processor whose output (not the input) is what gets stored
    agent: str = ""  # S5: the agent config in front of the gateway
    load: str = ""  # the load generator's signal when it is not `signal` (S7: an error storm of traces)
    errors: bool = False  # every span carries one exception: events_error_v1 must get a row per span

    @property
    def load_signal(self) -> str:
        return self.load or self.signal


SCENARIOS = {
    "s1": Scenario("S1", "s1_traces.yaml", "traces", "traces otlp→batch→clickhouse"),
    "s2": Scenario("S2", "s2_traces_privacy.yaml", "traces", "S1 + redaction (full PII) + probabilistic_sampler 50%", sampled_by="probabilistic_sampler"),
    "s3": Scenario("S3", "s3_logs.yaml", "logs", "logs otlp→batch→clickhouse"),
    "s4": Scenario("S4", "s4_metrics.yaml", "metrics", "metrics (5 types) otlp→batch→clickhouse"),
    "s5": Scenario("S5", "s1_traces.yaml", "traces", "agent→gateway chain (gateway = S1)", agent="s5_agent.yaml"),
    "s6": Scenario("S6", "s6_traces_persistent.yaml", "traces", "S1 + persistent queue, fsync: true"),
    # not in the default list: S1 + redaction alone, to price redaction against S1 at equal load
    "s1r": Scenario("S1R", "s1r_traces_redaction.yaml", "traces", "S1 + redaction (full PII)"),
    # error tracking (issue #15, item 9): S1F to compare with S1 in the same run; S7 an error storm
    "s1f": Scenario("S1F", "s1f_traces_fingerprint.yaml", "traces", "S1 + fingerprint processor (5% exceptions)"),
    "s1fb": Scenario("S1FB", "s1f_traces_fingerprint_after_batch.yaml", "traces", "S1 + fingerprint after batch (5% exceptions)"),
    "s7_1k": Scenario("S7-1k", "s7_error_storm.yaml", "traces", "error storm, 1,000 distinct traces: otlp→fingerprint→batch→clickhouse",
                      load="errors_1k", errors=True),
    "s7_100k": Scenario("S7-100k", "s7_error_storm.yaml", "traces", "error storm, 100,000 distinct traces: otlp→fingerprint→batch→clickhouse",
                        load="errors_100k", errors=True),
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_port(port: int, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port} after {timeout}s")


class Process:
    """A collector (or the sink) as a subprocess, its output in a log file."""

    def __init__(self, args: list[str], env: dict[str, str], log: Path) -> None:
        self.log = log
        self.handle = open(log, "wb")  # noqa: SIM115
        self.proc = subprocess.Popen(args, env={**os.environ, **env}, stdout=self.handle, stderr=subprocess.STDOUT, cwd=ROOT)

    @property
    def pid(self) -> int:
        return self.proc.pid

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=120)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.handle.close()


def metric(port: int, name: str, **labels: str) -> float:
    """A sample from the collector's Prometheus endpoint (0 when absent)."""
    text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10).read().decode()
    total = 0.0
    for line in text.splitlines():
        if not line.startswith(name + "{") and not line.startswith(name + " "):
            continue
        if all(f'{k}="{v}"' in line for k, v in labels.items()):
            total += float(line.rsplit(" ", 1)[1])
    return total


@dataclass(slots=True)
class Row:
    scenario: str
    description: str
    mode: str
    offered: float
    acked: float
    p50_ms: float
    p99_ms: float
    p999_ms: float
    max_ms: float
    cpu_percent: float
    rss_peak_mib: float
    rss_start_mib: float
    rss_end_mib: float
    rss_by_quarter_mib: tuple[float, ...]
    errors: dict[str, int]
    acked_total: int
    expected_stored: int
    stored: int
    lost: int
    ceiling_ratio: float = 0.0
    workers: int = 1


class Deployment:
    """The collector(s) of one scenario, started in a fresh data directory."""

    def __init__(self, scenario: Scenario, workdir: Path, workers: int | None) -> None:
        self.scenario = scenario
        self.workdir = workdir
        workdir.mkdir(parents=True, exist_ok=True)
        self.grpc_port, self.ch_port, self.metrics_port = free_port(), free_port(), free_port()
        self.processes: list[Process] = []
        self.workers = workers
        env = {"GRPC_PORT": str(self.grpc_port), "CH_PORT": str(self.ch_port), "METRICS_PORT": str(self.metrics_port), "DATA_DIR": str(workdir / "data")}
        if workers is not None:
            env["SUMMIT_WORKERS"] = str(workers)
        self.entry_port = self.grpc_port
        self.processes.append(self._collector(scenario.config, env, "collector"))
        if scenario.agent:
            self.agent_metrics = free_port()
            self.entry_port = free_port()
            agent_env = {**env, "GRPC_PORT": str(self.entry_port), "GATEWAY_PORT": str(self.grpc_port), "METRICS_PORT": str(self.agent_metrics)}
            self.processes.append(self._collector(scenario.agent, agent_env, "agent"))
        for port in (self.grpc_port, self.ch_port, self.metrics_port, self.entry_port):
            wait_port(port)

    def _collector(self, config: str, env: dict[str, str], name: str) -> Process:
        args = [PYTHON, "-m", "summitcol", "--config", str(HERE / config)]
        if self.workers is not None:
            args += ["--set", f"service.workers={self.workers}"]
        return Process(args, env, self.workdir / f"{name}.log")

    def workers_running(self) -> int:
        """The collector's worker processes (`service.workers`), from its ready line."""
        found = re.search(r"(\d+) worker processes share", (self.workdir / "collector.log").read_text(errors="replace"))
        return int(found.group(1)) if found else 1

    @property
    def target(self) -> str:
        return f"grpc://127.0.0.1:{self.entry_port}"

    @property
    def clickhouse(self) -> str:
        return f"http://127.0.0.1:{self.ch_port}/"

    def sampler(self) -> Sampler:
        return MultiSampler([p.pid for p in self.processes])  # type: ignore[return-value]

    def stop(self) -> None:
        for process in reversed(self.processes):
            process.stop()


class MultiSampler:
    """CPU/RSS of several process trees, summed."""

    def __init__(self, pids: list[int]) -> None:
        self.samplers = [Sampler(pid) for pid in pids]

    def start(self) -> MultiSampler:
        for sampler in self.samplers:
            sampler.start()
        return self

    def stop(self) -> Usage:
        usages = [s.stop() for s in self.samplers]
        return Usage(
            cpu_percent=sum(u.cpu_percent for u in usages),
            rss_peak_mib=sum(u.rss_peak_mib for u in usages),
            rss_start_mib=sum(u.rss_start_mib for u in usages),
            rss_end_mib=sum(u.rss_end_mib for u in usages),
            rss_by_quarter_mib=tuple(sum(q) for q in zip(*(u.rss_by_quarter_mib for u in usages), strict=True)),
        )


def good(result: LoadResult, p99_ms: float, backlog_s: float = 0.0) -> bool:
    """No errors, p99 under the limit, (nearly) everything acknowledged, and storage keeping up:
    what was acknowledged but not yet stored at the end of the step is under 5 s of load."""
    return (
        not result.errors
        and result.p99_ms <= p99_ms
        and result.acked_rps >= 0.98 * result.offered_rps
        and backlog_s <= MAX_BACKLOG_S
    )


MAX_BACKLOG_S = 5.0


def run_steps(target: str, signal: str, rates: list[float], step: float, args: argparse.Namespace, sampler_factory, backlog=None, stop_when_bad: bool = True):  # type: ignore[no-untyped-def]
    """Offer each rate for `step` s; returns [(rate, result, usage, backlog_s)] up to the first
    bad step. `backlog(acked_total)` gives the records acknowledged but not stored yet."""
    steps = []
    acked_total = 0
    for rate in rates:
        sampler = sampler_factory().start() if sampler_factory else None
        result = run_load(target, signal, rate, step, args.batch, args.processes, args.connections)
        usage = sampler.stop() if sampler else None
        acked_total += result.acked_records
        backlog_s = backlog(acked_total) / rate if backlog else 0.0
        ok = good(result, args.p99_ms, backlog_s)
        print(
            f"  {rate:>9,.0f}/s offered → {result.acked_rps:>9,.0f}/s acked  p50 {result.p50_ms:6.1f}  p99 {result.p99_ms:7.1f}  "
            f"p99.9 {result.p999_ms:7.1f} ms  errors {result.errors or '-'}"
            + (f"  CPU {usage.cpu_percent:.0f}%  RSS {usage.rss_peak_mib:.0f} MiB" if usage else "")
            + (f"  unstored {backlog_s:.1f}s" if backlog else "")
            + ("" if ok else "  ← limit"),
            flush=True,
        )
        steps.append((rate, result, usage, backlog_s))
        if stop_when_bad and not ok:
            break
    return steps


def ramp(start: float, growth: float, limit: float) -> list[float]:
    rates, rate = [], start
    while rate <= limit:
        rates.append(rate)
        rate *= growth
    return rates


def ceiling(args: argparse.Namespace, workdir: Path) -> float:
    """Acknowledged spans/s of the load generator against a no-op gRPC sink."""
    port = free_port()
    sink = Process([PYTHON, "-m", "perf.loadgen.sink", "--port", str(port)], {}, workdir / "sink.log")
    try:
        wait_port(port)
        print(f"ceiling: no-op gRPC sink on :{port}", flush=True)
        steps = run_steps(f"grpc://127.0.0.1:{port}", "traces", ramp(args.ceiling_start, 2.0, args.ceiling_limit), args.step, args, lambda: Sampler(sink.pid))
        best = [s for s in steps if good(s[1], args.p99_ms, s[3])]
        return best[-1][1].acked_rps if best else 0.0
    finally:
        sink.stop()


def run_scenario(scenario: Scenario, args: argparse.Namespace, workdir: Path) -> Row:
    print(f"{scenario.name}: {scenario.description} ({args.mode})", flush=True)
    deployment = Deployment(scenario, workdir / scenario.name, args.workers)
    try:
        baseline = stored_count(deployment.clickhouse, scenario.signal)

        def backlog(acked: int) -> int:
            if scenario.sampled_by:
                kept = metric(deployment.metrics_port, "otelcol_processor_outgoing_items_total", processor=scenario.sampled_by)
                return max(0, int(kept) - (stored_count(deployment.clickhouse, scenario.signal) - baseline))
            return max(0, acked - (stored_count(deployment.clickhouse, scenario.signal) - baseline))

        warm = []
        if args.warmup > 0:  # first sight of every fingerprint, cold caches: offered and checked for loss, not judged
            print(f"  warm-up: {args.warmup:.0f} s at {args.start_rate:,.0f}/s (not part of the result)", flush=True)
            warm = run_steps(deployment.target, scenario.load_signal, [args.start_rate], args.warmup, args, deployment.sampler, backlog, stop_when_bad=False)
        warm_acked = sum(s[1].acked_records for s in warm)

        def after_warmup(acked: int) -> int:
            return backlog(acked + warm_acked)

        if args.mode == "max":
            steps = run_steps(deployment.target, scenario.load_signal, ramp(args.start_rate, args.growth, args.max_rate), args.step, args, deployment.sampler, after_warmup)
        else:
            steps = run_steps(deployment.target, scenario.load_signal, [args.rate], args.duration, args, deployment.sampler, after_warmup, stop_when_bad=False)
        acked_total = sum(s[1].acked_records for s in warm + steps)
        if scenario.sampled_by:
            # The sampler drops on purpose: what must be stored is what it passed on.
            wait_stored(deployment.clickhouse, scenario.signal, 1, timeout=5, baseline=baseline)
            time.sleep(2)
            accepted = int(metric(deployment.metrics_port, "otelcol_receiver_accepted_spans_total"))
            expected = int(metric(deployment.metrics_port, "otelcol_processor_outgoing_items_total", processor=scenario.sampled_by))
            if accepted != acked_total:
                print(f"  warning: receiver accepted {accepted:,} but the load generator saw {acked_total:,} acknowledged")
        else:
            expected = acked_total
        stored = wait_stored(deployment.clickhouse, scenario.signal, expected, timeout=300, baseline=baseline)
        if scenario.errors:
            error_rows = error_count(deployment.clickhouse)
            print(f"  events_error_v1: {error_rows:,} rows for {expected:,} exception spans", flush=True)
            stored = min(stored, error_rows)  # a span stored without its error row is a loss too
    finally:
        deployment.stop()
    good_steps = [s for s in steps if good(s[1], args.p99_ms, s[3])] if args.mode == "max" else steps
    rate, result, usage, _ = (good_steps or steps)[-1]
    row = Row(
        scenario=scenario.name,
        description=scenario.description + ("" if good_steps else " (already over the limit at the first step)"),
        mode=args.mode,
        offered=result.offered_rps,
        acked=result.acked_rps,
        p50_ms=result.p50_ms,
        p99_ms=result.p99_ms,
        p999_ms=result.p999_ms,
        max_ms=result.max_ms,
        cpu_percent=usage.cpu_percent if usage else 0.0,
        rss_peak_mib=max((s[2].rss_peak_mib for s in steps if s[2]), default=0.0),
        rss_start_mib=usage.rss_start_mib if usage else 0.0,
        rss_end_mib=usage.rss_end_mib if usage else 0.0,
        rss_by_quarter_mib=usage.rss_by_quarter_mib if usage else (),
        errors=result.errors,
        acked_total=acked_total,
        expected_stored=expected,
        stored=stored,
        lost=expected - stored,
        workers=deployment.workers_running(),
    )
    print(f"  loss check: {expected:,} expected stored, {stored:,} stored, lost {row.lost:,}", flush=True)
    if row.rss_by_quarter_mib:
        print("  RSS peak per quarter of the last step: " + " / ".join(f"{q:.0f}" for q in row.rss_by_quarter_mib) + " MiB", flush=True)
    return row


def error_count(url: str) -> int:
    """Rows in otel.events_error_v1 (one per exception occurrence)."""
    query = b"SELECT count() FROM otel.events_error_v1"
    with urllib.request.urlopen(urllib.request.Request(url, data=query), timeout=60) as response:
        return int(response.read().decode().strip() or 0)


def table(rows: list[Row], unit: str = "records/s") -> str:
    lines = [
        "| scenario | workers | mode | offered | acknowledged | p50 ms | p99 ms | p99.9 ms | CPU % | RSS peak MiB | loss | vs ceiling |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    lines += [
        f"| {r.scenario} {r.description} | {r.workers} | {r.mode} | {r.offered:,.0f} | {r.acked:,.0f} | {r.p50_ms:.1f} | {r.p99_ms:.1f} | "
        f"{r.p999_ms:.1f} | {r.cpu_percent:.0f} | {r.rss_peak_mib:.0f} | {r.lost} of {r.expected_stored:,} | {r.ceiling_ratio:.1%} |"
        for r in rows
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenarios", default="s1,s2,s3,s4,s5,s6", help="comma-separated, e.g. s1,s3")
    parser.add_argument("--mode", choices=["max", "soak"], default="max")
    parser.add_argument("--rate", type=float, default=16_700, help="soak: records/s")
    parser.add_argument("--duration", type=float, default=600, help="soak: seconds")
    parser.add_argument("--start-rate", type=float, default=8_000, help="max: first step, records/s")
    parser.add_argument("--growth", type=float, default=1.25, help="max: rate multiplier per step")
    parser.add_argument("--max-rate", type=float, default=400_000, help="max: stop the ramp here")
    parser.add_argument("--step", type=float, default=8.0, help="max: seconds per step")
    parser.add_argument("--p99-ms", type=float, default=100.0, help="max: a step is good while p99 stays under this")
    parser.add_argument("--batch", type=int, default=500, help="records per request")
    parser.add_argument("--processes", type=int, default=2, help="load generator processes")
    parser.add_argument("--connections", type=int, default=4, help="connections per load generator process (8 in all spread well over worker processes)")
    parser.add_argument("--workers", type=int, default=None, help="service.workers for the collector (default: its own default)")
    parser.add_argument("--warmup", type=float, default=0.0, help="seconds at --start-rate before the ramp or soak, not judged")
    parser.add_argument("--ceiling-start", type=float, default=50_000)
    parser.add_argument("--ceiling-limit", type=float, default=1_600_000)
    parser.add_argument("--no-ceiling", action="store_true")
    parser.add_argument("--out", default=str(HERE.parent / "results.jsonl"))
    parser.add_argument("--keep", action="store_true", help="keep the work directory (logs, data)")
    args = parser.parse_args(argv)

    workdir = Path(tempfile.mkdtemp(prefix="summit-bench-"))
    rows: list[Row] = []
    try:
        top = 0.0 if args.no_ceiling else ceiling(args, workdir)
        if top:
            print(f"ceiling: {top:,.0f} spans/s acknowledged by the no-op sink", flush=True)
        for key in [k.strip().lower() for k in args.scenarios.split(",") if k.strip()]:
            row = run_scenario(SCENARIOS[key], args, workdir)
            row.ceiling_ratio = row.acked / top if top else 0.0
            rows.append(row)
            with open(args.out, "a") as handle:
                handle.write(json.dumps({"time": time.strftime("%Y-%m-%dT%H:%M:%S"), "ceiling": top, **asdict(row)}) + "\n")
    finally:
        if args.keep:
            print(f"work directory kept: {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    print()
    print(table(rows))
    print(f"\nceiling (no-op gRPC sink): {top:,.0f} spans/s" if not args.no_ceiling else "")
    return 1 if any(r.lost != 0 for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
