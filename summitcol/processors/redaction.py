"""The `redaction` processor: contrib's redaction rules plus Summit's PII detectors, on whole columns.

Contrib-compatible part (same keys, same order of checks, same output and `redaction.*`
summary attributes as `processor/redactionprocessor`): per attribute, an ignored key passes
untouched; a key not on `allowed_keys` (unless `allow_all_keys`) is removed; a value matching
`allowed_values` is kept; a key matching `blocked_key_patterns` has its whole value masked; else
every `blocked_values` match is masked (`****`, or its digest with `hash_function`). String log
bodies go through the value rules too (`redaction.body.*`). Contrib applies this to resource,
scope, span, span-event, log-record and data-point attributes; Summit also to link and exemplar
attributes.

Summit's `pii` section adds named detectors (`summitcol.pii.detectors`) applied to the string
values that survived the rules above, to log bodies and to span status messages, each with an
action: `replace` (`[email]`, so message shapes stay stable for grouping), `mask`, `hash`,
`remove`. Values it changes are counted as masked keys, removed attributes as redacted keys.

Nothing here loops over spans: each attribute column is taken apart into entry columns
(`MapEntries`), checked with `pyarrow.compute` on distinct keys and values, and rebuilt once.
Python only touches values a regex already matched (hashing, validators).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from summitcol.component import Consumer, CreateSettings, Factory, Kind, Signal, Stability
from summitcol.exceptions import ConfigError
from summitcol.pdata.attrmap import MapEntries, edit_map_column
from summitcol.pdata.signal import SignalData
from summitcol.pdata.values import BOOL, DOUBLE, INT, STRING
from summitcol.pii.detectors import BUILTIN, BUILTIN_NAMES, SECRET_KEY_PATTERN, VALIDATORS, Detector
from summitcol.pii.scrubber import Rule, Scrubber
from summitcol.processors.columnar import ColumnarProcessor

log = logging.getLogger("summitcol.processor.redaction")

MASK = "****"
SUMMARY_KEYS = {
    "redacted": ("redaction.redacted.keys", "redaction.redacted.count"),
    "masked": ("redaction.masked.keys", "redaction.masked.count"),
    "allowed": ("redaction.allowed.keys", "redaction.allowed.count"),
    "ignored": ("", "redaction.ignored.count"),
}
BODY_SUMMARY_KEYS = {
    "redacted": ("redaction.body.redacted.keys", "redaction.body.redacted.count"),
    "masked": ("redaction.body.masked.keys", "redaction.body.masked.count"),
    "allowed": ("redaction.body.allowed.keys", "redaction.body.allowed.count"),
    "ignored": ("", "redaction.body.ignored.count"),
}
# Keys the processor writes are always allowed, so a second redaction processor keeps them.
_WRITTEN_KEYS = {k for table in (SUMMARY_KEYS, BODY_SUMMARY_KEYS) for pair in table.values() for k in pair if k}
BODY_KEY = "body"
STATUS_MESSAGE_KEY = "status.message"

# Attribute columns per table; `list<map>` columns (events, links, exemplars) are edited per element.
_ATTRIBUTE_COLUMNS = (
    "ResourceAttributes",
    "ScopeAttributes",
    "SpanAttributes",
    "LogAttributes",
    "Attributes",
    "Events.Attributes",
    "Links.Attributes",
    "Exemplars.FilteredAttributes",
)


@dataclass(frozen=True, kw_only=True, slots=True)
class CustomDetector:
    name: str = ""
    regex: str = ""
    validator: Literal["", "luhn", "mod97"] = ""
    action: Literal["", "replace", "mask", "hash", "remove"] = ""

    def validate(self) -> None:
        if not re.fullmatch(r"[a-z][a-z0-9_]*", self.name):
            raise ConfigError(f"pii.custom: name {self.name!r} must be lowercase letters, digits and _ (it is written as [{self.name}])")
        if self.name in BUILTIN_NAMES:
            raise ConfigError(f"pii.custom: '{self.name}' is a built-in detector; pick another name")
        _check_regex(self.regex, f"pii.custom '{self.name}' regex")


@dataclass(frozen=True, kw_only=True, slots=True)
class PIIConfig:
    """Summit extension: named PII detectors (all built-ins unless `detectors` lists some)."""

    detectors: list[str] = field(default_factory=lambda: list(BUILTIN_NAMES))
    action: Literal["replace", "mask", "hash", "remove"] = "replace"
    actions: dict[str, Literal["replace", "mask", "hash", "remove"]] = field(default_factory=dict)
    custom: list[CustomDetector] = field(default_factory=list)
    include_keys: list[str] = field(default_factory=list)
    exclude_keys: list[str] = field(default_factory=list)
    signals: list[Literal["traces", "logs", "metrics"]] = field(default_factory=lambda: ["traces", "logs", "metrics"])

    def validate(self) -> None:
        unknown = [name for name in self.detectors if name not in BUILTIN_NAMES]
        if unknown:
            raise ConfigError(f"pii.detectors: unknown detector(s) {', '.join(unknown)}; built-ins are {', '.join(BUILTIN_NAMES)}")
        names = set(self.detectors) | {c.name for c in self.custom}
        stray = sorted(set(self.actions) - names)
        if stray:
            raise ConfigError(f"pii.actions: {', '.join(stray)} is not an enabled detector")


@dataclass(frozen=True, kw_only=True, slots=True)
class Config:
    allow_all_keys: bool = False
    allowed_keys: list[str] = field(default_factory=list)
    ignored_keys: list[str] = field(default_factory=list)
    ignored_key_patterns: list[str] = field(default_factory=list)
    blocked_key_patterns: list[str] = field(default_factory=list)
    blocked_values: list[str] = field(default_factory=list)
    allowed_values: list[str] = field(default_factory=list)
    redact_all_types: bool = False
    hash_function: Literal["", "md5", "sha1", "sha3", "hmac-sha256", "hmac-sha512"] = ""
    hmac_key: str = ""
    hash_key: str = ""  # Summit's name for hmac_key; either may be set
    summary: Literal["", "debug", "info", "silent"] = "silent"
    pii: PIIConfig | None = None

    def validate(self) -> None:
        for name in ("ignored_key_patterns", "blocked_key_patterns", "blocked_values", "allowed_values"):
            for pattern in getattr(self, name):
                _check_regex(pattern, name)
        if self.hmac_key and self.hash_key and self.hmac_key != self.hash_key:
            raise ConfigError("set hmac_key or hash_key (the same setting), not both")
        key = self.key()
        if self.hash_function.startswith("hmac-"):
            need = 32 if self.hash_function == "hmac-sha256" else 64
            if len(key.encode()) < need:
                raise ConfigError(
                    f"hash_function {self.hash_function} needs hmac_key of at least {need} bytes "
                    f"(got {len(key.encode())}); load it from a secret, e.g. hmac_key: ${{env:REDACTION_HMAC_KEY}}"
                )
        elif key:
            raise ConfigError("hmac_key is only used with hash_function hmac-sha256 or hmac-sha512")

    def key(self) -> str:
        return self.hmac_key or self.hash_key


def _check_regex(pattern: str, where: str) -> None:
    try:
        re.compile(pattern)
        pc.match_substring_regex(pa.array([""]), pattern)
    except (re.error, pa.ArrowInvalid) as exc:
        raise ConfigError(f"{where}: invalid regular expression {pattern!r}: {exc}") from None


def make_hasher(function: str, key: str) -> Callable[[str], str]:
    """Hex digest of a value, as contrib's hashString / hashStringHMAC (SHA-256 when unset)."""
    if function.startswith("hmac-"):
        digest = hashlib.sha256 if function == "hmac-sha256" else hashlib.sha512
        secret = key.encode()
        return lambda text: hmac.new(secret, text.encode(), digest).hexdigest()
    algorithm = {"md5": hashlib.md5, "sha1": hashlib.sha1, "sha3": hashlib.sha3_256}.get(function, hashlib.sha256)
    return lambda text: algorithm(text.encode()).hexdigest()


def _match_any(values: pa.Array, patterns: Sequence[str]) -> np.ndarray:
    """Per row: does any pattern match? Evaluated on the distinct values only."""
    n = len(values)
    if not patterns or n == 0:
        return np.zeros(n, dtype=bool)
    encoded = pc.dictionary_encode(values)
    hit = np.zeros(len(encoded.dictionary), dtype=bool)
    for pattern in patterns:
        hit |= pc.match_substring_regex(encoded.dictionary, pattern).to_numpy(zero_copy_only=False)
    return hit[encoded.indices.to_numpy(zero_copy_only=False)]


def _strings(array: pa.Array) -> pa.Array:
    return array if array.type == pa.string() else array.cast(pa.string())


@dataclass(slots=True)
class _Outcome:
    """Which entries each rule touched, for the summary (as (row, key) pairs in entry order)."""

    categories: dict[str, np.ndarray] = field(default_factory=dict)


class Redactor:
    """The engine: stateless after construction, so one instance serves every pipeline."""

    def __init__(self, config: Config, *, on_detections: Callable[[dict[str, int]], None] | None = None) -> None:
        self.config = config
        self.hasher = make_hasher(config.hash_function, config.key())
        self.allow_list = pa.array(sorted(set(config.allowed_keys) | _WRITTEN_KEYS), pa.string())
        self.ignore_list = pa.array(config.ignored_keys, pa.string())
        self.on_detections = on_detections
        pii = config.pii
        self.pii = pii
        self.scrubber: Scrubber | None = None
        self.secret_keys_action: str | None = None
        if pii is not None:
            rules = [Rule(d, pii.actions.get(d.name, pii.action)) for d in BUILTIN if d.name in pii.detectors]
            for custom in pii.custom:
                validator = VALIDATORS.get(custom.validator) if custom.validator else None
                rules.append(Rule(Detector(custom.name, custom.regex, validator=validator), custom.action or pii.actions.get(custom.name, pii.action)))
            self.scrubber = Scrubber(rules, self.hasher)
            if "password_keys" in pii.detectors:
                self.secret_keys_action = pii.actions.get("password_keys", pii.action)

    # -- values -----------------------------------------------------------------------------

    def _mask_matches(self, values: pa.Array, where: np.ndarray, pattern: str) -> pa.Array:
        """contrib's maskValue: every match → `****`, or its digest when a hash function is set."""
        if not where.any():
            return values
        selected = values.filter(pa.array(where))
        if self.config.hash_function:
            compiled = re.compile(pattern)
            replaced = pa.array([compiled.sub(lambda m: self.hasher(m.group(0)), text) for text in selected.to_pylist()], pa.string())
        else:
            replaced = pc.replace_substring_regex(selected, pattern, MASK)
        return pc.replace_with_mask(values, pa.array(where), replaced)

    def _whole_value_mask(self, values: pa.Array, where: np.ndarray) -> pa.Array:
        if not where.any():
            return values
        if self.config.hash_function:
            selected = values.filter(pa.array(where)).to_pylist()
            replaced = pa.array([self.hasher(text) for text in selected], pa.string())
            return pc.replace_with_mask(values, pa.array(where), replaced)
        return pc.if_else(pa.array(where), MASK, values)

    def _secret_value(self, values: pa.Array, where: np.ndarray) -> pa.Array:
        """The `password_keys` detector's key half: the whole value of a credential-named key."""
        action = self.secret_keys_action
        selected = values.filter(pa.array(where))
        if action == "mask":
            replaced = pc.binary_repeat("*", pc.utf8_length(selected))
        elif action == "hash":
            replaced = pa.array([self.hasher(text) for text in selected.to_pylist()], pa.string())
        else:
            replaced = pa.array(["[password_keys]"] * len(selected), pa.string())
        return pc.replace_with_mask(values, pa.array(where), replaced)

    def check_values(self, values: pa.Array, candidates: np.ndarray) -> tuple[pa.Array, np.ndarray]:
        """allowed_values / blocked_values on the candidate values: (new values, allowed mask)."""
        config = self.config
        allowed = candidates & _match_any(values, config.allowed_values)
        rest = candidates & ~allowed
        for pattern in config.blocked_values:
            matched = rest & pc.fill_null(pc.match_substring_regex(values, pattern), False).to_numpy(zero_copy_only=False)
            values = self._mask_matches(values, matched, pattern)
        return values, allowed

    # -- attribute maps ---------------------------------------------------------------------

    def pii_scope(self, keys: pa.Array) -> np.ndarray:
        pii = self.pii
        n = len(keys)
        if pii is None:
            return np.zeros(n, dtype=bool)
        scope = np.ones(n, dtype=bool)
        if pii.include_keys:
            scope &= pc.is_in(keys, pa.array(pii.include_keys, pa.string())).to_numpy(zero_copy_only=False)
        if pii.exclude_keys:
            scope &= ~pc.is_in(keys, pa.array(pii.exclude_keys, pa.string())).to_numpy(zero_copy_only=False)
        return scope

    def redact_entries(self, entries: MapEntries, pii_enabled: bool) -> tuple[MapEntries, _Outcome]:
        config = self.config
        keys = entries.keys
        n = len(entries)
        types = entries.types.to_numpy(zero_copy_only=False)
        outcome = _Outcome()
        if n == 0:
            return entries, outcome
        ignored = pc.is_in(keys, self.ignore_list).to_numpy(zero_copy_only=False) | _match_any(keys, config.ignored_key_patterns)
        if config.allow_all_keys:
            redacted = np.zeros(n, dtype=bool)
        else:
            redacted = ~ignored & ~pc.is_in(keys, self.allow_list).to_numpy(zero_copy_only=False)
        candidates = ~ignored & ~redacted
        is_string = types == STRING
        original = entries.values
        # contrib reads value.Str() ("" for non-strings) unless redact_all_types (value.AsString()).
        text = original if config.redact_all_types else pc.if_else(pa.array(is_string), original, "")
        allowed = candidates & _match_any(text, config.allowed_values)
        key_masked = candidates & ~allowed & _match_any(keys, config.blocked_key_patterns)
        rest = candidates & ~allowed & ~key_masked
        new_text = self._whole_value_mask(text, key_masked)
        for pattern in config.blocked_values:
            matched = rest & pc.fill_null(pc.match_substring_regex(new_text, pattern), False).to_numpy(zero_copy_only=False)
            new_text = self._mask_matches(new_text, matched, pattern)
        masked = key_masked | (rest & ~pc.equal(new_text, text).to_numpy(zero_copy_only=False))
        if pii_enabled and self.scrubber is not None:
            scope = rest & self.pii_scope(keys) & (is_string | config.redact_all_types)
            if self.secret_keys_action is not None:
                secret_key = scope & _match_any(keys, [SECRET_KEY_PATTERN]) & is_string
                if self.secret_keys_action == "remove":
                    redacted |= secret_key
                elif secret_key.any():
                    new_text = self._secret_value(new_text, secret_key)
                    masked |= secret_key
                    self._report({"password_keys": int(secret_key.sum())})
                scope &= ~secret_key
            if scope.any():
                where = pa.array(scope)
                result = self.scrubber.scrub(new_text.filter(where))
                if result.hits:
                    positions = np.flatnonzero(scope)
                    changed = np.zeros(n, dtype=bool)
                    changed[positions[result.changed]] = True
                    removed = np.zeros(n, dtype=bool)
                    removed[positions[result.remove]] = True
                    new_text = pc.replace_with_mask(new_text, pa.array(changed), result.values.filter(pa.array(result.changed)))
                    masked |= changed & ~removed
                    redacted |= removed
                    self._report(result.hits)
        masked &= ~redacted
        entries = entries.with_values(pa.array(masked), new_text, STRING)
        outcome.categories = {"redacted": redacted, "masked": masked, "allowed": allowed, "ignored": ignored}
        all_keys_rows = entries.rows
        summary = {
            name: (all_keys_rows[mask], keys.filter(pa.array(mask))) for name, mask in outcome.categories.items() if mask.any()
        }
        entries = entries.filter(~redacted)
        return self.add_summary(entries, summary, SUMMARY_KEYS), outcome

    def _report(self, hits: dict[str, int]) -> None:
        if self.on_detections is not None and hits:
            self.on_detections(hits)

    def add_summary(
        self, entries: MapEntries, summary: dict[str, tuple[np.ndarray, pa.Array]], names: dict[str, tuple[str, str]]
    ) -> MapEntries:
        """contrib's addMetaAttrs: sorted key lists (debug) and counts (debug, info), merged into
        values a previous redaction processor left; written in contrib's order."""
        level = self.config.summary
        if level not in ("debug", "info") or not summary:
            return entries
        new_rows: list[np.ndarray] = []
        new_keys: list[pa.Array] = []
        new_types: list[pa.Array] = []
        new_values: list[pa.Array] = []
        replaced: list[tuple[str, np.ndarray]] = []
        for category in ("redacted", "masked", "allowed", "ignored"):
            if category not in summary:
                continue
            rows, keys = summary[category]
            keys_attr, count_attr = names[category]
            table = pa.table({"row": rows, "key": _strings(keys)}).sort_by([("row", "ascending"), ("key", "ascending")])
            sorted_rows = table.column("row").to_numpy()
            unique_rows, starts, counts = np.unique(sorted_rows, return_index=True, return_counts=True)
            if level == "debug" and keys_attr:
                offsets = np.append(starts, len(sorted_rows)).astype(np.int32)
                joined = pc.binary_join(pa.ListArray.from_arrays(pa.array(offsets), table.column("key").combine_chunks()), ",")
                joined = self._merge_existing(entries, unique_rows, keys_attr, joined, _merge_key_lists)
                replaced.append((keys_attr, unique_rows))
                new_rows.append(unique_rows)
                new_keys.append(pa.array([keys_attr] * len(unique_rows), pa.string()))
                new_types.append(pa.array(np.full(len(unique_rows), STRING, np.uint8)))
                new_values.append(joined)
            count_text = pa.array(counts.astype(str).tolist(), pa.string())
            count_text = self._merge_existing(entries, unique_rows, count_attr, count_text, _merge_counts)
            replaced.append((count_attr, unique_rows))
            new_rows.append(unique_rows)
            new_keys.append(pa.array([count_attr] * len(unique_rows), pa.string()))
            new_types.append(pa.array(np.full(len(unique_rows), INT, np.uint8)))
            new_values.append(count_text)
        # PutStr/PutInt replace a value a previous processor wrote: drop the old entries.
        drop = np.zeros(len(entries), dtype=bool)
        for key, rows in replaced:
            drop |= pc.equal(entries.keys, key).to_numpy(zero_copy_only=False) & np.isin(entries.rows, rows)
        entries = entries.filter(~drop)
        return entries.append(
            np.concatenate(new_rows), pa.concat_arrays(new_keys), pa.concat_arrays(new_types), pa.concat_arrays(new_values)
        )

    @staticmethod
    def _merge_existing(
        entries: MapEntries, rows: np.ndarray, key: str, values: pa.Array, merge: Callable[[str, str], str]
    ) -> pa.Array:
        existing = pc.equal(entries.keys, key).to_numpy(zero_copy_only=False)
        if not existing.any():
            return values
        previous = dict(zip(entries.rows[existing].tolist(), entries.values.filter(pa.array(existing)).to_pylist(), strict=True))
        merged = values.to_pylist()
        for i, row in enumerate(rows.tolist()):
            if row in previous:
                merged[i] = merge(previous[row], merged[i])
        return pa.array(merged, pa.string())

    # -- tables -----------------------------------------------------------------------------

    def redact_column(self, column: pa.Array, pii_enabled: bool) -> pa.Array:
        return edit_map_column(column, lambda entries: self.redact_entries(entries, pii_enabled)[0])

    def redact_batch(self, batch: pa.RecordBatch, signal: Signal) -> pa.RecordBatch:
        pii_enabled = self.pii is not None and str(signal) in self.pii.signals
        names = batch.schema.names
        columns = {name: batch.column(name) for name in names}
        for name in _ATTRIBUTE_COLUMNS:
            if name in columns and not (name == "LogAttributes" and signal is Signal.LOGS):
                columns[name] = self.redact_column(columns[name], pii_enabled)
        if signal is Signal.LOGS and "LogAttributes" in columns:
            self._redact_logs(columns, pii_enabled)
        if pii_enabled and "StatusMessage" in columns and self._in_pii_scope(STATUS_MESSAGE_KEY):
            scrubbed = self.scrubber.scrub(columns["StatusMessage"])  # type: ignore[union-attr]
            columns["StatusMessage"] = scrubbed.values
            self._report(scrubbed.hits)
        return pa.RecordBatch.from_arrays([columns[name] for name in names], schema=batch.schema)

    def _in_pii_scope(self, key: str) -> bool:
        pii = self.pii
        assert pii is not None
        return (not pii.include_keys or key in pii.include_keys) and key not in pii.exclude_keys

    def _redact_logs(self, columns: dict[str, pa.Array], pii_enabled: bool) -> None:
        """Log attributes, then the body (contrib's processLogBody for scalar bodies), whose
        `redaction.body.*` summary lands in the log's attributes."""
        entries, _ = self.redact_entries(MapEntries.of(columns["LogAttributes"]), pii_enabled)
        body = columns["Body"]
        if isinstance(body, pa.ChunkedArray):
            body = body.combine_chunks()
        body_type = pc.fill_null(columns["BodyType"], 0).to_numpy(zero_copy_only=False)
        scalar = np.isin(body_type, [STRING, INT, DOUBLE, BOOL])
        allowed = scalar & _match_any(body, self.config.allowed_values)
        new_body, _ = self.check_values(body, scalar & ~allowed)
        changed = scalar & ~allowed & ~pc.equal(new_body, body).to_numpy(zero_copy_only=False)
        if pii_enabled and self.scrubber is not None and self._in_pii_scope(BODY_KEY):
            scope = (body_type == STRING) & ~allowed
            if scope.any():
                result = self.scrubber.scrub(new_body.filter(pa.array(scope)))
                if result.hits:
                    positions = np.flatnonzero(scope)
                    pii_changed = np.zeros(len(body), dtype=bool)
                    pii_changed[positions[result.changed]] = True
                    new_body = pc.replace_with_mask(new_body, pa.array(pii_changed), result.values.filter(pa.array(result.changed)))
                    changed |= pii_changed
                    self._report(result.hits)
        if changed.any():
            columns["Body"] = new_body
            columns["BodyType"] = pc.if_else(pa.array(changed), pa.scalar(STRING, pa.uint8()), columns["BodyType"])
            rows = np.flatnonzero(changed)
            summary = {"masked": (rows, pa.array([BODY_KEY] * len(rows), pa.string()))}
            entries = self.add_summary(entries, summary, BODY_SUMMARY_KEYS)
        columns["LogAttributes"] = entries.to_map()

    def apply(self, data: SignalData) -> SignalData:
        tables = {}
        for name, batch in data.tables.items():
            tables[name] = self.redact_batch(batch, data.signal) if batch.num_rows else batch
        return data.with_tables(tables)


def _merge_key_lists(previous: str, new: str) -> str:
    keys = new.split(",") + (previous.split(",") if previous else [])
    return ",".join(sorted(keys))


def _merge_counts(previous: str, new: str) -> str:
    try:
        return str(int(previous) + int(new))
    except ValueError:
        return new


class RedactionProcessor(ColumnarProcessor):
    def __init__(self, settings: CreateSettings, config: Config, *, next_consumer: Consumer) -> None:
        super().__init__(settings, next_consumer=next_consumer)
        self.redactor = Redactor(config, on_detections=self._count)

    def process(self, data: SignalData) -> SignalData:
        return self.redactor.apply(data)

    def _count(self, hits: dict[str, int]) -> None:
        for detector, amount in hits.items():
            self.settings.telemetry.count_plain("summitcol_processor_redaction_pii_detections", amount, processor=self.label, detector=detector)



def _create(settings: CreateSettings, config: Config, *, next_consumer: Consumer) -> RedactionProcessor:
    return RedactionProcessor(settings, config, next_consumer=next_consumer)


FACTORY = Factory(
    type="redaction",
    kind=Kind.PROCESSOR,
    config_type=Config,
    create=_create,
    signals=frozenset({Signal.TRACES, Signal.LOGS, Signal.METRICS}),
    stability=Stability.BETA,
    description="contrib's attribute redaction (allow/ignore/block lists, hashing, summary) plus PII detectors with replace/mask/hash/remove",
)
