"""What the column processors (redaction, filter, attributes, resource) share: `process` runs in a
worker thread — pyarrow kernels release the GIL, and the event loop keeps answering clients —
with otelcol's processor item counts around it; what comes out empty (no items, no error rows)
is not passed on."""

from __future__ import annotations

import asyncio

from summitcol.component import Consumer, CreateSettings, Processor
from summitcol.pdata.signal import SignalData


class ColumnarProcessor(Processor):
    def __init__(self, settings: CreateSettings, *, next_consumer: Consumer) -> None:
        self.settings = settings
        self.label = str(settings.id)
        self.next_consumer = next_consumer

    def process(self, data: SignalData) -> SignalData:
        raise NotImplementedError

    async def consume(self, data: SignalData) -> None:
        self.settings.telemetry.processor_items("incoming", self.label, data.signal, data.item_count())
        out = await asyncio.to_thread(self.process, data)
        kept = out.item_count()
        self.settings.telemetry.processor_items("outgoing", self.label, data.signal, kept)
        if not out.empty():
            await self.next_consumer.consume(out)
