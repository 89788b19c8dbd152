"""Bytes ⇄ SignalData for each signal: the one place receivers and exporters meet OTLP.

`decode_request` parses (protobuf or OTLP/JSON) and converts to Arrow in one pass;
`encode_request` is its inverse for exporters that speak OTLP.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import pyarrow as pa
from google.protobuf.message import DecodeError, Message
from opentelemetry.proto.collector.logs.v1 import logs_service_pb2
from opentelemetry.proto.collector.metrics.v1 import metrics_service_pb2
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2

from summitcol.exceptions import InvalidDataError
from summitcol.pdata import fastdecode, otlp_json
from summitcol.pdata.decoded import DEFAULT_LIMITS, DecodeLimits, Rejections
from summitcol.pdata.logs import logs_from_otlp, logs_to_otlp
from summitcol.pdata.metrics import metrics_from_otlp, metrics_to_otlp
from summitcol.pdata.signal import LOGS, SPANS, Signal, SignalData
from summitcol.pdata.traces import traces_from_otlp, traces_to_otlp
from summitcol.pdata.values import TOO_DEEP

# What a decoder raises on bytes it cannot turn into data. Each is permanent (sending the same
# bytes again fails again), so `decode_request` turns it into InvalidDataError (400), never the
# "internal error, retry later" an unexpected exception gets.
DECODE_FAILURES = (DecodeError, RecursionError, UnicodeError, OverflowError, ValueError, pa.ArrowException)


def _reason(exc: BaseException) -> str:
    """The error's text; protobuf parses (and builds) at most 100 levels of nested messages, and
    in OTLP only AnyValue nests that deep."""
    if "MaxDepth" in str(exc):
        return f"{TOO_DEEP} (protobuf's limit of 100 nested messages)"
    return str(exc)

Encoding = Literal["proto", "json"]


@dataclass(frozen=True, slots=True)
class SignalCodec:
    signal: Signal
    request_type: type[Message]
    response_type: type[Message]
    rejected_field: str
    grpc_method: str
    http_path: str
    from_otlp: Callable[[Any, DecodeLimits], tuple[dict[str, Any], Rejections]]
    to_otlp: Callable[[dict[str, Any]], Message]


def _one(name: str, fn: Callable[..., Any]) -> Callable[[Any, DecodeLimits], tuple[dict[str, Any], Rejections]]:
    def convert(request: Any, limits: DecodeLimits) -> tuple[dict[str, Any], Rejections]:
        batch, rejections = fn(request, limits)
        return ({name: batch} if batch.num_rows else {}), rejections

    return convert


CODECS: dict[Signal, SignalCodec] = {
    Signal.TRACES: SignalCodec(
        Signal.TRACES,
        trace_service_pb2.ExportTraceServiceRequest,
        trace_service_pb2.ExportTraceServiceResponse,
        "rejected_spans",
        "/opentelemetry.proto.collector.trace.v1.TraceService/Export",
        "/v1/traces",
        _one(SPANS, traces_from_otlp),
        lambda tables: traces_to_otlp(tables[SPANS]) if SPANS in tables else trace_service_pb2.ExportTraceServiceRequest(),
    ),
    Signal.METRICS: SignalCodec(
        Signal.METRICS,
        metrics_service_pb2.ExportMetricsServiceRequest,
        metrics_service_pb2.ExportMetricsServiceResponse,
        "rejected_data_points",
        "/opentelemetry.proto.collector.metrics.v1.MetricsService/Export",
        "/v1/metrics",
        metrics_from_otlp,
        metrics_to_otlp,
    ),
    Signal.LOGS: SignalCodec(
        Signal.LOGS,
        logs_service_pb2.ExportLogsServiceRequest,
        logs_service_pb2.ExportLogsServiceResponse,
        "rejected_log_records",
        "/opentelemetry.proto.collector.logs.v1.LogsService/Export",
        "/v1/logs",
        _one(LOGS, logs_from_otlp),
        lambda tables: logs_to_otlp(tables[LOGS]) if LOGS in tables else logs_service_pb2.ExportLogsServiceRequest(),
    ),
}


def parse_request(signal: Signal, body: bytes, encoding: Encoding) -> Message:
    codec = CODECS[signal]
    if encoding == "json":
        return otlp_json.parse(body, codec.request_type())
    try:
        return codec.request_type.FromString(body)
    except (DecodeError, RecursionError) as exc:
        raise InvalidDataError(f"request body is not a valid {codec.request_type.__name__} protobuf: {_reason(exc)}") from None


def decode_request(
    signal: Signal, body: bytes, encoding: Encoding, limits: DecodeLimits = DEFAULT_LIMITS
) -> tuple[SignalData, Rejections]:
    """Parse and convert one request; raises InvalidDataError when the body cannot be read at all."""
    try:
        return _decode(signal, body, encoding, limits)
    except DECODE_FAILURES as exc:
        raise InvalidDataError(f"request body could not be decoded: {type(exc).__name__}: {_reason(exc)}") from None


def _decode(signal: Signal, body: bytes, encoding: Encoding, limits: DecodeLimits) -> tuple[SignalData, Rejections]:
    codec = CODECS[signal]
    if signal is not Signal.METRICS and encoding == "proto" and fastdecode.AVAILABLE:
        fast = fastdecode.traces_from_wire if signal is Signal.TRACES else fastdecode.logs_from_wire
        decoded = fast(body, limits)
        if decoded is not None:  # None: malformed, so the protobuf library below words the error
            batch, rejections = decoded
            table = SPANS if signal is Signal.TRACES else LOGS
            return SignalData(signal, {table: batch} if batch.num_rows else {}), rejections
    tables, rejections = codec.from_otlp(parse_request(signal, body, encoding), limits)
    return SignalData(signal, tables), rejections


def to_message(data: SignalData) -> Message:
    return CODECS[data.signal].to_otlp(data.tables)


def encode_request(data: SignalData, encoding: Encoding) -> bytes:
    message = to_message(data)
    return otlp_json.dumps(message) if encoding == "json" else message.SerializeToString()


def response_message(signal: Signal, rejections: Rejections | None) -> Message:
    """A full success, or a partial success naming how many records were rejected and why."""
    codec = CODECS[signal]
    response = codec.response_type()
    if rejections is not None and rejections.count:
        partial = response.partial_success
        setattr(partial, codec.rejected_field, rejections.count)
        partial.error_message = rejections.message()
    return response
