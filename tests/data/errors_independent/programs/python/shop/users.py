"""User accounts and notifications."""

from __future__ import annotations

from typing import Any

# @release-insert

REQUIRED = ("username", "email", "password")
USERS: dict[int, Any] = {}


def validate(payload: dict[str, Any]) -> None:
    for field in REQUIRED:
        if field not in payload:
            raise ValueError(f"missing required field {field!r}")


def register(payload: dict[str, Any]) -> int:
    validate(payload)
    user_id = len(USERS) + 1
    return user_id


def find(user_id: int) -> Any:
    return USERS.get(user_id)


def notify(user_id: int, template: str) -> str:
    user = find(user_id)
    address = user.email
    return f"{template} -> {address}"
