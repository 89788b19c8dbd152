"""Which project a Sentry request belongs to: the public key from `X-Sentry-Auth`, the
`sentry_key` query parameter or the envelope header's `dsn`, checked against the configured keys.

    X-Sentry-Auth: Sentry sentry_version=7, sentry_client=sentry.python/2.75.0, sentry_key=<key>

The key must belong to the project the URL names (`/api/<project>/envelope/`). When several
sources carry a key they must agree (Relay's rule). Outcomes, as the receiver answers them:

| problem                                         | status |
|-------------------------------------------------|--------|
| no key in the header, the query or the dsn      | 401    |
| a key no project has, or another project's key  | 403    |
| sources that name different keys                | 403    |
| `sentry_version` above 7                        | 400    |
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

PROTOCOL_VERSION = 7


@dataclass(frozen=True, slots=True)
class Project:
    id: str
    service_name: str
    tenant: str = ""  # the tenant its events belong to ("": the default tenant)
    internal: bool = False  # without a tenant: its replays are all kept


class AuthError(Exception):
    """The request cannot be attributed to a project; `status` is the HTTP answer."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def parse_auth_header(value: str) -> dict[str, str]:
    """The `key=value` pairs of an `X-Sentry-Auth` (or `Authorization: Sentry …`) header."""
    text = value.strip()
    if text[:7].lower() == "sentry ":
        text = text[7:]
    pairs: dict[str, str] = {}
    for part in text.split(","):
        key, sep, item = part.strip().partition("=")
        if sep:
            pairs[key.strip()] = item.strip()
    return pairs


def dsn_key(dsn: str) -> str:
    """The public key of a DSN (`http://<key>[:<secret>]@host/<project>`), "" if it has none."""
    try:
        return urlsplit(dsn).username or ""
    except ValueError:
        return ""


class KeyRing:
    """Public key → project, built once from the receiver's config."""

    def __init__(self, keys: Mapping[str, Project]) -> None:
        self._keys = dict(keys)

    def credentials(self, headers: Mapping[str, str], query: Mapping[str, str]) -> tuple[str, dict[str, str]]:
        """The key the request's header or query carries ("" for none) and the header's pairs.
        AuthError when they disagree or the protocol version is newer than Summit speaks."""
        header = headers.get("X-Sentry-Auth") or ""
        if not header and (headers.get("Authorization") or "")[:7].lower() == "sentry ":
            header = headers.get("Authorization") or ""
        pairs = parse_auth_header(header) if header else {}
        version = pairs.get("sentry_version") or query.get("sentry_version") or ""
        if version:
            try:
                newer = float(version) > PROTOCOL_VERSION
            except ValueError:
                raise AuthError(400, f"sentry_version '{version}' is not a number") from None
            if newer:
                raise AuthError(400, f"unsupported protocol version {version}; Summit speaks version {PROTOCOL_VERSION}")
        from_header, from_query = pairs.get("sentry_key", ""), query.get("sentry_key", "")
        if from_header and from_query and from_header != from_query:
            raise AuthError(403, "X-Sentry-Auth and the sentry_key query parameter name different keys")
        return from_header or from_query, pairs

    def project(self, project_id: str, key: str, envelope_dsn: str = "") -> Project:
        """The project `key` (or the envelope's dsn key) belongs to; AuthError when none does or it
        is not the project of the URL."""
        from_dsn = dsn_key(envelope_dsn) if envelope_dsn else ""
        if key and from_dsn and key != from_dsn:
            raise AuthError(403, "the envelope header's dsn names another key than the request")
        key = key or from_dsn
        if not key:
            raise AuthError(
                401, "missing authorization information: send X-Sentry-Auth: Sentry sentry_key=<public key>, "
                "or ?sentry_key=<public key>"
            )
        project = self._lookup(key)
        if project is None:
            raise AuthError(403, f"unknown public key '{_short(key)}'; add it to the project's keys in the receiver's config")
        if project.id != project_id:
            raise AuthError(403, f"the public key '{_short(key)}' belongs to project {project.id}, not {project_id}")
        return project

    def _lookup(self, key: str) -> Project | None:
        # a dict look-up, not a constant-time compare: public keys are public (they are in the
        # DSN every browser page embeds), so timing reveals nothing secret
        return self._keys.get(key)


def _short(key: str) -> str:
    """A key as quoted back to the sender: enough to recognise, bounded in length."""
    return key if len(key) <= 40 else key[:37] + "..."
