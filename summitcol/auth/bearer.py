"""Bearer tokens as contrib's bearertokenauth checks them: the whole header value
`"<scheme> <token>"` compared in constant time with each configured token; a token file (one per
line) is re-read when it changes and wins over `token`/`tokens`."""

from __future__ import annotations

import hmac
import os
import threading
from collections.abc import Mapping, Sequence

from summitcol.auth.base import AuthFailure, Principal

MISSING = "missing or empty authorization header"
MISMATCH = "scheme or token does not match"


class BearerTokens:
    def __init__(self, tokens: Sequence[str], scheme: str = "Bearer", header: str = "authorization",
                 filename: str = "") -> None:
        self.scheme = scheme
        self.header = header.lower()
        self.filename = filename
        self._lock = threading.Lock()
        self._mtime: int | None = None
        self._expected = self._values(tokens)
        if filename:
            self._reload()

    def _values(self, tokens: Sequence[str]) -> tuple[bytes, ...]:
        prefix = f"{self.scheme} " if self.scheme else ""
        return tuple(f"{prefix}{token}".encode() for token in tokens if token)

    def _reload(self) -> None:
        """Read the token file again when its mtime changed (contrib watches it with fsnotify)."""
        try:
            stat = os.stat(self.filename)
        except OSError as exc:
            raise AuthFailure(f"cannot read the token file: {exc.strerror}") from None
        with self._lock:
            if stat.st_mtime_ns == self._mtime:
                return
            with open(self.filename, encoding="utf-8") as handle:
                tokens = [line.strip() for line in handle]
            self._expected, self._mtime = self._values(tokens), stat.st_mtime_ns

    def authenticate(self, headers: Mapping[str, str]) -> Principal:
        value = headers.get(self.header, "")
        if not value:
            raise AuthFailure(MISSING, "missing")
        if self.filename:
            self._reload()
        given = value.encode()
        matched = False
        for expected in self._expected:  # every one compared: the time does not say which matched
            matched |= hmac.compare_digest(given, expected)
        if not matched:
            raise AuthFailure(MISMATCH)
        return Principal({"raw": value.split(" ", 1)[-1] if self.scheme else value})
