"""The `chdb` extension: one embedded ClickHouse engine per process, with a ClickHouse HTTP interface."""

from __future__ import annotations
