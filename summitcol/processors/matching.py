"""`include` / `exclude` match properties of the `attributes` processor (contrib's filterconfig),
evaluated on whole columns into a per-row mask.

Every property given must match (AND); within a list, any entry (OR) — except `attributes` and
`resources`, where every listed key must match. `strict` compares exactly (typed, for attribute
values); `regexp` matches RE2 patterns against the text.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from summitcol.exceptions import ConfigError
from summitcol.pdata.values import STRING, bool_mask, combined, lookup_attribute
from summitcol.processors.attraction import literal

# contrib spells span kinds as the proto enum; our column holds contrib's SpanKindStr.
SPAN_KIND_NAMES = {
    "SPAN_KIND_UNSPECIFIED": "Unspecified",
    "SPAN_KIND_INTERNAL": "Internal",
    "SPAN_KIND_SERVER": "Server",
    "SPAN_KIND_CLIENT": "Client",
    "SPAN_KIND_PRODUCER": "Producer",
    "SPAN_KIND_CONSUMER": "Consumer",
}


@dataclass(frozen=True, kw_only=True, slots=True)
class AttributeMatch:
    key: str = ""
    value: Any = None


@dataclass(frozen=True, kw_only=True, slots=True)
class LibraryMatch:
    name: str = ""
    version: str | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class MatchProperties:
    match_type: Literal["", "strict", "regexp"] = ""
    services: list[str] = field(default_factory=list)
    span_names: list[str] = field(default_factory=list)
    span_kinds: list[str] = field(default_factory=list)
    log_bodies: list[str] = field(default_factory=list)
    log_severity_texts: list[str] = field(default_factory=list)
    metric_names: list[str] = field(default_factory=list)
    attributes: list[AttributeMatch] = field(default_factory=list)
    resources: list[AttributeMatch] = field(default_factory=list)
    libraries: list[LibraryMatch] = field(default_factory=list)

    def validate(self) -> None:
        if not self.match_type:
            raise ConfigError("match_type must be strict or regexp")
        unknown = [k for k in self.span_kinds if k not in SPAN_KIND_NAMES]
        if unknown:
            raise ConfigError(f"span_kinds: unknown {unknown}; use {', '.join(SPAN_KIND_NAMES)}")


def _any_of(column: pa.Array, patterns: list[str], regexp: bool) -> np.ndarray:
    if not regexp:
        return bool_mask(pc.is_in(column, pa.array(patterns, pa.string())))
    hit = np.zeros(len(column), dtype=bool)
    for pattern in patterns:
        hit |= bool_mask(pc.match_substring_regex(column, pattern))
    return hit


def _attributes(column: pa.Array, matches: list[AttributeMatch], regexp: bool) -> np.ndarray:
    hit = np.ones(len(column), dtype=bool)
    for match in matches:
        types, text = lookup_attribute(column, match.key)
        present = ~bool_mask(pc.is_null(types))
        if match.value is None:
            hit &= present
        elif regexp:
            hit &= present & bool_mask(pc.equal(types, pa.scalar(STRING, pa.uint8()))) & bool_mask(pc.match_substring_regex(text, str(match.value)))
        else:
            type_, expected = literal(match.value)
            hit &= bool_mask(pc.and_(pc.equal(types, pa.scalar(type_, pa.uint8())), pc.equal(text, expected)))
    return hit


def row_mask(props: MatchProperties, batch: pa.RecordBatch, attributes_column: str) -> np.ndarray:
    """Rows of `batch` that match every property given."""
    regexp = props.match_type == "regexp"
    names = batch.schema.names
    hit = np.ones(batch.num_rows, dtype=bool)

    def column(name: str) -> pa.Array:
        return combined(batch.column(name))

    if props.services:
        hit &= _any_of(column("ServiceName"), props.services, regexp)
    if props.span_names:
        hit &= _any_of(column("SpanName"), props.span_names, regexp) if "SpanName" in names else False
    if props.span_kinds:
        kinds = [SPAN_KIND_NAMES[k] for k in props.span_kinds]
        hit &= _any_of(column("SpanKind"), kinds, False) if "SpanKind" in names else False
    if props.log_bodies:
        hit &= _any_of(column("Body"), props.log_bodies, regexp) if "Body" in names else False
    if props.log_severity_texts:
        hit &= _any_of(column("SeverityText"), props.log_severity_texts, regexp) if "SeverityText" in names else False
    if props.metric_names:
        hit &= _any_of(column("MetricName"), props.metric_names, regexp) if "MetricName" in names else False
    if props.attributes:
        hit &= _attributes(column(attributes_column), props.attributes, regexp)
    if props.resources:
        hit &= _attributes(column("ResourceAttributes"), props.resources, regexp)
    if props.libraries:
        library = np.zeros(batch.num_rows, dtype=bool)
        for lib in props.libraries:
            one = _any_of(column("ScopeName"), [lib.name], regexp)
            if lib.version is not None:
                one &= _any_of(column("ScopeVersion"), [lib.version], regexp)
            library |= one
        hit &= library
    return hit
