"""The OTLP receiver: request bytes in, Arrow into the pipeline, an OTLP response out.

Both transports call `export`: decompression, protobuf/JSON parsing and the Arrow conversion run
in a worker thread (never on the event loop), then the pipeline's answer decides the response.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict, deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from typing import Any

from google.protobuf.message import Message

from summitcol.component import Consumer, CreateSettings, Host, Receiver, Signal
from summitcol.compression import decompress
from summitcol.exceptions import ConsumerError, PartialRejectionError, RetryableError
from summitcol.pdata.codec import Encoding, decode_request, response_message
from summitcol.pdata.decoded import DecodeLimits, Rejections, check_record_count
from summitcol.pdata.signal import SignalData
from summitcol.receiver.auth import ServerAuth, admit_tenant
from summitcol.receiver.otlp.config import Config
from summitcol.receiver.otlp.grpc import GrpcServer
from summitcol.receiver.otlp.http import HttpServer
from summitcol.receiver.otlp.limits import reject_oversized_containers
from summitcol.telemetry import ITEM_NAMES
from summitcol.tenancy import TenantGate

log = logging.getLogger("summitcol.receiver.otlp")

DECODE_THREADS = 2
# Bodies up to this size (as received) are decoded on a thread of their own, so a well-behaved
# client's small request never queues behind large ones (a 2 MB request of 1,000,000 spans, a
# body of 1,000 gzip members) that took both decode threads.
SMALL_BODY_BYTES = 256 * 1024


class FairSlots:
    """The decode threads, handed out round robin between connections: a client with many
    requests queued waits behind one request of each other client, not in front of all of them
    (a FIFO let one client's slow requests delay everyone's, issue #12 item 7)."""

    def __init__(self, slots: int) -> None:
        self.free = slots
        self.waiting: OrderedDict[str, deque[asyncio.Future[None]]] = OrderedDict()

    async def acquire(self, key: str) -> None:
        if self.free and not self.waiting:
            self.free -= 1
            return
        future = asyncio.get_running_loop().create_future()
        self.waiting.setdefault(key, deque()).append(future)
        try:
            await future
        except asyncio.CancelledError:
            if future.done() and not future.cancelled():
                self.release()  # granted just as the caller went away: pass it on
            raise

    def release(self) -> None:
        while self.waiting:
            key, queue = next(iter(self.waiting.items()))
            future = queue.popleft()
            if queue:
                self.waiting.move_to_end(key)  # its next request waits for the others' turn
            else:
                del self.waiting[key]
            if not future.done():
                future.set_result(None)
                return
        self.free += 1


@dataclass(frozen=True, slots=True)
class Decoded:
    data: SignalData
    rejections: Rejections


class OtlpReceiver(Receiver):
    def __init__(self, settings: CreateSettings, config: Config, *, consumers: dict[Signal, Consumer]) -> None:
        self.settings = settings
        self.config = config
        self.consumers = consumers
        self.label = str(settings.id)
        self.limits = DecodeLimits(max_attributes=config.max_attributes_per_record, max_records=config.max_records_per_request)
        self._executor: ThreadPoolExecutor | None = None
        self._small_executor: ThreadPoolExecutor | None = None
        self._slots = FairSlots(DECODE_THREADS)
        self._servers: list[GrpcServer | HttpServer] = []
        self._gates: dict[str, TenantGate | None] = {}  # per transport: its `tenants` authenticator
        # memory_limiter processors of the pipelines this receiver feeds (set by the graph builder)
        self.admission: list[Any] = []

    async def start(self, host: Host) -> None:
        self._executor = ThreadPoolExecutor(DECODE_THREADS, thread_name_prefix=f"{self.label}-decode")
        self._small_executor = ThreadPoolExecutor(1, thread_name_prefix=f"{self.label}-decode-small")
        protocols = self.config.protocols
        if protocols.grpc is not None:
            auth = ServerAuth.resolve(protocols.grpc.auth, host, self.label)
            self._gates["grpc"] = auth.gate if auth is not None else None
            self._servers.append(GrpcServer(self, protocols.grpc, auth))
        if protocols.http is not None:
            auth = ServerAuth.resolve(protocols.http.auth, host, self.label)
            self._gates["http"] = auth.gate if auth is not None else None
            self._servers.append(HttpServer(self, protocols.http, auth))
        for server in self._servers:
            await server.start()

    async def shutdown(self) -> None:
        """Stop accepting, let requests in flight finish (they await the pipeline), then stop."""
        await asyncio.gather(*(server.stop() for server in self._servers))
        self._servers.clear()
        for executor in (self._executor, self._small_executor):
            if executor is not None:
                executor.shutdown(wait=True)
        self._executor = self._small_executor = None

    def _decode(
        self, signal: Signal, body: bytes, encoding: Encoding, content_encoding: str, limit: int, limits: DecodeLimits
    ) -> Decoded:
        if content_encoding:
            body = decompress(body, content_encoding, limit)
        data, rejections = decode_request(signal, body, encoding, limits)
        check_record_count(data.item_count() + rejections.count, limits, ITEM_NAMES[signal].replace("_", " "))
        return Decoded(reject_oversized_containers(data, rejections, limits), rejections)

    async def decode(
        self,
        signal: Signal,
        body: bytes,
        encoding: Encoding,
        content_encoding: str = "",
        limit: int = 0,
        limits: DecodeLimits | None = None,
        peer: str = "",
    ) -> Decoded:
        """Decompress, parse and convert off the event loop (in turn with other connections).
        Raises InvalidDataError and friends."""
        loop = asyncio.get_running_loop()
        await self._slots.acquire(peer)
        try:
            executor = self._small_executor if len(body) <= SMALL_BODY_BYTES else self._executor
            return await loop.run_in_executor(
                executor, self._decode, signal, body, encoding, content_encoding, limit, limits or self.limits
            )
        finally:
            self._slots.release()

    def _admit(self, size: int, compressed: bool, peer: str) -> list[tuple[Any, Any]]:
        """Reserve memory for a request with every memory_limiter it will pass (all or none)."""
        tickets: list[tuple[Any, Any]] = []
        try:
            for limiter in self.admission:
                tickets.append((limiter, limiter.admit(size, compressed, peer)))  # noqa: PERF401 - release what was taken if one refuses
        except RetryableError:
            self._release(tickets)
            raise
        return tickets

    @staticmethod
    def _release(tickets: list[tuple[Any, Any]]) -> None:
        for limiter, ticket in tickets:
            limiter.release(ticket)

    def _limits_for(self, tickets: list[tuple[Any, Any]]) -> DecodeLimits:
        """The decode limits, with the decoder's requests for more memory (the resource and scope
        columns it replicates per record) going to the request's reservations."""
        if not tickets:
            return self.limits

        def reserve(nbytes: int) -> None:
            for limiter, ticket in tickets:
                limiter.grow(ticket, nbytes)

        return replace(self.limits, reserve=reserve)

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
        """Admit (the tenant's rate limit unless `admitted` already, memory), decode off the loop,
        push into the pipeline; the OTLP response.

        `peer` (address and port of the connection) is who the memory admission is fair between.
        """
        peer = peer or (client or {}).get("client.address", "")
        tenant = (client or {}).get("auth.tenant", "")
        gate = self._gates.get(transport) if tenant else None
        if gate is not None and not admitted:
            await admit_tenant(gate, tenant, len(body), self.settings.telemetry, self.label, transport)
        tickets = self._admit(len(body), bool(content_encoding), peer)
        try:
            decoded = await self.decode(signal, body, encoding, content_encoding, limit, self._limits_for(tickets), peer)
            if client:
                decoded = Decoded(SignalData(decoded.data.signal, decoded.data.tables, client), decoded.rejections)
            if gate is not None:
                await gate.charge(tenant, decoded.data.item_count())
            return await self.consume(decoded, transport)
        finally:
            self._release(tickets)

    async def admit_tenant(self, transport: str, client: dict[str, str], nbytes: int) -> None:
        """The tenant's rate limit for a request of `nbytes`, before any decoding is spent on it
        (over HTTP, before its body is read, by its Content-Length); RateLimitedError when over."""
        tenant = client.get("auth.tenant", "")
        gate = self._gates.get(transport) if tenant else None
        if gate is not None:
            await admit_tenant(gate, tenant, nbytes, self.settings.telemetry, self.label, transport)

    async def consume(self, decoded: Decoded, transport: str) -> Message:
        """Push decoded data into the pipeline; the pipeline's refusal propagates to the caller."""
        data = decoded.data
        items = data.item_count()
        if decoded.rejections.count:
            self.settings.telemetry.count(
                "receiver_refused", data.signal, decoded.rejections.count, receiver=self.label, transport=transport
            )
        if items:
            try:
                await self.consumers[data.signal].consume(data)
            except PartialRejectionError as exc:
                rejected = min(exc.rejected, items)
                decoded.rejections.count += rejected
                decoded.rejections.reasons.append(str(exc))
                self.settings.telemetry.count("receiver_refused", data.signal, rejected, receiver=self.label, transport=transport)
                self.settings.telemetry.count("receiver_accepted", data.signal, items - rejected, receiver=self.label, transport=transport)
                return response_message(data.signal, decoded.rejections)
            except ConsumerError:
                self.settings.telemetry.count("receiver_refused", data.signal, items, receiver=self.label, transport=transport)
                raise
            except Exception:
                log.exception("pipeline failed on %d %s", items, data.signal)
                self.settings.telemetry.count("receiver_failed", data.signal, items, receiver=self.label, transport=transport)
                raise
            self.settings.telemetry.count("receiver_accepted", data.signal, items, receiver=self.label, transport=transport)
        return response_message(data.signal, decoded.rejections)
