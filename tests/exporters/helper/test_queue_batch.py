"""sending_queue::batch: queued requests are merged into sends of at least min_size items (or
after flush_timeout), split at max_size, and each merged request is acknowledged once sent — for
the memory queue and the persistent (WAL) queue."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

import pytest

from summitcol.component import ComponentID, CreateSettings, Exporter
from summitcol.exporters.helper.config import HelperConfig, QueueBatchConfig, QueueConfig
from summitcol.exporters.helper.sender import ExporterHelper
from summitcol.extensions.file_storage.extension import Config as StorageConfig
from summitcol.extensions.file_storage.extension import FileStorage
from summitcol.telemetry import Telemetry
from tests.helpers import async_wait_for
from tests.processors.test_batch import spans


class Recording(Exporter):
    def __init__(self) -> None:
        self.sizes: list[int] = []
        self.names: list[str] = []

    async def consume(self, data) -> None:  # type: ignore[no-untyped-def]
        self.sizes.append(data.item_count())
        self.names += data.tables["spans"].column("SpanName").to_pylist()


class Host:
    def __init__(self, extensions: dict) -> None:  # type: ignore[type-arg]
        self.extensions = extensions

    def extension(self, id_: ComponentID):  # type: ignore[no-untyped-def]
        return self.extensions[id_]

    def pipelines_ready(self) -> bool:
        return True


@pytest.mark.parametrize("persistent", [False, True])
def test_queued_requests_are_merged_and_acknowledged(tmp_path: Path, persistent: bool) -> None:
    async def scenario() -> tuple[list[int], list[str], int]:
        queue = QueueConfig(
            num_consumers=4,
            storage="file_storage" if persistent else "",
            batch=QueueBatchConfig(flush_timeout=timedelta(milliseconds=300), min_size=100, max_size=150),
        )
        exporter = Recording()
        helper = ExporterHelper(exporter, ComponentID("clickhouse"), Telemetry(), HelperConfig(sending_queue=queue))
        extensions = {}
        if persistent:
            storage = FileStorage(CreateSettings(id=ComponentID("file_storage"), telemetry=Telemetry()), StorageConfig(directory=str(tmp_path)))
            await storage.start(Host({}))
            extensions[ComponentID("file_storage")] = storage
        await helper.start(Host(extensions))
        for i in range(13):  # 13 requests × 30 spans = 390 spans
            await helper.consume(spans(f"r{i}-", 30))
        # The tail (less than min_size) goes after flush_timeout; then every send is acknowledged.
        await async_wait_for(lambda: len(exporter.names) >= 390 and helper.queue.size() == 0)  # type: ignore[union-attr]
        pending = helper.queue.size()  # type: ignore[union-attr]
        await helper.shutdown()
        for extension in extensions.values():
            await extension.shutdown()
        return exporter.sizes, exporter.names, pending

    sizes, names, pending = asyncio.run(scenario())
    assert sorted(names) == sorted(f"r{i}-{j}" for i in range(13) for j in range(30))  # nothing lost or doubled
    assert pending == 0  # every merged request was acknowledged
    assert all(size <= 150 for size in sizes)
    assert sum(1 for size in sizes if size >= 100) >= 2  # merged, not 13 sends of 30
    assert len(sizes) < 13
