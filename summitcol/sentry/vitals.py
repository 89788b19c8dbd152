"""Web vitals as histogram metrics: every span that carries one (a transaction's measurements
`sentry.measurement.<name>`, or a streamed span's `browser.web_vital.<name>.value`, as the
JavaScript SDKs report them) adds one point to `browser.web_vital.<name>` (delta histogram; unit
`ms`, CLS unitless), with attribute `url.path` (the page: the span's `url.path`, else its name) and
the span's resource (service, release, environment).

The buckets straddle the web-vitals thresholds (good / needs improvement / poor: LCP 2.5 s / 4 s,
FCP 1.8 s / 3 s, INP 200 / 500 ms, TTFB 0.8 s / 1.8 s, FID 100 / 300 ms, CLS 0.1 / 0.25), so
the share of good page views is read straight off the buckets; exact p75s come from the spans
(the `web_vitals_v1` view the clickhouse exporter creates).
"""

from __future__ import annotations

import bisect

from opentelemetry.proto.common.v1.common_pb2 import AnyValue, InstrumentationScope, KeyValue
from opentelemetry.proto.metrics.v1 import metrics_pb2
from opentelemetry.proto.trace.v1 import trace_pb2

MS_BOUNDS = (100.0, 200.0, 500.0, 800.0, 1000.0, 1800.0, 2500.0, 3000.0, 4000.0, 6000.0, 10000.0)
CLS_BOUNDS = (0.05, 0.1, 0.15, 0.25, 0.5, 1.0)
VITALS = ("lcp", "fcp", "fp", "cls", "inp", "fid", "ttfb")
_KEYS = {**{f"sentry.measurement.{v}": v for v in VITALS}, **{f"browser.web_vital.{v}.value": v for v in VITALS}}


def _number(value: AnyValue) -> float | None:
    kind = value.WhichOneof("value")
    if kind == "double_value":
        return value.double_value
    if kind == "int_value":
        return float(value.int_value)
    if kind == "string_value":
        try:
            return float(value.string_value)
        except ValueError:
            return None
    return None


def vital_metrics(resource_spans: trace_pb2.ResourceSpans) -> metrics_pb2.ResourceMetrics | None:
    """The web vitals of these spans as histogram points (None when they carry none)."""
    metrics: dict[str, metrics_pb2.Metric] = {}
    for scope in resource_spans.scope_spans:
        for span in scope.spans:
            attributes = {kv.key: kv.value for kv in span.attributes}
            page = attributes["url.path"].string_value if "url.path" in attributes else span.name
            for key, vital in _KEYS.items():
                value = _number(attributes[key]) if key in attributes else None
                if value is None or value < 0:
                    continue
                metric = metrics.get(vital)
                if metric is None:
                    metric = metrics[vital] = metrics_pb2.Metric(
                        name=f"browser.web_vital.{vital}", unit="1" if vital == "cls" else "ms",
                        description=f"{vital.upper()} of page views, as the Sentry SDK measured it")
                    metric.histogram.aggregation_temporality = metrics_pb2.AGGREGATION_TEMPORALITY_DELTA
                bounds = CLS_BOUNDS if vital == "cls" else MS_BOUNDS
                counts = [0] * (len(bounds) + 1)
                counts[bisect.bisect_left(bounds, value)] = 1  # OTLP: bucket i holds (bounds[i-1], bounds[i]]
                metric.histogram.data_points.add(
                    start_time_unix_nano=span.start_time_unix_nano, time_unix_nano=span.end_time_unix_nano,
                    count=1, sum=value, min=value, max=value, explicit_bounds=bounds, bucket_counts=counts,
                    attributes=[KeyValue(key="url.path", value=AnyValue(string_value=page))])
    if not metrics:
        return None
    scope = metrics_pb2.ScopeMetrics(scope=InstrumentationScope(name="summitcol.sentry.web_vitals"), metrics=list(metrics.values()))
    return metrics_pb2.ResourceMetrics(resource=resource_spans.resource, scope_metrics=[scope])
