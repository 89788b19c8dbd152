"""The file exporter: JSON lines, length-prefixed protobuf, rotation by size."""

from __future__ import annotations

import asyncio
import struct
from pathlib import Path

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from summitcol.component import ComponentID, CreateSettings
from summitcol.exporters.file import Config, FileExporter, RotationConfig
from summitcol.pdata.codec import to_message
from summitcol.telemetry import Telemetry
from tests.helpers import read_file_export
from tests.processors.test_batch import spans


class Host:
    def pipelines_ready(self) -> bool:
        return True


def run(config: Config, batches: list) -> None:  # type: ignore[type-arg]
    exporter = FileExporter(CreateSettings(id=ComponentID("file"), telemetry=Telemetry()), config)

    async def scenario() -> None:
        await exporter.start(Host())  # type: ignore[arg-type]
        for batch in batches:
            await exporter.consume(batch)
        await exporter.shutdown()

    asyncio.run(scenario())


def test_json_lines_are_otlp_requests(tmp_path: Path) -> None:
    out = tmp_path / "o.jsonl"
    data = [spans("a", 2), spans("b", 1)]
    run(Config(path=str(out)), data)
    assert read_file_export(out)[ExportTraceServiceRequest] == [to_message(d) for d in data]


def test_proto_records_are_length_prefixed(tmp_path: Path) -> None:
    out = tmp_path / "o.pb"
    data = [spans("a", 2), spans("b", 3)]
    run(Config(path=str(out), format="proto"), data)
    raw = out.read_bytes()
    messages, pos = [], 0
    while pos < len(raw):
        (size,) = struct.unpack(">I", raw[pos : pos + 4])
        messages.append(ExportTraceServiceRequest.FromString(raw[pos + 4 : pos + 4 + size]))
        pos += 4 + size
    assert messages == [to_message(d) for d in data]


def test_rotation_keeps_max_backups(tmp_path: Path) -> None:
    out = tmp_path / "rot.jsonl"
    big = spans("x" * 2000, 300)  # ~0.6 MB per line
    run(Config(path=str(out), rotation=RotationConfig(max_megabytes=1, max_backups=2)), [big] * 6)
    backups = sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("rot-"))
    assert len(backups) == 2
    assert out.stat().st_size <= 1024 * 1024
    total = sum(len(read_file_export(p)[ExportTraceServiceRequest]) for p in [out, *(tmp_path / b for b in backups)])
    assert total == 3  # 6 lines, 1 MB files hold one 0.6 MB line each; the oldest 3 were pruned


def test_append_keeps_existing_content(tmp_path: Path) -> None:
    out = tmp_path / "a.jsonl"
    run(Config(path=str(out)), [spans("first", 1)])
    run(Config(path=str(out), append=True), [spans("second", 1)])
    assert len(read_file_export(out)[ExportTraceServiceRequest]) == 2
    run(Config(path=str(out)), [spans("third", 1)])
    assert len(read_file_export(out)[ExportTraceServiceRequest]) == 1
