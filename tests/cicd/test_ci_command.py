"""`summitcol ci exec|deploy|junit` against a real summitcol collector (OTLP/HTTP on loopback, file
exporter); what it stored is read back through the decode path and `cicd.spans.recognize`."""

from __future__ import annotations

import os
import sys
import textwrap
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from summitcol import ci_command, cli
from summitcol.cicd import spans as recognition
from summitcol.cicd.model import build_pb2 as pb
from summitcol.pdata.traces import traces_from_otlp
from tests.helpers import Collector, free_port, pipelines_yaml, read_file_export, receiver_yaml, wait_for

OBSERVED = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)


def _stand_in_parse(data: bytes, *, run: Any, observed: datetime) -> list[pb.BuildEvent]:
    """One TestCase per `suite|class|name|result|seconds|message` line (the real parser reads XML)."""
    events = []
    for n, line in enumerate(data.decode().splitlines()):
        suite, cls, name, result, seconds, message = line.split("|")
        event = pb.BuildEvent(event_id=f"junit:{n}", provider=pb.PROVIDER_GITHUB)
        event.observed_time.FromDatetime(observed)
        case = event.test_case
        case.run_id, case.attempt, case.job_id = run.run_id, run.attempt, run.job_id
        case.suite, case.class_name, case.name, case.failure_message = suite, cls, name, message
        case.result = pb.TestResult.Value(f"TEST_RESULT_{result}")
        case.duration.FromNanoseconds(int(float(seconds) * 1e9))
        case.started_time.FromDatetime(datetime(2026, 12, 3, 11, 0, tzinfo=UTC))
        events.append(event)
    if not events:
        raise ValueError("no test cases")
    return events


@pytest.fixture
def stand_in_parse(monkeypatch: pytest.MonkeyPatch) -> None:
    """A parse stand-in for the upload tests that are about what `ci junit` sends, not the XML."""
    from summitcol.cicd import junit

    monkeypatch.setattr(junit, "parse", _stand_in_parse)


@pytest.fixture(scope="module")
def collector(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    tmp = tmp_path_factory.mktemp("ci")
    port = free_port()
    out = tmp / "out.jsonl"
    config = f"""
receivers:
{receiver_yaml(None, port)}
processors:
  batch:
    timeout: 50ms
exporters:
  file:
    path: {out}
{pipelines_yaml("otlp", "batch", "file")}
"""
    with Collector(tmp, config) as running:
        yield SimpleNamespace(url=f"http://127.0.0.1:{port}", out=out, process=running)


def _stored(out: Path, wanted: int, pick) -> list[pb.BuildEvent]:  # type: ignore[no-untyped-def]
    def events() -> list[pb.BuildEvent]:
        found = []
        for request in read_file_export(out)[ExportTraceServiceRequest]:
            found += [e for e in recognition.recognize(traces_from_otlp(request)[0], observed=OBSERVED) if pick(e)]
        return found
    assert wait_for(lambda: len(events()) >= wanted)
    return events()


GITHUB_ENV = {"GITHUB_RUN_ID": "9001", "GITHUB_RUN_ATTEMPT": "2", "GITHUB_JOB": "test", "GITHUB_SHA": "c" * 40,
              "GITHUB_REF_NAME": "main", "GITHUB_REPOSITORY": "acme/api"}


def test_ci_deploy_records_one_deployment(collector, monkeypatch: pytest.MonkeyPatch, capsys) -> None:  # type: ignore[no-untyped-def]
    for key, value in GITHUB_ENV.items():
        monkeypatch.setenv(key, value)
    code = cli.main(["ci", "deploy", "--endpoint", collector.url, "--service", "api", "--environment", "production",
                     "--version", "1.4.2", "--revision", "d" * 40, "--status", "failed", "--id", "dep-1"])
    assert code == 0
    assert "recorded api 1.4.2 → production (failed)" in capsys.readouterr().err
    [event] = _stored(collector.out, 1, lambda e: e.WhichOneof("event") == "deployment")
    d = event.deployment
    assert (event.provider, event.provider_name, event.head.revision) == (pb.PROVIDER_GITHUB, "github", "d" * 40)
    assert (d.deployment_id, d.service, d.environment, d.version, d.status, d.status_detail, d.run_id, d.job_id) == (
        "dep-1", "api", "production", "1.4.2", pb.DEPLOYMENT_STATUS_FAILED, "failed", "9001", "test")
    assert d.HasField("finished_time") and len(d.trace_id) == 32 and len(d.span_id) == 16


def test_ci_junit_sends_one_test_span_per_case(collector, tmp_path: Path, monkeypatch, capsys, stand_in_parse) -> None:  # type: ignore[no-untyped-def]
    for key, value in GITHUB_ENV.items():
        monkeypatch.setenv(key, value)
    report = tmp_path / "report.txt"
    report.write_text("pytest|tests.test_a|test_ok|PASS|0.25|\npytest|tests.test_a|test_bad|FAIL|1.5|assert 1 == 2\n"
                      "pytest|tests.test_b|test_skip|SKIP|0|not on linux\n")
    code = cli.main(["ci", "junit", str(report), "--endpoint", collector.url, "--run-id", "777", "--job", "unit"])
    assert code == 0
    assert capsys.readouterr().out == (f"summitcol ci junit: sent 3 test results from 1 file(s) to {collector.url}/v1/traces: "
                                       "1 passed, 1 failed, 0 errors, 1 skipped\n")
    events = _stored(collector.out, 3, lambda e: e.WhichOneof("event") == "test_case" and e.test_case.run_id == "777")
    got = sorted((e.test_case.class_name, e.test_case.name, e.test_case.result, e.test_case.duration.ToNanoseconds(),
                  e.test_case.failure_message, e.test_case.attempt, e.test_case.job_id,
                  e.test_case.started_time.ToDatetime(UTC)) for e in events)
    start = datetime(2026, 12, 3, 11, 0, tzinfo=UTC)
    assert got == [
        ("tests.test_a", "test_bad", pb.TEST_RESULT_FAIL, 1_500_000_000, "assert 1 == 2", 2, "unit", start),
        ("tests.test_a", "test_ok", pb.TEST_RESULT_PASS, 250_000_000, "", 2, "unit", start),
        ("tests.test_b", "test_skip", pb.TEST_RESULT_SKIP, 0, "not on linux", 2, "unit", start),
    ]


def test_ci_junit_batches_a_big_report_with_progress(collector, tmp_path: Path, capsys, stand_in_parse) -> None:  # type: ignore[no-untyped-def]
    report = tmp_path / "big.txt"
    report.write_text("".join(f"big|tests.test_big|test_{i}|PASS|0.001|\n" for i in range(2500)))
    assert cli.main(["ci", "junit", str(report), "--endpoint", collector.url, "--run-id", "big-1"]) == 0
    captured = capsys.readouterr()
    assert captured.err.splitlines() == [f"summitcol ci junit: sent {n}/2500 test results" for n in (1000, 2000, 2500)]
    assert "sent 2500 test results from 1 file(s)" in captured.out
    events = _stored(collector.out, 2500, lambda e: e.WhichOneof("event") == "test_case" and e.test_case.run_id == "big-1")
    assert sorted(e.test_case.name for e in events) == sorted(f"test_{i}" for i in range(2500))


CONFTEST = '''
import os
import pytest
from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

provider = TracerProvider(resource=Resource.create({"service.name": "instrumented-tests"}))
provider.add_span_processor(SimpleSpanProcessor(OTLPSpanExporter(endpoint=os.environ["TEST_OTLP_URL"])))
tracer = provider.get_tracer("conftest")
PARENT = TraceContextTextMapPropagator().extract({"traceparent": os.environ["TRACEPARENT"]})

@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item):
    with tracer.start_as_current_span(item.name, context=PARENT, attributes={
            "test.case.name": item.name, "test.suite.name": "pytest"}) as span:
        outcome = yield
        span.set_attribute("test.case.result.status", "fail" if outcome.excinfo else "pass")

def pytest_sessionfinish(session):
    provider.shutdown()
'''


def test_ci_exec_makes_the_instrumented_tests_children_of_the_step(collector, tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    for key, value in GITHUB_ENV.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("TEST_OTLP_URL", f"{collector.url}/v1/traces")
    monkeypatch.delenv("TRACEPARENT", raising=False)
    project = tmp_path / "project"
    project.mkdir()
    (project / "conftest.py").write_text(CONFTEST)
    (project / "test_things.py").write_text(textwrap.dedent("""
        def test_one():
            assert True

        def test_two():
            assert 1 == 2
    """))
    code = cli.main(["ci", "exec", "--name", "pytest-suite", "--endpoint", collector.url, "--",
                     sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(project)])
    assert code == 1  # the child's exit code: one test failed
    [step] = _stored(collector.out, 1, lambda e: e.WhichOneof("event") == "step" and e.step.name == "pytest-suite")
    assert (step.provider, step.step.run_id, step.step.attempt, step.step.job_id, step.step.result) == (
        pb.PROVIDER_GITHUB, "9001", 2, "test", pb.RESULT_FAILURE)
    tests = _stored(collector.out, 2, lambda e: e.WhichOneof("event") == "test_case"
                    and e.test_case.trace_id == step.step.trace_id)
    spans = {}
    for request in read_file_export(collector.out)[ExportTraceServiceRequest]:
        for rs in request.resource_spans:
            for ss in rs.scope_spans:
                for span in ss.spans:
                    spans[span.span_id.hex()] = span
    assert sorted((t.test_case.name, t.test_case.result) for t in tests) == [
        ("test_one", pb.TEST_RESULT_PASS), ("test_two", pb.TEST_RESULT_FAIL)]
    assert {spans[t.test_case.span_id].parent_span_id.hex() for t in tests} == {step.step.span_id}


def test_ci_exec_continues_an_incoming_traceparent(collector, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    parent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
    monkeypatch.setenv("TRACEPARENT", parent)
    seen: dict[str, str] = {}

    def spawn(command, env):  # type: ignore[no-untyped-def]
        seen.update(env)
        return 3

    args = cli._parser().parse_args(["ci", "exec", "--name", "lint", "--endpoint", collector.url, "--", "ruff"])
    assert ci_command.main(args, environ=dict(os.environ), spawn=spawn) == 3
    [step] = _stored(collector.out, 1, lambda e: e.WhichOneof("event") == "step" and e.step.name == "lint")
    assert (step.step.trace_id, step.step.parent_span_id, step.step.result) == (
        "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7", pb.RESULT_FAILURE)
    assert seen["TRACEPARENT"] == f"00-4bf92f3577b34da6a3ce929d0e0e4736-{step.step.span_id}-01"


def test_an_unreachable_endpoint_exits_1_naming_the_url(capsys) -> None:  # type: ignore[no-untyped-def]
    url = f"http://127.0.0.1:{free_port()}"
    code = cli.main(["ci", "deploy", "--endpoint", url, "--service", "api", "--environment", "staging",
                     "--version", "1", "--revision", "e" * 40])
    err = capsys.readouterr().err
    assert code == 1
    assert err.startswith(f"summitcol ci deploy: could not send spans to {url}/v1/traces: ")
    assert "Connection refused" in err
    assert err.endswith("is a collector with an OTLP/HTTP receiver listening there? (--endpoint)\n")


def test_no_endpoint_says_how_to_give_one(monkeypatch, capsys) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.delenv("OTEL_EXPORTER_OTLP_ENDPOINT", raising=False)
    monkeypatch.delenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", raising=False)
    assert cli.main(["ci", "exec", "--name", "x", "--", "true"]) == 1
    assert capsys.readouterr().err == (
        "summitcol ci exec: no endpoint: pass --endpoint http://COLLECTOR:4318 or set OTEL_EXPORTER_OTLP_ENDPOINT\n")


PYTEST_XML = b"""<?xml version="1.0" encoding="utf-8"?>
<testsuites name="pytest tests"><testsuite name="pytest" errors="1" failures="1" skipped="1" tests="4" time="0.5"
 timestamp="2026-12-03T11:00:00.000000+00:00" hostname="ci">
<testcase classname="tests.test_api" name="test_ok" time="0.1" />
<testcase classname="tests.test_api" name="test_fails" time="0.2"><failure message="assert 1 == 2">def test_fails():
&gt;       assert 1 == 2
E       assert 1 == 2</failure></testcase>
<testcase classname="tests.test_api" name="test_errors" time="0.05"><error message="failed on setup with &quot;KeyError&quot;">KeyError</error></testcase>
<testcase classname="tests.test_api" name="test_skipped" time="0.0"><skipped type="pytest.skip" message="not on linux">skip</skipped></testcase>
</testsuite></testsuites>
"""


def test_ci_junit_with_the_real_parser(collector, tmp_path: Path, monkeypatch, capsys) -> None:  # type: ignore[no-untyped-def]
    for key, value in GITHUB_ENV.items():
        monkeypatch.setenv(key, value)
    report = tmp_path / "junit.xml"
    report.write_bytes(PYTEST_XML)
    assert cli.main(["ci", "junit", str(report), "--endpoint", collector.url, "--run-id", "real-1"]) == 0
    assert "sent 4 test results from 1 file(s)" in capsys.readouterr().out
    events = _stored(collector.out, 4, lambda e: e.WhichOneof("event") == "test_case" and e.test_case.run_id == "real-1")
    got = sorted((e.provider, e.test_case.suite, e.test_case.class_name, e.test_case.name, e.test_case.result,
                  e.test_case.duration.ToNanoseconds(), e.test_case.failure_message, e.test_case.attempt,
                  e.test_case.job_id) for e in events)
    assert got == [
        (pb.PROVIDER_GITHUB, "pytest", "tests.test_api", "test_errors", pb.TEST_RESULT_ERROR, 50_000_000,
         'failed on setup with "KeyError"', 2, "test"),
        (pb.PROVIDER_GITHUB, "pytest", "tests.test_api", "test_fails", pb.TEST_RESULT_FAIL, 200_000_000,
         "assert 1 == 2", 2, "test"),
        (pb.PROVIDER_GITHUB, "pytest", "tests.test_api", "test_ok", pb.TEST_RESULT_PASS, 100_000_000, "", 2, "test"),
        (pb.PROVIDER_GITHUB, "pytest", "tests.test_api", "test_skipped", pb.TEST_RESULT_SKIP, 0, "not on linux", 2,
         "test"),
    ]
