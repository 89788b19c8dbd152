"""What a stop cannot deliver is kept and said (issue #12, item 1): the real `otlp_grpc` exporter
sends to a port where nothing listens, so every send fails retryably until the (shortened)
drain ends. A memory queue writes what it held to the dead-letter file; a persistent queue
leaves it in its WAL; either way one WARNING says how much and where. And batches are per
signal: `concat` refuses to merge two signals."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from pathlib import Path

import pytest
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from summitcol.component import ComponentID, CreateSettings, Signal
from summitcol.exporters import otlp_grpc
from summitcol.exporters.helper.config import DeadLetterConfig, QueueBatchConfig, QueueConfig, RetryConfig
from summitcol.exporters.helper.sender import ExporterHelper
from summitcol.extensions.file_storage.extension import Config as StorageConfig
from summitcol.extensions.file_storage.extension import FileStorage
from summitcol.extensions.file_storage.wal import WriteAheadLog
from summitcol.pdata.logs import logs_from_otlp
from summitcol.pdata.signal import SignalData, concat
from summitcol.telemetry import Telemetry
from summitcol.tlsconfig import TLSClientConfig
from tests.exporters.helper.test_queue_batch import Host
from tests.helpers import free_port, read_file_export
from tests.processors.test_batch import spans
from tests.sdk_client import logs_by_body


def log_records(prefix: str, n: int) -> SignalData:
    request = ExportLogsServiceRequest()
    scope = request.resource_logs.add().scope_logs.add()
    for i in range(n):
        scope.log_records.add(time_unix_nano=1_700_000_000_000_000_000 + i).body.string_value = f"{prefix}{i}"
    return SignalData(Signal.LOGS, {"logs": logs_from_otlp(request)[0]})


def unreachable_exporter(tmp: Path, storage: str) -> tuple[ExporterHelper, Telemetry]:
    config = otlp_grpc.Config(
        endpoint=f"127.0.0.1:{free_port()}",
        tls=TLSClientConfig(insecure=True),
        timeout=timedelta(seconds=1),
        retry_on_failure=RetryConfig(initial_interval=timedelta(milliseconds=50), max_interval=timedelta(milliseconds=100)),
        sending_queue=QueueConfig(
            num_consumers=2,
            storage=storage,
            batch=QueueBatchConfig(flush_timeout=timedelta(seconds=5)),
            drain_timeout=timedelta(milliseconds=500),
        ),
        dead_letter=DeadLetterConfig(path=str(tmp / "dead.jsonl")),
    )
    telemetry = Telemetry()
    cid = ComponentID("otlp_grpc")
    exporter = otlp_grpc.OtlpGrpcExporter(CreateSettings(id=cid, telemetry=telemetry), config)
    helper = ExporterHelper(exporter, cid, telemetry, config)
    return helper, telemetry


@pytest.mark.parametrize("persistent", [False, True], ids=["memory", "persistent"])
def test_a_stop_keeps_what_it_cannot_deliver_and_says_so(tmp_path: Path, persistent: bool, caplog: pytest.LogCaptureFixture) -> None:
    async def scenario() -> Telemetry:
        helper, telemetry = unreachable_exporter(tmp_path, "file_storage" if persistent else "")
        storage = FileStorage(CreateSettings(id=ComponentID("file_storage"), telemetry=telemetry), StorageConfig(directory=str(tmp_path / "wal")))
        await storage.start(Host({}))
        await helper.start(Host({ComponentID("file_storage"): storage}))
        for data in (spans("a", 30), log_records("l", 7), spans("b", 20)):
            await helper.consume(data)
        await helper.shutdown()
        await storage.shutdown()
        return telemetry

    with caplog.at_level(logging.WARNING, logger="summitcol.exporter.helper"):
        telemetry = asyncio.run(scenario())
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    if persistent:
        wal = WriteAheadLog(str(tmp_path / "wal" / "exporter_otlp_grpc"))
        assert len(wal.pending()) == 3  # all three requests, for the next start
        wal.close()
        assert warnings == [
            f"exporter otlp_grpc: the stop left 3 request(s) (2 traces, 1 logs) undelivered in the write-ahead log "
            f"{tmp_path / 'wal' / 'exporter_otlp_grpc'}; the next start sends them"
        ]
        assert not (tmp_path / "dead.jsonl").exists()
        assert telemetry.value("otelcol_exporter_send_failed_spans_total", exporter="otlp_grpc") == 0  # not given up on
        return
    assert warnings == [
        f"exporter otlp_grpc: the stop could not deliver 3 request(s) (50 spans, 7 log_records) within 0.5 s; "
        f"they are in the dead-letter file {tmp_path / 'dead.jsonl'}"
    ]
    dead = read_file_export(tmp_path / "dead.jsonl")
    names = [span.name for r in dead[ExportTraceServiceRequest] for rs in r.resource_spans for ss in rs.scope_spans for span in ss.spans]
    assert sorted(names) == sorted(
        [f"a{i}" for i in range(30)] + [f"b{i}" for i in range(20)]
    )
    assert sorted(logs_by_body(dead[ExportLogsServiceRequest])) == sorted(f"l{i}" for i in range(7))
    assert telemetry.value("summitcol_exporter_dead_letter_spans_total", exporter="otlp_grpc") == 50
    assert telemetry.value("summitcol_exporter_dead_letter_log_records_total", exporter="otlp_grpc") == 7
    assert telemetry.value("otelcol_exporter_send_failed_spans_total", exporter="otlp_grpc") == 50
    assert telemetry.value("otelcol_exporter_send_failed_log_records_total", exporter="otlp_grpc") == 7


def test_concat_refuses_to_merge_signals() -> None:
    with pytest.raises(ValueError, match="cannot merge traces with logs; batch per signal"):
        concat([spans("a", 2), log_records("l", 2)])
    merged = concat([spans("a", 2), spans("b", 3)])
    assert (merged.signal, merged.item_count()) == (Signal.TRACES, 5)
