"""Resource and scope columns shared by every signal.

Records are rows; the resource and scope they came from are repeated on each row (the storage
schema wants them there). Decoding builds one entry per resource and per scope and replicates it
with one `take`; `ResourceIndex`/`ScopeIndex` record which container a row came from, so that the
encoder can rebuild exactly the containers that arrived (two equal resources stay two).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pyarrow as pa

from summitcol.pdata.decoded import DEFAULT_LIMITS, DecodeLimits
from summitcol.pdata.expansion import replicate
from summitcol.pdata.values import ATTRIBUTES, AttributesBuilder, AttributesReader

SERVICE_NAME_KEY = "service.name"

RESOURCE_FIELDS = [
    pa.field("ResourceAttributes", ATTRIBUTES, nullable=False),
    pa.field("ResourceSchemaUrl", pa.string(), nullable=False),
    pa.field("ResourceDroppedAttributesCount", pa.uint32(), nullable=False),
    pa.field("ServiceName", pa.string(), nullable=False),
]
SCOPE_FIELDS = [
    pa.field("ScopeName", pa.string(), nullable=False),
    pa.field("ScopeVersion", pa.string(), nullable=False),
    pa.field("ScopeAttributes", ATTRIBUTES, nullable=False),
    pa.field("ScopeDroppedAttributesCount", pa.uint32(), nullable=False),
    pa.field("ScopeSchemaUrl", pa.string(), nullable=False),
]
INDEX_FIELDS = [
    pa.field("ResourceIndex", pa.uint32(), nullable=False),
    pa.field("ScopeIndex", pa.uint32(), nullable=False),
]


class ContextBuilder:
    """Collects resources and scopes of one request; `columns` replicates them per row (once
    `limits.reserve`, the memory admission, has granted what that takes)."""

    def __init__(self, limits: DecodeLimits = DEFAULT_LIMITS) -> None:
        self.limits = limits
        self.resource_attributes = AttributesBuilder()
        self.resource_schema_urls: list[str] = []
        self.resource_dropped: list[int] = []
        self.service_names: list[str] = []
        self.scope_names: list[str] = []
        self.scope_versions: list[str] = []
        self.scope_attributes = AttributesBuilder()
        self.scope_dropped: list[int] = []
        self.scope_schema_urls: list[str] = []

    def add_resource(self, resource: Any, schema_url: str) -> int:
        attributes = resource.attributes
        self.resource_attributes.add(attributes)
        self.resource_schema_urls.append(schema_url)
        self.resource_dropped.append(resource.dropped_attributes_count)
        service = ""
        for kv in attributes:
            if kv.key == SERVICE_NAME_KEY and kv.value.WhichOneof("value") == "string_value":
                service = kv.value.string_value
                break
        self.service_names.append(service)
        return len(self.resource_schema_urls) - 1

    def add_scope(self, scope: Any, schema_url: str) -> int:
        self.scope_names.append(scope.name)
        self.scope_versions.append(scope.version)
        self.scope_attributes.add(scope.attributes)
        self.scope_dropped.append(scope.dropped_attributes_count)
        self.scope_schema_urls.append(schema_url)
        return len(self.scope_names) - 1

    def columns(self, resource_index: list[int], scope_index: list[int]) -> dict[str, pa.Array]:
        r = pa.array(resource_index, pa.uint32())
        s = pa.array(scope_index, pa.uint32())
        per_resource = {
            "ResourceAttributes": self.resource_attributes.finish(),
            "ResourceSchemaUrl": pa.array(self.resource_schema_urls, pa.string()),
            "ResourceDroppedAttributesCount": pa.array(self.resource_dropped, pa.uint32()),
            "ServiceName": pa.array(self.service_names, pa.string()),
        }
        per_scope = {
            "ScopeName": pa.array(self.scope_names, pa.string()),
            "ScopeVersion": pa.array(self.scope_versions, pa.string()),
            "ScopeAttributes": self.scope_attributes.finish(),
            "ScopeDroppedAttributesCount": pa.array(self.scope_dropped, pa.uint32()),
            "ScopeSchemaUrl": pa.array(self.scope_schema_urls, pa.string()),
        }
        return {**replicate(self.limits, (per_resource, r), (per_scope, s)), "ResourceIndex": r, "ScopeIndex": s}


class ContextEncoder:
    """Rebuilds resource and scope containers from rows, creating each container once.

    `container(row)` returns the record list (e.g. `scope_spans.spans`) that row belongs to.
    Containers come out in index order, which is the order they arrived in.
    """

    def __init__(
        self,
        batch: pa.RecordBatch,
        request: Any,
        resource_field: str,
        scope_field: str,
    ) -> None:
        self.request = request
        self.resource_field = resource_field
        self.scope_field = scope_field
        self.resource_index = batch.column("ResourceIndex").to_pylist()
        self.scope_index = batch.column("ScopeIndex").to_pylist()
        self.resource_attributes = AttributesReader(batch.column("ResourceAttributes"))
        self.resource_schema_urls = batch.column("ResourceSchemaUrl").to_pylist()
        self.resource_dropped = batch.column("ResourceDroppedAttributesCount").to_pylist()
        self.scope_names = batch.column("ScopeName").to_pylist()
        self.scope_versions = batch.column("ScopeVersion").to_pylist()
        self.scope_attributes = AttributesReader(batch.column("ScopeAttributes"))
        self.scope_dropped = batch.column("ScopeDroppedAttributesCount").to_pylist()
        self.scope_schema_urls = batch.column("ScopeSchemaUrl").to_pylist()

    def containers(self, records_field: str) -> Iterator[tuple[list[int], Any]]:
        """Per scope: its rows and the repeated field (e.g. `spans`) to add their records to.

        Resource and scope containers are created and filled on the way, in arrival order.
        """
        for scopes in self.group().values():
            resource_container = getattr(self.request, self.resource_field).add()
            self.fill_resource(next(iter(scopes.values()))[0], resource_container)
            for rows in scopes.values():
                scope_container = getattr(resource_container, self.scope_field).add()
                self.fill_scope(rows[0], scope_container)
                yield rows, getattr(scope_container, records_field)

    def group(self) -> dict[int, dict[int, list[int]]]:
        """Row numbers grouped by resource index, then scope index, in arrival order."""
        groups: dict[int, dict[int, list[int]]] = {}
        for row, (r, s) in enumerate(zip(self.resource_index, self.scope_index, strict=True)):
            groups.setdefault(r, {}).setdefault(s, []).append(row)
        return groups

    def fill_resource(self, row: int, container: Any) -> None:
        resource = container.resource
        self.resource_attributes.fill(row, resource.attributes)
        resource.dropped_attributes_count = self.resource_dropped[row]
        container.schema_url = self.resource_schema_urls[row]

    def fill_scope(self, row: int, container: Any) -> None:
        scope = container.scope
        scope.name = self.scope_names[row]
        scope.version = self.scope_versions[row]
        self.scope_attributes.fill(row, scope.attributes)
        scope.dropped_attributes_count = self.scope_dropped[row]
        container.schema_url = self.scope_schema_urls[row]
