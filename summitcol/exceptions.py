"""Summit's exceptions.

    SummitError
     ├── ConfigError (ValueError)         a configuration problem; the loader adds file:line
     └── ConsumerError                    a pipeline stage refused data
          ├── PartialRejectionError       some records rejected as invalid, the rest accepted (partial success)
          ├── RetryableError              try again later (gRPC UNAVAILABLE + RetryInfo, HTTP 503 + Retry-After)
          │    └── RateLimitedError       the tenant is over its rate limit (RESOURCE_EXHAUSTED + RetryInfo, 429)
          └── PermanentError              retrying cannot help (gRPC INVALID_ARGUMENT/INTERNAL, HTTP 400/500)
               └── InvalidDataError       the data itself is bad (INVALID_ARGUMENT, HTTP 400)

The receiver turns a ConsumerError into the status code the OTLP specification names, so the
sending SDK or collector retries exactly when a retry can succeed.
"""

from __future__ import annotations

DEFAULT_RETRY_AFTER_S = 1.0


class SummitError(Exception):
    """Base of every error Summit raises on purpose."""


class ConfigError(ValueError, SummitError):
    """A configuration value or structure is wrong."""


class ConsumerError(SummitError):
    """A pipeline stage refused the data it was given."""


class PartialRejectionError(ConsumerError):
    """`rejected` records were rejected as invalid and will not be retried; the rest were accepted.

    The receiver answers with an OTLP partial success (`rejected_*`, `error_message`).
    """

    def __init__(self, message: str, *, rejected: int) -> None:
        super().__init__(message)
        self.rejected = rejected


class RetryableError(ConsumerError):
    """The data was refused for now; the sender should retry after `retry_after` seconds."""

    def __init__(self, message: str, *, retry_after: float = DEFAULT_RETRY_AFTER_S) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class RateLimitedError(RetryableError):
    """The sender's tenant is over its rate limit (gRPC RESOURCE_EXHAUSTED + RetryInfo, HTTP 429 +
    Retry-After: the OTLP specification's throttling)."""


class PermanentError(ConsumerError):
    """The data was refused and sending it again will not help."""


class InvalidDataError(PermanentError):
    """The data is malformed or violates the OTLP specification."""
