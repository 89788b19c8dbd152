"""What the OTLP exporters share: settings, and turning a peer's answer into Summit errors.

Retry semantics are the OTLP specification's: gRPC CANCELLED, DEADLINE_EXCEEDED, ABORTED,
OUT_OF_RANGE, UNAVAILABLE, DATA_LOSS (and RESOURCE_EXHAUSTED only with RetryInfo) are retryable;
HTTP 429, 502, 503 and 504 are. The peer's RetryInfo / Retry-After is carried along.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

import grpc
from google.protobuf.message import DecodeError, Message
from google.rpc import error_details_pb2, status_pb2

from summitcol.exceptions import (
    ConsumerError,
    InvalidDataError,
    PartialRejectionError,
    PermanentError,
    RetryableError,
)

log = logging.getLogger("summitcol.exporter.otlp")

RETRYABLE_GRPC = {
    grpc.StatusCode.CANCELLED,
    grpc.StatusCode.DEADLINE_EXCEEDED,
    grpc.StatusCode.ABORTED,
    grpc.StatusCode.OUT_OF_RANGE,
    grpc.StatusCode.UNAVAILABLE,
    grpc.StatusCode.DATA_LOSS,
}
RETRYABLE_HTTP = {429, 502, 503, 504}
# A retryable answer without RetryInfo / Retry-After gives no hint: the exporter's own backoff
# (`retry_on_failure`) decides, as in otelcol. A default of 1 s here outweighed a shorter
# `initial_interval` and, with a `max_elapsed_time` under a second, gave up after one attempt.
NO_HINT = 0.0


def _retry_info(details: bytes | None) -> float | None:
    if not details:
        return None
    try:
        status = status_pb2.Status.FromString(details)
    except DecodeError:
        return None
    for detail in status.details:
        if detail.Is(error_details_pb2.RetryInfo.DESCRIPTOR):
            info = error_details_pb2.RetryInfo()
            detail.Unpack(info)
            return info.retry_delay.seconds + info.retry_delay.nanos / 1e9
    return None


def grpc_error(endpoint: str, code: grpc.StatusCode, message: str, trailing: Mapping[str, object]) -> ConsumerError:
    details = trailing.get("grpc-status-details-bin")
    delay = _retry_info(details if isinstance(details, bytes) else None)
    text = f"{endpoint} answered {code.name}: {message}"
    if code in RETRYABLE_GRPC or (code is grpc.StatusCode.RESOURCE_EXHAUSTED and delay is not None):
        return RetryableError(text, retry_after=delay if delay is not None else NO_HINT)
    if code is grpc.StatusCode.INVALID_ARGUMENT:
        return InvalidDataError(text)
    return PermanentError(text)


def http_error(url: str, status: int, retry_after: str | None, body: bytes) -> ConsumerError:
    message = body[:300].decode("utf-8", "replace")
    try:
        parsed = status_pb2.Status.FromString(body)
        if parsed.message:
            message = parsed.message
    except DecodeError:
        pass
    text = f"{url} answered HTTP {status}: {message}"
    if status in RETRYABLE_HTTP:
        delay = NO_HINT
        if retry_after and retry_after.strip().isdigit():
            delay = float(retry_after.strip())
        return RetryableError(text, retry_after=delay)
    if status == 400:
        return InvalidDataError(text)
    return PermanentError(text)


def check_partial_success(endpoint: str, response: Message) -> None:
    """A peer's partial success: a warning is logged; rejected records raise PartialRejectionError,
    so that the client learns of them too (otelcol only logs it, #9243)."""
    if not response.HasField("partial_success"):
        return
    partial = response.partial_success
    rejected = next((getattr(partial, f) for f in ("rejected_spans", "rejected_data_points", "rejected_log_records") if hasattr(partial, f)), 0)
    if rejected or partial.error_message:
        log.warning("%s rejected %d items: %s", endpoint, rejected, partial.error_message)
    if rejected:
        raise PartialRejectionError(f"{endpoint} rejected {rejected}: {partial.error_message}", rejected=rejected)
