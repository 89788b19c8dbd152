"""The counters components record to (`CreateSettings.telemetry`), with the OpenTelemetry
Collector's metric names, in one Prometheus registry per service.

Part of the component API, as otelcol's `component.TelemetrySettings` is: receivers, processors
and exporters count into it; the service creates it and serves it (`service/telemetry.py`:
`GET /metrics`, summed over worker processes).
"""

from __future__ import annotations

import os
import resource
import time

from prometheus_client import CollectorRegistry, Counter, Gauge, disable_created_metrics, generate_latest

from summitcol.pdata.signal import Signal

ITEM_NAMES = {Signal.TRACES: "spans", Signal.METRICS: "metric_points", Signal.LOGS: "log_records"}
_PAGE_SIZE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def process_rss_bytes(pid: int | None = None) -> int:
    """Resident set size of this process (or of `pid`: 0 once it is gone), from /proc; without
    /proc, this process's peak RSS."""
    try:
        with open(f"/proc/{pid or 'self'}/statm", encoding="ascii") as fh:
            return int(fh.read().split()[1]) * _PAGE_SIZE
    except (OSError, IndexError, ValueError):
        return 0 if pid else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


class Telemetry:
    """Counters for receivers, processors and exporters, in one registry per service."""

    def __init__(self) -> None:
        disable_created_metrics()
        self.registry = CollectorRegistry()
        self.started = time.time()
        self._counters: dict[str, Counter] = {}
        self._queue_size: Gauge | None = None
        self._queue_capacity: Gauge | None = None
        for item in ITEM_NAMES.values():
            for what, labels in (
                ("receiver_accepted", ["receiver", "transport"]),
                ("receiver_refused", ["receiver", "transport"]),
                ("receiver_failed", ["receiver", "transport"]),
                ("exporter_sent", ["exporter"]),
                ("exporter_send_failed", ["exporter"]),
                ("exporter_enqueue_failed", ["exporter"]),
            ):
                name = f"otelcol_{what}_{item}"
                self._counters[name] = Counter(name, _HELP[what].format(item=item.replace("_", " ")), labels, registry=self.registry)
        self._processor_items = {
            direction: Counter(
                f"otelcol_processor_{direction}_items",
                f"Number of items the processor {'received' if direction == 'incoming' else 'passed on'}.",
                ["processor", "otel_signal"],
                registry=self.registry,
            )
            for direction in ("incoming", "outgoing")
        }
        Gauge("otelcol_process_memory_rss", "Total physical memory (resident set size) [bytes].", registry=self.registry).set_function(process_rss_bytes)
        Gauge("otelcol_process_uptime", "Uptime of the process [seconds].", registry=self.registry).set_function(lambda: time.time() - self.started)

    def count(self, what: str, signal: Signal, amount: int, **labels: str) -> None:
        """Add `amount` to `otelcol_{what}_{spans|metric_points|log_records}`."""
        if amount:
            self._counters[f"otelcol_{what}_{ITEM_NAMES[signal]}"].labels(**labels).inc(amount)

    def processor_items(self, direction: str, processor: str, signal: Signal, amount: int) -> None:
        if amount:
            self._processor_items[direction].labels(processor=processor, otel_signal=str(signal)).inc(amount)

    def count_plain(self, name: str, amount: int, **labels: str) -> None:
        """A Summit counter (`summitcol_…`), created on first use."""
        counter = self._counters.get(name)
        if counter is None:
            counter = self._counters[name] = Counter(name, _SUMMIT_HELP.get(name, name), sorted(labels), registry=self.registry)
        if amount:
            counter.labels(**labels).inc(amount)

    def queue_gauges(self, exporter: str, queue: object) -> None:
        """`otelcol_exporter_queue_size` / `_capacity` read from a sending queue when scraped."""
        if self._queue_size is None:
            self._queue_size = Gauge("otelcol_exporter_queue_size", "Current size of the retry queue (in batches).", ["exporter"], registry=self.registry)
            self._queue_capacity = Gauge("otelcol_exporter_queue_capacity", "Fixed capacity of the retry queue (in batches).", ["exporter"], registry=self.registry)
        self._queue_size.labels(exporter=exporter).set_function(queue.size)  # type: ignore[attr-defined]
        self._queue_capacity.labels(exporter=exporter).set_function(lambda: queue.capacity)  # type: ignore[attr-defined,union-attr]

    def value(self, name: str, **labels: str) -> float:
        """Current value of a sample (for tests and the debug exporter); 0 when never set."""
        return self.registry.get_sample_value(name, labels) or 0.0

    def exposition(self) -> bytes:
        return generate_latest(self.registry)


_HELP = {
    "receiver_accepted": "Number of {item} successfully pushed into the pipeline.",
    "receiver_refused": "Number of {item} that could not be pushed into the pipeline.",
    "receiver_failed": "Number of {item} that failed to be processed by the receiver due to internal errors.",
    "exporter_sent": "Number of {item} successfully sent to destination.",
    "exporter_send_failed": "Number of {item} in failed attempts to send to destination.",
    "exporter_enqueue_failed": "Number of {item} failed to be added to the sending queue.",
}


_SUMMIT_HELP = {
    "summitcol_receiver_sentry_client_discarded": "Events Sentry SDKs report (client reports) they dropped, by reason and category.",
    "summitcol_tenant_accepted_spans": "Spans a tenant sent that entered the pipelines.",
    "summitcol_tenant_accepted_metric_points": "Metric points a tenant sent that entered the pipelines.",
    "summitcol_tenant_accepted_log_records": "Log records a tenant sent that entered the pipelines.",
    "summitcol_tenant_refused_requests": "Requests of a tenant refused before decoding, by reason (rate_limited).",
    "summitcol_exporter_dead_letter_spans": "Spans written to the dead-letter file.",
    "summitcol_exporter_dead_letter_metric_points": "Metric points written to the dead-letter file.",
    "summitcol_exporter_dead_letter_log_records": "Log records written to the dead-letter file.",
    "summitcol_exporter_expired_spans": "Spans not stored because they were already past the table's TTL.",
    "summitcol_exporter_expired_metric_points": "Metric points not stored because they were already past the table's TTL.",
    "summitcol_exporter_expired_log_records": "Log records not stored because they were already past the table's TTL.",
    "summitcol_processor_tail_sampling_dropped_spans": "Sampled spans tail_sampling could not deliver (a permanent failure downstream).",
    "summitcol_receiver_refused_requests": "Requests a receiver refused as the client's fault (4xx, INVALID_ARGUMENT), by reason; their items are unknown when the body could not be read.",
    "summitcol_memory_limiter_refused_requests": "Requests refused before decoding because they would exceed the memory limit.",
    "summitcol_wal_replayed_spans": "Spans replayed from a write-ahead log after a restart (at-least-once: may be duplicates).",
    "summitcol_wal_replayed_metric_points": "Metric points replayed from a write-ahead log after a restart.",
    "summitcol_wal_replayed_log_records": "Log records replayed from a write-ahead log after a restart.",
    "summitcol_wal_replayed_requests": "Requests replayed from a persistent queue's write-ahead log at start.",
    "otelcol_processor_memory_limiter_refused_spans": "Spans refused by the memory limiter.",
    "otelcol_processor_memory_limiter_refused_metric_points": "Metric points refused by the memory limiter.",
    "otelcol_processor_memory_limiter_refused_log_records": "Log records refused by the memory limiter.",
}
