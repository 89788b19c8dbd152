"""Error tracking over one batch: find the exceptions, fingerprint each distinct one once, group
new fingerprints, mark regressions, annotate the records, and build the `events_error_v1` rows.

Work per distinct stack trace, not per record: the occurrences are dictionary-encoded on
(language, type, message, stack trace, rule tags) and only the dictionary is parsed (with an LRU
across batches, since a crash loop repeats one trace). Everything else is `take`s.
"""

from __future__ import annotations

import dataclasses
import logging
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from operator import itemgetter

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from summitcol.errors import extract, schema
from summitcol.errors.features import Profile
from summitcol.errors.fingerprint import (
    MAX_TITLE_CHARS,
    SDK_FINGERPRINT,
    SDK_IN_APP,
    Fingerprinted,
    fingerprint,
    hash_values,
    with_sdk_in_app,
)
from summitcol.errors.grouping import Grouper
from summitcol.errors.normalize import InAppRules
from summitcol.errors.parameterize import parameterize
from summitcol.errors.parsers import parse
from summitcol.errors.rules import FingerprintRules
from summitcol.errors.store import Decision, GroupStatus, GroupStore
from summitcol.pdata.attrmap import MapEntries, edit_map_column, replace_list_maps
from summitcol.pdata.tenant import DEFAULT_TENANT, TENANT_KEY
from summitcol.pdata.values import ATTRIBUTES, STRING, combined

log = logging.getLogger("summitcol.errors")

MAX_STORED_STACKTRACE = 256 * 1024  # characters of a trace kept in events_error_v1
CACHE_ENTRIES = 20_000
# Traces masked alike but different in other digits (handler_1 / handler_2) are kept side by side.
MAX_SHAPES_PER_MASK = 64
MAX_CACHED_KEY = 64 * 1024  # longer traces are parsed each time (rare; they would crowd the cache)
_SEP = "\x1f"
_SDK_LANGUAGE = "telemetry.sdk.language"


@dataclass(frozen=True, slots=True)
class Result:
    batch: pa.RecordBatch
    errors: pa.RecordBatch | None
    new_groups: int
    regressions: int


class ErrorTracker:
    def __init__(
        self,
        grouper: Grouper,
        store: GroupStore | None = None,
        *,
        in_app: InAppRules = InAppRules(),  # noqa: B008 - frozen
        rules: FingerprintRules | None = None,
        cache_entries: int = CACHE_ENTRIES,
    ) -> None:
        self.grouper = grouper
        self.store = store
        self.in_app = in_app
        self.rules = rules
        self._rules_read_message = any(m.key in ("error.value", "message") for r in (rules.rules if rules else []) for m in r.matchers)
        self.tag_keys = sorted({m.key[5:] for r in (rules.rules if rules else []) for m in r.matchers if m.key.startswith("tags.")})
        self._cache: OrderedDict[str, Fingerprinted] = OrderedDict()
        self._shapes: OrderedDict[bytes, list[_KnownShape]] = OrderedDict()  # skeletons with digits masked
        self._shape_count = 0
        self._cache_entries = cache_entries
        self._statuses: dict[str, GroupStatus] = {}
        self._seen_until = 0.0
        self._lock = threading.Lock()  # one batch (or refresh) at a time: the cache and the grouper are shared

    # -- store ----------------------------------------------------------------------------------
    def refresh(self) -> int:
        """Fold in the decisions and status changes made since the last refresh (other workers,
        the CLI's merges and resolves, a previous run); returns how many decisions were new."""
        if self.store is None:
            return 0
        table = self.store.decisions(self._seen_until)
        statuses = self.store.statuses()
        changed = sum(1 for group, status in statuses.items() if self._statuses.get(group) != status)
        moved = 0
        with self._lock:
            for row in table.to_pylist():
                profile = Profile(row["Fingerprint"], row["Language"], row["ServiceName"], row["ExceptionType"],
                                  row["MessageTemplate"], row["Culprit"], tuple(row["Signature"]), own_tenant(row["TenantId"]))
                candidate = not row["Manual"] and row["Source"] != "rule"  # as assign(): custom groups take no one in
                changed = self.grouper.learn(row["Fingerprint"], row["GroupId"], profile if candidate else None, bool(row["Manual"]))
                moved += int(changed and bool(row["Manual"]))
                self._seen_until = max(self._seen_until, row["DecidedAtUs"] / 1e6 - 5.0)  # rows land out of order across workers
            self._statuses = statuses
        if changed:
            log.info("%d group status change(s) loaded from the store", changed)
        if moved:
            log.info("%d fingerprint(s) moved by merge/unmerge, loaded from the store", moved)
        return table.num_rows

    # -- one batch ------------------------------------------------------------------------------
    def process(self, kind: str, batch: pa.RecordBatch) -> Result:
        """One batch at a time per tracker: the cache and the grouper are shared state (and the
        work is Python under the GIL: two threads would not be faster)."""
        with self._lock:
            return self._process(kind, batch)

    def _process(self, kind: str, batch: pa.RecordBatch) -> Result:
        if kind == "spans" and not self.tag_keys:
            few = extract.FewSpans.of(batch)
            if few is not None:
                return self._process_few(batch, few)
        occurrences = extract.from_spans(batch) if kind == "spans" else extract.from_logs(batch)
        if not len(occurrences):
            return Result(batch, None, 0, 0)
        resource = extract.resource_values(batch, occurrences.rows)
        tags = self._tags(kind, batch, occurrences.rows, resource)
        language = resource[_SDK_LANGUAGE]
        parts = [pc.fill_null(a, "") for a in (language, occurrences.type, occurrences.message, occurrences.stacktrace, *tags.values())]
        tenants = pc.fill_null(resource[TENANT_KEY], "")
        keys = pc.binary_join_element_wise(*parts, tenants, _SEP)  # one bug of two tenants: two distinct errors
        encoded = pc.dictionary_encode(keys)
        indices = encoded.indices
        codes = indices.to_numpy()
        first = pa.array(_first_per_code(codes, len(encoded.dictionary)))
        fields = [pa.array(part).take(first).to_pylist() for part in parts]
        first_tenant = tenants.take(first).to_pylist()
        distinct = [
            scoped(self._fingerprint(_SEP.join(values), *values[:4], dict(zip(tags, values[4:], strict=True))), tenant)
            for tenant, *values in zip(first_tenant, *fields, strict=True)
        ]
        services = pc.fill_null(combined(batch.column("ServiceName")).take(pa.array(occurrences.rows)), "")
        first_service = services.take(first).to_pylist()
        group_of, new_groups = self._group(distinct, first_service, first_tenant)
        fingerprints = pc.take(pa.array([item.fingerprint for item in distinct], pa.string()), indices)
        groups = pc.take(pa.array(group_of, pa.string()), indices)
        regressions = self._regressions(groups, pc.fill_null(resource["service.version"], ""))
        annotated = self._annotate(kind, batch, occurrences, fingerprints, groups)
        errors = self._rows(kind, batch, occurrences, resource, distinct, indices, fingerprints, groups, services)
        return Result(annotated, errors, new_groups, regressions)

    def _process_few(self, batch: pa.RecordBatch, few: extract.FewSpans) -> Result:
        """`_process` for a batch with a few exception events: the same result, built from
        Python lists instead of dozens of pyarrow calls (see extract.FewSpans)."""
        found = [few.values(i) for i in range(len(few))]
        resources = few.resource_attributes
        codes: list[int] = []
        code_of: dict[tuple[tuple[str, str, str, str], str], int] = {}
        distinct: list[Fingerprinted] = []
        firsts: list[int] = []
        for i, (values, resource) in enumerate(zip(found, resources, strict=True)):
            said = (resource.get(_SDK_LANGUAGE) or "", values[extract.TYPE] or "", values[extract.MESSAGE] or "",
                    values[extract.STACKTRACE] or "")
            tenant = resource.get(TENANT_KEY) or ""
            code = code_of.get((said, tenant))
            if code is None:
                code = code_of[(said, tenant)] = len(distinct)
                distinct.append(scoped(self._fingerprint(_SEP.join(said), *said, {}), tenant))
                firsts.append(i)
            codes.append(code)
        spans = batch.select(["TraceId", "SpanId", "ServiceName"]).take(pa.array(few.rows))
        services = [s or "" for s in spans.column(2).to_pylist()]
        group_of, new_groups = self._group(distinct, [services[i] for i in firsts],
                                           [resources[i].get(TENANT_KEY) or "" for i in firsts])
        fps = [distinct[c].fingerprint for c in codes]
        groups = [group_of[c] for c in codes]
        releases = [r.get("service.version") or "" for r in resources]
        regressions = self._regressions(pa.array(groups, pa.string()), pa.array(releases, pa.string())) if self._statuses else 0
        edited = [
            [(k, v) for k, v in entries if k not in (extract.FINGERPRINT, extract.GROUP_ID)]
            + [(extract.FINGERPRINT, {"type": STRING, "value": fp}), (extract.GROUP_ID, {"type": STRING, "value": group})]
            for entries, fp, group in zip(few.attributes, fps, groups, strict=True)
        ]
        position = batch.schema.get_field_index("Events.Attributes")
        column = replace_list_maps(batch.column(position), few.events, pa.array(edited, ATTRIBUTES))
        annotated = batch.set_column(position, batch.schema.field(position), column)
        items = [distinct[c] for c in codes]
        frames = [item.parsed.reported.frames if item.parsed.reported else () for item in items]
        env = [r.get("deployment.environment.name") if r.get("deployment.environment.name") is not None
               else r.get("deployment.environment") or "" for r in resources]
        columns = {
            "Timestamp": few.timestamp,
            "ServiceName": pa.array(services, pa.string()),
            "ServiceVersion": pa.array(releases, pa.string()),
            "DeploymentEnvironment": pa.array(env, pa.string()),
            "TraceId": spans.column(0),
            "SpanId": spans.column(1),
            "Source": pa.array(["span_event"] * len(items), pa.string()),
            "ExceptionType": pa.array([v[extract.TYPE] if v[extract.TYPE] is not None else d.exception_type
                                       for v, d in zip(found, items, strict=True)], pa.string()),
            "ExceptionMessage": pa.array([v[extract.MESSAGE] if v[extract.MESSAGE] is not None else d.message
                                          for v, d in zip(found, items, strict=True)], pa.string()),
            "MessageTemplate": pa.array([d.template for d in items], pa.string()),
            "Stacktrace": pa.array([(v[extract.STACKTRACE] or "")[:MAX_STORED_STACKTRACE] for v in found], pa.string()),
            "Frames.Module": pa.array([[f.module for f in fs] for fs in frames], pa.list_(pa.string())),
            "Frames.Function": pa.array([[f.function for f in fs] for fs in frames], pa.list_(pa.string())),
            "Frames.File": pa.array([[f.file for f in fs] for fs in frames], pa.list_(pa.string())),
            "Frames.Line": pa.array([d.lines for d in items], pa.list_(pa.uint32())),
            "Frames.InApp": pa.array([d.raw_in_app for d in items], pa.list_(pa.uint8())),
            "Language": pa.array([d.language for d in items], pa.string()),
            "Fingerprint": pa.array(fps, pa.string()),
            "GroupId": pa.array(groups, pa.string()),
            "ResourceAttributes": few.resource,
        }
        errors = pa.RecordBatch.from_arrays([columns[f.name] for f in schema.EVENT_SCHEMA], schema=schema.EVENT_SCHEMA)
        return Result(annotated, errors, new_groups, regressions)

    def _tags(self, kind: str, batch: pa.RecordBatch, rows: np.ndarray, resource: Mapping[str, pa.Array]) -> dict[str, pa.Array]:
        """Values the fingerprint rules' `tags.<key>` matchers read: the record's attribute, else the
        resource's; and on log records the Sentry SDK's fingerprint (`sentry.fingerprint`), which
        fingerprint() honours when no rule matches, and its frames' in-app flags (`sentry.exception.in_app`)."""
        column = "SpanAttributes" if "SpanAttributes" in batch.schema.names else "LogAttributes"
        record = MapEntries.of(batch.column(column)) if self.tag_keys or kind == "logs" else None
        tags = {}
        if self.tag_keys:
            res = MapEntries.of(batch.column("ResourceAttributes"))
            tags = {k: pc.coalesce(extract.pick(record, k, rows), extract.pick(res, k, rows)) for k in self.tag_keys}
        if kind == "logs":
            tags[SDK_FINGERPRINT] = extract.pick(record, SDK_FINGERPRINT, rows)
            tags[SDK_IN_APP] = extract.pick(record, SDK_IN_APP, rows)
        return tags

    def _fingerprint(self, key: str, language: str, exc_type: str, message: str, text: str, tags: dict[str, str]) -> Fingerprinted:
        """Parse and fingerprint one distinct exception, through the cache. A trace differs from
        its siblings mostly by its message (ids, names): the cache is keyed on the text with the
        message taken out, so a storm of one bug with 100,000 different messages parses once."""
        skeleton = self._skeleton(language, exc_type, message, text, tags)
        lookup = skeleton or (key if len(key) <= MAX_CACHED_KEY and key.count(_SEP) == 3 + len(tags) else None)
        cached = self._cache.get(lookup) if lookup is not None else None
        if cached is not None:
            self._cache.move_to_end(lookup)  # type: ignore[arg-type]
            return _with_reported(cached, exc_type, message)
        shape = _Shape.of(text.replace(message, "\x00"), (language, exc_type, *tags.values())) if skeleton is not None else None
        known = self._shapes.get(shape.masked, ()) if shape is not None else ()
        item = next((hit for entry in known if (hit := entry.item_for(shape)) is not None), None)  # type: ignore[arg-type]
        if item is None:
            parsed = with_sdk_in_app(parse(text, language=language or None, exc_type=exc_type, message=message), tags.get(SDK_IN_APP))
            item = fingerprint(parsed, in_app=self.in_app, rules=self.rules, tags=tags)
            if shape is not None and item.signature and len(known) < MAX_SHAPES_PER_MASK:
                self._remember_shape(shape, item, language, exc_type, message)
        elif shape is not None:
            self._shapes.move_to_end(shape.masked)
        if exc_type or message:  # the attributes say what was raised; the text only how
            item = _with_reported(item, exc_type, message)
        if lookup is not None and (skeleton is None or item.signature):  # without frames the message is the fingerprint
            self._cache[lookup] = item
            if len(self._cache) > self._cache_entries:
                self._cache.popitem(last=False)
        return item

    def _remember_shape(self, shape: _Shape, item: Fingerprinted, language: str, exc_type: str, message: str) -> None:
        """Learn which digit runs of this trace shape are the reported exception's line numbers:
        the skeleton is parsed once more with every run replaced by a marker number, and a
        frame's line then names the run it was read from. Shapes whose lines cannot be traced
        to runs this way are not remembered (their traces are parsed each time)."""
        probe_skeleton = _DIGITS.sub(_Probe(), shape.skeleton)
        runs = len(_DIGITS.findall(shape.skeleton))
        probe = parse(probe_skeleton.replace("\x00", message), language=language or None, exc_type=exc_type, message=message)
        reported, original = probe.reported, item.parsed.reported
        if reported is None or original is None or len(reported.frames) != len(original.frames):
            return
        line_runs = []
        for frame in reported.frames:
            run = (frame.line or 0) - _PROBE_BASE
            if frame.line is None:
                line_runs.append(-1)
            elif 0 <= run < runs:
                line_runs.append(run)
            else:
                return
        known = _KnownShape(item, shape.raw, tuple(line_runs))
        if known.item_for(shape) is not item:  # the runs did not line up with the frames' lines
            return
        self._shapes.setdefault(shape.masked, []).append(known)
        self._shape_count += 1
        while self._shape_count > self._cache_entries:  # bounded like the first level, oldest mask first
            self._shape_count -= len(self._shapes.popitem(last=False)[1])

    def _skeleton(self, language: str, exc_type: str, message: str, text: str, tags: dict[str, str]) -> str | None:
        """The cache key without the message, or None where the message may change the
        fingerprint (rules matching on it) or is not in the text."""
        if len(message) < 3 or self._rules_read_message or len(text) > MAX_CACHED_KEY or message not in text:
            return None
        return _SEP.join((language, exc_type, text.replace(message, "\x00"), *tags.values(), "skeleton"))

    def _group(self, distinct: Sequence[Fingerprinted], services: Sequence[str], tenants: Sequence[str]) -> tuple[list[str], int]:
        """Each distinct exception's group; the fingerprints new to the grouper are decided (and
        recorded in the store) here, the known ones only looked up."""
        known = self.grouper.groups
        fresh: dict[str, tuple[Fingerprinted, str, str]] = {}
        for item, service, tenant in zip(distinct, services, tenants, strict=True):
            if item.fingerprint not in known and item.fingerprint not in fresh:
                fresh[item.fingerprint] = (item, service, own_tenant(tenant))
        assignments = []
        if fresh:
            profiles = [Profile.of(item, service, tenant) for item, service, tenant in fresh.values()]
            assignments = self.grouper.assign(profiles, [fp for fp, (item, _, _) in fresh.items() if item.custom])
        if assignments and self.store is not None:
            decisions = [
                Decision(
                    a.fingerprint, a.group_id, a.source, False, a.score, item.language, service, item.exception_type,
                    item.template, item.title, item.crash_token, item.signature[-30:], tenant=tenant,
                )
                for a in assignments
                for item, service, tenant in (fresh[a.fingerprint],)
            ]
            try:
                self.store.record(decisions)
            except Exception:
                for a in assignments:  # not recorded: decide again when the batch is retried
                    known.pop(a.fingerprint, None)
                raise
        group_of = [known[item.fingerprint] for item in distinct]
        return group_of, sum(1 for a in assignments if a.source != "model")

    def _regressions(self, groups: pa.Array, releases: pa.Array) -> int:
        """A resolved group seen again in a later release than the one it was resolved in is
        unresolved and marked regressed (once: the status change is recorded). Only the distinct
        (group, release) pairs of resolved groups are looked at."""
        resolved = [group for group, status in self._statuses.items() if status.status == "resolved"]
        if not resolved:
            return 0
        mask = pc.is_in(groups, pa.array(resolved, pa.string()))
        if not pc.any(mask).as_py():
            return 0
        pairs = pa.table({"g": groups.filter(mask), "r": releases.filter(mask)}).group_by(["g", "r"]).aggregate([]).sort_by([("g", "ascending"), ("r", "ascending")])
        found = 0
        for group, release in zip(pairs.column("g").to_pylist(), pairs.column("r").to_pylist(), strict=True):
            status = self._statuses.get(group)
            if status is None or status.status != "resolved" or not is_later(release, status.release):
                continue
            if self.store is not None:
                self.store.set_status(group, "unresolved", release=release, regressed=True, actor="regression")
            self._statuses[group] = GroupStatus("unresolved", True, release, time.time())
            log.info("error group %s regressed: seen in release %r after being resolved in %r", group, release, status.release)
            found += 1
        return found

    def _annotate(self, kind: str, batch: pa.RecordBatch, occ: extract.Occurrences, fps: pa.Array, groups: pa.Array) -> pa.RecordBatch:
        """`exception.fingerprint` and `exception.group_id` on each exception event / log record."""
        rows = occ.events if occ.events is not None else occ.rows
        n = len(rows)
        both = np.concatenate([rows, rows])
        keys = pa.array([extract.FINGERPRINT] * n + [extract.GROUP_ID] * n, pa.string())
        types = pa.array(np.full(2 * n, STRING, np.uint8))
        values = pa.concat_arrays([fps, groups])
        order = np.argsort(both, kind="stable")

        def edit(entries: MapEntries) -> MapEntries:
            drop = pc.is_in(entries.keys, pa.array([extract.FINGERPRINT, extract.GROUP_ID]))
            kept = entries.filter(pc.invert(pc.fill_null(drop, False)))
            return kept.append(both[order], keys.take(pa.array(order)), types.take(pa.array(order)), values.take(pa.array(order)))

        column = "Events.Attributes" if kind == "spans" else "LogAttributes"
        position = batch.schema.get_field_index(column)
        return batch.set_column(position, batch.schema.field(column), edit_map_column(batch.column(column), edit))

    def _rows(self, kind: str, batch: pa.RecordBatch, occ: extract.Occurrences, resource: Mapping[str, pa.Array],
              distinct: Sequence[Fingerprinted], indices: pa.Array, fps: pa.Array, groups: pa.Array,
              services: pa.Array) -> pa.RecordBatch:
        take_rows = pa.array(occ.rows)
        raw = [item.parsed.reported.frames if item.parsed.reported else () for item in distinct]
        in_app = [item.raw_in_app for item in distinct]
        per_distinct = pa.table({  # one row per distinct exception, then one take for every occurrence
            "ExceptionType": pa.array([d.exception_type for d in distinct], pa.string()),
            "ExceptionMessage": pa.array([d.message for d in distinct], pa.string()),
            "MessageTemplate": pa.array([d.template for d in distinct], pa.string()),
            "Frames.Module": pa.array([[f.module for f in fs] for fs in raw], pa.list_(pa.string())),
            "Frames.Function": pa.array([[f.function for f in fs] for fs in raw], pa.list_(pa.string())),
            "Frames.File": pa.array([[f.file for f in fs] for fs in raw], pa.list_(pa.string())),
            "Frames.Line": pa.array([d.lines for d in distinct], pa.list_(pa.uint32())),
            "Frames.InApp": pa.array(in_app, pa.list_(pa.uint8())),
            "Language": pa.array([d.language for d in distinct], pa.string()),
        }).take(indices)
        environment = pc.coalesce(resource["deployment.environment.name"], resource["deployment.environment"], pa.scalar(""))
        text = pc.utf8_slice_codeunits(pc.fill_null(occ.stacktrace, ""), 0, MAX_STORED_STACKTRACE)
        columns = {
            **{name: per_distinct.column(name).combine_chunks() for name in per_distinct.column_names},
            "Timestamp": occ.timestamp,
            "ServiceName": services,
            "ServiceVersion": pc.fill_null(resource["service.version"], ""),
            "DeploymentEnvironment": environment,
            "TraceId": combined(batch.column("TraceId")).take(take_rows),
            "SpanId": combined(batch.column("SpanId")).take(take_rows),
            "Source": pa.array(["span_event" if kind == "spans" else "log"] * len(occ), pa.string()),
            "ExceptionType": pc.coalesce(occ.type, per_distinct.column("ExceptionType").combine_chunks()),
            "ExceptionMessage": pc.coalesce(occ.message, per_distinct.column("ExceptionMessage").combine_chunks()),
            "Stacktrace": text,
            "Fingerprint": fps,
            "GroupId": groups,
            "ResourceAttributes": combined(batch.column("ResourceAttributes")).take(take_rows),  # typed: the exporter projects it
        }
        return pa.RecordBatch.from_arrays([columns[f.name] for f in schema.EVENT_SCHEMA], schema=schema.EVENT_SCHEMA)


_VERSION = re.compile(r"^v?(\d+(?:\.\d+)*)(.*)$")


def own_tenant(tenant: str | None) -> str:
    """A tenant as grouping keeps it: "" for the default tenant (rows without one)."""
    return "" if not tenant or tenant == DEFAULT_TENANT else tenant


def scoped(item: Fingerprinted, tenant: str | None) -> Fingerprinted:
    """`item` with a fingerprint of its tenant's own: the same bug in two tenants is two issues
    (two groups, two rows in the store), never one that both tenants' errors count in. The default
    tenant keeps the plain fingerprint, so data from before tenants groups as it did."""
    tenant = own_tenant(tenant)
    if not tenant:
        return item
    return dataclasses.replace(item, fingerprint=hash_values([tenant, item.fingerprint]))


def is_later(release: str, resolved: str) -> bool:
    """Whether `release` comes after `resolved`: by version number when both are numbered
    (1.10.0 > 1.9.2; an old pod still running 1.0.9 after 1.1.0 was resolved is no regression),
    else whenever they differ (names and hashes carry no order)."""
    if release == resolved:
        return False
    a, b = _VERSION.match(release), _VERSION.match(resolved)
    if a is None or b is None:
        return True
    left = tuple(int(x) for x in a.group(1).split("."))
    right = tuple(int(x) for x in b.group(1).split("."))
    if left != right:
        return left > right
    return a.group(2) != b.group(2)


def _first_per_code(codes: np.ndarray, n: int) -> np.ndarray:
    """For each dictionary code, the position of its first occurrence."""
    values, first = np.unique(codes, return_index=True)
    out = np.full(n, -1, np.int64)
    out[values] = first
    return out


_DIGITS = re.compile(r"[0-9]+")
_BYTE_DIGITS = re.compile(rb"[0-9]+")
_MASK = bytes.maketrans(b"0123456789", b"##########")
_PROBE_BASE = 700_000_000  # marker line numbers: far above any real line, below 32-bit limits


class _Probe:
    """re.sub replacement: the n-th digit run becomes _PROBE_BASE + n."""

    def __init__(self) -> None:
        self.n = -1

    def __call__(self, match: re.Match[str]) -> str:
        self.n += 1
        return str(_PROBE_BASE + self.n)


@dataclass(frozen=True, slots=True)
class _Shape:
    """A skeleton (the trace without its message) and its digits masked one for one: masking
    keeps every position, so traces masked alike have their digit runs at the same offsets and
    a known shape reads them by slicing (regular expressions over a whole trace cost ~15 µs)."""

    skeleton: str
    raw: bytes
    masked: bytes  # the second-level cache key: what the trace was said to be, then the masked skeleton

    @classmethod
    def of(cls, skeleton: str, said: tuple[str, ...]) -> _Shape:
        raw = skeleton.encode("utf-8", "surrogatepass")
        return cls(skeleton, raw, _SEP.join(said).encode("utf-8", "surrogatepass") + b"\x1f" + raw.translate(_MASK))


def _getter(slices: list[slice]) -> Callable[[bytes], tuple[bytes, ...]]:
    """A C-level reader of several slices at once, always returning a tuple."""
    if not slices:
        return lambda raw: ()
    if len(slices) == 1:
        one = slices[0]
        return lambda raw: (raw[one],)
    return itemgetter(*slices)  # type: ignore[return-value]


class _KnownShape:
    """The second cache level: traces of one bug differ mostly in line numbers (a release moved
    the code) and ids; masked alike, they share the parse and the fingerprint, and only the
    reported frames' lines are read back from the new text. Every digit run that is not one of
    those line numbers must be equal (a context line, a path, `handler_2`), so nothing but the
    stored line numbers can differ from a full parse."""

    __slots__ = ("item", "_fixed", "_fixed_values", "_lines", "_has_line")

    def __init__(self, item: Fingerprinted, raw: bytes, line_runs: tuple[int, ...]) -> None:
        spans = [slice(*m.span()) for m in _BYTE_DIGITS.finditer(raw)]
        lines = set(line_runs)
        self.item = item
        self._fixed = _getter([span for i, span in enumerate(spans) if i not in lines])
        self._fixed_values = self._fixed(raw)
        self._lines = _getter([spans[run] for run in line_runs if run >= 0])
        self._has_line = tuple(run >= 0 for run in line_runs)

    def item_for(self, shape: _Shape) -> Fingerprinted | None:
        raw = shape.raw
        if self._fixed(raw) != self._fixed_values:
            return None
        values = iter(self._lines(raw))
        lines = tuple(int(next(values)) if has else 0 for has in self._has_line)
        i = self.item
        if lines == i.lines:
            return i
        return Fingerprinted(i.fingerprint, i.language, i.exception_type, i.message, i.template, i.trace, i.parsed,
                             i.raw_in_app, i.crash, i.signature, i.custom, i.title, lines)


def _with_reported(item: Fingerprinted, exc_type: str, message: str) -> Fingerprinted:
    """`item` as the exception.* attributes name what was raised (they win over the text).
    Built positionally: on a cache hit this runs per distinct message, and `dataclasses.replace`
    costs several times more."""
    exc_type = exc_type or item.exception_type
    message = message or item.message
    if exc_type == item.exception_type and message == item.message:
        return item
    template = item.template if message == item.message else parameterize(message)
    title = item.title if item.custom else (f"{exc_type}: {message}" if exc_type and message else exc_type or message)
    return Fingerprinted(item.fingerprint, item.language, exc_type, message, template, item.trace, item.parsed,
                         item.raw_in_app, item.crash, item.signature, item.custom, title[:MAX_TITLE_CHARS], item.lines)
