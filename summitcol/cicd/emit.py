"""The spans `summitcol ci` sends: a step (`ci exec`), a deployment (`ci deploy`), test cases
(`ci junit`), shaped so that `cicd.spans.recognize` turns them back into the same BuildEvents.

They are made with the official OpenTelemetry Python SDK and sent with its OTLP/HTTP (protobuf)
exporter, called directly rather than through a background processor, so that a failed send is
seen and reported (exit 1 naming the URL and the cause) instead of logged and dropped.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from opentelemetry import context as otel_context
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import SpanExportResult
from opentelemetry.trace import SpanKind, Status, StatusCode
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from summitcol.cicd import spans as names
from summitcol.cicd.model import build_pb2 as pb

SERVICE_NAME = "summitcol-ci"
DEFAULT_BATCH = 1000  # test spans per OTLP request from `ci junit`
DEFAULT_TIMEOUT_S = 10.0
_EXPORTER_LOGGER = "opentelemetry.exporter.otlp.proto.http.trace_exporter"
_PROPAGATOR = TraceContextTextMapPropagator()


class SendError(RuntimeError):
    """The collector did not take the spans: names the URL and the cause."""


class RunLike(Protocol):
    """What `cicd.junit.RunContext` gives (provider name, run, attempt, job, revision, branch, repository)."""

    provider_name: str
    run_id: str
    attempt: int
    job_id: str
    revision: str
    branch: str
    repository: str


def traces_url(endpoint: str | None, environ: Mapping[str, str]) -> str:
    """The OTLP/HTTP traces URL: --endpoint or OTEL_EXPORTER_OTLP_ENDPOINT (a base URL, /v1/traces
    appended as the SDK does), or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT used as it is."""
    if not endpoint and environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"):
        return environ["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"]
    base = endpoint or environ.get("OTEL_EXPORTER_OTLP_ENDPOINT", "")
    if not base:
        raise SendError("no endpoint: pass --endpoint http://COLLECTOR:4318 or set OTEL_EXPORTER_OTLP_ENDPOINT")
    if "://" not in base:
        base = f"http://{base}"
    base = base.rstrip("/")
    return base if base.endswith("/v1/traces") else f"{base}/v1/traces"


def resource_attributes(run: RunLike | None, service: str = SERVICE_NAME) -> dict[str, Any]:
    attrs: dict[str, Any] = {"service.name": service}
    if run is None:
        return attrs
    pairs = ((names.SUMMIT_PROVIDER, run.provider_name), ("cicd.pipeline.run.id", run.run_id),
             (names.SUMMIT_ATTEMPT, run.attempt or 0), ("vcs.ref.head.revision", run.revision),
             ("vcs.ref.head.name", run.branch), ("vcs.repository.url.full", run.repository))
    return attrs | {key: value for key, value in pairs if value}


class _Collect(SpanProcessor):
    """Keeps ended spans for an explicit, checked export."""

    def __init__(self) -> None:
        self.spans: list[ReadableSpan] = []

    def on_end(self, span: ReadableSpan) -> None:
        self.spans.append(span)


class _Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


@dataclass
class Sender:
    """A tracer whose spans are kept until `flush` sends them, in batches, and checks each send."""

    url: str
    resource: dict[str, Any]
    timeout: float = DEFAULT_TIMEOUT_S

    def __post_init__(self) -> None:
        self._collect = _Collect()
        self.provider = TracerProvider(resource=Resource.create(self.resource))
        self.provider.add_span_processor(self._collect)
        self.tracer = self.provider.get_tracer("summitcol.ci")
        self._exporter = OTLPSpanExporter(endpoint=self.url, timeout=self.timeout)
        self.sent = 0

    def flush(self, batch: int = DEFAULT_BATCH, progress: Callable[[int], None] | None = None) -> int:
        pending, self._collect.spans = self._collect.spans, []
        capture = _Capture()
        logger = logging.getLogger(_EXPORTER_LOGGER)
        logger.addHandler(capture)
        try:
            for start in range(0, len(pending), batch):
                chunk = pending[start:start + batch]
                if self._exporter.export(chunk) is not SpanExportResult.SUCCESS:
                    # The first message names the cause (connection refused, HTTP 4xx); the last only
                    # says that retries ran out.
                    cause = capture.messages[0] if capture.messages else "the export failed"
                    raise SendError(f"could not send spans to {self.url}: {cause}; is a collector with an "
                                    "OTLP/HTTP receiver listening there? (--endpoint)")
                self.sent += len(chunk)
                if progress is not None:
                    progress(self.sent)
        finally:
            logger.removeHandler(capture)
        return len(pending)

    def shutdown(self) -> None:
        self._exporter.shutdown()
        self.provider.shutdown()


def incoming_context(environ: Mapping[str, str]) -> otel_context.Context:
    """The parent from TRACEPARENT/TRACESTATE (the environment-carrier convention), if any."""
    carrier = {k.lower(): environ[k] for k in ("TRACEPARENT", "TRACESTATE") if environ.get(k)}
    return _PROPAGATOR.extract(carrier)


def child_environment(environ: Mapping[str, str], ctx: otel_context.Context) -> dict[str, str]:
    """A copy of the environment with TRACEPARENT/TRACESTATE for `ctx` (uppercase keys)."""
    carrier: dict[str, str] = {}
    _PROPAGATOR.inject(carrier, context=ctx)
    env = {k: v for k, v in environ.items() if k not in ("TRACEPARENT", "TRACESTATE")}
    env.update({k.upper(): v for k, v in carrier.items()})
    return env


def run_step(sender: Sender, name: str, command: Sequence[str], run: RunLike | None,
             environ: Mapping[str, str], spawn: Callable[[Sequence[str], dict[str, str]], int]) -> int:
    """Run `command` inside a step span (span.cicd.pipeline.task.internal); the child's exit code."""
    parent = incoming_context(environ)
    span = sender.tracer.start_span(name, context=parent, kind=SpanKind.INTERNAL)
    span_id = f"{span.get_span_context().span_id:016x}"
    span.set_attributes({
        "cicd.pipeline.task.name": name, "cicd.pipeline.task.run.id": span_id,
        "cicd.pipeline.task.run.url.full": "", names.SUMMIT_TASK_KIND: "step",
        "process.command_args": list(command),
    })
    if run is not None and run.job_id:
        span.set_attribute(names.SUMMIT_JOB_ID, run.job_id)
    from opentelemetry import trace

    ctx = trace.set_span_in_context(span, parent)
    try:
        code = spawn(command, child_environment(environ, ctx))
    except OSError as exc:
        code = 127 if isinstance(exc, FileNotFoundError) else 126
        span.set_attribute("error.type", type(exc).__name__)
        span.set_status(Status(StatusCode.ERROR, str(exc)))
        span.set_attribute("cicd.pipeline.task.run.result", "error")
        span.end()
        raise
    span.set_attribute("process.exit.code", code)
    span.set_attribute("cicd.pipeline.task.run.result", "success" if code == 0 else "failure")
    if code != 0:
        span.set_attribute("error.type", str(code))
        span.set_status(Status(StatusCode.ERROR, f"exit code {code}"))
    span.end()
    return code


def deployment_span(sender: Sender, *, service: str, environment: str, version: str, revision: str,
                    status: str, deployment_id: str, environ: Mapping[str, str], run: RunLike | None) -> None:
    """One deployment span (what `recognize` reads as a Deployment)."""
    span = sender.tracer.start_span(f"deploy {service}", context=incoming_context(environ), kind=SpanKind.INTERNAL)
    attrs: dict[str, Any] = {"deployment.status": status, "deployment.environment.name": environment,
                             "vcs.ref.head.revision": revision}
    if deployment_id:
        attrs["deployment.id"] = deployment_id
    if run is not None and run.job_id:
        attrs[names.SUMMIT_JOB_ID] = run.job_id
    span.set_attributes(attrs)
    if status == "failed":
        span.set_status(Status(StatusCode.ERROR, "deployment failed"))
    span.end()


_RESULT_STATUS = {pb.TEST_RESULT_PASS: ("pass", "pass"), pb.TEST_RESULT_FAIL: ("fail", "fail"),
                  pb.TEST_RESULT_ERROR: ("fail", "error"), pb.TEST_RESULT_SKIP: ("", "skip")}


def test_case_spans(sender: Sender, events: Iterable[pb.BuildEvent], environ: Mapping[str, str], now_ns: int) -> None:
    """One span per TestCase: start = its start (the suite timestamp), duration = its time."""
    parent = incoming_context(environ)
    for event in events:
        case = event.test_case
        start = case.started_time.ToNanoseconds() if case.HasField("started_time") else now_ns
        span = sender.tracer.start_span(case.name, context=parent, kind=SpanKind.INTERNAL, start_time=start)
        semconv, summit = _RESULT_STATUS.get(case.result, ("", ""))
        pairs = (("test.suite.name", case.suite), ("test.case.result.status", semconv),
                 (names.SUMMIT_TEST_RESULT, summit), (names.SUMMIT_TEST_CLASS, case.class_name),
                 (names.SUMMIT_TEST_FILE, case.file), (names.SUMMIT_TEST_MESSAGE, case.failure_message),
                 (names.SUMMIT_TEST_FAILURE_TYPE, case.failure_type),
                 (names.SUMMIT_TEST_FAILURE_DETAIL, case.failure_detail),
                 (names.SUMMIT_JOB_ID, case.job_id))
        span.set_attributes({"test.case.name": case.name} | {key: value for key, value in pairs if value})
        if case.result in (pb.TEST_RESULT_FAIL, pb.TEST_RESULT_ERROR):
            span.set_status(Status(StatusCode.ERROR, case.failure_message))
        span.end(end_time=start + case.duration.ToNanoseconds())


def environment() -> dict[str, str]:
    return dict(os.environ)
