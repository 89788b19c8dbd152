"""The error tracker on real decoded batches and a real embedded store: two workers deciding the
same new fingerprints at once, a store that fails (nothing acknowledged ungrouped, nothing lost
from the grouper's memory), hostile input, and the occurrence rows' exact values."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from summitcol.component import Signal
from summitcol.errors.grouping import Grouper
from summitcol.errors.store import GroupStore
from summitcol.errors.tracker import ErrorTracker
from summitcol.extensions.chdb.engine import Engine
from summitcol.extensions.chdb.writer import EmbeddedWriter
from summitcol.pdata.codec import decode_request

T0 = 1_796_000_000_000_000_000


def python_trace(function: str, exc: str, message: str, line: int = 10, root: str = "/srv/app") -> str:
    return (
        "Traceback (most recent call last):\n"
        f'  File "{root}/main.py", line 3, in <module>\n    run()\n'
        f'  File "{root}/orders.py", line {line}, in {function}\n    raise {exc}(...)\n'
        f"{exc}: {message}\n"
    )


def spans(exceptions: list[dict[str, str]], service: str = "shop", release: str = "1.0") -> ExportTraceServiceRequest:
    request = ExportTraceServiceRequest()
    rs = request.resource_spans.add()
    for key, value in {"service.name": service, "service.version": release, "telemetry.sdk.language": "python",
                       "deployment.environment.name": "prod"}.items():
        rs.resource.attributes.add(key=key).value.string_value = value
    scope = rs.scope_spans.add()
    for i, attributes in enumerate(exceptions):
        span = scope.spans.add(name="op", trace_id=bytes([1] * 15 + [i % 256]), span_id=bytes([2] * 7 + [i % 256]),
                               start_time_unix_nano=T0 + i, end_time_unix_nano=T0 + i + 10)
        span.events.add(name="checkpoint", time_unix_nano=T0 + i)
        event = span.events.add(name="exception", time_unix_nano=T0 + i + 1)
        for key, value in attributes.items():
            event.attributes.add(key=key).value.string_value = value
    return request


def decoded(request: ExportTraceServiceRequest):  # type: ignore[no-untyped-def]
    data, _ = decode_request(Signal.TRACES, request.SerializeToString(), "proto")
    return data.tables["spans"]


@pytest.fixture()
def store(tmp_path: Path):  # type: ignore[no-untyped-def]
    engine = Engine(str(tmp_path / "ch"), 1, {})
    store = GroupStore(EmbeddedWriter(engine))
    store.create_schema()
    yield store
    engine.close()


def bug(i: int, site: str = "lookup", exc: str = "KeyError") -> dict[str, str]:
    return {"exception.type": exc, "exception.message": f"'order-{i}'",
            "exception.stacktrace": python_trace(site, exc, f"'order-{i}'", line=10 + i % 5)}


def test_rows_and_annotations_are_exact(store: GroupStore) -> None:
    tracker = ErrorTracker(Grouper(None), store)
    batch = decoded(spans([bug(1), bug(2), bug(3, "lookup_user"), bug(4, exc="ValueError")]))
    result = tracker.process("spans", batch)
    rows = result.errors.to_pylist()
    assert [r["ExceptionType"] for r in rows] == ["KeyError", "KeyError", "KeyError", "ValueError"]
    assert [r["MessageTemplate"] for r in rows] == ["'<str>'"] * 4
    assert rows[0]["Fingerprint"] == rows[1]["Fingerprint"] != rows[2]["Fingerprint"] != rows[3]["Fingerprint"]
    assert [r["GroupId"] for r in rows] == [r["Fingerprint"][:16] for r in rows]
    first = rows[0]
    assert (first["ServiceName"], first["ServiceVersion"], first["DeploymentEnvironment"], first["Language"], first["Source"]) == (
        "shop", "1.0", "prod", "python", "span_event")
    assert first["Frames.Function"] == ["<module>", "lookup"] and first["Frames.File"] == ["/srv/app/main.py", "/srv/app/orders.py"]
    assert first["Frames.Line"] == [3, 11] and first["Frames.InApp"] == [1, 1]
    assert first["TraceId"] == "01" * 15 + "00" and first["SpanId"] == "02" * 7 + "00"
    assert result.errors.column("Timestamp").cast("int64").to_pylist() == [T0 + 1 + i for i in range(4)]
    assert result.new_groups == 3
    events = result.batch.column("Events.Attributes").to_pylist()
    exception_attrs = dict((k, v["value"]) for k, v in events[0][1])
    assert exception_attrs["exception.fingerprint"] == rows[0]["Fingerprint"]
    assert exception_attrs["exception.group_id"] == rows[0]["GroupId"]
    assert events[0][0] == []  # the checkpoint event is untouched


def test_two_workers_deciding_at_once_make_one_group_each(store: GroupStore) -> None:
    batch = decoded(spans([bug(i) for i in range(20)] + [bug(i, "lookup_user") for i in range(20)]))
    results = []

    def worker() -> None:
        results.append(ErrorTracker(Grouper(None), store).process("spans", batch))

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    groups = [sorted(set(r.errors.column("GroupId").to_pylist())) for r in results]
    assert groups[0] == groups[1] and len(groups[0]) == 2
    assert sorted(store.current().values()) == groups[0]


class FailingStore(GroupStore):
    fail = True

    def record(self, decisions):  # type: ignore[no-untyped-def]
        if self.fail:
            raise OSError("store down")
        super().record(decisions)


def test_a_store_failure_refuses_the_batch_and_forgets_nothing(store: GroupStore) -> None:
    failing = FailingStore(store.client, store.db)
    tracker = ErrorTracker(Grouper(None), failing)
    batch = decoded(spans([bug(1), bug(2, "lookup_user")]))
    with pytest.raises(OSError, match="store down"):
        tracker.process("spans", batch)
    failing.fail = False
    result = tracker.process("spans", batch)  # the retry decides again and records
    assert result.new_groups == 2 and len(store.current()) == 2


def test_restart_keeps_groups(store: GroupStore) -> None:
    batch = decoded(spans([bug(1), bug(2, "lookup_user")]))
    before = ErrorTracker(Grouper(None), store).process("spans", batch)
    again = ErrorTracker(Grouper(None), store)
    assert again.refresh() == 2
    after = again.process("spans", batch)
    assert after.new_groups == 0
    assert after.errors.column("GroupId").to_pylist() == before.errors.column("GroupId").to_pylist()


@pytest.mark.timeout(60)
def test_hostile_input_gets_a_fingerprint_and_nothing_is_dropped(store: GroupStore) -> None:
    huge = python_trace("lookup", "KeyError", "x" * 1_000_000)
    deep = "Traceback (most recent call last):\n" + "".join(
        f'  File "/srv/app/walk.py", line {i}, in walk_{i % 7}\n' for i in range(10_000)) + "RecursionError: too deep\n"
    garbage = bytes(range(256)).decode("latin-1") * 100
    cases = [
        {"exception.type": "KeyError", "exception.message": "big", "exception.stacktrace": huge},
        {"exception.type": "RecursionError", "exception.message": "too deep", "exception.stacktrace": deep},
        {"exception.type": "Weird", "exception.stacktrace": garbage},
        {"exception.message": "no type at all"},
        {"exception.type": "OnlyType"},
        {"exception.stacktrace": "frobnicate!! unknown language @@ 0x1f"},
    ]
    result = ErrorTracker(Grouper(None), store).process("spans", decoded(spans(cases)))
    rows = result.errors.to_pylist()
    assert len(rows) == len(cases)
    assert all(len(r["Fingerprint"]) == 32 for r in rows)
    assert len({r["Fingerprint"] for r in rows}) == len(cases)
    assert [r["ExceptionType"] for r in rows][:5] == ["KeyError", "RecursionError", "Weird", "", "OnlyType"]
    assert len(rows[0]["Stacktrace"]) == 256 * 1024


def test_log_records_with_exception_attributes(store: GroupStore) -> None:
    request = ExportLogsServiceRequest()
    rl = request.resource_logs.add()
    rl.resource.attributes.add(key="service.name").value.string_value = "worker"
    scope = rl.scope_logs.add()
    for i in range(3):
        record = scope.log_records.add(time_unix_nano=T0 + i, body={"string_value": "failed"})
        for key, value in bug(i).items():
            record.attributes.add(key=key).value.string_value = value
    scope.log_records.add(time_unix_nano=T0, body={"string_value": "plain log"})
    data, _ = decode_request(Signal.LOGS, request.SerializeToString(), "proto")
    result = ErrorTracker(Grouper(None), store).process("logs", data.tables["logs"])
    assert result.errors.num_rows == 3 and set(result.errors.column("Source").to_pylist()) == {"log"}
    attrs = [dict((k, v["value"]) for k, v in row) for row in result.batch.column("LogAttributes").to_pylist()]
    assert [("exception.group_id" in a) for a in attrs] == [True, True, True, False]


@pytest.mark.parametrize(("release", "resolved", "later"), [
    ("1.1.0", "1.0.0", True), ("1.10.0", "1.9.2", True), ("1.0.9", "1.1.0", False), ("v2", "1.9", True),
    ("1.0.0", "1.0.0", False), ("1.0.0-rc2", "1.0.0-rc1", True), ("abc123", "def456", True), ("", "1.0", True),
])
def test_which_release_is_later(release: str, resolved: str, later: bool) -> None:
    from summitcol.errors.tracker import is_later

    assert is_later(release, resolved) is later


def test_regression_only_in_a_later_release(store: GroupStore) -> None:
    tracker = ErrorTracker(Grouper(None), store)
    first = tracker.process("spans", decoded(spans([bug(1)], release="1.1.0")))
    group = first.errors.column("GroupId")[0].as_py()
    store.set_status(group, "resolved", release="1.1.0")
    tracker.refresh()
    assert tracker.process("spans", decoded(spans([bug(2)], release="1.0.9"))).regressions == 0  # an old pod
    assert tracker.process("spans", decoded(spans([bug(3)], release="1.1.0"))).regressions == 0
    assert tracker.process("spans", decoded(spans([bug(4)], release="1.2.0"))).regressions == 1
    status = store.statuses()[group]
    assert (status.status, status.regressed, status.release) == ("unresolved", True, "1.2.0")
    assert tracker.process("spans", decoded(spans([bug(5)], release="1.3.0"))).regressions == 0  # once


def test_merges_and_unmerges_become_training_labels(store: GroupStore) -> None:
    from summitcol.errors.features import FEATURE_NAMES
    from summitcol.errors_command import store_pairs

    tracker = ErrorTracker(Grouper(None), store)
    rows = tracker.process("spans", decoded(spans([bug(1), bug(2, "lookup_user"), bug(3, exc="ValueError")]))).errors
    a, b, c = rows.column("GroupId").to_pylist()
    assert store.merge(a, b) == 1 and store.merge(a, c) == 1
    assert store.unmerge(a, [f for f in store.members(a) if f.startswith(c)]) == 1
    features, labels = store_pairs(store)
    assert features.shape == (3, len(FEATURE_NAMES)) and labels.tolist() == [1.0, 1.0, 0.0]


@pytest.mark.parametrize("corpus", ["errors", "errors_independent"])
def test_the_shape_cache_gives_what_a_full_parse_gives(corpus: str) -> None:
    """Traces of one bug masked alike share a parse; every stored value (fingerprint, title,
    template, each reported frame's file, function and line) must equal a fresh parse's, for both
    committed corpora (real Python, Node.js and Java traces with moved lines and varied paths)."""
    from summitcol.errors.evaluate import load_corpus
    from summitcol.errors.fingerprint import fingerprint
    from summitcol.errors.parsers import parse

    events = load_corpus(f"tests/data/{corpus}/corpus.jsonl.gz")
    tracker = ErrorTracker(Grouper(None), cache_entries=1)  # the first level barely holds anything
    for event in events:
        args = (event["sdk_language"], event["type"], event["message"], event["stacktrace"])
        got = tracker._fingerprint("\x1f".join(args), *args, {})
        parsed = parse(event["stacktrace"], language=event["sdk_language"], exc_type=event["type"], message=event["message"])
        want = fingerprint(parsed)
        assert (got.fingerprint, got.template, got.title[:40]) == (want.fingerprint, want.template, want.title[:40]), event["id"]
        assert [(f.file, f.function) for f in got.parsed.reported.frames] == \
            [(f.file, f.function) for f in parsed.reported.frames], event["id"]
        assert list(got.lines) == [f.line or 0 for f in parsed.reported.frames], event["id"]  # what is stored
    assert len(tracker._shapes) < len({e["stacktrace"] for e in events}) / 2  # the shapes were shared


def test_the_shape_cache_is_bounded() -> None:
    from summitcol.errors.evaluate import load_corpus

    tracker = ErrorTracker(Grouper(None), cache_entries=5)
    for event in load_corpus("tests/data/errors/corpus.jsonl.gz")[:300]:
        args = (event["sdk_language"], event["type"], event["message"], event["stacktrace"])
        tracker._fingerprint("\x1f".join(args), *args, {})
    assert sum(len(v) for v in tracker._shapes.values()) == tracker._shape_count <= 5


def mixed_request(n: int) -> ExportTraceServiceRequest:
    """Two resources (one without version, one with the legacy environment key), spans without
    exceptions between, an event already annotated, a non-string message, a missing type, a
    missing stack trace, a repeated bug."""
    request = ExportTraceServiceRequest()
    for r, attrs in enumerate(({"service.name": "a", "service.version": "2.0", "telemetry.sdk.language": "python"},
                               {"service.name": "b", "deployment.environment": "staging"})):
        rs = request.resource_spans.add()
        for key, value in attrs.items():
            rs.resource.attributes.add(key=key).value.string_value = value
        scope = rs.scope_spans.add()
        for i in range(n):
            span = scope.spans.add(name="op", trace_id=bytes([r + 1] * 15 + [i]), span_id=bytes([3] * 7 + [i]),
                                   start_time_unix_nano=T0 + i, end_time_unix_nano=T0 + i + 10)
            if i % 3 == 1:
                continue  # no events
            span.events.add(name="checkpoint", time_unix_nano=T0 + i).attributes.add(key="k").value.int_value = i
            if i % 3 == 2 and i % 2:
                continue  # only an ordinary event
            event = span.events.add(name="exception", time_unix_nano=T0 + i + 1)
            attributes = bug(i % 4)
            if i % 5 == 0:
                del attributes["exception.type"]
            if i % 7 == 0:
                del attributes["exception.stacktrace"]
            for key, value in attributes.items():
                event.attributes.add(key=key).value.string_value = value
            if i % 6 == 0:
                event.attributes.add(key="exception.fingerprint").value.string_value = "stale"
            if i % 4 == 3:
                event.attributes.add(key="exception.message").value.int_value = 404  # the last one wins
    return request


@pytest.mark.parametrize("n", [6, 30])
def test_the_few_exceptions_path_gives_the_column_wise_result(n: int, monkeypatch: pytest.MonkeyPatch) -> None:
    from summitcol.errors import extract

    batch = decoded(mixed_request(n))
    few = ErrorTracker(Grouper(None)).process("spans", batch)
    monkeypatch.setattr(extract, "FEW", 0)
    columnar = ErrorTracker(Grouper(None)).process("spans", batch)
    assert few.errors is not None and columnar.errors is not None and few.errors.num_rows == columnar.errors.num_rows > 3
    for name in columnar.errors.schema.names:
        assert few.errors.column(name).equals(columnar.errors.column(name)), name
    for name in batch.schema.names:
        assert few.batch.column(name).equals(columnar.batch.column(name)), name
    assert (few.new_groups, few.regressions) == (columnar.new_groups, columnar.regressions)
