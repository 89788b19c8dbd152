"""JUnit XML test reports (pytest xunit1/xunit2, Maven Surefire, jest-junit, nested suites) to
TestCase build events, one per test case *execution*.

Reports come from CI jobs, so they are untrusted: they are parsed with defusedxml (no entity
expansion, no external entities or DTD fetches), incrementally (iterparse, each <testcase>
dropped once read) so a 10,000-case report stays small in memory. Malformed XML raises
JUnitParseError naming the line and column.

Reruns: Surefire's `rerunFailingTestsCount` writes a test that failed and then passed as one
<testcase> with `flakyFailure`/`flakyError` children, and one that failed every time with
`failure`/`error` plus `rerunFailure`/`rerunError`. Both become every execution: the failing
ones and (for a flaky test) the passing one, so flaky-test detection sees the flip inside one run.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from xml.etree.ElementTree import Element, ParseError

import defusedxml.ElementTree as safe_etree
from defusedxml import DefusedXmlException
from google.protobuf.duration_pb2 import Duration

from summitcol.cicd import payload as p
from summitcol.cicd.model import build_pb2 as b

_RERUN_FAILED = {"rerunFailure": b.TEST_RESULT_FAIL, "rerunError": b.TEST_RESULT_ERROR}
_FLAKY_FAILED = {"flakyFailure": b.TEST_RESULT_FAIL, "flakyError": b.TEST_RESULT_ERROR}


class JUnitParseError(ValueError):
    """A file that is not well-formed, safe JUnit XML; the message says where."""


@dataclass(frozen=True, slots=True, kw_only=True)
class RunContext:
    """The CI run a report was produced in: tags every TestCase so it joins its run and job."""

    provider: int = b.PROVIDER_UNSPECIFIED  # summit.build.v1.Provider
    provider_name: str = ""
    run_id: str = ""
    attempt: int = 1
    job_id: str = ""
    revision: str = ""
    branch: str = ""
    repository: str = ""  # the repository's URL
    ref_type: int = b.REF_TYPE_UNSPECIFIED
    pipeline: str = ""  # Jenkins JOB_NAME: its build numbers are per job

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> RunContext | None:
        """The run the CI's own variables describe (GitHub Actions, GitLab CI, CircleCI, Jenkins),
        or None outside CI.

        GitHub's GITHUB_JOB is the job's key in the workflow file, not the numeric workflow_job
        id the webhooks carry (Actions exposes no variable with that id)."""
        env = environ.get
        if env("GITHUB_RUN_ID"):
            server = env("GITHUB_SERVER_URL", "https://github.com").rstrip("/")
            repo = env("GITHUB_REPOSITORY", "")
            return cls(provider=b.PROVIDER_GITHUB, provider_name="github", run_id=env("GITHUB_RUN_ID", ""),
                       attempt=_int(env("GITHUB_RUN_ATTEMPT")), job_id=env("GITHUB_JOB", ""),
                       revision=env("GITHUB_SHA", ""), branch=env("GITHUB_REF_NAME", ""),
                       repository=f"{server}/{repo}" if repo else "",
                       ref_type=_ref_type(env("GITHUB_REF_TYPE", "")))
        if env("CI_PIPELINE_ID"):
            return cls(provider=b.PROVIDER_GITLAB, provider_name="gitlab", run_id=env("CI_PIPELINE_ID", ""),
                       job_id=env("CI_JOB_ID", ""), revision=env("CI_COMMIT_SHA", ""),
                       branch=env("CI_COMMIT_REF_NAME", ""), repository=env("CI_PROJECT_URL", ""),
                       ref_type=b.REF_TYPE_TAG if env("CI_COMMIT_TAG") else b.REF_TYPE_BRANCH)
        if env("CIRCLE_WORKFLOW_ID"):
            return cls(provider=b.PROVIDER_CIRCLECI, provider_name="circleci", run_id=env("CIRCLE_WORKFLOW_ID", ""),
                       job_id=env("CIRCLE_BUILD_NUM", ""), revision=env("CIRCLE_SHA1", ""),
                       branch=env("CIRCLE_TAG") or env("CIRCLE_BRANCH", ""),
                       repository=p.repository_from_url(env("CIRCLE_REPOSITORY_URL", "")).url,
                       ref_type=b.REF_TYPE_TAG if env("CIRCLE_TAG") else b.REF_TYPE_BRANCH)
        if env("BUILD_ID") or env("BUILD_NUMBER"):
            branch = env("GIT_BRANCH", "")
            return cls(provider=b.PROVIDER_JENKINS, provider_name="jenkins",
                       run_id=env("BUILD_ID") or env("BUILD_NUMBER", ""), pipeline=env("JOB_NAME", ""),
                       revision=env("GIT_COMMIT", ""), branch=branch.removeprefix("origin/"),
                       repository=p.repository_from_url(env("GIT_URL", "")).url,
                       ref_type=b.REF_TYPE_BRANCH if branch else b.REF_TYPE_UNSPECIFIED)
        return None


def parse(data: bytes, *, run: RunContext | None = None, observed: datetime) -> list[b.BuildEvent]:
    """The TestCase events of one JUnit XML report, in file order.

    event_id = junit:{digest}:{n}, the digest over the run and the file's bytes, so uploading the
    same report for the same run again gives the same ids."""
    run = run or RunContext()
    digest = hashlib.sha256(
        f"{run.provider_name}\0{run.run_id}\0{run.attempt}\0{run.job_id}\0".encode() + data).hexdigest()[:16]
    envelope = b.BuildEvent(
        observed_time=p.timestamp(observed),
        provider=run.provider,  # type: ignore[arg-type]
        provider_name=run.provider_name,
        repository=p.repository_from_url(run.repository) if run.repository else b.Repository(),
        head=b.VcsRef(name=run.branch, type=run.ref_type, revision=run.revision),  # type: ignore[arg-type]
        attributes={"cicd.pipeline.name": run.pipeline} if run.pipeline else {},
    )
    base = b.TestCase(run_id=run.run_id, attempt=run.attempt, job_id=run.job_id)
    events: list[b.BuildEvent] = []
    suites: list[Element] = []
    try:
        for kind, element in safe_etree.iterparse(io.BytesIO(data), events=("start", "end")):
            tag = element.tag
            if kind == "start":
                if not suites and not events and tag not in ("testsuites", "testsuite") and tag != "testcase":
                    raise JUnitParseError(f"not a JUnit report: the root element is <{tag}>, "
                                          "expected <testsuites> or <testsuite>")
                if tag in ("testsuites", "testsuite"):
                    suites.append(element)
            elif tag == "testcase":
                for case in _executions(element, suites, base):
                    event = b.BuildEvent()
                    event.CopyFrom(envelope)
                    event.event_id = f"junit:{digest}:{len(events)}"
                    event.test_case.CopyFrom(case)
                    events.append(event)
                element.clear()
            elif tag in ("testsuites", "testsuite"):
                suites.pop()
                element.clear()
    except ParseError as error:
        line, column = error.position
        raise JUnitParseError(f"malformed JUnit XML at line {line}, column {column + 1}: "
                              f"{str(error).split(':')[0]}") from None
    except DefusedXmlException as error:
        raise JUnitParseError(f"unsafe JUnit XML refused ({type(error).__name__}: {error}); "
                              "reports may not declare entities or reference external ones") from None
    return events


def _executions(case: Element, suites: list[Element], base: b.TestCase) -> list[b.TestCase]:
    """The executions one <testcase> records, in the order they ran."""
    suite = next((s for s in reversed(suites) if s.tag == "testsuite"), suites[-1] if suites else None)
    template = b.TestCase()
    template.CopyFrom(base)
    template.suite = suite.get("name", "") if suite is not None else ""
    template.class_name = case.get("classname", "")
    template.name = case.get("name", "")
    template.file = case.get("file") or (suite.get("file", "") if suite is not None else "")

    failures = [c for c in case if c.tag == "failure"]
    errors = [c for c in case if c.tag == "error"]
    skipped = [c for c in case if c.tag == "skipped"]
    flaky = [c for c in case if c.tag in _FLAKY_FAILED]
    reruns = [c for c in case if c.tag in _RERUN_FAILED]

    primary = _copy(template)
    _set_duration(primary, case.get("time"))
    if failures:
        _set_outcome(primary, b.TEST_RESULT_FAIL, failures)
    elif errors:
        _set_outcome(primary, b.TEST_RESULT_ERROR, errors)
    elif skipped:
        _set_outcome(primary, b.TEST_RESULT_SKIP, skipped)
    else:
        primary.result = b.TEST_RESULT_PASS

    before = [_rerun(template, element, _FLAKY_FAILED[element.tag]) for element in flaky]
    after = [_rerun(template, element, _RERUN_FAILED[element.tag]) for element in reruns]
    return [*before, primary, *after]


def _rerun(template: b.TestCase, element: Element, result: int) -> b.TestCase:
    execution = _copy(template)
    _set_duration(execution, element.get("time"))
    execution.result = result  # type: ignore[assignment]
    execution.failure_message = element.get("message", "") or _first_line(_stack_trace(element))
    execution.failure_type = element.get("type", "")
    execution.failure_detail = _stack_trace(element)
    return execution


def _set_outcome(case: b.TestCase, result: int, elements: list[Element]) -> None:
    """jest-junit writes one <failure> per failure message and no message attribute: the message
    is then the text's first line, the detail every text."""
    first = elements[0]
    case.result = result  # type: ignore[assignment]
    texts = [(e.text or "").strip() for e in elements]
    case.failure_detail = "\n\n".join(t for t in texts if t)
    case.failure_message = first.get("message", "") or _first_line(case.failure_detail)
    case.failure_type = first.get("type", "")


def _stack_trace(element: Element) -> str:
    """Surefire's rerun/flaky elements keep the trace in a <stackTrace> child."""
    trace = element.find("stackTrace")
    return ((trace.text if trace is not None else element.text) or "").strip()


def _set_duration(case: b.TestCase, seconds: str | None) -> None:
    if not seconds:
        return
    try:
        value = Decimal(seconds.replace(",", ""))
    except InvalidOperation:
        return  # a tool's bad time is no reason to lose the test
    if not value.is_finite() or value < 0:
        return
    nanos = int(value * 1_000_000_000)
    case.duration.CopyFrom(Duration(seconds=nanos // 1_000_000_000, nanos=nanos % 1_000_000_000))


def _copy(case: b.TestCase) -> b.TestCase:
    out = b.TestCase()
    out.CopyFrom(case)
    return out


def _first_line(text: str) -> str:
    return next((line.strip() for line in text.splitlines() if line.strip()), "")


def _int(value: Any) -> int:
    try:
        return max(1, int(value))
    except (TypeError, ValueError):
        return 1


def _ref_type(value: str) -> int:
    return {"branch": b.REF_TYPE_BRANCH, "tag": b.REF_TYPE_TAG}.get(value, b.REF_TYPE_UNSPECIFIED)
