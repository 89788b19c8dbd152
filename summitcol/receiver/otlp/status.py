"""Errors → gRPC status and HTTP status, as the OTLP specification and otelcol map them.

| error                       | gRPC                            | HTTP                |
|-----------------------------|---------------------------------|---------------------|
| InvalidDataError (bad data) | INVALID_ARGUMENT                | 400                 |
| RetryableError (refused)    | UNAVAILABLE + RetryInfo         | 503 + Retry-After   |
| RateLimitedError (tenant)   | RESOURCE_EXHAUSTED + RetryInfo  | 429 + Retry-After   |
| PermanentError (other)      | INTERNAL                        | 500                 |
| any unexpected error        | UNAVAILABLE + RetryInfo         | 503 + Retry-After   |
| body too large              | RESOURCE_EXHAUSTED (grpc core)  | 413                 |

An unexpected error is retryable, like otelcol's status-less errors: the client keeps the data.

A request refused as the client's fault (4xx, INVALID_ARGUMENT) is counted in
`summitcol_receiver_refused_requests_total{receiver,transport,reason}` (its items are unknown when
the body cannot be read) and logged at INFO, at most one line per reason every 10 s, with the
number of refusals the line stands for: the client controls how often this happens.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import grpc
from google.protobuf import duration_pb2
from google.rpc import error_details_pb2, status_pb2

from summitcol.exceptions import (
    DEFAULT_RETRY_AFTER_S,
    InvalidDataError,
    PermanentError,
    RateLimitedError,
    RetryableError,
)
from summitcol.logthrottle import DEFAULT_INTERVAL_S, LogThrottle

if TYPE_CHECKING:
    from summitcol.telemetry import Telemetry

REFUSED_REQUESTS = "summitcol_receiver_refused_requests"
REFUSAL_LOG_INTERVAL_S = DEFAULT_INTERVAL_S


@dataclass(frozen=True, slots=True)
class Failure:
    grpc_code: grpc.StatusCode
    http_status: int
    message: str
    retry_after: float | None = None

    def rpc_status(self) -> status_pb2.Status:
        status = status_pb2.Status(code=self.grpc_code.value[0], message=self.message)
        if self.retry_after is not None:
            info = error_details_pb2.RetryInfo(retry_delay=_duration(self.retry_after))
            status.details.add().Pack(info)
        return status


def _duration(seconds: float) -> duration_pb2.Duration:
    whole = int(seconds)
    return duration_pb2.Duration(seconds=whole, nanos=int((seconds - whole) * 1e9))


def failure_for(exc: BaseException) -> Failure:
    if isinstance(exc, InvalidDataError):
        return Failure(grpc.StatusCode.INVALID_ARGUMENT, 400, str(exc))
    if isinstance(exc, RateLimitedError):
        return Failure(grpc.StatusCode.RESOURCE_EXHAUSTED, 429, str(exc), exc.retry_after)
    if isinstance(exc, RetryableError):
        return Failure(grpc.StatusCode.UNAVAILABLE, 503, str(exc), exc.retry_after or DEFAULT_RETRY_AFTER_S)
    if isinstance(exc, PermanentError):
        return Failure(grpc.StatusCode.INTERNAL, 500, str(exc))
    return Failure(
        grpc.StatusCode.UNAVAILABLE, 503, f"internal error, retry later: {type(exc).__name__}: {exc}", DEFAULT_RETRY_AFTER_S
    )


def retry_after_header(seconds: float) -> str:
    return str(max(1, math.ceil(seconds)))


class Refusals:
    """Counts and logs the requests one server of a receiver refuses as the client's fault.

    `reason` is a short label: malformed, too_large, unsupported_encoding, unsupported_media_type,
    method_not_allowed, not_found, timeout, protocol_error. The log is rate-limited per reason."""

    def __init__(
        self,
        receiver: str,
        transport: str,
        telemetry: Telemetry,
        logger: logging.Logger,
        interval: float = REFUSAL_LOG_INTERVAL_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.receiver = receiver
        self.transport = transport
        self.telemetry = telemetry
        self.logger = logger
        self._throttle = LogThrottle(interval, clock)  # per reason

    def refused(self, reason: str, client: str, message: str) -> None:
        self.telemetry.count_plain(REFUSED_REQUESTS, 1, receiver=self.receiver, transport=self.transport, reason=reason)
        total = self._throttle.add(reason)
        if total is None:
            return
        suppressed = total - 1
        more = f" (and {suppressed} more for this reason since the last such line)" if suppressed else ""
        self.logger.info(
            "%s refused a request over %s from %s (%s): %s%s",
            self.receiver, self.transport, client or "an unknown client", reason, _short(message), more,
        )


def _short(message: str, limit: int = 300) -> str:
    """A client-controlled message, cut so one line stays one line of bounded length."""
    message = message.replace("\n", " ").replace("\r", " ")
    return message if len(message) <= limit else message[: limit - 3] + "..."
