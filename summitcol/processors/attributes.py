"""The `attributes` processor (contrib's): ordered actions on span, log-record or data-point
attributes, limited to the records `include` selects and `exclude` does not — on whole columns
(see `attraction.py` and `matching.py`)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa

from summitcol.component import Consumer, CreateSettings, Factory, Kind, Signal, Stability
from summitcol.exceptions import ConfigError
from summitcol.pdata.attrmap import MapEntries
from summitcol.pdata.signal import SignalData
from summitcol.processors.attraction import ActionConfig, apply_actions
from summitcol.processors.columnar import ColumnarProcessor
from summitcol.processors.matching import MatchProperties, row_mask

RECORD_ATTRIBUTES = ("SpanAttributes", "LogAttributes", "Attributes")


@dataclass(frozen=True, kw_only=True, slots=True)
class Config:
    actions: list[ActionConfig] = field(default_factory=list)
    include: MatchProperties | None = None
    exclude: MatchProperties | None = None

    def validate(self) -> None:
        if not self.actions:
            raise ConfigError("attributes: at least one action is required")


def replace_column(batch: pa.RecordBatch, name: str, column: pa.Array) -> pa.RecordBatch:
    index = batch.schema.get_field_index(name)
    return batch.set_column(index, batch.schema.field(index), column)


class AttributesProcessor(ColumnarProcessor):
    def __init__(self, settings: CreateSettings, config: Config, *, next_consumer: Consumer) -> None:
        super().__init__(settings, next_consumer=next_consumer)
        self.config = config

    def process_batch(self, batch: pa.RecordBatch, client: dict[str, str] | None = None) -> pa.RecordBatch:
        name = next((n for n in RECORD_ATTRIBUTES if n in batch.schema.names), None)
        if name is None or batch.num_rows == 0:
            return batch
        active = np.ones(batch.num_rows, dtype=bool)
        if self.config.include is not None:
            active &= row_mask(self.config.include, batch, name)
        if self.config.exclude is not None:
            active &= ~row_mask(self.config.exclude, batch, name)
        if not active.any():
            return batch
        entries = apply_actions(MapEntries.of(batch.column(name)), self.config.actions, active, client)
        return replace_column(batch, name, entries.to_map())

    def process(self, data: SignalData) -> SignalData:
        return data.with_tables({name: self.process_batch(batch, data.client) for name, batch in data.tables.items()})



def _create(settings: CreateSettings, config: Config, *, next_consumer: Consumer) -> AttributesProcessor:
    return AttributesProcessor(settings, config, next_consumer=next_consumer)


FACTORY = Factory(
    type="attributes",
    kind=Kind.PROCESSOR,
    config_type=Config,
    create=_create,
    signals=frozenset({Signal.TRACES, Signal.LOGS, Signal.METRICS}),
    stability=Stability.BETA,
    description="insert/update/upsert/delete/hash/extract/convert record attributes, with include/exclude matching",
)
