"""The `github` receiver on a real aiohttp server on 127.0.0.1: signatures, status codes,
redelivery, and what reaches the traces consumer (spans + build rows as side rows).

The helpers here (`running`, `post`, `Sink`) are shared with the gitlab and circleci tests.
"""

from __future__ import annotations

import asyncio
import dataclasses
import gzip
import hashlib
import hmac
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import aiohttp
import pytest

from summitcol.component import ComponentID, CreateSettings, Factory, Signal
from summitcol.exceptions import RetryableError
from summitcol.pdata.signal import SPANS, SignalData
from summitcol.receiver.github import factory as github_factory
from summitcol.receiver.webhook.receiver import WebhookReceiver
from summitcol.receiver.webhook.signatures import check_github, hmac_sha256_hex
from summitcol.telemetry import Telemetry

DATA = Path(__file__).resolve().parent.parent / "data" / "cicd" / "github"
SECRET = "It's a Secret to Everybody"


class Host:
    def extension(self, id_):  # type: ignore[no-untyped-def]
        raise KeyError(id_)

    def pipelines_ready(self) -> bool:
        return True


class Sink:
    """A traces consumer that keeps what it gets, or refuses with `fail`."""

    def __init__(self) -> None:
        self.items: list[SignalData] = []
        self.fail: Exception | None = None

    async def consume(self, data: SignalData) -> None:
        if self.fail is not None:
            raise self.fail
        self.items.append(data)


@dataclasses.dataclass
class Running:
    url: str
    receiver: WebhookReceiver
    sink: Sink
    telemetry: Telemetry


@asynccontextmanager
async def running(factory: Factory, **webhook: Any) -> AsyncIterator[Running]:
    hook_type = {f.name: f for f in dataclasses.fields(factory.config_type)}["webhook"].default_factory  # type: ignore[misc]
    config = factory.config_type(webhook=hook_type(endpoint="127.0.0.1:0", **webhook))
    config.validate()
    telemetry, sink = Telemetry(), Sink()
    settings = CreateSettings(id=ComponentID(factory.type), telemetry=telemetry, signals=factory.signals)
    receiver = factory.create(settings, config, consumers={Signal.TRACES: sink})
    await receiver.start(Host())
    try:
        yield Running(f"http://127.0.0.1:{receiver.port}", receiver, sink, telemetry)
    finally:
        await receiver.shutdown()


async def post(url: str, body: bytes, headers: dict[str, str], method: str = "POST") -> tuple[int, dict[str, str], bytes]:
    async with aiohttp.ClientSession() as session, session.request(method, url, data=body, headers=headers) as response:
        return response.status, dict(response.headers), await response.read()


def github_headers(event: str, body: bytes, delivery: str, secret: str | None = SECRET) -> dict[str, str]:
    headers = {"X-GitHub-Event": event, "X-GitHub-Delivery": delivery, "Content-Type": "application/json",
               "User-Agent": "GitHub-Hookshot/abc123"}
    if secret is not None:
        headers["X-Hub-Signature-256"] = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return headers


def fixture(name: str) -> bytes:
    return (DATA / name).read_bytes()


def refused(telemetry: Telemetry, receiver: str, reason: str) -> float:
    return telemetry.value("summitcol_receiver_refused_requests_total", receiver=receiver, transport="http", reason=reason)


def test_the_documented_signature_vector() -> None:
    """github/docs validating-webhook-deliveries: secret and body → this sha256= header."""
    digest = "757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
    assert hmac_sha256_hex(SECRET, b"Hello, World!") == digest
    assert check_github(SECRET, f"sha256={digest}", b"Hello, World!") is None
    assert check_github(SECRET, f"sha256={digest}", b"Hello, World?") is not None
    assert check_github(SECRET, f"sha1={digest}", b"Hello, World!") == "X-Hub-Signature-256 is not of the form sha256=<hex>"


def test_a_signed_completed_job_becomes_spans_and_build_rows() -> None:
    async def scenario() -> None:
        async with running(github_factory.FACTORY, secret=SECRET) as r:
            body = fixture("job-test-completed.json")
            status, headers, reply = await post(r.url + "/events", body, github_headers("workflow_job", body, "guid-1"))
            assert (status, json.loads(reply)) == (200, {"spans": 8, "events": 7})
            assert headers["Content-Type"] == "application/json"
            [data] = r.sink.items
            assert data.signal is Signal.TRACES
            spans = data.tables[SPANS]
            assert spans.num_rows == 8
            assert set(spans.column("TraceId").to_pylist()) == {hashlib.sha256(b"91000000011t").hexdigest()[:32]}
            assert spans.column("SpanName").to_pylist()[:2] == ["test", "queue-test"]
            builds = data.side["metrics_build_v1"]
            rows = builds.to_pylist()
            assert [(row["Level"], row["StepName"], row["Result"]) for row in rows] == [
                ("job", "", "failure"), ("step", "Set up job", "success"), ("step", "Restore cache", "success"),
                ("step", "Run tests", "failure"), ("step", "Upload coverage", "skip"),
                ("step", "Restore cache-1", "success"), ("step", "Complete job", "success"),
            ]
            assert rows[0]["QueueDuration"] == 60 * 10**9
            assert r.telemetry.value("summitcol_receiver_webhook_deliveries_total", receiver="github",
                                     event="workflow_job", outcome="accepted") == 1

    asyncio.run(scenario())


def test_wrong_or_missing_signature_is_401_and_nothing_is_stored() -> None:
    async def scenario() -> None:
        async with running(github_factory.FACTORY, secret=SECRET) as r:
            body = fixture("job-build-completed.json")
            wrong = github_headers("workflow_job", body, "guid-2", secret="not the secret")
            status, _, reply = await post(r.url + "/events", body, wrong)
            assert (status, json.loads(reply)["error"]) == (
                401, "X-Hub-Signature-256 does not match the body; the webhook's secret differs from the receiver's")
            missing = github_headers("workflow_job", body, "guid-2", secret=None)
            status, _, reply = await post(r.url + "/events", body, missing)
            assert (status, json.loads(reply)["error"]) == (
                401, "X-Hub-Signature-256 is missing; set the webhook's secret in GitHub to the receiver's")
            tampered = github_headers("workflow_job", body, "guid-2")
            status, _, _ = await post(r.url + "/events", body.replace(b'"success"', b'"failure"', 1), tampered)
            assert status == 401
            assert r.sink.items == []
            assert refused(r.telemetry, "github", "unauthorized") == 3
            # the refused delivery id was not remembered: the right signature goes through after
            status, _, _ = await post(r.url + "/events", body, github_headers("workflow_job", body, "guid-2"))
            assert (status, len(r.sink.items)) == (200, 1)

    asyncio.run(scenario())


def test_without_a_secret_no_signature_is_needed() -> None:
    async def scenario() -> None:
        async with running(github_factory.FACTORY) as r:
            body = fixture("push.json")
            status, _, reply = await post(r.url + "/events", body, github_headers("push", body, "guid-3", secret=None))
            assert (status, json.loads(reply)) == (200, {"spans": 0, "events": 2})
            [data] = r.sink.items
            assert (data.item_count(), data.side["changes_v1"].num_rows) == (0, 2)

    asyncio.run(scenario())


def test_a_redelivery_is_answered_and_not_passed_on_again() -> None:
    async def scenario() -> None:
        async with running(github_factory.FACTORY, secret=SECRET) as r:
            body = fixture("run-attempt1-completed.json")
            headers = github_headers("workflow_run", body, "72d3162e-cc78-11e3-81ab-4c9367dc0958")
            assert (await post(r.url + "/events", body, headers))[0] == 200
            status, _, reply = await post(r.url + "/events", body, headers)
            assert (status, json.loads(reply)) == (200, {"duplicate": True})
            assert len(r.sink.items) == 1
            assert r.telemetry.value("summitcol_receiver_webhook_deliveries_total", receiver="github",
                                     event="workflow_run", outcome="duplicate") == 1
            # another delivery of the same payload (a new GUID) is a new delivery
            assert (await post(r.url + "/events", body, github_headers("workflow_run", body, "guid-new")))[0] == 200
            assert len(r.sink.items) == 2

    asyncio.run(scenario())


def test_ping_unused_events_and_the_health_path() -> None:
    async def scenario() -> None:
        async with running(github_factory.FACTORY, secret=SECRET) as r:
            body = fixture("ping.json")
            status, _, reply = await post(r.url + "/events", body, github_headers("ping", body, "guid-p"))
            assert (status, reply) == (200, b"{}")
            issue = b'{"action": "opened", "issue": {"number": 1}}'
            status, _, reply = await post(r.url + "/events", issue, github_headers("issues", issue, "guid-i"))
            assert (status, reply) == (204, b"")
            status, _, reply = await post(r.url + "/health", b"", {}, method="GET")
            assert (status, json.loads(reply)) == (200, {"text": "GitHub receiver webhook is healthy"})
            assert r.sink.items == []

    asyncio.run(scenario())


def test_bad_requests() -> None:
    async def scenario() -> None:
        async with running(github_factory.FACTORY, secret=SECRET, max_request_body_size=1024) as r:
            bad = b'{"action": "completed", "workflow_job": {'
            status, _, reply = await post(r.url + "/events", bad, github_headers("workflow_job", bad, "guid-b"))
            assert status == 400
            assert json.loads(reply)["error"].startswith("request body is not valid JSON: ")
            array = b"[1, 2]"
            status, _, reply = await post(r.url + "/events", array, github_headers("workflow_job", array, "guid-a"))
            assert (status, json.loads(reply)["error"]) == (400, "request body must be a JSON object, got a JSON list")
            big = fixture("job-test-completed.json")
            assert len(big) > 1024
            status, _, reply = await post(r.url + "/events", big, github_headers("workflow_job", big, "guid-big"))
            assert (status, json.loads(reply)["error"]) == (413, "request body is larger than max_request_body_size (1024 bytes)")
            bomb = gzip.compress(b'{"a": "' + b"x" * 100_000 + b'"}')
            headers = {**github_headers("workflow_job", bomb, "guid-gz"), "Content-Encoding": "gzip"}
            assert (await post(r.url + "/events", bomb, headers))[0] == 413
            status, headers, _ = await post(r.url + "/events", b"", {}, method="GET")
            assert (status, headers["Allow"]) == (405, "POST")
            assert (await post(r.url + "/other", b"{}", {}))[0] == 404
            no_event = b"{}"
            status, _, reply = await post(r.url + "/events", no_event, {"X-Hub-Signature-256": "sha256=" + hmac_sha256_hex(SECRET, no_event)})
            assert (status, json.loads(reply)["error"]) == (400, "the delivery names no event; is this a GitHub webhook?")
            no_id = json.dumps({"workflow_job": {"id": 0, "status": "completed"}}).encode()
            status, _, reply = await post(r.url + "/events", no_id, github_headers("workflow_job", no_id, "guid-0"))
            assert status == 400 and "workflow_job.id is missing" in json.loads(reply)["error"]
            assert r.sink.items == []
            assert refused(r.telemetry, "github", "too_large") == 2
            assert refused(r.telemetry, "github", "malformed") == 4

    asyncio.run(scenario())


def test_a_refusing_pipeline_is_503_and_the_retry_goes_through() -> None:
    async def scenario() -> None:
        async with running(github_factory.FACTORY, secret=SECRET) as r:
            r.sink.fail = RetryableError("memory limit reached", retry_after=3)
            body = fixture("job-lint-cancelled.json")
            headers = github_headers("workflow_job", body, "guid-r")
            status, response_headers, _ = await post(r.url + "/events", body, headers)
            assert (status, response_headers["Retry-After"]) == (503, "3")
            r.sink.fail = None
            status, _, reply = await post(r.url + "/events", body, headers)
            assert (status, json.loads(reply)) == (200, {"spans": 4, "events": 3})

    asyncio.run(scenario())


def test_queued_job_is_a_build_row_without_spans_and_gzip_and_form_bodies_work() -> None:
    async def scenario() -> None:
        async with running(github_factory.FACTORY, secret=SECRET) as r:
            body = gzip.compress(fixture("job-test-queued.json"))
            headers = {**github_headers("workflow_job", body, "guid-q"), "Content-Encoding": "gzip"}
            status, _, reply = await post(r.url + "/events", body, headers)
            assert (status, json.loads(reply)) == (200, {"spans": 0, "events": 1})
            [row] = r.sink.items[0].side["metrics_build_v1"].to_pylist()
            assert (row["State"], row["StartedAt"], row["QueueDuration"]) == ("pending", None, None)
            form = urlencode({"payload": fixture("deployment.json").decode()}).encode()
            headers = {**github_headers("deployment", form, "guid-f"), "Content-Type": "application/x-www-form-urlencoded"}
            status, _, reply = await post(r.url + "/events", form, headers)
            assert (status, json.loads(reply)) == (200, {"spans": 0, "events": 1})
            assert r.sink.items[1].side["deployments_v1"].num_rows == 1

    asyncio.run(scenario())


def test_junit_upload() -> None:
    """POST /junit?run_id=…: the report is parsed with the run from the query, its cases become
    tests_v1 side rows."""
    async def scenario() -> None:
        async with running(github_factory.FACTORY, secret=SECRET) as r:
            xml = (b'<testsuites><testsuite name="pytest"><testcase classname="tests.test_api" name="test_login"/>'
                   b'<testcase classname="tests.test_api" name="test_logout"><failure message="assert 1 == 2">tb</failure>'
                   b'</testcase></testsuite></testsuites>')
            query = "?run_id=9100000001&attempt=2&job=test&revision=a1b2c3"
            headers = {"X-Hub-Signature-256": "sha256=" + hmac_sha256_hex(SECRET, xml), "Content-Type": "application/xml"}
            status, _, reply = await post(r.url + "/junit" + query, xml, headers)
            assert (status, json.loads(reply)) == (200, {"tests": 2})
            rows = r.sink.items[0].side["tests_v1"].to_pylist()
            assert [(row["Provider"], row["RunId"], row["Attempt"], row["JobId"], row["Commit"], row["Name"], row["Result"],
                     row["FailureMessage"]) for row in rows] == [
                ("github", "9100000001", 2, "test", "a1b2c3", "test_login", "pass", ""),
                ("github", "9100000001", 2, "test", "a1b2c3", "test_logout", "fail", "assert 1 == 2")]
            assert (await post(r.url + "/junit", xml, {}))[0] == 401
            status, _, reply = await post(r.url + "/junit", b"nope", {"X-Hub-Signature-256": "sha256=" + hmac_sha256_hex(SECRET, b"nope")})
            assert status == 400 and json.loads(reply)["error"].startswith("the JUnit upload cannot be read: ")
            query = "?attempt=two"
            status, _, reply = await post(r.url + "/junit" + query, xml, headers)
            assert (status, json.loads(reply)["error"]) == (
                400, "the JUnit upload cannot be read: query parameter attempt must be a whole number, got 'two'")
            assert len(r.sink.items) == 1

    asyncio.run(scenario())


def test_deliveries_past_the_rate_wait_then_get_503(monkeypatch: pytest.MonkeyPatch) -> None:
    """max_deliveries_per_second 0.5 (burst 1) and waits of at most 0.2 s: of six deliveries sent
    at once, the first goes through, the others would wait 2 s or more and are told to retry."""
    from summitcol.receiver.webhook import receiver as webhook_receiver

    monkeypatch.setattr(webhook_receiver, "MAX_PACING_WAIT_S", 0.2)

    async def scenario() -> None:
        async with running(github_factory.FACTORY, secret=SECRET, max_deliveries_per_second=0.5) as r:
            body = fixture("job-build-completed.json")
            sends = [post(r.url + "/events", body, github_headers("workflow_job", body, f"guid-{i}")) for i in range(6)]
            replies = await asyncio.gather(*sends)
            assert sorted(status for status, _, _ in replies) == [200, 503, 503, 503, 503, 503]
            told = [(headers["Retry-After"], json.loads(reply)["error"]) for status, headers, reply in replies if status == 503]
            assert told[0] == ("1", "more than 0.5 deliveries per second; retry later")
            assert len(r.sink.items) == 1
            assert refused(r.telemetry, "github", "rate_limited") == 5
            # the receiver's own health path is never paced
            assert (await post(r.url + "/health", b"", {}, method="GET"))[0] == 200

    asyncio.run(scenario())
