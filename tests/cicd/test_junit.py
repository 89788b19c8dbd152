"""JUnit XML from pytest (generated for real here), Maven Surefire and jest-junit to exact
TestCase events; reruns as every execution; safe parsing; the CI's own environment variables."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from google.protobuf.duration_pb2 import Duration
from google.protobuf.timestamp_pb2 import Timestamp

from summitcol.cicd.junit import JUnitParseError, RunContext, parse
from summitcol.cicd.model import build_pb2 as b

DATA = Path(__file__).parent.parent / "data" / "cicd" / "junit"
OBSERVED = datetime(2026, 12, 3, 12, 0, 0, tzinfo=UTC)
GITHUB_ENV = {
    "GITHUB_ACTIONS": "true", "GITHUB_RUN_ID": "30433642", "GITHUB_RUN_ATTEMPT": "2",
    "GITHUB_SHA": "d6fde92930d4715a2b49857d24b940956b26d2d3", "GITHUB_REF_NAME": "main", "GITHUB_REF_TYPE": "branch",
    "GITHUB_JOB": "test", "GITHUB_REPOSITORY": "acme/shop", "GITHUB_SERVER_URL": "https://github.com",
}

SAMPLE = textwrap.dedent('''\
    import pytest

    @pytest.fixture
    def broken():
        raise RuntimeError("no database")

    def test_pass():
        assert True

    def test_fail():
        assert 1 == 2

    def test_error(broken):
        pass

    def test_skip():
        pytest.skip("not on linux")

    @pytest.mark.xfail(reason="bug 12")
    def test_xfail():
        assert False

    @pytest.mark.parametrize("n", [1, 2])
    def test_param(n):
        assert n == 1

    class TestGroup:
        def test_method(self):
            pass
    ''')


def ts(text: str) -> Timestamp:
    stamp = Timestamp()
    stamp.FromDatetime(datetime.fromisoformat(text))
    return stamp


def run_pytest(tmp_path: Path, family: str) -> bytes:
    (tmp_path / "test_sample.py").write_text(SAMPLE)
    report = tmp_path / f"{family}.xml"
    subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "test_sample.py", f"--junitxml={report}", "-o", f"junit_family={family}",
         "-p", "no:cacheprovider", "-p", "no:randomly"],
        cwd=tmp_path, capture_output=True, check=False, timeout=120,
    )
    return report.read_bytes()


def outcomes(events: list[b.BuildEvent]) -> list[tuple[str, str, str, int, str, str]]:
    return [(e.test_case.suite, e.test_case.class_name, e.test_case.name, e.test_case.result,
             e.test_case.failure_message, e.test_case.failure_type) for e in events]


@pytest.mark.parametrize("family", ["xunit2", "xunit1"])
def test_pytest_report(tmp_path: Path, family: str) -> None:
    data = run_pytest(tmp_path, family)
    run = RunContext.from_env(GITHUB_ENV)
    events = parse(data, run=run, observed=OBSERVED)
    assert outcomes(events) == [
        ("pytest", "test_sample", "test_pass", b.TEST_RESULT_PASS, "", ""),
        ("pytest", "test_sample", "test_fail", b.TEST_RESULT_FAIL, "assert 1 == 2", ""),
        ("pytest", "test_sample", "test_error", b.TEST_RESULT_ERROR,
         'failed on setup with "RuntimeError: no database"', ""),
        ("pytest", "test_sample", "test_skip", b.TEST_RESULT_SKIP, "not on linux", "pytest.skip"),
        ("pytest", "test_sample", "test_xfail", b.TEST_RESULT_SKIP, "bug 12", "pytest.xfail"),
        ("pytest", "test_sample", "test_param[1]", b.TEST_RESULT_PASS, "", ""),
        ("pytest", "test_sample", "test_param[2]", b.TEST_RESULT_FAIL, "assert 2 == 1", ""),
        ("pytest", "test_sample.TestGroup", "test_method", b.TEST_RESULT_PASS, "", ""),
    ]
    # xunit1 adds file (and line) per case; xunit2 has none
    assert {e.test_case.file for e in events} == ({"test_sample.py"} if family == "xunit1" else {""})
    fail = events[1]
    assert fail.test_case.failure_detail.endswith("test_sample.py:11: AssertionError")
    assert "E       assert 1 == 2" in fail.test_case.failure_detail
    assert all(e.test_case.HasField("duration") for e in events)
    # the envelope and the run context
    assert fail.event_id.startswith("junit:") and fail.event_id.endswith(":1")
    assert (fail.provider, fail.provider_name, fail.observed_time) == (
        b.PROVIDER_GITHUB, "github", ts("2026-12-03T12:00:00+00:00"))
    assert fail.repository == b.Repository(url="https://github.com/acme/shop", name="shop", owner="acme")
    assert fail.head == b.VcsRef(name="main", type=b.REF_TYPE_BRANCH, revision="d6fde92930d4715a2b49857d24b940956b26d2d3")
    assert (fail.test_case.run_id, fail.test_case.attempt, fail.test_case.job_id) == ("30433642", 2, "test")


def test_surefire_reruns_are_every_execution() -> None:
    data = (DATA / "surefire_TEST-com.acme.shop.CheckoutTest.xml").read_bytes()
    events = parse(data, observed=OBSERVED)
    suite, cls = "com.acme.shop.CheckoutTest", "com.acme.shop.CheckoutTest"
    fail, error, ok, skip = b.TEST_RESULT_FAIL, b.TEST_RESULT_ERROR, b.TEST_RESULT_PASS, b.TEST_RESULT_SKIP
    assert outcomes(events) == [
        (suite, cls, "paysOnce", ok, "", ""),
        # flaky: failed, then passed on rerun -> both executions
        (suite, cls, "retriesPayment", fail, "expected: <2> but was: <1>", "org.opentest4j.AssertionFailedError"),
        (suite, cls, "retriesPayment", ok, "", ""),
        # failed every run: the failure and each rerun
        (suite, cls, "refunds", fail, "refund not recorded", "java.lang.AssertionError"),
        (suite, cls, "refunds", fail, "refund not recorded", "java.lang.AssertionError"),
        (suite, cls, "refunds", fail, "refund not recorded", "java.lang.AssertionError"),
        (suite, cls, "connectsToGateway", error, "Connection refused", "java.net.ConnectException"),
        (suite, cls, "exportsInvoices", skip, "@Disabled: invoices move to v2", ""),
    ]
    assert [e.test_case.duration for e in events[:6]] == [
        Duration(nanos=120_000_000), Duration(nanos=300_000_000), Duration(nanos=250_000_000),
        Duration(nanos=400_000_000), Duration(nanos=410_000_000), Duration(nanos=420_000_000)]
    assert events[1].test_case.failure_detail == (
        "org.opentest4j.AssertionFailedError: expected: <2> but was: <1>\n"
        "\tat com.acme.shop.CheckoutTest.retriesPayment(CheckoutTest.java:42)")
    assert [e.event_id.rsplit(":", 1)[1] for e in events] == [str(n) for n in range(8)]
    assert events[0].provider == b.PROVIDER_UNSPECIFIED and events[0].test_case.run_id == ""


JEST_SAMPLE = textwrap.dedent("""\
    describe("cart", () => {
      test("adds an item", () => { expect(1 + 1).toBe(2); });
      test("totals discounts", () => { expect(100).toBe(90); });
      test.skip("empties", () => {});
      describe("nested group", () => { test("keeps order", () => { expect([1, 2]).toEqual([1, 2]); }); });
    });
    describe("checkout", () => {
      test("throws", () => { throw new TypeError("card is undefined"); });
    });
    """)
JS_TOOLS = Path(__file__).resolve().parent.parent / "js" / "node_modules"


def run_jest(tmp_path: Path) -> bytes:
    """A real jest run with the jest-junit reporter (tests/js, installed by `make test`)."""
    assert (JS_TOOLS / "jest-junit").is_dir(), "the JavaScript test tools are missing: run `make test` (npm ci --prefix tests/js)"
    project = tmp_path / "jest-project"
    project.mkdir()
    (project / "cart.test.js").write_text(JEST_SAMPLE)
    (project / "package.json").write_text('{"name": "shop-web", "private": true}')
    report = tmp_path / "jest-junit.xml"
    subprocess.run(
        ["node", str(JS_TOOLS / "jest" / "bin" / "jest.js"), "--ci", "--rootDir", str(project),
         "--reporters=default", f"--reporters={JS_TOOLS / 'jest-junit'}"],
        cwd=project, capture_output=True, check=False, timeout=120, env={**os.environ, "JEST_JUNIT_OUTPUT_FILE": str(report)},
    )
    return report.read_bytes()


def test_a_real_jest_junit_report(tmp_path: Path) -> None:
    """jest-junit's defaults: one suite per file, named by its first describe; classname and name
    both "{describe} {title}"; the failure's first line as the message."""
    events = parse(run_jest(tmp_path), observed=OBSERVED)
    assert outcomes(events) == [
        ("cart", "cart adds an item", "cart adds an item", b.TEST_RESULT_PASS, "", ""),
        ("cart", "cart totals discounts", "cart totals discounts", b.TEST_RESULT_FAIL,
         "Error: expect(received).toBe(expected) // Object.is equality", ""),
        ("cart", "cart empties", "cart empties", b.TEST_RESULT_SKIP, "", ""),
        ("cart", "cart nested group keeps order", "cart nested group keeps order", b.TEST_RESULT_PASS, "", ""),
        ("cart", "checkout throws", "checkout throws", b.TEST_RESULT_FAIL, "TypeError: card is undefined", ""),
    ]
    assert "cart.test.js:3:" in events[1].test_case.failure_detail
    assert all(e.test_case.HasField("duration") for e in events)


SUREFIRE_PROJECT = Path(__file__).resolve().parent.parent / "java" / "surefire"


def run_surefire(tmp_path: Path) -> bytes:
    """A real Maven Surefire run (JUnit 5, rerunFailingTestsCount=2) of tests/java/surefire,
    offline: `make test` fetched its plugins into ~/.m2."""
    project = tmp_path / "surefire"
    shutil.copytree(SUREFIRE_PROJECT, project, ignore=shutil.ignore_patterns("target"))
    done = subprocess.run(["mvn", "-B", "-q", "-o", "test"], cwd=project, capture_output=True, text=True,
                          check=False, timeout=300)
    report = project / "target" / "surefire-reports" / "TEST-com.acme.shop.CheckoutTest.xml"
    assert report.exists(), f"mvn -o test wrote no report (run `make test` once online to fetch its plugins):\n{done.stdout}"
    return report.read_bytes()


def test_a_real_surefire_report_with_reruns(tmp_path: Path) -> None:
    """Every execution is a row: a flaky test's failed first run and its passing rerun, a failing
    test's three runs, an erroring test's three."""
    events = parse(run_surefire(tmp_path), observed=OBSERVED)
    assert sorted(outcomes(events)) == sorted([
        ("com.acme.shop.CheckoutTest", "com.acme.shop.CheckoutTest", "total", b.TEST_RESULT_PASS, "", ""),
        *[("com.acme.shop.CheckoutTest", "com.acme.shop.CheckoutTest", "discount", b.TEST_RESULT_FAIL,
           "discount applied ==> expected: <90> but was: <100>", "org.opentest4j.AssertionFailedError")] * 3,
        *[("com.acme.shop.CheckoutTest", "com.acme.shop.CheckoutTest", "crashes", b.TEST_RESULT_ERROR,
           "cart is empty", "java.lang.IllegalStateException")] * 3,
        ("com.acme.shop.CheckoutTest", "com.acme.shop.CheckoutTest", "flaky", b.TEST_RESULT_FAIL,
         "first run fails", "java.lang.AssertionError"),
        ("com.acme.shop.CheckoutTest", "com.acme.shop.CheckoutTest", "flaky", b.TEST_RESULT_PASS, "", ""),
        ("com.acme.shop.CheckoutTest", "com.acme.shop.CheckoutTest", "pay", b.TEST_RESULT_SKIP, "needs a payment sandbox", ""),
    ])
    crash = next(e for e in events if e.test_case.name == "crashes")
    assert "at com.acme.shop.CheckoutTest.crashes(CheckoutTest.java:13)" in crash.test_case.failure_detail


def test_jest_junit_report() -> None:
    events = parse((DATA / "jest-junit.xml").read_bytes(), observed=OBSERVED)
    assert outcomes(events) == [
        ("cart", "cart adds an item", "cart adds an item", b.TEST_RESULT_PASS, "", ""),
        # no message attribute: the first line of the text
        ("cart", "cart totals discounts", "cart totals discounts", b.TEST_RESULT_FAIL,
         "Error: expect(received).toBe(expected) // Object.is equality", ""),
        ("cart", "cart empties", "cart empties", b.TEST_RESULT_SKIP, "", ""),
        ("cart", "cart nested group keeps order", "cart nested group keeps order", b.TEST_RESULT_PASS, "", ""),
    ]
    detail = events[1].test_case.failure_detail
    assert detail.startswith("Error: expect(received).toBe(expected)")
    assert detail.endswith("Error: second assertion also failed")  # both <failure> texts
    assert events[1].test_case.duration == Duration(nanos=12_000_000)


def test_nested_suites_give_the_innermost_suite_and_its_file() -> None:
    events = parse((DATA / "nested.xml").read_bytes(), observed=OBSERVED)
    assert [(e.test_case.suite, e.test_case.name, e.test_case.file, e.test_case.duration) for e in events] == [
        ("api", "test_login", "tests/integration/api.py", Duration(seconds=1, nanos=500_000_000)),
        ("integration", "test_health", "tests/integration", Duration(nanos=250_000_000)),
    ]


def test_ten_thousand_cases(capsys: pytest.CaptureFixture[str]) -> None:
    cases = "".join(
        f'<testcase classname="pkg.mod{i // 100}" name="test_{i}" time="0.00{i % 10}">'
        + ('<failure message="boom" type="AssertionError">trace</failure>' if i % 97 == 0 else "")
        + "</testcase>"
        for i in range(10_000))
    data = f'<?xml version="1.0"?><testsuites><testsuite name="big" tests="10000">{cases}</testsuite></testsuites>'
    started = time.perf_counter()
    events = parse(data.encode(), observed=OBSERVED)
    elapsed_ms = (time.perf_counter() - started) * 1000
    with capsys.disabled():
        print(f"\n10,000 JUnit test cases ({len(data) // 1024} KiB) parsed in {elapsed_ms:.0f} ms")
    assert len(events) == 10_000
    assert sum(e.test_case.result == b.TEST_RESULT_FAIL for e in events) == 104  # 0, 97, ..., 9991
    assert events[9999].test_case.name == "test_9999" and events[9999].event_id.endswith(":9999")
    assert len({e.event_id for e in events}) == 10_000


def test_same_report_same_run_same_ids_other_run_other_ids() -> None:
    data = (DATA / "nested.xml").read_bytes()
    run = RunContext.from_env(GITHUB_ENV)
    first = parse(data, run=run, observed=OBSERVED)
    assert [e.event_id for e in parse(data, run=run, observed=OBSERVED)] == [e.event_id for e in first]
    other = RunContext.from_env(GITHUB_ENV | {"GITHUB_RUN_ATTEMPT": "3"})
    assert not {e.event_id for e in parse(data, run=other, observed=OBSERVED)} & {e.event_id for e in first}


def test_malformed_xml_names_line_and_column() -> None:
    with pytest.raises(JUnitParseError) as caught:
        parse(b'<testsuites>\n  <testsuite name="a">\n    <testcase name="x"></testsuite>\n</testsuites>',
              observed=OBSERVED)
    assert str(caught.value) == "malformed JUnit XML at line 3, column 26: mismatched tag"


def test_entities_are_refused_not_expanded() -> None:
    bomb = (b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]>'
            b'<testsuites><testsuite name="&lol2;"/></testsuites>')
    with pytest.raises(JUnitParseError, match=r"^unsafe JUnit XML refused \(EntitiesForbidden"):
        parse(bomb, observed=OBSERVED)
    external = (b'<?xml version="1.0"?><!DOCTYPE t [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
                b'<testsuites><testsuite name="&x;"/></testsuites>')
    with pytest.raises(JUnitParseError, match=r"^unsafe JUnit XML refused"):
        parse(external, observed=OBSERVED)


def test_not_a_junit_report() -> None:
    with pytest.raises(JUnitParseError) as caught:
        parse(b"<html><body/></html>", observed=OBSERVED)
    assert str(caught.value) == ("not a JUnit report: the root element is <html>, expected <testsuites> or "
                                 "<testsuite>")


@pytest.mark.parametrize(("environ", "expected"), [
    (GITHUB_ENV, RunContext(provider=b.PROVIDER_GITHUB, provider_name="github", run_id="30433642", attempt=2,
                            job_id="test", revision="d6fde92930d4715a2b49857d24b940956b26d2d3", branch="main",
                            repository="https://github.com/acme/shop", ref_type=b.REF_TYPE_BRANCH)),
    ({"GITLAB_CI": "true", "CI_PIPELINE_ID": "901", "CI_JOB_ID": "5002", "CI_COMMIT_SHA": "e2653ebf" + "0" * 32,
      "CI_COMMIT_REF_NAME": "feature/retry", "CI_PROJECT_URL": "https://gitlab.example.com/acme/platform/shop"},
     RunContext(provider=b.PROVIDER_GITLAB, provider_name="gitlab", run_id="901", job_id="5002",
                revision="e2653ebf" + "0" * 32, branch="feature/retry",
                repository="https://gitlab.example.com/acme/platform/shop", ref_type=b.REF_TYPE_BRANCH)),
    ({"CIRCLECI": "true", "CIRCLE_WORKFLOW_ID": "fda08377-fe7e-46b1-8992-3a7aaecac9c3", "CIRCLE_BUILD_NUM": "136",
      "CIRCLE_SHA1": "1dc6aa69429bff4806ad6afe58d3d8f57e25973e", "CIRCLE_BRANCH": "main",
      "CIRCLE_REPOSITORY_URL": "git@github.com:acme/webhook-service.git"},
     RunContext(provider=b.PROVIDER_CIRCLECI, provider_name="circleci", run_id="fda08377-fe7e-46b1-8992-3a7aaecac9c3",
                job_id="136", revision="1dc6aa69429bff4806ad6afe58d3d8f57e25973e", branch="main",
                repository="https://github.com/acme/webhook-service", ref_type=b.REF_TYPE_BRANCH)),
    ({"JENKINS_URL": "https://ci.example.com/", "BUILD_ID": "77", "BUILD_NUMBER": "77", "JOB_NAME": "shop/main",
      "GIT_COMMIT": "abc", "GIT_BRANCH": "origin/main", "GIT_URL": "https://github.com/acme/shop.git"},
     RunContext(provider=b.PROVIDER_JENKINS, provider_name="jenkins", run_id="77", pipeline="shop/main",
                revision="abc", branch="main", repository="https://github.com/acme/shop", ref_type=b.REF_TYPE_BRANCH)),
    ({"HOME": "/root"}, None),
])
def test_run_context_from_env(environ: dict[str, str], expected: RunContext | None) -> None:
    assert RunContext.from_env(environ) == expected
