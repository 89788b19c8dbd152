"""The `file_storage` extension: crash-safe write-ahead logs for persistent sending queues."""

from __future__ import annotations
