"""HTTP Basic auth against an htpasswd file or inline htpasswd text, as contrib's basicauth
extension does: bcrypt, Apache MD5 `$apr1$`, `{SHA}`, SHA-crypt and plain text (contrib's
go-htpasswd accepts plain text, and its README's inline example is `user:password`), whatever
passlib's HtpasswdFile verifies.

bcrypt is slow by design (~50 ms at cost 10), and a collector checks every request, so a
verified (user, password) pair is remembered by its SHA-256 (never the password) until the
htpasswd changes; failures are never remembered and always pay the full check."""

from __future__ import annotations

import base64
import binascii
import hashlib
import threading
from collections import OrderedDict
from collections.abc import Mapping

from passlib.apache import HtpasswdFile

from summitcol.auth.base import AuthFailure, Principal

NONE_GIVEN = "no basic auth provided"
BAD_PREFIX = "invalid authorization scheme prefix"
BAD_FORMAT = "invalid authorization format"
BAD_CREDENTIALS = "invalid credentials"
VERIFIED_CACHE = 1024


def load_htpasswd(inline: str = "", path: str = "") -> HtpasswdFile:
    """Inline text wins over the file (contrib). ValueError names a line passlib cannot read."""
    if inline:
        return HtpasswdFile.from_string(inline.encode())
    return HtpasswdFile(path, new=False)


class BasicAuth:
    def __init__(self, htpasswd: HtpasswdFile) -> None:
        self._htpasswd = htpasswd
        self._lock = threading.Lock()
        self._verified: OrderedDict[bytes, None] = OrderedDict()

    def authenticate(self, headers: Mapping[str, str]) -> Principal:
        value = headers.get("authorization", "")
        if not value:
            raise AuthFailure(NONE_GIVEN, "missing")
        scheme, _, encoded = value.partition(" ")
        if scheme.lower() != "basic":
            raise AuthFailure(BAD_PREFIX)
        try:
            decoded = base64.b64decode(encoded.strip(), validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            raise AuthFailure(BAD_FORMAT) from None
        username, colon, password = decoded.partition(":")
        if not colon:
            raise AuthFailure(BAD_FORMAT)
        key = hashlib.sha256(decoded.encode()).digest()
        with self._lock:
            if self._htpasswd.path and self._htpasswd.load_if_changed():  # an edited file: check afresh
                self._verified.clear()
            if key in self._verified:
                self._verified.move_to_end(key)
                return Principal({"username": username, "raw": encoded.strip()})
        if not self._check(username, password):
            raise AuthFailure(BAD_CREDENTIALS)
        with self._lock:
            self._verified[key] = None
            while len(self._verified) > VERIFIED_CACHE:
                self._verified.popitem(last=False)
        return Principal({"username": username, "raw": encoded.strip()})

    def _check(self, username: str, password: str) -> bool:
        try:
            ok = self._htpasswd.check_password(username, password)
        except ValueError:  # a hash scheme passlib does not know
            return False
        return bool(ok)
