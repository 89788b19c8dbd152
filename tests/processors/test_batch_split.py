"""The batch processor never lets one request cost another its data: a merged batch that fails
for one request's sake is split and delivered without it; a request larger than the processor
may hold is taken (cut into pieces), not refused forever."""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta
from pathlib import Path

import clickhouse_connect
import grpc
import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from summitcol.component import ComponentID, CreateSettings, Signal
from summitcol.exceptions import InvalidDataError, RetryableError
from summitcol.pdata.signal import SignalData
from summitcol.pdata.traces import traces_from_otlp
from summitcol.processors.batch import BatchProcessor, Config
from summitcol.telemetry import Telemetry
from tests.helpers import Collector, free_port, pipelines_yaml, receiver_yaml, wait_for

TRACE_METHOD = "/opentelemetry.proto.collector.trace.v1.TraceService/Export"


def request(prefix: str, n: int) -> ExportTraceServiceRequest:
    message = ExportTraceServiceRequest()
    scope = message.resource_spans.add().scope_spans.add()
    now = time.time_ns()
    for i in range(n):
        scope.spans.add(name=f"{prefix}{i}", trace_id=bytes([7]) * 16, span_id=(i + 1).to_bytes(8, "big"),
                        start_time_unix_nano=now, end_time_unix_nano=now + 1000)
    return message


def spans(prefix: str, n: int) -> SignalData:
    return SignalData(Signal.TRACES, {"spans": traces_from_otlp(request(prefix, n))[0]})


class Picky:
    """Fails any batch holding a span whose name starts with `poison` (as an exporter that cannot
    encode one request's values would), with `error`; records what it took."""

    def __init__(self, error: Exception) -> None:
        self.error = error
        self.taken: list[str] = []

    async def consume(self, data: SignalData) -> None:
        names = data.tables["spans"].column("SpanName").to_pylist()
        if any(name.startswith("poison") for name in names):
            raise self.error
        self.taken.extend(names)


def make(config: Config, downstream: object) -> tuple[BatchProcessor, Telemetry]:
    telemetry = Telemetry()
    settings = CreateSettings(id=ComponentID("batch"), telemetry=telemetry)
    return BatchProcessor(settings, config, next_consumer=downstream), telemetry  # type: ignore[arg-type]


GOOD = [("a", 3), ("b", 2), ("c", 4), ("d", 1), ("e", 5)]


@pytest.mark.parametrize("error", [InvalidDataError("cannot encode"), RecursionError("maximum recursion depth exceeded")])
def test_a_batch_failing_for_one_request_delivers_the_others(error: Exception) -> None:
    async def scenario() -> tuple[list[str], float]:
        downstream = Picky(error)
        processor, telemetry = make(Config(send_batch_size=10_000, timeout=timedelta(hours=1)), downstream)
        for prefix, n in GOOD[:2]:
            await processor.consume(spans(prefix, n))
        await processor.consume(spans("poison", 6))
        for prefix, n in GOOD[2:]:
            await processor.consume(spans(prefix, n))
        await processor.shutdown()
        return downstream.taken, telemetry.value("summitcol_processor_batch_dropped_items_total", processor="batch")

    taken, dropped = asyncio.run(scenario())
    assert sorted(taken) == sorted(f"{p}{i}" for p, n in GOOD for i in range(n))
    assert dropped == 6


def test_with_wait_for_result_only_the_failing_request_gets_the_error() -> None:
    async def scenario() -> tuple[list[object], list[str]]:
        downstream = Picky(InvalidDataError("cannot encode"))
        processor, _ = make(Config(send_batch_size=10_000, timeout=timedelta(milliseconds=50), wait_for_result=True), downstream)
        results = await asyncio.gather(
            *(processor.consume(spans(p, n)) for p, n in [("a", 2), ("poison", 3), ("b", 1), ("c", 2)]),
            return_exceptions=True,
        )
        return results, downstream.taken

    results, taken = asyncio.run(scenario())
    assert results[0] is None and results[2] is None and results[3] is None
    assert isinstance(results[1], InvalidDataError)
    assert sorted(taken) == ["a0", "a1", "b0", "c0", "c1"]


class Slow:
    """Refuses retryably until `open` is set, then records each batch's size."""

    def __init__(self) -> None:
        self.open = asyncio.Event()
        self.sizes: list[int] = []

    async def consume(self, data: SignalData) -> None:
        if not self.open.is_set():
            raise RetryableError("queue full", retry_after=0.01)
        self.sizes.append(data.item_count())


def test_a_request_larger_than_the_hold_limit_is_taken_in_pieces() -> None:
    async def scenario() -> tuple[list[int], str]:
        downstream = Slow()
        processor, _ = make(Config(send_batch_size=40, max_pending_items=100, timeout=timedelta(milliseconds=10)), downstream)
        await processor.consume(spans("held", 20))  # held: downstream does not take it yet
        await processor.consume(spans("big", 250))  # could never fit beside anything: taken anyway
        with pytest.raises(RetryableError) as refused:  # now over the limit: the rest waits
            await processor.consume(spans("more", 5))
        downstream.open.set()
        await processor.shutdown()
        return downstream.sizes, str(refused.value)

    sizes, refused = asyncio.run(scenario())
    assert sorted(sizes) == [10, 40, 40, 40, 40, 40, 60]  # 40-span pieces; the first joined the 20 held
    assert "holds 270 items that downstream has not taken yet" in refused


def test_a_200000_span_request_beside_another_client_is_stored(tmp_path: Path) -> None:
    grpc_port, ch_port = free_port(), free_port()
    config = f"""
receivers:
{receiver_yaml(grpc_port, None)}
processors:
  batch:
    timeout: 3s   # the small request is still held when the large one arrives
exporters:
  clickhouse:
    storage: chdb
    dead_letter:
      path: {tmp_path / "dead_letter.jsonl"}
extensions:
  chdb:
    path: {tmp_path / "clickhouse"}
    http:
      endpoint: 127.0.0.1:{ch_port}
{pipelines_yaml("otlp", "batch", "clickhouse")}
  extensions: [chdb]
  workers: 1
"""
    large = request("large", 200_000).SerializeToString()
    with Collector(tmp_path, config) as collector:
        channel = grpc.insecure_channel(f"127.0.0.1:{grpc_port}", options=[("grpc.max_send_message_length", 64 << 20)])
        export = channel.unary_unary(TRACE_METHOD)
        export(request("small", 20).SerializeToString(), timeout=30)
        export(large, timeout=60)  # before the fix: UNAVAILABLE "batch holds 20 items …", every time
        channel.close()
        client = clickhouse_connect.get_client(host="127.0.0.1", port=ch_port)
        assert wait_for(lambda: client.command("SELECT count() FROM otel.otel_traces") == 200_020, timeout=120), collector.log()
        rows = client.query("SELECT startsWith(SpanName, 'large'), count(), uniqExact(SpanName) FROM otel.otel_traces GROUP BY 1 ORDER BY 1").result_rows
        assert rows == [(False, 20, 20), (True, 200_000, 200_000)]
        client.close()
    assert not (tmp_path / "dead_letter.jsonl").exists()
