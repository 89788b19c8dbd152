"""The `resource` processor (contrib's): ordered actions on resource attributes. `ServiceName`
(the storage column derived from `service.name`) follows the edited attributes."""

from __future__ import annotations

from dataclasses import dataclass, field

import pyarrow as pa
import pyarrow.compute as pc

from summitcol.component import Consumer, CreateSettings, Factory, Kind, Signal, Stability
from summitcol.exceptions import ConfigError
from summitcol.pdata.attrmap import MapEntries
from summitcol.pdata.context import SERVICE_NAME_KEY
from summitcol.pdata.signal import SignalData
from summitcol.pdata.values import STRING, lookup_attribute
from summitcol.processors.attraction import ActionConfig, apply_actions
from summitcol.processors.attributes import replace_column
from summitcol.processors.columnar import ColumnarProcessor


@dataclass(frozen=True, kw_only=True, slots=True)
class Config:
    attributes: list[ActionConfig] = field(default_factory=list)

    def validate(self) -> None:
        if not self.attributes:
            raise ConfigError("resource: at least one action is required under attributes")


def service_names(resource_attributes: pa.Array) -> pa.Array:
    types, text = lookup_attribute(resource_attributes, SERVICE_NAME_KEY)
    is_string = pc.fill_null(pc.equal(types, pa.scalar(STRING, pa.uint8())), False)
    return pc.if_else(is_string, text, "")


class ResourceProcessor(ColumnarProcessor):
    def __init__(self, settings: CreateSettings, config: Config, *, next_consumer: Consumer) -> None:
        super().__init__(settings, next_consumer=next_consumer)
        self.config = config

    def process_batch(self, batch: pa.RecordBatch, client: dict[str, str] | None = None) -> pa.RecordBatch:
        if batch.num_rows == 0 or "ResourceAttributes" not in batch.schema.names:
            return batch
        attributes = apply_actions(MapEntries.of(batch.column("ResourceAttributes")), self.config.attributes, None, client).to_map()
        batch = replace_column(batch, "ResourceAttributes", attributes)
        return replace_column(batch, "ServiceName", service_names(attributes))

    def process(self, data: SignalData) -> SignalData:
        return data.with_tables({name: self.process_batch(batch, data.client) for name, batch in data.tables.items()})



def _create(settings: CreateSettings, config: Config, *, next_consumer: Consumer) -> ResourceProcessor:
    return ResourceProcessor(settings, config, next_consumer=next_consumer)


FACTORY = Factory(
    type="resource",
    kind=Kind.PROCESSOR,
    config_type=Config,
    create=_create,
    signals=frozenset({Signal.TRACES, Signal.LOGS, Signal.METRICS}),
    stability=Stability.BETA,
    description="insert/update/upsert/delete/hash/extract/convert resource attributes",
)
