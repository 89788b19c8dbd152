"""Delivery authentication of the three providers, all compared in constant time.

- GitHub: `X-Hub-Signature-256: sha256=<hex HMAC-SHA256(secret, raw body)>`.
- GitLab: `X-Gitlab-Token: <secret>` (the secret itself, no HMAC).
- CircleCI: `circleci-signature: v1=<hex HMAC-SHA256(secret, raw body)>[,v2=…]`; only v1 is known,
  so only v1 is checked (a v2 alone is not accepted: no downgrade to an unchecked scheme).
Each returns None when the delivery is authentic, else why not (for the 401 and the log).
"""

from __future__ import annotations

import hashlib
import hmac


def hmac_sha256_hex(secret: str, body: bytes) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def check_github(secret: str, header: str | None, body: bytes) -> str | None:
    if header is None:
        return "X-Hub-Signature-256 is missing; set the webhook's secret in GitHub to the receiver's"
    scheme, _, digest = header.partition("=")
    if scheme != "sha256" or not digest:
        return "X-Hub-Signature-256 is not of the form sha256=<hex>"
    if not hmac.compare_digest(digest.lower().encode(), hmac_sha256_hex(secret, body).encode()):
        return "X-Hub-Signature-256 does not match the body; the webhook's secret differs from the receiver's"
    return None


def check_gitlab(secret: str, header: str | None) -> str | None:
    if header is None:
        return "X-Gitlab-Token is missing; set the webhook's secret token in GitLab to the receiver's secret"
    if not hmac.compare_digest(header.encode(), secret.encode()):
        return "X-Gitlab-Token does not match the receiver's secret"
    return None


def check_circleci(secret: str, header: str | None, body: bytes) -> str | None:
    if header is None:
        return "circleci-signature is missing; set the webhook's secret in CircleCI to the receiver's"
    versions = [part.strip().partition("=") for part in header.split(",")]
    v1 = [value for name, _, value in versions if name == "v1" and value]
    if not v1:
        return "circleci-signature has no v1 signature"
    expected = hmac_sha256_hex(secret, body).encode()
    if not any(hmac.compare_digest(value.lower().encode(), expected) for value in v1):
        return "circleci-signature v1 does not match the body; the webhook's secret differs from the receiver's"
    return None
