"""The `gitlab` and `circleci` receivers on a real server: their authentication, event routing and
delivery ids, and the webhook config (contrib's keys, contrib's checks).

The mappers (cicd.gitlab, cicd.circleci) have their own tests; here each is replaced by a
stand-in with its signature, which records its calls and returns one build event, so what is
tested is the receiver, not the mapping.
"""

from __future__ import annotations

import asyncio
import importlib
import json
import textwrap
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from summitcol.cicd.mapped import Mapped
from summitcol.cicd.model import build_pb2 as pb
from summitcol.component import ComponentID, Kind
from summitcol.components import default_registry
from summitcol.config.model import load_config
from summitcol.receiver.circleci import factory as circleci_factory
from summitcol.receiver.github.config import Config as GitHubConfig
from summitcol.receiver.github.config import GitHubWebhookConfig
from summitcol.receiver.gitlab import factory as gitlab_factory
from summitcol.receiver.webhook.signatures import check_circleci, hmac_sha256_hex
from tests.receiver.test_webhook_github import post, refused, running


def stand_in(monkeypatch: pytest.MonkeyPatch, module: str, function: str) -> list[tuple[Any, ...]]:
    calls: list[tuple[Any, ...]] = []

    def mapper(event: str, payload: dict[str, Any], **kwargs: Any) -> Mapped:
        calls.append((event, payload, kwargs))
        run = pb.PipelineRun(run_id=str(payload.get("run", "")), attempt=1, state=pb.STATE_COMPLETED)
        return Mapped(events=[pb.BuildEvent(event_id=f"{module}:{len(calls)}", pipeline_run=run)])

    monkeypatch.setattr(importlib.import_module(f"summitcol.cicd.{module}"), function, mapper)
    return calls


def test_gitlab_token_events_and_idempotency_key(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = stand_in(monkeypatch, "gitlab", "map_gitlab")

    async def scenario() -> None:
        async with running(gitlab_factory.FACTORY, secret="glpat-hook-token") as r:
            body = json.dumps({"object_kind": "pipeline", "run": 77}).encode()
            headers = {"X-Gitlab-Event": "Pipeline Hook", "X-Gitlab-Token": "glpat-hook-token",
                       "Idempotency-Key": "idem-1", "X-Gitlab-Event-UUID": "uuid-1", "Content-Type": "application/json"}
            status, _, reply = await post(r.url + "/events", body, headers)
            assert (status, json.loads(reply)) == (200, {"spans": 0, "events": 1})
            [(event, payload, kwargs)] = calls
            assert (event, payload, kwargs["delivery_id"], isinstance(kwargs["observed"], datetime), kwargs["include_user_attributes"]) == (
                "Pipeline Hook", {"object_kind": "pipeline", "run": 77}, "idem-1", True, False)
            assert r.sink.items[0].side["metrics_build_v1"].column("RunId").to_pylist() == ["77"]
            # GitLab's retry of the same event repeats Idempotency-Key
            status, _, reply = await post(r.url + "/events", body, {**headers, "X-Gitlab-Event-UUID": "uuid-2"})
            assert (status, json.loads(reply), len(calls)) == (200, {"duplicate": True}, 1)
            # without Idempotency-Key, X-Gitlab-Event-UUID identifies the delivery
            older = {k: v for k, v in headers.items() if k != "Idempotency-Key"}
            assert (await post(r.url + "/events", body, older))[0] == 200
            assert (await post(r.url + "/events", body, older))[2] == b'{"duplicate":true}'
            assert len(calls) == 2
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
            assert len(calls) == 2

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


def test_circleci_signature_events_and_payload_id(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = stand_in(monkeypatch, "circleci", "map_circleci")

    async def scenario() -> None:
        async with running(circleci_factory.FACTORY, secret="cci-secret") as r:
            body = json.dumps({"id": "3888f21b-eaa7-38e3-8f3d-75a63bba8895", "type": "workflow-completed", "run": 5}).encode()
            headers = {"circleci-event-type": "workflow-completed", "Content-Type": "application/json",
                       "circleci-signature": "v1=" + hmac_sha256_hex("cci-secret", body)}
            status, _, reply = await post(r.url + "/events", body, headers)
            assert (status, json.loads(reply)) == (200, {"spans": 0, "events": 1})
            [(event, _, kwargs)] = calls
            assert (event, sorted(kwargs)) == ("workflow-completed", ["observed"])
            # CircleCI may deliver an event twice: same payload id
            status, _, reply = await post(r.url + "/events", body, headers)
            assert (status, json.loads(reply), len(calls)) == (200, {"duplicate": True}, 1)
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
