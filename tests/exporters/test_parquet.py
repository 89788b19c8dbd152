"""The parquet exporter: Hive partitions by signal/date/hour(/service), rolling, typed round trip."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

import pyarrow.dataset as ds
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue

from summitcol.component import ComponentID, CreateSettings, Signal
from summitcol.exporters.parquet import Config, ParquetExporter, RollConfig
from summitcol.pdata.signal import SignalData
from summitcol.pdata.traces import traces_from_otlp, traces_to_otlp
from summitcol.telemetry import Telemetry

HOUR_NS = 3600 * 10**9
BASE = 1_795_000_000 * 10**9  # 2026-11-18T11:06:40Z


def spans(n: int, hour_offset: int, service: str) -> SignalData:
    request = ExportTraceServiceRequest()
    rs = request.resource_spans.add()
    rs.resource.attributes.add(key="service.name", value=AnyValue(string_value=service))
    scope = rs.scope_spans.add()
    for i in range(n):
        span = scope.spans.add(name=f"{service}-{hour_offset}-{i}", trace_id=bytes(16), span_id=(i + 1).to_bytes(8, "big"))
        span.start_time_unix_nano = BASE + hour_offset * HOUR_NS + i
        span.attributes.add(key="n", value=AnyValue(int_value=i))
    return SignalData(Signal.TRACES, {"spans": traces_from_otlp(request)[0]})


def run(config: Config, batches: list[SignalData]) -> None:
    exporter = ParquetExporter(CreateSettings(id=ComponentID("parquet"), telemetry=Telemetry()), config)

    async def scenario() -> None:
        await exporter.start(None)  # type: ignore[arg-type]
        for batch in batches:
            await exporter.consume(batch)
        await exporter.shutdown()

    asyncio.run(scenario())


def test_partitions_by_signal_date_hour_and_service(tmp_path: Path) -> None:
    run(Config(path=str(tmp_path), partition_by_service=True), [spans(3, 0, "api"), spans(2, 1, "api"), spans(4, 0, "web")])
    files = sorted(str(p.relative_to(tmp_path).parent) for p in tmp_path.rglob("*.parquet"))
    assert files == [
        "signal=traces/date=2026-11-18/hour=11/service=api",
        "signal=traces/date=2026-11-18/hour=11/service=web",
        "signal=traces/date=2026-11-18/hour=12/service=api",
    ]
    assert not list(tmp_path.rglob("*.inprogress"))


def test_files_roll_by_rows_and_read_back_as_the_same_spans(tmp_path: Path) -> None:
    data = [spans(5, 0, "api") for _ in range(4)]
    run(Config(path=str(tmp_path), roll=RollConfig(max_rows=10, max_age=timedelta(hours=1))), data)
    assert len(list(tmp_path.rglob("*.parquet"))) == 2  # 20 rows, a file per 10
    table = ds.dataset(tmp_path / "signal=traces", format="parquet", partitioning="hive").to_table()
    assert table.num_rows == 20
    # The typed schema survives: the file's rows turn back into the same OTLP spans.
    batch = table.drop_columns(["date", "hour"]).combine_chunks().to_batches()[0].slice(0, 5)
    back = traces_to_otlp(batch).resource_spans[0].scope_spans[0].spans
    original = traces_to_otlp(data[0].tables["spans"]).resource_spans[0].scope_spans[0].spans
    assert list(back) == list(original)
