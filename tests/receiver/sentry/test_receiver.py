"""The `sentry` receiver on a real aiohttp server on 127.0.0.1, fed raw HTTP: auth, status codes,
bad envelopes, compression, unknown items, and what reaches the logs and traces consumers."""

from __future__ import annotations

import asyncio
import gzip
import json
import zlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import brotli
import pytest
import zstandard

from summitcol.component import ComponentID, CreateSettings, Signal
from summitcol.exceptions import RetryableError
from summitcol.pdata.signal import LOGS, SPANS
from summitcol.receiver.sentry import factory
from summitcol.receiver.sentry.config import Config, ProjectConfig
from summitcol.receiver.sentry.receiver import ITEMS
from summitcol.telemetry import Telemetry
from tests.receiver.test_webhook_github import Host, Sink, post, refused

KEY, OTHER_KEY = "0123456789abcdef0123456789abcdef", "fedcba9876543210fedcba9876543210"
EVENT_ID = "9ec79c33ec9942ab8353589fcb2e04dc"
TRACE_ID, SPAN_ID = "771a43a4192642f0b136d5159a501700", "a8a2f4c0b2c94c2e"


@dataclass
class Running:
    url: str
    logs: Sink
    traces: Sink
    telemetry: Telemetry
    receiver: Any


@asynccontextmanager
async def running(**overrides: Any) -> AsyncIterator[Running]:
    config = Config(endpoint="127.0.0.1:0", projects=[
        ProjectConfig(id=42, keys=[KEY], service_name="shop"),
        ProjectConfig(id=7, keys=[OTHER_KEY], service_name="billing"),
    ], **overrides)
    config.validate()
    telemetry, logs, traces = Telemetry(), Sink(), Sink()
    settings = CreateSettings(id=ComponentID("sentry"), telemetry=telemetry, signals=factory.FACTORY.signals)
    receiver = factory.FACTORY.create(settings, config, consumers={Signal.LOGS: logs, Signal.TRACES: traces})
    await receiver.start(Host())
    try:
        yield Running(f"http://127.0.0.1:{receiver.port}", logs, traces, telemetry, receiver)
    finally:
        await receiver.shutdown()


def auth(key: str = KEY) -> dict[str, str]:
    return {"X-Sentry-Auth": f"Sentry sentry_version=7, sentry_client=raw/1.0, sentry_key={key}",
            "Content-Type": "application/x-sentry-envelope"}


def event(message: str = "disk full", **extra: Any) -> dict[str, Any]:
    return {"event_id": EVENT_ID, "timestamp": "2026-12-03T10:00:00.250000Z", "platform": "python", "level": "warning",
            "logentry": {"message": "disk %s full", "formatted": message}, "release": "shop@1.2.3",
            "environment": "staging", "tags": {"region": "eu"}, "user": {"id": "u-1", "email": "a@example.com"},
            "contexts": {"trace": {"trace_id": TRACE_ID, "span_id": SPAN_ID}}, **extra}


def envelope(*items: tuple[dict[str, Any], bytes], headers: dict[str, Any] | None = None) -> bytes:
    lines = [json.dumps(headers if headers is not None else {"event_id": EVENT_ID}).encode()]
    for item_headers, payload in items:
        lines += [json.dumps(item_headers).encode(), payload]
    return b"\n".join(lines) + b"\n"


def item(kind: str, payload: dict[str, Any] | bytes, *, length: bool = True) -> tuple[dict[str, Any], bytes]:
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    return ({"type": kind, "length": len(body)} if length else {"type": kind}), body


def log_attributes(sink: Sink) -> list[dict[str, str]]:
    return [{k: v["value"] for k, v in row} for data in sink.items for row in data.tables[LOGS].column("LogAttributes").to_pylist()]


def items_counted(r: Running, kind: str, outcome: str) -> float:
    return r.telemetry.value(f"{ITEMS}_total", receiver="sentry", type=kind, outcome=outcome)


def test_an_event_envelope_becomes_one_log_record_and_the_answer_is_its_id() -> None:
    async def scenario() -> None:
        async with running() as r:
            status, headers, reply = await post(r.url + "/api/42/envelope/", envelope(item("event", event())), auth())
            assert (status, json.loads(reply)) == (200, {"id": EVENT_ID})
            [data] = r.logs.items
            row = data.tables[LOGS].to_pylist()[0]
            assert (row["Body"], row["SeverityText"], row["SeverityNumber"]) == ("disk full", "WARN", 13)
            assert (row["TraceId"], row["SpanId"], row["ServiceName"]) == (TRACE_ID, SPAN_ID, "shop")
            resource = {k: v["value"] for k, v in row["ResourceAttributes"]}
            assert resource == {"service.name": "shop", "service.version": "shop@1.2.3",
                                "deployment.environment.name": "staging", "telemetry.sdk.language": "python",
                                "sentry.project_id": "42"}
            assert log_attributes(r.logs) == [{"sentry.event_id": EVENT_ID, "sentry.platform": "python",
                                               "sentry.tag.region": "eu", "user.id": "u-1", "user.email": "a@example.com"}]
            assert items_counted(r, "event", "accepted") == 1
            assert r.traces.items == []

    asyncio.run(scenario())


@pytest.mark.parametrize("encoding", ["gzip", "deflate", "br", "zstd"])
def test_compressed_envelopes_are_read(encoding: str) -> None:
    body = envelope(item("event", event()))
    packed = {"gzip": gzip.compress, "deflate": zlib.compress, "br": brotli.compress,
              "zstd": zstandard.ZstdCompressor().compress}[encoding](body)

    async def scenario() -> None:
        async with running() as r:
            status, _, reply = await post(r.url + "/api/42/envelope/", packed, {**auth(), "Content-Encoding": encoding})
            assert (status, json.loads(reply)) == (200, {"id": EVENT_ID})
            assert len(r.logs.items) == 1

    asyncio.run(scenario())


@pytest.mark.parametrize("encoding", ["gzip", "br", "zstd"])
def test_a_compression_bomb_is_413_and_nothing_is_kept(encoding: str) -> None:
    bomb = envelope(item("event", event(message="x" * (4 * 1024 * 1024))))
    packed = {"gzip": gzip.compress, "br": brotli.compress, "zstd": zstandard.ZstdCompressor().compress}[encoding](bomb)
    assert len(packed) < 64 * 1024

    async def scenario() -> None:
        async with running(max_request_body_size=1024 * 1024) as r:
            status, headers, reply = await post(r.url + "/api/42/envelope/", packed, {**auth(), "Content-Encoding": encoding})
            assert status == 413
            assert json.loads(reply) == {"detail": "request body is larger than max_request_body_size (1048576 bytes) once decompressed"}
            assert headers["X-Sentry-Error"] == json.loads(reply)["detail"]
            assert r.logs.items == [] and refused(r.telemetry, "sentry", "too_large") == 1

    asyncio.run(scenario())


def test_an_event_item_over_max_event_size_is_413_naming_it() -> None:
    async def scenario() -> None:
        async with running(max_event_size=1000) as r:
            big = item("event", event(message="y" * 2000))
            status, _, reply = await post(r.url + "/api/42/envelope/", envelope(item("session", {"sid": "1"}), big), auth())
            assert status == 413
            assert json.loads(reply)["detail"].startswith("envelope item 1 (type 'event') is ")
            assert json.loads(reply)["detail"].endswith("bytes, more than max_event_size (1000)")

    asyncio.run(scenario())


def test_keys_missing_unknown_of_another_project_and_in_the_query() -> None:
    async def scenario() -> None:
        async with running() as r:
            body = envelope(item("event", event()))
            plain = {"Content-Type": "application/x-sentry-envelope"}
            status, _, reply = await post(r.url + "/api/42/envelope/", body, plain)
            assert status == 401
            assert json.loads(reply)["detail"].startswith("missing authorization information")
            status, _, reply = await post(r.url + "/api/42/envelope/", body, auth("nope"))
            assert (status, json.loads(reply)) == (403, {"detail": "unknown public key 'nope'; add it to the project's keys in the receiver's config"})
            status, _, reply = await post(r.url + "/api/42/envelope/", body, auth(OTHER_KEY))
            assert (status, json.loads(reply)["detail"]) == (403, f"the public key '{OTHER_KEY}' belongs to project 7, not 42")
            assert refused(r.telemetry, "sentry", "unauthorized") == 3  # so far
            assert r.logs.items == []
            # the browser and Node SDKs authenticate in the query string
            status, _, _ = await post(r.url + f"/api/42/envelope/?sentry_version=7&sentry_key={KEY}", body, plain)
            assert status == 200
            # a tunnel forwards the envelope with the DSN in its header
            tunnelled = envelope(item("event", event()), headers={"event_id": EVENT_ID, "dsn": f"https://{KEY}@example.com/42"})
            assert (await post(r.url + "/api/42/envelope/", tunnelled, plain))[0] == 200
            status, _, reply = await post(r.url + "/api/42/envelope/", tunnelled, auth(OTHER_KEY.replace("f", "e")))
            assert status == 403  # an unknown key in the header
            mismatch = envelope(item("event", event()), headers={"dsn": f"https://{OTHER_KEY}@example.com/42"})
            status, _, reply = await post(r.url + "/api/42/envelope/", mismatch, auth())
            assert (status, json.loads(reply)["detail"]) == (403, "the envelope header's dsn names another key than the request")
            status, _, reply = await post(r.url + "/api/42/envelope/", body, {**auth(), "X-Sentry-Auth": f"Sentry sentry_version=8, sentry_key={KEY}"})
            assert (status, json.loads(reply)["detail"]) == (400, "unsupported protocol version 8; Summit speaks version 7")
            assert len(r.logs.items) == 2

    asyncio.run(scenario())


def test_malformed_envelopes_are_400_naming_the_item() -> None:
    good = item("event", event())
    cases = {
        "truncated": (envelope(good)[:-40], "envelope item 0 (type 'event'): header says length"),
        "wrong length": (envelope(({"type": "event", "length": 10}, good[1])),
                         "envelope item 0 (type 'event'): header says length 10, but the payload does not end there"),
        "bad item header": (b'{}\n{"type": "event", "length": 2\n{}\n', "envelope item 0: its header is not valid JSON"),
        "no type": (b'{}\n{"length": 2}\n{}\n', "envelope item 0: its header has no 'type'"),
        "not an object": (envelope(item("session", {"sid": "1"}), item("event", b"[1, 2]")),
                          "envelope item 1 (type 'event'): payload must be a JSON object, got a JSON array"),
        "bad envelope header": (b"nope\n", "the envelope header is not valid JSON"),
    }

    async def scenario() -> None:
        async with running() as r:
            for name, (body, start) in cases.items():
                status, _, reply = await post(r.url + "/api/42/envelope/", body, auth())
                assert status == 400, name
                assert json.loads(reply)["detail"].startswith(start), (name, reply)
            assert r.logs.items == [] and refused(r.telemetry, "sentry", "malformed") == len(cases)

    asyncio.run(scenario())


def test_a_truncated_envelope_says_how_many_bytes_it_lacks() -> None:
    async def scenario() -> None:
        async with running() as r:
            body = b'{}\n{"type":"event","length":100}\n{"message":"short"}'
            status, _, reply = await post(r.url + "/api/42/envelope/", body, auth())
            assert (status, json.loads(reply)["detail"]) == (
                400, "envelope item 0 (type 'event'): header says length 100, but only 19 bytes follow; the envelope is truncated")

    asyncio.run(scenario())


def test_unknown_item_types_are_skipped_counted_and_the_rest_accepted() -> None:
    async def scenario() -> None:
        async with running() as r:
            body = envelope(item("future_thing", b"\x00\x01binary\n"), item("attachment", b"not json at all"),
                            item("event", event(), length=False))
            status, _, reply = await post(r.url + "/api/42/envelope/", body, auth())
            assert (status, json.loads(reply)) == (200, {"id": EVENT_ID})
            assert len(r.logs.items) == 1 and log_attributes(r.logs)[0]["sentry.event_id"] == EVENT_ID
            assert items_counted(r, "future_thing", "unknown") == 1
            assert items_counted(r, "attachment", "unknown") == 1
            assert items_counted(r, "event", "accepted") == 1

    asyncio.run(scenario())


def test_a_1000_item_envelope() -> None:
    """1,000 items: 600 events, 200 transactions of 2 spans each, 200 sessions without a release
    (invalid: dropped and counted, as Relay drops them)."""
    events = [item("event", {**event(f"event {i}"), "event_id": f"{i:032x}"}) for i in range(600)]
    transactions = [item("transaction", {
        "type": "transaction", "transaction": f"GET /t/{i}", "start_timestamp": 1764756000.0 + i, "timestamp": 1764756000.5 + i,
        "contexts": {"trace": {"trace_id": f"{i + 1:032x}", "span_id": f"{i + 1:016x}", "op": "http.server"}},
        "spans": [{"span_id": f"{i + 100000:016x}", "parent_span_id": f"{i + 1:016x}", "trace_id": f"{i + 1:032x}", "op": "db",
                   "description": "SELECT 1", "start_timestamp": 1764756000.1 + i, "timestamp": 1764756000.2 + i}]})
        for i in range(200)]
    sessions = [item("session", {"sid": str(i)}) for i in range(200)]
    body = envelope(*events, *transactions, *sessions, headers={})

    async def scenario() -> None:
        async with running() as r:
            status, _, reply = await post(r.url + "/api/42/envelope/", body, auth())
            assert (status, json.loads(reply)) == (200, {"id": f"{0:032x}"})
            assert sum(d.tables[LOGS].num_rows for d in r.logs.items) == 600
            assert sum(d.tables[SPANS].num_rows for d in r.traces.items) == 400
            bodies = [b for d in r.logs.items for b in d.tables[LOGS].column("Body").to_pylist()]
            assert bodies == [f"event {i}" for i in range(600)]
            assert (items_counted(r, "event", "accepted"), items_counted(r, "transaction", "accepted"),
                    items_counted(r, "session", "invalid")) == (600, 200, 200)

    asyncio.run(scenario())


def test_an_invalid_transaction_is_dropped_and_the_rest_kept() -> None:
    async def scenario() -> None:
        async with running() as r:
            broken = item("transaction", {"type": "transaction", "transaction": "GET /", "timestamp": 2.0, "start_timestamp": 1.0,
                                          "contexts": {"trace": {"trace_id": TRACE_ID}}})
            body = envelope(broken, item("event", event()), headers={})
            status, _, reply = await post(r.url + "/api/42/envelope/", body, auth())
            assert (status, json.loads(reply)) == (200, {"id": EVENT_ID})
            assert r.traces.items == [] and len(r.logs.items) == 1
            assert items_counted(r, "transaction", "invalid") == 1

    asyncio.run(scenario())


def test_the_legacy_store_endpoint_json_and_base64_zlib() -> None:
    import base64

    async def scenario() -> None:
        async with running() as r:
            body = json.dumps(event()).encode()
            status, _, reply = await post(r.url + "/api/42/store/", body, auth())
            assert (status, json.loads(reply)) == (200, {"id": EVENT_ID})
            packed = base64.b64encode(zlib.compress(json.dumps(event("old sdk")).encode()))
            status, _, reply = await post(r.url + "/api/42/store/", packed, auth())
            assert (status, json.loads(reply)) == (200, {"id": EVENT_ID})
            assert [d.tables[LOGS].column("Body")[0].as_py() for d in r.logs.items] == ["disk full", "old sdk"]
            status, _, reply = await post(r.url + "/api/42/store/", b"[1]", auth())
            assert (status, json.loads(reply)["detail"]) == (400, "the store body must be a JSON object, got a JSON array")

    asyncio.run(scenario())


def test_paths_methods_and_a_refusing_pipeline() -> None:
    async def scenario() -> None:
        async with running() as r:
            assert (await post(r.url + "/api/abc/envelope/", b"{}", auth()))[0] == 404
            assert (await post(r.url + "/api/42/minidump/", b"{}", auth()))[0] == 404
            status, headers, _ = await post(r.url + "/api/42/envelope/", b"", auth(), method="GET")
            assert (status, headers["Allow"]) == (405, "POST")
            r.logs.fail = RetryableError("queue is full", retry_after=3)
            status, headers, reply = await post(r.url + "/api/42/envelope/", envelope(item("event", event())), auth())
            assert (status, headers["Retry-After"], json.loads(reply)) == (503, "3", {"detail": "queue is full"})
            assert headers["X-Sentry-Rate-Limits"] == "3::organization"  # every category, as the SDKs parse it
            assert items_counted(r, "event", "refused") == 1

    asyncio.run(scenario())


class GatedSink(Sink):
    """Holds its first batch until `gate` is set."""

    def __init__(self) -> None:
        super().__init__()
        self.gate = asyncio.Event()

    async def consume(self, data: Any) -> None:
        if not self.items:
            self.items.append(data)
            await self.gate.wait()
            return
        self.items.append(data)


def test_requests_waiting_beside_a_batch_are_passed_on_as_one() -> None:
    from tests.helpers import async_wait_for

    async def scenario() -> None:
        async with running() as r:
            gated = GatedSink()
            r.receiver.logs = gated
            bodies = [envelope(item("event", {**event(f"event {i}"), "event_id": f"{i:032x}"}), headers={}) for i in range(50)]
            first = asyncio.ensure_future(post(r.url + "/api/42/envelope/", bodies[0], auth()))
            assert await async_wait_for(lambda: len(gated.items) == 1)
            rest = [asyncio.ensure_future(post(r.url + "/api/42/envelope/", body, auth())) for body in bodies[1:]]
            assert await async_wait_for(lambda: len(r.receiver._pending) == 49)
            gated.gate.set()
            replies = [await first, *[await task for task in rest]]
            assert [(status, json.loads(reply)) for status, _, reply in replies] == [(200, {"id": f"{i:032x}"}) for i in range(50)]
            assert [d.tables[LOGS].num_rows for d in gated.items] == [1, 49]
            assert sorted(b for d in gated.items for b in d.tables[LOGS].column("Body").to_pylist()) == sorted(f"event {i}" for i in range(50))
            assert items_counted(r, "event", "accepted") == 50

    asyncio.run(scenario())
