"""The Sentry SDK's own in-app decision reaches the error row: with `in_app_exclude` naming this
test module, the real Python sentry-sdk marks its frames as not in-app, and `events_error_v1`
stores them so (the fingerprint processor's path heuristics alone would call them in-app); the
same exception without the option keeps them in-app. (Both group alike here: with no in-app frame
at all, grouping hashes every frame, as Sentry's does.)"""

from __future__ import annotations

from functools import partial
from pathlib import Path

import sentry_sdk

from tests.helpers import Collector, chdb_rows, free_port, wait_for
from tests.receiver.sentry.collector import sentry_collector

KEY = "9f" * 16


def parse_quantity(text: str) -> int:
    return int(text)


def add_to_cart(text: str) -> int:
    return parse_quantity(text)


def test_the_sdks_in_app_flags_decide_the_frames(tmp_path: Path) -> None:
    port, ch_port = free_port(), free_port()
    config = sentry_collector(tmp_path, port, ch_port, f"{{id: 8, keys: [{KEY}], service_name: cart}}", ("logs",))
    rows = partial(chdb_rows, ch_port)
    with Collector(tmp_path, config):
        for release, options in (("excluded", {"in_app_exclude": [__name__]}), ("default", {})):
            client = sentry_sdk.Client(dsn=f"http://{KEY}@127.0.0.1:{port}/8", release=release, default_integrations=False,
                                       **options)
            with sentry_sdk.isolation_scope() as scope:
                scope.set_client(client)
                try:
                    add_to_cart("three")
                except ValueError:
                    sentry_sdk.capture_exception()
            client.flush(timeout=10)
        query = ("SELECT ResourceAttributes['service.version'], Frames.Function, Frames.InApp, Fingerprint "
                 "FROM otel.events_error_v1 WHERE ServiceName = 'cart' ORDER BY 1")
        assert wait_for(lambda: len(rows(query)) == 2, timeout=30), rows(query)
        (default, functions_d, in_app_d, fp_d), (excluded, functions_e, in_app_e, fp_e) = rows(query)
    assert (default, excluded) == ("default", "excluded")
    assert functions_d == functions_e == "['test_the_sdks_in_app_flags_decide_the_frames','add_to_cart','parse_quantity']"
    assert in_app_d == "[1,1,1]" and in_app_e == "[0,0,0]"
    assert fp_d == fp_e


def test_flags_apply_only_when_they_match_the_parsed_frames() -> None:
    from summitcol.errors.fingerprint import with_sdk_in_app
    from summitcol.errors.parsers.frames import ExceptionInfo, Frame, ParsedTrace

    parsed = ParsedTrace("python", (ExceptionInfo("KeyError", "x", (Frame("a"),)), ExceptionInfo("ValueError", "y", (Frame("b"), Frame("c")))))
    assert [f.in_app for f in with_sdk_in_app(parsed, "0-").reported.frames] == [False, None]  # type: ignore[union-attr]
    assert with_sdk_in_app(parsed, "1").exceptions == parsed.exceptions  # two frames, one flag: not applied
    assert with_sdk_in_app(parsed, "").exceptions[0] == parsed.exceptions[0]  # causes untouched
