"""`retry_on_failure`, `sending_queue` and `dead_letter`, with otelcol's exporterhelper keys and defaults.

Summit differences, on purpose: a full queue refuses the request retryably (the receiver answers
UNAVAILABLE + RetryInfo / 503 + Retry-After) unless `block_on_overflow`; records that exhaust
`max_elapsed_time` or are rejected permanently go to the `dead_letter` file, never silently away.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Literal

from summitcol.exceptions import ConfigError


@dataclass(frozen=True, kw_only=True, slots=True)
class RetryConfig:
    enabled: bool = True
    initial_interval: timedelta = timedelta(seconds=5)
    max_interval: timedelta = timedelta(seconds=30)
    max_elapsed_time: timedelta = timedelta(seconds=300)
    multiplier: float = 1.5
    randomization_factor: float = 0.5

    def validate(self) -> None:
        if self.initial_interval <= timedelta(0) or self.max_interval <= timedelta(0):
            raise ConfigError("retry_on_failure: initial_interval and max_interval must be greater than 0")
        if self.multiplier < 1:
            raise ConfigError("retry_on_failure: multiplier must be at least 1")
        if not 0 <= self.randomization_factor <= 1:
            raise ConfigError("retry_on_failure: randomization_factor must be between 0 and 1")
        if self.max_elapsed_time < timedelta(0):
            raise ConfigError("retry_on_failure: max_elapsed_time must be 0 (retry forever) or more")


@dataclass(frozen=True, kw_only=True, slots=True)
class QueueBatchConfig:
    """contrib's `sending_queue::batch`: consumers merge queued requests into one send."""

    flush_timeout: timedelta = timedelta(milliseconds=200)
    min_size: int = 8192
    max_size: int = 0
    sizer: Literal["items"] = "items"

    def validate(self) -> None:
        if self.min_size < 0 or self.max_size < 0:
            raise ConfigError("sending_queue::batch: min_size and max_size must be 0 or more")
        if self.max_size and self.max_size < self.min_size:
            raise ConfigError("sending_queue::batch: max_size must be 0 (no cap) or at least min_size")
        if self.flush_timeout < timedelta(0):
            raise ConfigError("sending_queue::batch: flush_timeout must not be negative")


@dataclass(frozen=True, kw_only=True, slots=True)
class QueueConfig:
    enabled: bool = True
    num_consumers: int = 10
    queue_size: int = 1000
    sizer: Literal["requests", "items", "bytes"] = "requests"
    block_on_overflow: bool = False
    storage: str = ""
    wait_for_result: bool = False
    batch: QueueBatchConfig | None = None
    # Summit's: how long a clean stop waits for the queue to drain before it keeps (WAL) or
    # dead-letters (memory) the rest; otelcol bounds this by the service's shutdown instead.
    drain_timeout: timedelta = timedelta(seconds=30)

    def validate(self) -> None:
        if self.num_consumers < 1:
            raise ConfigError("sending_queue: num_consumers must be at least 1")
        if self.queue_size < 1:
            raise ConfigError("sending_queue: queue_size must be at least 1")
        if self.storage and self.sizer != "requests":
            raise ConfigError("sending_queue: a persistent queue (storage) counts requests; set sizer: requests")
        if self.drain_timeout < timedelta(0):
            raise ConfigError("sending_queue: drain_timeout must not be negative")


@dataclass(frozen=True, kw_only=True, slots=True)
class DeadLetterConfig:
    path: str = ""


@dataclass(frozen=True, kw_only=True, slots=True)
class HelperConfig:
    """Mixed into exporter configs that use the helper (field names are otelcol's)."""

    retry_on_failure: RetryConfig = field(default_factory=RetryConfig)
    sending_queue: QueueConfig = field(default_factory=QueueConfig)
    dead_letter: DeadLetterConfig = field(default_factory=DeadLetterConfig)
