"""The `gitlab` and `circleci` receivers on a real server: their authentication, event routing and
delivery ids, and the webhook config (contrib's keys, contrib's checks).

The receivers run the real mappers on the committed fixtures; the mapping itself is tested in
tests/cicd, the stored rows end to end in test_webhook_providers_e2e.py.
"""

from __future__ import annotations

import asyncio
import json
import textwrap
from pathlib import Path
from typing import Any

import pytest

from summitcol.component import ComponentID, Kind
from summitcol.components import default_registry
from summitcol.config.model import load_config
from summitcol.receiver.circleci import factory as circleci_factory
from summitcol.receiver.github.config import Config as GitHubConfig
from summitcol.receiver.github.config import GitHubWebhookConfig
from summitcol.receiver.gitlab import factory as gitlab_factory
from summitcol.receiver.webhook.signatures import check_circleci, hmac_sha256_hex
from tests.receiver.test_webhook_github import DATA as GITHUB_DATA
from tests.receiver.test_webhook_github import Running, post, refused, running

DATA = GITHUB_DATA.parent


GITLAB = DATA / "gitlab"
CIRCLECI = DATA / "circleci"


def build_rows(r: Running, column: str) -> list[Any]:
    return [value for item in r.sink.items for value in item.side["metrics_build_v1"].column(column).to_pylist()]


def test_gitlab_token_events_and_idempotency_key() -> None:
    async def scenario() -> None:
        async with running(gitlab_factory.FACTORY, secret="glpat-hook-token") as r:
            body = (GITLAB / "pipeline_mr_failed.json").read_bytes()
            headers = {"X-Gitlab-Event": "Pipeline Hook", "X-Gitlab-Token": "glpat-hook-token",
                       "Idempotency-Key": "idem-1", "X-Gitlab-Event-UUID": "uuid-1", "Content-Type": "application/json"}
            status, _, reply = await post(r.url + "/events", body, headers)
            # the pipeline, its two stages and four jobs; e2e never started, so it has no span
            assert (status, json.loads(reply)) == (200, {"spans": 6, "events": 7})
            assert build_rows(r, "JobId") == ["", "stage:build", "stage:test", "5001", "5002", "5003", "5004"]
            assert set(build_rows(r, "EventId")) == {f"gitlab:idem-1:{n}" for n in range(7)}
            # GitLab's retry of the same event repeats Idempotency-Key
            status, _, reply = await post(r.url + "/events", body, {**headers, "X-Gitlab-Event-UUID": "uuid-2"})
            assert (status, json.loads(reply), len(r.sink.items)) == (200, {"duplicate": True}, 1)
            # without Idempotency-Key, X-Gitlab-Event-UUID identifies the delivery
            older = {k: v for k, v in headers.items() if k != "Idempotency-Key"}
            assert (await post(r.url + "/events", body, older))[0] == 200
            assert (await post(r.url + "/events", body, older))[2] == b'{"duplicate":true}'
            assert len(r.sink.items) == 2 and r.sink.items[1].side["metrics_build_v1"].column("EventId")[0].as_py() == "gitlab:uuid-1:0"
            for token in ("wrong", None):
                bad = {**headers, "Idempotency-Key": "idem-9"}
                if token is None:
                    del bad["X-Gitlab-Token"]
                else:
                    bad["X-Gitlab-Token"] = token
                assert (await post(r.url + "/events", body, bad))[0] == 401
            assert refused(r.telemetry, "gitlab", "unauthorized") == 2
            # a hook Summit does not use is a 2xx: GitLab disables hooks that keep getting 4xx
            status, _, _ = await post(r.url + "/events", b"{}", {**headers, "X-Gitlab-Event": "Issue Hook"})
            assert status == 204
            status, _, reply = await post(r.url + "/events", b"{nope", {**headers, "Idempotency-Key": "idem-3"})
            assert status == 400 and json.loads(reply)["error"].startswith("request body is not valid JSON")
            assert len(r.sink.items) == 2

    asyncio.run(scenario())


def test_circleci_signature_vectors() -> None:
    """webhooks-reference.adoc's test vectors, and only v1 counts."""
    assert hmac_sha256_hex("secret", b"hello world") == "734cc62f32841568f45715aeb9f4d7891324e6d948e4c6c60c0621cdac48623a"
    assert hmac_sha256_hex("another-secret", b"lalala") == "daa220016c8f29a8b214fbfc3671aeec2145cfb1e6790184ffb38b6d0425fa00"
    good = "v1=734cc62f32841568f45715aeb9f4d7891324e6d948e4c6c60c0621cdac48623a"
    assert check_circleci("secret", good, b"hello world") is None
    assert check_circleci("secret", f"v2=abc,{good}", b"hello world") is None
    assert check_circleci("secret", "v2=734cc62f32841568f45715aeb9f4d7891324e6d948e4c6c60c0621cdac48623a", b"hello world") == (
        "circleci-signature has no v1 signature")
    assert check_circleci("secret", good, b"hello world!") is not None


def test_circleci_signature_events_and_payload_id() -> None:
    async def scenario() -> None:
        async with running(circleci_factory.FACTORY, secret="cci-secret") as r:
            body = (CIRCLECI / "workflow_completed_github.json").read_bytes()
            headers = {"circleci-event-type": "workflow-completed", "Content-Type": "application/json",
                       "circleci-signature": "v1=" + hmac_sha256_hex("cci-secret", body)}
            status, _, reply = await post(r.url + "/events", body, headers)
            assert (status, json.loads(reply)) == (200, {"spans": 1, "events": 1})
            assert (build_rows(r, "RunId"), build_rows(r, "Result")) == (["fda08377-fe7e-46b1-8992-3a7aaecac9c3"], ["failure"])
            # CircleCI may deliver an event twice: same payload id
            status, _, reply = await post(r.url + "/events", body, headers)
            assert (status, json.loads(reply), len(r.sink.items)) == (200, {"duplicate": True}, 1)
            assert (await post(r.url + "/events", body, {**headers, "circleci-signature": "v1=00"}))[0] == 401
            assert (await post(r.url + "/events", body, {k: v for k, v in headers.items() if k != "circleci-signature"}))[0] == 401
            other = json.dumps({"id": "x", "type": "ping"}).encode()
            signed = {"circleci-event-type": "ping", "circleci-signature": "v1=" + hmac_sha256_hex("cci-secret", other)}
            assert (await post(r.url + "/events", other, signed))[0] == 204
            assert len(r.sink.items) == 1

    asyncio.run(scenario())


def test_a_contrib_github_config_loads_unchanged(tmp_path: Path) -> None:
    """contrib's README example shape: webhook keys inside `webhook`, a scraper still listed."""
    path = tmp_path / "config.yaml"
    path.write_text(textwrap.dedent("""\
        receivers:
          github:
            initial_delay: 1s
            collection_interval: 60s
            scrapers:
              scraper:
                github_org: acme
            webhook:
              endpoint: 127.0.0.1:19418
              read_timeout: 500ms
              write_timeout: 500ms
              path: /events
              health_path: /health
              secret: ${env:GITHUB_WEBHOOK_SECRET:-s3cret}
              service_name: shop
              include_span_events: true
              required_headers:
                WAF-Header: value
        exporters:
          debug: {}
        service:
          pipelines:
            traces:
              receivers: [github]
              exporters: [debug]
        """))
    config, problems = load_config([str(path)], default_registry())
    assert [p for p in problems if p.severity == "error"] == []
    assert config is not None
    receiver = config.components[Kind.RECEIVER][ComponentID("github")]
    assert receiver.config.webhook == GitHubWebhookConfig(
        endpoint="127.0.0.1:19418", path="/events", health_path="/health", secret="s3cret", service_name="shop",
        include_span_events=True, required_headers={"WAF-Header": "value"},
    )
    assert receiver.config.scrapers == {"scraper": {"github_org": "acme"}}


@pytest.mark.parametrize(
    ("webhook", "message"),
    [
        ({"required_headers": {"X-GitHub-Event": "push"}},
         "webhook::required_headers: 'X-GitHub-Event' cannot be configured; the provider sets "
         "[X-GitHub-Event, X-GitHub-Delivery, X-GitHub-Hook-ID, X-Hub-Signature-256] itself"),
        ({"required_headers": {"X-Team": ""}}, "both key and value are required to assign a required_header"),
        ({"read_timeout": "11s"}, "the duration specified for read_timeout exceeds the maximum allowed value of 10s"),
        ({"write_timeout": "11s"}, "the duration specified for write_timeout exceeds the maximum allowed value of 10s"),
        ({"path": "events"}, "webhook::path 'events' must start with '/'"),
        ({"path": "/health"}, "webhook::path ('/health'), its JUnit upload path ('/junit') and health_path ('/health') must differ"),
        ({"max_request_body_size": 0}, "webhook::max_request_body_size must be greater than 0"),
        ({"secrt": "x"}, "unknown key 'secrt'; did you mean 'secret'?"),
    ],
)
def test_webhook_config_errors(tmp_path: Path, webhook: dict[str, Any], message: str) -> None:
    path = tmp_path / "config.yaml"
    body = json.dumps({"receivers": {"github": {"webhook": webhook}}, "exporters": {"debug": {}},
                       "service": {"pipelines": {"traces": {"receivers": ["github"], "exporters": ["debug"]}}}})
    path.write_text(body)
    config, problems = load_config([str(path)], default_registry())
    assert config is None
    assert any(message in str(problem) for problem in problems), [str(p) for p in problems]


def test_defaults_are_contribs() -> None:
    hook = GitHubConfig().webhook
    assert (hook.endpoint, hook.path, hook.health_path, hook.secret, hook.junit_path) == (
        "localhost:8080", "/events", "/health", "", "/junit")
    assert (hook.read_timeout.total_seconds(), hook.write_timeout.total_seconds(), hook.max_request_body_size) == (0.5, 0.5, 64 * 1024 * 1024)
