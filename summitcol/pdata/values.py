"""Typed attribute values in Arrow, and the builders that fill and read attribute columns.

An attribute map is `map<string, struct<type: uint8, value: string>>`:

* `type` is the OTLP AnyValue kind, numbered like pdata's `pcommon.ValueType`: 0 empty, 1 string,
  2 int, 3 double, 4 bool, 5 kvlist, 6 array, 7 bytes.
* `value` is the value as text: the string itself; an int in decimal; a double in Go's shortest
  `'f'` format (what the collector's `AsString()` gives, and exactly reversible); `true`/`false`;
  bytes in standard base64; arrays and kvlists as their OTLP/JSON (lossless, rare).

The ClickHouse projection `Map(String, String)` is just the map with its `value` child: derived
without copying (`exporters/clickhouse/projection.project_map`), and exactly what contrib's
exporter writes for scalars. Processors regex over `value` for all strings at once, and filter on `type`.
"""

from __future__ import annotations

import base64
import math
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
from opentelemetry.proto.common.v1.common_pb2 import AnyValue

from summitcol.exceptions import InvalidDataError
from summitcol.pdata import otlp_json

# One depth limit for every AnyValue accepted (a scalar is 1 level, an array or kvlist holding it
# 2, ...), so that everything stored can be written by every exporter: OTLP/JSON (the file
# exporter, orjson refuses more than 254 levels of JSON, and a kvlist level is 4) and protobuf
# (the protobuf library parses at most 100 levels of messages, a kvlist level is 3 and a request
# wraps an attribute in up to 9). Both decoders enforce it here: the Python one for every
# array/kvlist it converts, the C one by handing every array/kvlist to `encode_value`.
MAX_ANYVALUE_DEPTH = 32
TOO_DEEP = f"AnyValue nested deeper than {MAX_ANYVALUE_DEPTH} levels"

EMPTY, STRING, INT, DOUBLE, BOOL, KVLIST, ARRAY, BYTES = range(8)

VALUE_TYPE = pa.struct([("type", pa.uint8()), ("value", pa.string())])
ATTRIBUTES = pa.map_(pa.string(), VALUE_TYPE)
PROJECTED_ATTRIBUTES = pa.map_(pa.string(), pa.string())


def format_double(value: float) -> str:
    """Go's strconv.FormatFloat(v, 'f', -1, 64): shortest round-tripping, no exponent."""
    if value != value:
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    text = repr(value)
    if "e" in text:
        text = format(Decimal(text), "f")
    if text.endswith(".0"):
        text = text[:-2]
    return text


def encode_value(value: AnyValue) -> tuple[int, str]:
    """(type, text) for one AnyValue; see the module docstring for the text forms."""
    which = value.WhichOneof("value")
    if which == "string_value":
        return STRING, value.string_value
    if which == "int_value":
        return INT, str(value.int_value)
    if which == "double_value":
        return DOUBLE, format_double(value.double_value)
    if which == "bool_value":
        return BOOL, "true" if value.bool_value else "false"
    if which == "kvlist_value":
        check_depth(value)
        return KVLIST, otlp_json.dumps(value).decode()
    if which == "array_value":
        check_depth(value)
        return ARRAY, otlp_json.dumps(value).decode()
    if which == "bytes_value":
        return BYTES, base64.b64encode(value.bytes_value).decode("ascii")
    return EMPTY, ""


def check_depth(value: AnyValue) -> None:
    """Raise InvalidDataError when `value` nests deeper than MAX_ANYVALUE_DEPTH (iterative: a
    value too deep for Python's recursion limit is refused like any other)."""
    level = [value]
    for _ in range(MAX_ANYVALUE_DEPTH):
        inner: list[AnyValue] = []
        for item in level:
            which = item.WhichOneof("value")
            if which == "array_value":
                inner.extend(item.array_value.values)
            elif which == "kvlist_value":
                inner.extend(kv.value for kv in item.kvlist_value.values)
        if not inner:
            return
        level = inner
    raise InvalidDataError(TOO_DEEP)


def decode_value(type_: int, text: str, target: AnyValue) -> None:
    """Set `target` from a (type, text) pair; the exact inverse of `encode_value`."""
    if type_ == STRING:
        target.string_value = text
    elif type_ == INT:
        target.int_value = int(text)
    elif type_ == DOUBLE:
        target.double_value = float(text)
    elif type_ == BOOL:
        target.bool_value = text == "true"
    elif type_ in (KVLIST, ARRAY):
        otlp_json.parse(text.encode(), target)
    elif type_ == BYTES:
        target.bytes_value = base64.b64decode(text)
    else:
        # An empty value is sent as a present, empty AnyValue (as Go's pdata marshals it).
        target.SetInParent()


class AttributesBuilder:
    """Accumulates one attribute map per `add` call; `finish` makes the Arrow MapArray."""

    __slots__ = ("offsets", "keys", "types", "values")

    def __init__(self) -> None:
        self.offsets: list[int] = [0]
        self.keys: list[str] = []
        self.types: list[int] = []
        self.values: list[str] = []

    def add(self, key_values: Iterable[Any]) -> None:
        # The hot loop of every decode: bound methods, one WhichOneof per value, strings inline.
        add_key, add_type, add_value = self.keys.append, self.types.append, self.values.append
        for kv in key_values:
            add_key(kv.key)
            value = kv.value
            if value.WhichOneof("value") == "string_value":
                add_type(STRING)
                add_value(value.string_value)
            else:
                type_, text = encode_value(value)
                add_type(type_)
                add_value(text)
        self.offsets.append(len(self.keys))

    def finish(self) -> pa.MapArray:
        items = pa.StructArray.from_arrays(
            [pa.array(self.types, pa.uint8()), pa.array(self.values, pa.string())], fields=list(VALUE_TYPE)
        )
        return pa.MapArray.from_arrays(
            pa.array(self.offsets, pa.int32()), pa.array(self.keys, pa.string()), items, type=ATTRIBUTES
        )


class AttributesReader:
    """Reads a map column back into python lists once, then hands out rows to protobuf."""

    __slots__ = ("offsets", "keys", "types", "values")

    def __init__(self, column: pa.Array) -> None:
        column = combined(column)
        offsets = column.offsets
        start, end = offsets[0].as_py(), offsets[-1].as_py()
        self.offsets = pc.subtract(offsets, start).to_pylist() if start else offsets.to_pylist()
        items = column.items.slice(start, end - start)
        self.keys = column.keys.slice(start, end - start).to_pylist()
        self.types = items.field("type").to_pylist()
        self.values = items.field("value").to_pylist()

    def fill(self, index: int, target: Any) -> None:
        """Append the attributes of row `index` to the repeated KeyValue field `target`."""
        keys, types, values = self.keys, self.types, self.values
        for i in range(self.offsets[index], self.offsets[index + 1]):
            kv = target.add()
            kv.key = keys[i]
            type_ = types[i]
            if type_ == STRING:
                kv.value.string_value = values[i]
            else:
                decode_value(type_, values[i], kv.value)


def combined(column: pa.Array | pa.ChunkedArray) -> pa.Array:
    """One contiguous array (a batch's column may come chunked)."""
    return column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column


def bool_mask(array: pa.Array | pa.ChunkedArray) -> Any:
    """A boolean Arrow result as a numpy mask, nulls counting as false."""
    return pc.fill_null(combined(array), False).to_numpy(zero_copy_only=False)


class ListReader:
    """A list column read once: `rows(i)` is the range of child indexes of row i.

    The child array is `child` (only the referenced part), so nested readers index it directly.
    """

    __slots__ = ("offsets", "child")

    def __init__(self, column: pa.Array) -> None:
        column = combined(column)
        offsets = column.offsets
        start, end = offsets[0].as_py(), offsets[-1].as_py()
        self.offsets = pc.subtract(offsets, start).to_pylist() if start else offsets.to_pylist()
        self.child = column.values.slice(start, end - start)

    def rows(self, index: int) -> range:
        return range(self.offsets[index], self.offsets[index + 1])


_NUMBER = r"^\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*$"


def lookup_attribute(column: pa.Array | pa.ChunkedArray, key: str) -> tuple[pa.Array, pa.Array]:
    """(type, text) of `key` in each row of an attribute map column; null where it is absent."""
    found = pc.map_lookup(column, pa.scalar(key), "first")
    return pc.struct_field(found, "type"), pc.struct_field(found, "value")


def numeric_attribute(column: pa.Array | pa.ChunkedArray, key: str) -> Any:
    """`key` as a float per row (numpy): int, double, or a string holding a number; NaN otherwise."""
    types, text = lookup_attribute(column, key)
    numeric = pc.fill_null(
        pc.and_(pc.is_in(types, pa.array([STRING, INT, DOUBLE], pa.uint8())), pc.match_substring_regex(text, _NUMBER)), False
    )
    return pc.cast(pc.if_else(numeric, text, "nan"), pa.float64()).to_numpy(zero_copy_only=False)
