"""Attribute actions shared by the `attributes` and `resource` processors (contrib's `attraction`).

Actions run in order over a whole attribute column (`MapEntries`), each on every active row at
once: `insert` (only where the key is absent), `update` (only where present), `upsert`, `delete`
(`key` and/or keys matching `pattern`), `hash` (SHA-256 hex over contrib's byte encoding of the
typed value), `extract` (named groups of `pattern` on a string value become attributes), and
`convert` (`int`, `double`, `string`; a value that does not convert is left as it is). A value
comes from `value`, `from_attribute` (another key of the same map), or `from_context`: the
request's `client.address`, or `metadata.<header>` (receiver `include_metadata: true`; several
values joined with `;`; a bare name means `metadata.<name>`, as in contrib; `auth.*` is not
available — no auth extensions). A batch of several requests keeps the client only when every
request had the same, so put actions using `from_context` before `batch`, as in contrib.
"""

from __future__ import annotations

import hashlib
import math
import re
import struct
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from summitcol.exceptions import ConfigError
from summitcol.pdata.attrmap import MapEntries
from summitcol.pdata.values import BOOL, DOUBLE, INT, STRING, bool_mask, format_double

ActionName = Literal["insert", "update", "upsert", "delete", "hash", "extract", "convert"]


@dataclass(frozen=True, kw_only=True, slots=True)
class ActionConfig:
    key: str = ""
    action: ActionName = "upsert"
    value: Any = None
    from_attribute: str = ""
    from_context: str = ""
    pattern: str = ""
    converted_type: Literal["", "int", "double", "string"] = ""

    def validate(self) -> None:
        sources = sum(x for x in (self.value is not None, bool(self.from_attribute), bool(self.from_context)))
        where = f"action '{self.action}' on key '{self.key}'"
        if self.action in ("insert", "update", "upsert"):
            if not self.key:
                raise ConfigError(f"action '{self.action}' needs key")
            if sources != 1:
                raise ConfigError(f"{where}: set exactly one of value, from_attribute, from_context")
            if self.value is not None and not isinstance(self.value, (str, bool, int, float)):
                raise ConfigError(f"{where}: value must be a string, number or bool")
        elif self.action in ("delete", "hash"):
            if not self.key and not self.pattern:
                raise ConfigError(f"action '{self.action}' needs key or pattern")
            if sources:
                raise ConfigError(f"{where}: does not use value, from_attribute or from_context")
        elif self.action == "extract":
            if not self.key or not self.pattern:
                raise ConfigError("action 'extract' needs key and pattern")
            names = list(re.compile(self.pattern).groupindex)
            if not names or len(names) != re.compile(self.pattern).groups:
                raise ConfigError(f"{where}: pattern must have named groups only, e.g. ^/api/(?P<version>v\\d+)/")
        elif self.action == "convert":
            if not self.key or not self.converted_type:
                raise ConfigError("action 'convert' needs key and converted_type (int, double or string)")
        if self.pattern:
            try:
                re.compile(self.pattern)
                pc.match_substring_regex(pa.array([""]), self.pattern)
            except (re.error, pa.ArrowInvalid) as exc:
                raise ConfigError(f"{where}: invalid pattern {self.pattern!r}: {exc}") from None
        if self.converted_type and self.action != "convert":
            raise ConfigError(f"{where}: converted_type is only used by 'convert'")


def literal(value: Any) -> tuple[int, str]:
    if isinstance(value, bool):
        return BOOL, "true" if value else "false"
    if isinstance(value, int):
        return INT, str(value)
    if isinstance(value, float):
        return DOUBLE, format_double(value)
    return STRING, str(value)


def _key_mask(entries: MapEntries, key: str, pattern: str) -> np.ndarray:
    mask = bool_mask(pc.equal(entries.keys, key)) if key else np.zeros(len(entries), dtype=bool)
    if pattern:
        mask |= bool_mask(pc.match_substring_regex(entries.keys, pattern))
    return mask


def lookup(entries: MapEntries, key: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per row: (found, index of the first entry with `key`, …); the index is -1 where absent."""
    positions = np.flatnonzero(bool_mask(pc.equal(entries.keys, key)))
    first = np.full(entries.num_rows, -1, dtype=np.int64)
    if len(positions):
        rows, where = np.unique(entries.rows[positions], return_index=True)
        first[rows] = positions[where]
    return first >= 0, first, positions


def _hash_typed(type_: int, text: str) -> str:
    """contrib's sha2Hasher: string bytes, bool as one byte, int/double as 8 little-endian bytes."""
    if type_ == STRING:
        data = text.encode()
    elif type_ == BOOL:
        data = b"\x01" if text == "true" else b"\x00"
    elif type_ == INT:
        data = struct.pack("<q", int(text))
    elif type_ == DOUBLE:
        data = struct.pack("<d", float(text))
    else:
        return ""
    return hashlib.sha256(data).hexdigest()


def _convert(type_: int, text: str, target: str) -> tuple[int, str] | None:
    """contrib's type_converter: None when the value does not convert (it stays as it is)."""
    if target == "string":
        return STRING, text
    try:
        if target == "int":
            if type_ == INT:
                return None
            if type_ == DOUBLE:
                number = float(text)
                return (INT, str(math.trunc(number))) if math.isfinite(number) else None
            if type_ == BOOL:
                return INT, "1" if text == "true" else "0"
            if type_ == STRING:
                return INT, str(int(text, 10))
            return None
        if type_ == DOUBLE:
            return None
        if type_ == INT:
            return DOUBLE, format_double(float(int(text)))
        if type_ == BOOL:
            return DOUBLE, "1" if text == "true" else "0"
        if type_ == STRING:
            return DOUBLE, format_double(float(text))
    except ValueError:
        return None
    return None


def _rewrite_each(entries: MapEntries, where: np.ndarray, fn: Any) -> MapEntries:
    """Rewrite the selected entries' (type, value) with fn(type, text) → (type, text) | None.

    Runs on distinct (type, value) pairs of the selection only."""
    if not where.any():
        return entries
    selected = pa.array(where)
    types = entries.types.filter(selected).to_numpy(zero_copy_only=False)
    texts = entries.values.filter(selected).to_pylist()
    cache: dict[tuple[int, str], tuple[int, str] | None] = {}
    new_types, new_texts, changed = [], [], []
    for type_, text in zip(types.tolist(), texts, strict=True):
        key = (type_, text)
        if key not in cache:
            cache[key] = fn(type_, text)
        result = cache[key]
        changed.append(result is not None)
        new_types.append(type_ if result is None else result[0])
        new_texts.append(text if result is None else result[1])
    full_types = pc.replace_with_mask(entries.types, selected, pa.array(new_types, pa.uint8()))
    full_values = pc.replace_with_mask(entries.values, selected, pa.array(new_texts, pa.string()))
    return MapEntries(entries.num_rows, entries.rows, entries.keys, full_types, full_values)


def context_value(client: dict[str, str] | None, key: str) -> str | None:
    """contrib's getAttributeValueFromContext over the request's client info."""
    if not client or key.startswith("auth."):
        return None
    if key == "client.address" or key.startswith("metadata."):
        return client.get(key)
    return client.get(f"metadata.{key}")


def apply_actions(
    entries: MapEntries, actions: list[ActionConfig], active: np.ndarray | None = None, client: dict[str, str] | None = None
) -> MapEntries:
    """Run `actions` in order on the rows where `active` is true (all rows when None)."""
    for action in actions:
        row_active = np.ones(entries.num_rows, dtype=bool) if active is None else active
        entry_active = row_active[entries.rows]
        if action.action == "delete":
            entries = entries.filter(~(_key_mask(entries, action.key, action.pattern) & entry_active))
        elif action.action == "hash":
            entries = _rewrite_each(
                entries, _key_mask(entries, action.key, action.pattern) & entry_active, lambda t, v: (STRING, _hash_typed(t, v))
            )
        elif action.action == "convert":
            target = action.converted_type
            entries = _rewrite_each(entries, _key_mask(entries, action.key, "") & entry_active, lambda t, v, target=target: _convert(t, v, target))
        elif action.action == "extract":
            entries = _extract(entries, action, entry_active)
        else:
            entries = _set(entries, action, row_active, client)
    return entries


def _source(entries: MapEntries, action: ActionConfig, client: dict[str, str] | None) -> tuple[np.ndarray, pa.Array, pa.Array]:
    """Per row: (has a source value, its type, its text)."""
    n = entries.num_rows
    if action.from_context:
        found = context_value(client, action.from_context)
        if found is None:
            return np.zeros(n, dtype=bool), pa.array(np.zeros(n, np.uint8)), pa.array([""] * n, pa.string())
        return np.ones(n, dtype=bool), pa.array(np.full(n, STRING, np.uint8)), pa.array([found] * n, pa.string())
    if action.value is not None:
        type_, text = literal(action.value)
        return np.ones(n, dtype=bool), pa.array(np.full(n, type_, np.uint8)), pa.array([text] * n, pa.string())
    found, first, _ = lookup(entries, action.from_attribute)
    index = pa.array(np.where(found, first, 0))
    if len(entries) == 0:
        return found, pa.array(np.zeros(n, np.uint8)), pa.array([""] * n, pa.string())
    return found, pc.take(entries.types, index), pc.take(entries.values, index)


def _set(entries: MapEntries, action: ActionConfig, row_active: np.ndarray, client: dict[str, str] | None) -> MapEntries:
    has_source, source_types, source_values = _source(entries, action, client)
    exists, _, positions = lookup(entries, action.key)
    rows = row_active & has_source
    if action.action in ("update", "upsert") and len(positions):
        targets = np.zeros(len(entries), dtype=bool)
        targets[positions] = rows[entries.rows[positions]]
        by_entry = pa.array(entries.rows)
        entries = MapEntries(
            entries.num_rows,
            entries.rows,
            entries.keys,
            pc.if_else(pa.array(targets), pc.take(source_types, by_entry), entries.types),
            pc.if_else(pa.array(targets), pc.take(source_values, by_entry), entries.values),
        )
    if action.action in ("insert", "upsert"):
        new_rows = np.flatnonzero(rows & ~exists)
        if len(new_rows):
            take = pa.array(new_rows)
            entries = entries.append(
                new_rows, pa.array([action.key] * len(new_rows), pa.string()), pc.take(source_types, take), pc.take(source_values, take)
            )
    return entries


def _extract(entries: MapEntries, action: ActionConfig, entry_active: np.ndarray) -> MapEntries:
    """Named groups of `pattern` in the string value of `key` → string attributes (upserted)."""
    positions = np.flatnonzero(
        _key_mask(entries, action.key, "") & entry_active & (entries.types.to_numpy(zero_copy_only=False) == STRING)
    )
    if not len(positions):
        return entries
    # The first entry with the key in each row is the value contrib reads.
    _, first = np.unique(entries.rows[positions], return_index=True)
    positions = positions[first]
    matched = pc.extract_regex(pc.take(entries.values, pa.array(positions)), action.pattern)
    valid = ~bool_mask(pc.is_null(matched))
    rows = entries.rows[positions][valid]
    names = list(re.compile(action.pattern).groupindex)
    for name in names:
        values = pc.struct_field(matched, name).filter(pa.array(valid))
        entries = _set_values(entries, name, rows, values)
    return entries


def _set_values(entries: MapEntries, key: str, rows: np.ndarray, values: pa.Array) -> MapEntries:
    """Upsert string `key` = values[i] on rows[i]."""
    per_row = np.full(entries.num_rows, -1, dtype=np.int64)
    per_row[rows] = np.arange(len(rows))
    exists, _, positions = lookup(entries, key)
    if len(positions):
        targets_rows = entries.rows[positions]
        hit = per_row[targets_rows] >= 0
        target_entries = positions[hit]
        if len(target_entries):
            mask = np.zeros(len(entries), dtype=bool)
            mask[target_entries] = True
            replacement = pc.take(values, pa.array(per_row[entries.rows[target_entries]]))
            entries = MapEntries(
                entries.num_rows,
                entries.rows,
                entries.keys,
                pc.replace_with_mask(entries.types, pa.array(mask), pa.array(np.full(len(target_entries), STRING, np.uint8))),
                pc.replace_with_mask(entries.values, pa.array(mask), replacement),
            )
    new = ~exists[rows]
    if new.any():
        new_rows = rows[new]
        entries = entries.append(
            new_rows,
            pa.array([key] * len(new_rows), pa.string()),
            pa.array(np.full(len(new_rows), STRING, np.uint8)),
            values.filter(pa.array(new)),
        )
    return entries
