"""The `sentry` receiver: Sentry's ingestion HTTP API, so that an application's Sentry SDK sends
to Summit by changing its DSN. Error events become log records (logs pipelines), transactions
spans (traces pipelines); summitcol.sentry does the reading and mapping.

| request                                                   | answer (as Relay)                     |
|-----------------------------------------------------------|---------------------------------------|
| a path other than `/api/<digits>/envelope/` or `/store/`  | 404                                   |
| OPTIONS (a browser's CORS preflight)                      | 200 with Relay's CORS headers         |
| not POST                                                  | 405 (Allow: POST)                     |
| no public key (header, `?sentry_key=`, envelope `dsn`)    | 401                                   |
| a key no project has, another project's key               | 403                                   |
| `sentry_version` above 7                                  | 400                                   |
| body over `max_request_body_size`, also decompressed      | 413                                   |
| an event/transaction item over `max_event_size`           | 413 naming the item                   |
| Content-Encoding other than gzip, deflate, br, zstd       | 415                                   |
| malformed envelope or item JSON                           | 400 naming the item                   |
| unknown item types                                        | skipped and counted, the rest taken   |
| `session`, `sessions`, `client_report` items              | release-health metrics, SDK drop counts |
| `replay_event`, `replay_recording` items                  | replays_v1 / replay_segments_v1 rows, sampled per replay |
| the project's tenant is over its rate limit (`tenants`)   | 429 + Retry-After, X-Sentry-Rate-Limits |
| the pipeline refuses                                      | 503 + Retry-After, X-Sentry-Rate-Limits |
| taken                                                     | 200 `{"id": "<event id>"}`            |

Errors carry Relay's body `{"detail": "..."}` and an `X-Sentry-Error` header. Items are counted
in `summitcol_receiver_sentry_items{receiver,type,outcome}` (accepted, invalid, unknown).

Reading and mapping run on the receiver's worker thread, never on the event loop; requests mapped
while an earlier batch is still being decoded or consumed are passed on together (`_pass_on`). Every worker
process listens (SO_REUSEPORT, like the OTLP receiver): SDK traffic is as large as OTLP traffic.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import re
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import orjson
from aiohttp import web
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import ExportMetricsServiceRequest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from summitcol.component import Consumer, CreateSettings, Host, Receiver, Signal, required_extension
from summitcol.compression import BodyTooLargeError, UnsupportedEncodingError, decompress
from summitcol.exceptions import DEFAULT_RETRY_AFTER_S, InvalidDataError, RateLimitedError
from summitcol.pdata.codec import decode_request
from summitcol.pdata.signal import SignalData
from summitcol.receiver.auth import admit_tenant
from summitcol.receiver.httpserver import client_info, listen, read_body
from summitcol.receiver.otlp.status import Refusals, failure_for, retry_after_header
from summitcol.receiver.sentry.config import Config
from summitcol.sentry import replays
from summitcol.sentry.auth import AuthError, KeyRing, Project
from summitcol.sentry.convert import Converted, ItemTooLargeError, convert_envelope, convert_store
from summitcol.sentry.envelope import EnvelopeError, StoreBodyTooLargeError, parse_envelope, parse_store
from summitcol.tenancy import TenantGate

ITEMS = "summitcol_receiver_sentry_items"
DISCARDED = "summitcol_receiver_sentry_client_discarded"  # client reports: what SDKs dropped
# Relay's CORS: any origin may send (the DSN's key is what authenticates), and the browser SDKs
# may read the rate-limit headers.
CORS = {"Access-Control-Allow-Origin": "*",
        "Access-Control-Expose-Headers": "x-sentry-error, x-sentry-rate-limits, retry-after"}
CORS_PREFLIGHT = {
    "Access-Control-Allow-Methods": "POST",
    "Access-Control-Allow-Headers": "x-sentry-auth, x-requested-with, x-forwarded-for, origin, referer, accept, content-type, "
                                    "authentication, authorization, content-encoding, transfer-encoding",
    "Access-Control-Max-Age": "3600",
}
_ROUTE = re.compile(r"^/api/(\d+)/(envelope|store)/?$")


class BodyDecodeError(Exception):
    """The body cannot be read; `status` and `reason` say how to answer."""

    def __init__(self, status: int, reason: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.reason = reason


def decode_body(body: bytes, content_encoding: str, limit: int) -> bytes:
    """The body decompressed, never past `limit` bytes: gzip and deflate as on the OTLP receiver,
    and br and zstd, which the Sentry SDKs send (Python with `brotli` installed: br)."""
    encoding = content_encoding.strip().lower()
    return decompress(body, "gzip" if encoding == "x-gzip" else encoding, limit, also=("br", "zstd"))


Refusal = tuple[str, float]  # the pipeline's message, seconds to retry after


@dataclasses.dataclass(frozen=True, slots=True)
class _Pending:
    """A mapped request waiting to be passed on."""

    converted: Converted
    client: dict[str, str]
    done: asyncio.Future[Refusal | None]


class SentryReceiver(Receiver):
    def __init__(self, settings: CreateSettings, config: Config, *, consumers: dict[Signal, Consumer]) -> None:
        self.settings = settings
        self.config = config
        self.label = str(settings.id)
        self.log = logging.getLogger("summitcol.receiver.sentry")
        self.logs = consumers.get(Signal.LOGS)
        self.traces = consumers.get(Signal.TRACES)
        self.metrics = consumers.get(Signal.METRICS)  # release health (sessions)
        self.keys = KeyRing(config.keyring())
        self.refusals = Refusals(self.label, "http", settings.telemetry, self.log)
        self._runner: web.ServerRunner | None = None
        self._executor: ThreadPoolExecutor | None = None
        self._pending: list[_Pending] = []
        self._flusher: asyncio.Task[None] | None = None
        self._gate: TenantGate | None = None
        self.port = 0

    async def start(self, host: Host) -> None:
        if self.logs is None:
            self.log.warning("%s is in no logs pipeline: error events are answered and dropped", self.label)
        if self.traces is None:
            self.log.warning("%s is in no traces pipeline: transactions are answered and dropped", self.label)
        if self.metrics is None:
            self.log.info("%s is in no metrics pipeline: release-health sessions are answered and dropped", self.label)
        self._gate = self._resolve_tenants(host)
        self._executor = ThreadPoolExecutor(1, thread_name_prefix=f"{self.label}-decode")
        cfg = self.config
        worker = self.settings.worker
        self._runner, self.port = await listen(self._handle, cfg.endpoint, label=self.label, tls=cfg.tls,
                                               idle_timeout=cfg.idle_timeout, worker=worker, shared_port=worker.shared_ports)
        self.log.info("Sentry receiver %s listening on %s", self.label, cfg.endpoint)

    def _resolve_tenants(self, host: Host) -> TenantGate | None:
        """The `tenants` extension the projects' tenants come from; OSError (the collector does
        not start) when it is missing or does not define a project's tenant."""
        if not self.config.tenants:
            return None
        gate = required_extension(host, self.config.tenants, TenantGate, self.label, "tenants", "a tenants extension")
        for project in self.config.projects:
            if project.tenant and not gate.has(project.tenant):
                raise OSError(f"{self.label}: project {project.id} names tenant '{project.tenant}', "
                              f"which {self.config.tenants} does not define")
        return gate

    async def shutdown(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        if self._flusher is not None:
            await asyncio.gather(self._flusher, return_exceptions=True)
            self._flusher = None
        if self._executor is not None:
            self._executor.shutdown(wait=True)
            self._executor = None

    # --- requests -------------------------------------------------------------------------------

    async def _handle(self, request: web.BaseRequest) -> web.StreamResponse:
        route = _ROUTE.match(request.path)
        if route is None:
            return self._refuse(request, "not_found", 404, f"{request.path} not found; send to /api/<project id>/envelope/")
        if request.method == "OPTIONS":  # a browser's CORS preflight, answered as Relay does
            return web.Response(status=200, headers={**CORS, **CORS_PREFLIGHT})
        if request.method != "POST":
            response = self._refuse(request, "method_not_allowed", 405, f"{request.method} is not allowed; send POST")
            response.headers["Allow"] = "POST"
            return response
        project_id, endpoint = route.group(1), route.group(2)
        try:
            key, _ = self.keys.credentials(request.headers, request.query)
            # with a key, refuse before reading the body; without one the envelope's dsn may name it
            project = self.keys.project(project_id, key) if key or endpoint == "store" else None
        except AuthError as exc:
            return self._refuse(request, "unauthorized" if exc.status in (401, 403) else "malformed", exc.status, str(exc))
        limit = self.config.max_request_body_size
        if request.content_length is not None and request.content_length > limit:
            return self._too_large(request, f"request body is larger than max_request_body_size ({limit} bytes)")
        timeout = self.config.read_timeout.total_seconds() or None
        try:
            body = await asyncio.wait_for(read_body(request, limit), timeout)
        except TimeoutError:
            return self._refuse(request, "timeout", 408, f"the request body did not arrive within read_timeout ({timeout:g}s)")
        except (ConnectionError, web.RequestPayloadError) as exc:
            response = self._refuse(request, "protocol_error", 400, f"the request body could not be read: {exc}")
            response.force_close()
            return response
        if body is None:
            return self._too_large(request, f"request body is larger than max_request_body_size ({limit} bytes)")
        loop = asyncio.get_running_loop()
        received_ns = time.time_ns()
        encoding = request.headers.get("Content-Encoding", "")
        client = client_info(request, self.config.include_metadata)
        try:
            converted, project = await loop.run_in_executor(
                self._executor, self._convert, endpoint, project_id, key, project, body, encoding, received_ns)
        except AuthError as exc:
            return self._refuse(request, "unauthorized", exc.status, str(exc))
        except BodyDecodeError as exc:
            if exc.status == 413:
                return self._too_large(request, str(exc))
            return self._refuse(request, exc.reason, exc.status, str(exc))
        for problem in converted.problems:
            self.log.info("%s: %s", self.label, problem)
        if project.tenant:
            client["auth.tenant"] = project.tenant
            limited = await self._admit_tenant(project.tenant, len(body), converted)
            if limited is not None:
                self._count(converted, False)
                return limited
            if self._gate is not None and self._gate.internal(project.tenant):
                client["auth.internal"] = "true"
        refusal = await self._pass_on(converted, client)
        self._count(converted, refusal is None)
        if refusal is not None:
            message, retry_after = refusal
            seconds = retry_after_header(retry_after)
            # an SDK drops what a 503 refused (it never retries) but honours X-Sentry-Rate-Limits on any
            # answer: all categories ("") paused for Retry-After, so it stops sending into a full pipeline
            headers = {"Retry-After": seconds, "X-Sentry-Rate-Limits": f"{seconds}::organization"}
            return self._json(503, {"detail": message}, headers, error=True)
        return self._json(200, {"id": converted.event_id} if converted.event_id else {})

    async def _admit_tenant(self, tenant: str, nbytes: int, converted: Converted) -> web.Response | None:
        """The tenant's rate limit: None when admitted (its records charged), else Relay's 429
        with X-Sentry-Rate-Limits for every category (the SDKs pause all sending that long)."""
        if self._gate is None:
            return None
        try:
            await admit_tenant(self._gate, tenant, nbytes, self.settings.telemetry, self.label, "http")
        except RateLimitedError as exc:
            seconds = retry_after_header(exc.retry_after)
            headers = {"Retry-After": seconds, "X-Sentry-Rate-Limits": f"{seconds}::organization:rate_limited"}
            return self._json(429, {"detail": str(exc)}, headers, error=True)
        records = sum(len(s.spans) for r in converted.traces.resource_spans for s in r.scope_spans)
        records += sum(len(s.log_records) for r in converted.logs.resource_logs for s in r.scope_logs)
        await self._gate.charge(tenant, records)
        return None

    def _replay_percentage(self, project: Project) -> float:
        """The share of this project's replays kept: its tenant's own setting, else by whether its
        tenant (or, without one, the project) is internal."""
        replays = self.config.replays
        internal = project.internal
        if project.tenant and self._gate is not None:
            own = self._gate.replay_sampling(project.tenant)
            if own is not None:
                return own
            internal = self._gate.internal(project.tenant)
        return replays.internal_sampling_percentage if internal else replays.sampling_percentage

    def _convert(self, endpoint: str, project_id: str, key: str, project: Project | None, body: bytes, encoding: str,
                 received_ns: int) -> tuple[Converted, Project]:
        """Decompress, parse, authenticate by the envelope's dsn if need be, and map (worker thread)."""
        limit = self.config.max_request_body_size
        try:
            raw = decode_body(body, encoding, limit) if encoding else body
        except BodyTooLargeError:
            raise BodyDecodeError(413, "too_large", f"request body is larger than max_request_body_size ({limit} bytes) once decompressed") from None
        except UnsupportedEncodingError:
            raise BodyDecodeError(415, "unsupported_encoding", f"unsupported Content-Encoding '{encoding}'; send gzip, deflate, br, zstd or none") from None
        except InvalidDataError as exc:
            raise BodyDecodeError(400, "malformed", str(exc)) from None
        try:
            if endpoint == "store":
                event = parse_store(raw, limit)
                project = project or self.keys.project(project_id, "")
                converted = convert_store(event, project, received_ns)
            else:
                envelope = parse_envelope(raw)
                dsn = envelope.headers.get("dsn")
                if project is None or isinstance(dsn, str):  # a dsn must agree with the request's key
                    project = self.keys.project(project_id, key, dsn if isinstance(dsn, str) else "")
                converted = convert_envelope(envelope, project, received_ns, self.config.max_event_size,
                                             self._replay_percentage(project))
        except (ItemTooLargeError, StoreBodyTooLargeError) as exc:
            raise BodyDecodeError(413, "too_large", str(exc)) from None
        except EnvelopeError as exc:
            raise BodyDecodeError(400, "malformed", str(exc)) from None
        return converted, project

    async def _pass_on(self, converted: Converted, client: dict[str, str]) -> Refusal | None:
        """Hand the request's records on, with those of the requests waiting beside it.

        SDKs send one event per request, and turning one request into Arrow costs a fixed ~0.3 ms
        beyond its records; so requests whose mapping finished while a batch was being decoded or
        consumed are decoded and consumed together (one Arrow batch per signal). Alone, a request
        goes at once; under load, batches form by themselves. Every request of a batch gets the
        batch's outcome: taken, or refused (then each answers 503)."""
        loop = asyncio.get_running_loop()
        done: asyncio.Future[Refusal | None] = loop.create_future()
        self._pending.append(_Pending(converted, client, done))
        if self._flusher is None or self._flusher.done():
            self._flusher = loop.create_task(self._flush())
        return await asyncio.shield(done)

    async def _flush(self) -> None:
        loop = asyncio.get_running_loop()
        while self._pending:
            waiting, self._pending = self._pending, []
            groups: dict[tuple[tuple[str, str], ...], list[_Pending]] = {}
            for pending in waiting:  # one batch per tenant, and per sender when include_metadata tells them apart
                groups.setdefault(tuple(sorted(pending.client.items())) if self.config.include_metadata
                                  else tuple(sorted(_auth_info(pending.client).items())), []).append(pending)
            for group in groups.values():
                try:
                    logs, traces, metrics = await loop.run_in_executor(self._executor, self._decode, group)
                    refusal = (await self._consume(logs, self.logs) or await self._consume(traces, self.traces)
                               or await self._consume(metrics, self.metrics))
                except Exception as exc:  # a bug of ours: retryable for the senders, logged for us
                    self.log.exception("%s: cannot pass %d request(s) on", self.label, len(group))
                    refusal = (f"internal error, retry later: {type(exc).__name__}", DEFAULT_RETRY_AFTER_S)
                for pending in group:
                    if not pending.done.done():
                        pending.done.set_result(refusal)

    def _decode(self, group: list[_Pending]) -> tuple[SignalData, SignalData, SignalData]:
        """The group's records as one Arrow batch per signal (worker thread)."""
        logs, traces, metrics = ExportLogsServiceRequest(), ExportTraceServiceRequest(), ExportMetricsServiceRequest()
        for pending in group:
            logs.resource_logs.extend(pending.converted.logs.resource_logs)
            traces.resource_spans.extend(pending.converted.traces.resource_spans)
            metrics.resource_metrics.extend(pending.converted.metrics.resource_metrics)
        client = group[0].client if len(group) == 1 or self.config.include_metadata else _auth_info(group[0].client)
        logs_data = self._signal(Signal.LOGS, logs.SerializeToString() if logs.resource_logs else b"", client)
        for table, columns, rows in ((replays.REPLAYS_TABLE, replays.REPLAY_COLUMNS, [r for p in group for r in p.converted.replays]),
                                     (replays.SEGMENTS_TABLE, replays.SEGMENT_COLUMNS, [r for p in group for r in p.converted.segments])):
            if rows:  # replays ride with the logs, as side rows for their own tables
                logs_data = logs_data.with_side(table, replays.batch(rows, columns))
        return (logs_data,
                self._signal(Signal.TRACES, traces.SerializeToString() if traces.resource_spans else b"", client),
                self._signal(Signal.METRICS, metrics.SerializeToString() if metrics.resource_metrics else b"", client))

    def _signal(self, signal: Signal, payload: bytes, client: dict[str, str]) -> SignalData:
        if not payload:
            return SignalData(signal, {}, client)
        data, rejections = decode_request(signal, payload, "proto")
        if rejections.count:
            self.log.warning("%s: %d %s item(s) were rejected: %s", self.label, rejections.count, signal, rejections.message())
        return SignalData(data.signal, data.tables, client)

    async def _consume(self, data: SignalData, consumer: Consumer | None) -> Refusal | None:
        """Hand the data on; None when it was taken (or there is nothing / nowhere), else why not."""
        if consumer is None or data.empty():
            return None
        try:
            await consumer.consume(data)
        except Exception as exc:
            failure = failure_for(exc)
            self.log.warning("%s: the pipeline refused %s: %s", self.label, data.signal, failure.message)
            return failure.message, failure.retry_after or DEFAULT_RETRY_AFTER_S
        return None

    # --- responses ------------------------------------------------------------------------------

    def _count(self, converted: Converted, taken: bool) -> None:
        telemetry = self.settings.telemetry
        for (kind, outcome), count in converted.outcomes.items():
            label = outcome if taken or outcome != "accepted" else "refused"
            telemetry.count_plain(ITEMS, count, receiver=self.label, type=kind, outcome=label)
        for (reason, category), quantity in converted.discarded.items():  # what the SDK says it dropped
            telemetry.count_plain(DISCARDED, quantity, receiver=self.label, reason=reason, category=category)

    def _json(self, status: int, body: dict[str, Any], extra: dict[str, str] | None = None, *, error: bool = False) -> web.Response:
        headers = {**(extra or {}), **CORS, "Content-Type": "application/json"}
        if error:
            headers["X-Sentry-Error"] = _header_text(str(body.get("detail", "")))
        return web.Response(status=status, body=orjson.dumps(body), headers=headers)

    def _refuse(self, request: web.BaseRequest, reason: str, status: int, message: str) -> web.Response:
        self.refusals.refused(reason, request.remote or "", message)
        return self._json(status, {"detail": message}, error=True)

    def _too_large(self, request: web.BaseRequest, message: str) -> web.Response:
        response = self._refuse(request, "too_large", 413, message)
        response.force_close()
        return response


def _auth_info(client: dict[str, str]) -> dict[str, str]:
    """What every request of a batch must share: its tenant (`auth.*`)."""
    return {key: value for key, value in client.items() if key.startswith("auth.")}


def _header_text(message: str, limit: int = 300) -> str:
    """A message fit for a header: one line of printable ASCII, bounded."""
    flat = "".join(c if " " <= c <= "~" else "?" for c in message)
    return flat if len(flat) <= limit else flat[: limit - 3] + "..."
