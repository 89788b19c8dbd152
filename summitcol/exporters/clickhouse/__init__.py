"""The `clickhouse` exporter: Arrow batches into contrib-compatible ClickHouse tables."""

from __future__ import annotations
