"""ClickHouse SQL text Summit writes itself: the one way a value becomes a string literal."""

from __future__ import annotations


def sql_string(text: str) -> str:
    """`text` as a ClickHouse string literal (backslash and quote escaped)."""
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"
