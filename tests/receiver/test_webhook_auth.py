"""A collector authenticator in front of a webhook receiver, besides the provider's signature:
GitHub cannot send an Authorization header, so the token rides in the delivery URL's query
(`auth.request_params`) and `bearertokenauth` with an empty scheme checks it."""

from __future__ import annotations

import hashlib
import hmac
from pathlib import Path

import requests

from tests.helpers import Collector, free_port

DATA = Path(__file__).resolve().parent.parent / "data" / "cicd" / "github"


def test_github_deliveries_need_the_token_and_the_signature(tmp_path: Path) -> None:
    port = free_port()
    config = f"""
extensions:
  bearertokenauth:
    scheme: ""
    header: token
    token: url-token-1
receivers:
  github:
    webhook:
      endpoint: 127.0.0.1:{port}
      secret: hook-secret
      auth: {{authenticator: bearertokenauth, request_params: [token]}}
exporters:
  debug: {{}}
service:
  extensions: [bearertokenauth]
  telemetry: {{metrics: {{level: none}}}}
  pipelines:
    traces: {{receivers: [github], exporters: [debug]}}
"""
    body = (DATA / "job-build-completed.json").read_bytes()
    signature = "sha256=" + hmac.new(b"hook-secret", body, hashlib.sha256).hexdigest()
    headers = {"X-GitHub-Event": "workflow_job", "X-GitHub-Delivery": "d-1", "X-Hub-Signature-256": signature,
               "Content-Type": "application/json"}
    base = f"http://127.0.0.1:{port}"
    with Collector(tmp_path, config):
        reply = requests.post(f"{base}/events", data=body, headers=headers, timeout=10)
        assert (reply.status_code, reply.json()["error"]) == (401, "missing or empty authorization header")
        reply = requests.post(f"{base}/events?token=url-token-2", data=body, headers=headers, timeout=10)
        assert (reply.status_code, reply.json()["error"]) == (401, "scheme or token does not match")
        bad_signature = {**headers, "X-Hub-Signature-256": "sha256=" + "0" * 64}
        assert requests.post(f"{base}/events?token=url-token-1", data=body, headers=bad_signature, timeout=10).status_code == 401
        reply = requests.post(f"{base}/events?token=url-token-1", data=body, headers=headers, timeout=10)
        assert reply.status_code == 200 and reply.json()["events"] > 0
        assert requests.get(f"{base}/health", timeout=10).status_code == 200  # open, for load balancers
