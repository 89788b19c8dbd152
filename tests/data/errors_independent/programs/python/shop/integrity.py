"""Blob checksum verification."""

from __future__ import annotations

import hashlib

from shop.errors import IntegrityError

# @release-insert


def verify(blob_id: str, expected: str, data: bytes) -> None:
    actual = hashlib.sha256(data).hexdigest()[:16]
    if actual != expected:
        raise IntegrityError(f"checksum mismatch for blob {blob_id}: expected {expected}, got {actual}")


def verify_blob(blob_id: str, expected: str, content: str) -> bool:
    verify(blob_id, expected, content.encode())
    return True
