"""Report export to files."""

from __future__ import annotations

# @release-insert


def _read_template(path: str) -> str:
    with open(path, encoding="utf-8") as fh:
        return fh.read()


def export_report(path: str, rows: int) -> int:
    template = _read_template(path)
    return len(template) * rows
