"""Errors → gRPC status and HTTP status, as the OTLP specification and otelcol map them.

| error                       | gRPC                            | HTTP                |
|-----------------------------|---------------------------------|---------------------|
| InvalidDataError (bad data) | INVALID_ARGUMENT                | 400                 |
| RetryableError (refused)    | UNAVAILABLE + RetryInfo         | 503 + Retry-After   |
| PermanentError (other)      | INTERNAL                        | 500                 |
| any unexpected error        | UNAVAILABLE + RetryInfo         | 503 + Retry-After   |
| body too large              | RESOURCE_EXHAUSTED (grpc core)  | 413                 |

An unexpected error is retryable, like otelcol's status-less errors: the client keeps the data.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import grpc
from google.protobuf import duration_pb2
from google.rpc import error_details_pb2, status_pb2

from summitcol.errors import DEFAULT_RETRY_AFTER_S, InvalidDataError, PermanentError, RetryableError


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
    if isinstance(exc, RetryableError):
        return Failure(grpc.StatusCode.UNAVAILABLE, 503, str(exc), exc.retry_after)
    if isinstance(exc, PermanentError):
        return Failure(grpc.StatusCode.INTERNAL, 500, str(exc))
    return Failure(
        grpc.StatusCode.UNAVAILABLE, 503, f"internal error, retry later: {type(exc).__name__}: {exc}", DEFAULT_RETRY_AFTER_S
    )


def retry_after_header(seconds: float) -> str:
    return str(max(1, math.ceil(seconds)))

