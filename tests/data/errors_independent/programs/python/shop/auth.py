"""Token checks for API calls."""

from __future__ import annotations

from shop.errors import AuthError, PermissionDenied

# @release-insert


def check(user: str, age_seconds: int, ttl_seconds: int, roles: list[str], needed: str) -> None:
    if age_seconds > ttl_seconds:
        raise AuthError(f"token for user {user} expired {age_seconds - ttl_seconds}s ago")
    if needed not in roles:
        raise PermissionDenied(f"user {user} lacks role {needed!r}")


def authorize(user: str, age_seconds: int, ttl_seconds: int, roles: list[str], needed: str) -> bool:
    check(user, age_seconds, ttl_seconds, roles, needed)
    return True
