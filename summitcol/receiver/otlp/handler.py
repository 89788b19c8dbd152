"""What the OTLP transports (grpc.py, http.py) need from the receiver: its name, its settings
and `export`.

A protocol of its own so that the servers depend on it and the receiver on the servers, and not
both on each other: the receiver creates its servers at start, and each server hands the bytes
it read back through this interface.
"""

from __future__ import annotations

from typing import Protocol

from google.protobuf.message import Message

from summitcol.component import CreateSettings, Signal
from summitcol.pdata.codec import Encoding


class ExportHandler(Protocol):
    """`OtlpReceiver` is one; a transport server is given it at construction."""

    @property
    def label(self) -> str:
        """The receiver's component id, for logs and metric labels."""
        ...

    @property
    def settings(self) -> CreateSettings:
        """The receiver's telemetry and worker (SO_REUSEPORT when there are several)."""
        ...

    async def export(
        self,
        signal: Signal,
        body: bytes,
        encoding: Encoding,
        transport: str,
        content_encoding: str = "",
        limit: int = 0,
        client: dict[str, str] | None = None,
        peer: str = "",
        admitted: bool = False,
    ) -> Message:
        """Admit, decode and push one request into the pipeline; the OTLP response message.
        Raises the pipeline's or the decoder's refusal (a ConsumerError, InvalidDataError …)."""
        ...

    async def admit_tenant(self, transport: str, client: dict[str, str], nbytes: int) -> None:
        """The caller's tenant's rate limit for `nbytes`; RateLimitedError when it is over."""
        ...
