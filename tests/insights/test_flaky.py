"""The flaky test radar end to end: JUnit reports uploaded to a real collector's gitlab receiver
(`/junit`, the way a CI job uploads them) land in tests_v1; `summitcol flaky` ranks the tests that
passed and failed on the same commit. The expected answers are worked out by hand below.

Uploads, in order (F fail, P pass, E error, S skip), five runs over five commits, runs 1 and 2
re-run (attempt 2):

    test            c1/r1a1 c1/r1a2 c2/r2a1 c2/r2a2 c3/r3 c4/r4 c5/r5
    test_flaky        F       P       F       P       P     F     P
    test_sometimes    P       P       E       P       P     P     P
    test_healed       F       P       P       P       P     P     P
    test_broken       F       F       F       F       F     F     F
    test_skipped      S       P       P       P       P     P     P

- test_flaky: flaky on c1 and c2; 7 executions, 3 failures (rate 3/7 = 0.4286), failed in runs r1,
  r2, r4 (impact 3); flips F→P→F→P→P→F→P: 5 of 6 (0.8333); 1 pass since its last failure.
- test_sometimes: flaky on c2 (an error counts as a failure); 1 failure of 7 (0.1429), impact 1,
  flips 2 of 6 (0.3333), 4 passes since: still flaky with the default 5, cleared with 4.
- test_healed: flaky on c1, then 6 passes in a row: cleared.
- test_broken fails every time and test_skipped never failed: neither is flaky.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import requests

from tests.helpers import Collector, free_port, wait_for

TOKEN = "glpat-flaky"
HISTORY = {  # test -> outcome per upload, in upload order
    "test_flaky": "FPFPPFP",
    "test_sometimes": "PPEPPPP",
    "test_healed": "FPPPPPP",
    "test_broken": "FFFFFFF",
    "test_skipped": "SPPPPPP",
}
UPLOADS = [("c1", "r1", 1), ("c1", "r1", 2), ("c2", "r2", 1), ("c2", "r2", 2), ("c3", "r3", 1), ("c4", "r4", 1), ("c5", "r5", 1)]
ELEMENT = {"F": "<failure message='assert False'>trace</failure>", "E": "<error message='boom'>trace</error>",
           "S": "<skipped/>", "P": ""}


def report(index: int) -> bytes:
    cases = "".join(f'<testcase classname="tests.test_cart" name="{name}" time="0.01">{ELEMENT[outcomes[index]]}</testcase>'
                    for name, outcomes in HISTORY.items())
    return f'<testsuites><testsuite name="pytest">{cases}</testsuite></testsuites>'.encode()


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    tmp = tmp_path_factory.mktemp("flaky")
    hook_port, ch_port = free_port(), free_port()
    config = f"""
receivers:
  gitlab:
    webhook:
      endpoint: 127.0.0.1:{hook_port}
      secret: {TOKEN}
exporters:
  clickhouse:
    storage: chdb
    sending_queue: {{num_consumers: 1}}
extensions:
  chdb:
    path: {tmp / "clickhouse"}
    http:
      endpoint: 127.0.0.1:{ch_port}
service:
  telemetry: {{metrics: {{level: none}}}}
  extensions: [chdb]
  pipelines:
    traces: {{receivers: [gitlab], exporters: [clickhouse]}}
"""
    with Collector(tmp, config) as collector:
        for index, (commit, run, attempt) in enumerate(UPLOADS):
            reply = requests.post(f"http://127.0.0.1:{hook_port}/junit?run_id={run}&attempt={attempt}&job=test&revision={commit}",
                                  data=report(index), headers={"X-Gitlab-Token": TOKEN, "Content-Type": "application/xml"},
                                  timeout=30)
            assert reply.status_code == 200, reply.text
        count = f"http://127.0.0.1:{ch_port}/?query=SELECT+count()+FROM+otel.tests_v1"
        assert wait_for(lambda: requests.get(count, timeout=10).text.strip() == str(len(HISTORY) * len(UPLOADS)), timeout=60)
        yield collector, ch_port


def flaky(port: int, *options: str) -> list[dict]:  # type: ignore[type-arg]
    done = subprocess.run([sys.executable, "-m", "summitcol.cli", "flaky", "--endpoint", f"127.0.0.1:{port}", "--format", "json",
                           *options], capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    return [json.loads(line) for line in done.stdout.splitlines()]


def test_the_radar_ranks_the_flaky_tests(store) -> None:  # type: ignore[no-untyped-def]
    _, port = store
    rows = flaky(port)
    assert [(r["Name"], r["Executions"], r["Failures"], r["FlakeRate"], r["FailedRuns"], r["FlakyCommits"], r["FlipRate"],
             r["PassesSinceFailure"]) for r in rows] == [
        ("test_flaky", 7, 3, 0.4286, 3, 2, 0.8333, 1),
        ("test_sometimes", 7, 1, 0.1429, 1, 1, 0.3333, 4),
    ]
    assert {(r["Suite"], r["ClassName"]) for r in rows} == {("pytest", "tests.test_cart")}


def test_clear_after_and_the_window(store) -> None:  # type: ignore[no-untyped-def]
    _, port = store
    assert [r["Name"] for r in flaky(port, "--clear-after", "4")] == ["test_flaky"]
    assert [r["Name"] for r in flaky(port, "--clear-after", "7")] == ["test_flaky", "test_healed", "test_sometimes"]  # a tie at 1/7 and 1 run: by name
    assert flaky(port, "--since", "0d") == []


def test_a_window_in_other_units_is_refused(store) -> None:  # type: ignore[no-untyped-def]
    _, port = store
    done = subprocess.run([sys.executable, "-m", "summitcol.cli", "flaky", "--endpoint", f"127.0.0.1:{port}", "--since", "2w"],
                          capture_output=True, text=True, timeout=60, check=False)
    assert (done.returncode, done.stderr.strip()) == (1, "summitcol flaky: --since '2w': expected days, e.g. 14d")
