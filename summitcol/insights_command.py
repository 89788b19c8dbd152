"""`summitcol flaky [--since 14d] [--clear-after 5] [--repository R] [--format table|json]`: the
flaky test radar (summitcol.insights.flaky) over the store, found as `summitcol query` finds it."""

from __future__ import annotations

import argparse
import re
import sys
from typing import Any

from summitcol.errors_command import QueryClient, print_rows
from summitcol.insights.flaky import DEFAULT_CLEAR_AFTER, DEFAULT_WINDOW_DAYS, RadarQuery
from summitcol.query import QueryFailed, Target

_DAYS = re.compile(r"^(\d+)d$")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--since", default=f"{DEFAULT_WINDOW_DAYS}d", help="the window, in days (default 14d)")
    parser.add_argument("--clear-after", type=int, default=DEFAULT_CLEAR_AFTER,
                        help="consecutive passes after which a test is no longer flaky (default 5)")
    parser.add_argument("--repository", default="", help="only this repository (its URL, as in tests_v1)")
    parser.add_argument("--limit", type=int, default=50)
    parser.add_argument("--database", default="otel")
    parser.add_argument("--format", choices=["table", "json"], default="table")


def flaky(args: Any, target: Target) -> int:  # noqa: ANN401 - argparse namespace
    found = _DAYS.match(args.since)
    if not found:
        print(f"summitcol flaky: --since {args.since!r}: expected days, e.g. 14d", file=sys.stderr)
        return 1
    radar = RadarQuery(args.database, int(found.group(1)), args.clear_after, args.limit, repository=args.repository)
    try:
        table = QueryClient(target).query_arrow(radar.sql())
    except QueryFailed as exc:
        print(f"summitcol flaky: {exc}", file=sys.stderr)
        return 1
    if table.num_rows == 0 and args.format == "table":
        print(f"no flaky tests in the last {found.group(1)} days")
        return 0
    print_rows(table, args.format)
    return 0
