"""The CI webhook receiver: one aiohttp server per receiver, deliveries in, traces and build rows
into a traces pipeline.

A provider (github, gitlab, circleci) subclasses `WebhookReceiver` with how it authenticates a
delivery, names its event, identifies a delivery and maps its payload. Everything else is here:

| request                                              | answer                              |
|------------------------------------------------------|-------------------------------------|
| GET/HEAD `health_path`                               | 200 JSON                            |
| a path other than `path`, `health_path`, JUnit's     | 404                                 |
| not POST                                             | 405 (Allow: POST)                   |
| body over `max_request_body_size` (also unzipped)    | 413                                 |
| a required header or the signature wrong or missing  | 401, nothing stored, counted        |
| no event header                                      | 400                                 |
| ping                                                 | 200                                 |
| an event Summit does not use                         | 204                                 |
| malformed JSON, a payload the mapper cannot read     | 400 naming the problem              |
| a delivery id already passed on                      | 200 `{"duplicate": true}`           |
| the same delivery id still being handled             | 503 + Retry-After                   |
| the pipeline refuses                                 | 503 + Retry-After (as OTLP/HTTP)    |
| passed on                                            | 200 `{"spans": n, "events": m}`     |

Contrib's receivers answer 400 for a bad signature and for events they do not use; Summit answers
401 and 204 (GitLab disables a hook that keeps getting 4xx). Parsing, mapping and the OTLP decode
run on the receiver's own worker thread, never on the event loop, so a flood of large deliveries
does not delay the OTLP receivers sharing the loop.

Only worker 0 listens when the collector runs several workers: the delivery log is then one
log, and webhook volume never needs more than one process.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from datetime import UTC, datetime
from typing import Any, ClassVar, Literal
from urllib.parse import parse_qs

import orjson
from aiohttp import web
from multidict import CIMultiDictProxy

from summitcol.auth import AuthFailure
from summitcol.component import Consumer, CreateSettings, Host, Receiver, Signal
from summitcol.compression import BodyTooLargeError, UnsupportedEncodingError, decompress
from summitcol.exceptions import DEFAULT_RETRY_AFTER_S, InvalidDataError
from summitcol.netaddr import warn_if_open
from summitcol.pdata.codec import decode_request
from summitcol.pdata.signal import SignalData
from summitcol.receiver.auth import ServerAuth, auth_client_info
from summitcol.receiver.httpserver import AUTH_INFO, client_info, listen, read_body
from summitcol.receiver.otlp.status import Refusals, failure_for, retry_after_header
from summitcol.receiver.webhook import mapping
from summitcol.receiver.webhook.config import WebhookConfig
from summitcol.receiver.webhook.deliveries import DeliveryLog
from summitcol.receiver.webhook.output import junit_events, with_build_rows
from summitcol.receiver.webhook.pacing import Pacer

DELIVERIES = "summitcol_receiver_webhook_deliveries"
MAX_PACING_WAIT_S = 5.0  # under GitHub's 10 s delivery timeout, with room for the delivery's own work

Kind = Literal["ping", "used", "unused"]


class BadDelivery(Exception):
    """The delivery cannot be read (malformed JSON, a payload the mapper refuses): a 400."""


@dataclasses.dataclass(frozen=True, slots=True)
class Delivery:
    """One request, as the provider hooks see it."""

    headers: CIMultiDictProxy[str]
    body: bytes
    content_type: str
    query: dict[str, str]


class WebhookReceiver(Receiver):
    """A CI provider's webhook receiver; subclasses fill in the provider hooks."""

    provider: ClassVar[str] = ""  # "github"; names the log lines and the JUnit rows' provider
    title: ClassVar[str] = ""  # "GitHub", for messages

    def __init__(self, settings: CreateSettings, config: Any, *, consumers: dict[Signal, Consumer]) -> None:
        self.settings = settings
        self.config = config
        self.webhook: WebhookConfig = config.webhook
        self.consumer = consumers.get(Signal.TRACES)
        self.label = str(settings.id)
        self.log = logging.getLogger(f"summitcol.receiver.{self.provider}")
        self.deliveries = DeliveryLog()
        self.refusals = Refusals(self.label, "http", settings.telemetry, self.log)
        self._runner: web.ServerRunner | None = None
        self._executor: ThreadPoolExecutor | None = None
        self._auth: ServerAuth | None = None
        rate = self.webhook.max_deliveries_per_second
        self._pacer = Pacer(rate, max(1, int(rate)), MAX_PACING_WAIT_S) if rate else None
        self.port = 0

    # --- provider hooks ---------------------------------------------------------------------

    def authenticate(self, delivery: Delivery) -> str | None:
        """None when the delivery is authentic (or no secret is set), else why not."""
        raise NotImplementedError

    def event_name(self, delivery: Delivery) -> str | None:
        """The event the delivery carries (its event header), None when it names none."""
        raise NotImplementedError

    def classify(self, event: str) -> Kind:
        raise NotImplementedError

    def delivery_id(self, delivery: Delivery, payload: dict[str, Any]) -> str:
        """The id a redelivery repeats ("" when the delivery has none: then no dedupe)."""
        raise NotImplementedError

    def mapper(self) -> mapping.Mapper:
        """The provider's mapper with this receiver's settings, as a picklable callable
        (event, payload, delivery_id, observed, raw) → Mapped: it runs in the mapping process.
        ValueError, TypeError or KeyError → 400."""
        raise NotImplementedError

    def parse(self, delivery: Delivery, body: bytes) -> dict[str, Any]:
        """The JSON payload of the (decompressed) body."""
        try:
            payload = orjson.loads(body)
        except orjson.JSONDecodeError as exc:
            raise BadDelivery(f"request body is not valid JSON: {exc}") from None
        if not isinstance(payload, dict):
            raise BadDelivery(f"request body must be a JSON object, got a JSON {type(payload).__name__}")
        return payload

    # --- lifecycle ----------------------------------------------------------------------------

    async def start(self, host: Host) -> None:
        worker = self.settings.worker
        if not worker.owner:
            self.log.debug("%s listens in worker 0 only; worker %d does not", self.label, worker.index)
            return
        if self.consumer is None:
            self.log.warning("%s is in no traces pipeline: its deliveries are answered and dropped", self.label)
        cfg = self.webhook
        self._auth = ServerAuth.resolve(cfg.auth, host, self.label)
        self._executor = ThreadPoolExecutor(1, thread_name_prefix=f"{self.label}-map")
        self._runner, self.port = await listen(self._handle, cfg.endpoint, label=self.label, tls=cfg.tls,
                                               idle_timeout=cfg.idle_timeout, worker=worker, shared_port=False)
        self.log.info("%s receiver %s listening on %s%s", self.title, self.label, cfg.endpoint, cfg.path)
        if not cfg.secret:  # a signature is authentication too
            warn_if_open(self.log, f"{self.title} receiver {self.label}", cfg.endpoint, self._auth is not None)

    async def shutdown(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        if self._executor is not None:
            self._executor.shutdown(wait=True)
            self._executor = None

    # --- requests -------------------------------------------------------------------------------

    async def _handle(self, request: web.BaseRequest) -> web.StreamResponse:
        cfg = self.webhook
        if request.path == cfg.health_path and request.method in ("GET", "HEAD"):
            return self._json(200, {"text": f"{self.title} receiver webhook is healthy"})
        if self._auth is not None:  # the health path stays open, for load balancers
            try:
                principal = await self._auth.check(request.headers.items(), request.query, request.remote or "")
            except AuthFailure as exc:
                return self._refuse(request, "unauthenticated", 401, str(exc))
            request[AUTH_INFO] = auth_client_info(principal)
        if request.path not in (cfg.path, cfg.junit_path):
            return self._refuse(request, "not_found", 404, f"{request.path} not found; deliveries go to {cfg.path}")
        if request.method != "POST":
            response = self._refuse(request, "method_not_allowed", 405, f"{request.method} is not allowed; send POST")
            response.headers["Allow"] = "POST"
            return response
        limit = cfg.max_request_body_size
        if request.content_length is not None and request.content_length > limit:
            return self._too_large(request, limit)
        try:
            body = await asyncio.wait_for(read_body(request, limit), cfg.read_timeout.total_seconds() or None)
        except TimeoutError:
            return self._refuse(request, "timeout", 408, f"the request body did not arrive within read_timeout ({cfg.read_timeout.total_seconds():g}s)")
        except (ConnectionError, web.RequestPayloadError) as exc:
            response = self._refuse(request, "protocol_error", 400, f"the request body could not be read: {exc}")
            response.force_close()
            return response
        if body is None:
            return self._too_large(request, limit)
        delivery = Delivery(request.headers, body, request.content_type, {k: v for k, v in request.query.items()})
        problem = self._check_required_headers(delivery) or self.authenticate(delivery)
        if problem is not None:
            return self._refuse(request, "unauthorized", 401, problem)
        if self._pacer is not None and not await self._pacer.admit():
            self.refusals.refused("rate_limited", request.remote or "", "more deliveries than max_deliveries_per_second")
            return self._json(503, {"error": f"more than {cfg.max_deliveries_per_second:g} deliveries per second; retry later"},
                              {"Retry-After": retry_after_header(DEFAULT_RETRY_AFTER_S)})
        if request.path == cfg.junit_path:
            return await self._junit(request, delivery)
        return await self._event(request, delivery)

    def _check_required_headers(self, delivery: Delivery) -> str | None:
        for key, value in self.webhook.required_headers.items():
            if delivery.headers.get(key) != value:
                return f"required header {key} is missing or has another value"
        return None

    async def _event(self, request: web.BaseRequest, delivery: Delivery) -> web.StreamResponse:
        event = self.event_name(delivery)
        if not event:
            return self._refuse(request, "malformed", 400, f"the delivery names no event; is this a {self.title} webhook?")
        kind = self.classify(event)
        if kind == "ping":
            self._count(event, "ping")
            return self._json(200, {})
        if kind == "unused":
            self._count(event, "unused")
            return web.Response(status=204, headers=dict(self.webhook.response_headers))
        loop = asyncio.get_running_loop()
        content_encoding = request.headers.get("Content-Encoding", "")
        try:
            raw, payload = await loop.run_in_executor(self._executor, self._read_payload, delivery, content_encoding)
        except BodyTooLargeError:
            return self._too_large(request, self.webhook.max_request_body_size)
        except UnsupportedEncodingError as exc:
            return self._refuse(request, "unsupported_encoding", 415, str(exc))
        except (BadDelivery, InvalidDataError) as exc:
            return self._refuse(request, "malformed", 400, str(exc))
        delivery_id = self.delivery_id(delivery, payload)
        if delivery_id and self.deliveries.seen(delivery_id):
            self._count(event, "duplicate")
            return self._json(200, {"duplicate": True})
        if delivery_id and self.deliveries.in_flight(delivery_id):
            self._count(event, "in_flight")
            return self._json(503, {"error": f"delivery {delivery_id} is still being handled; retry"},
                              {"Retry-After": retry_after_header(DEFAULT_RETRY_AFTER_S)})
        if delivery_id:
            self.deliveries.begin(delivery_id)
        done = False
        try:
            observed = datetime.now(UTC)
            try:
                data, spans, events = await self._map(event, payload, delivery_id, observed, raw,
                                                      client_info(request, self.webhook.include_metadata))
            except (BadDelivery, InvalidDataError) as exc:
                return self._refuse(request, "malformed", 400, str(exc))
            except BrokenProcessPool:
                self.log.error("%s: the webhook mapping process died; a new one starts with the next delivery", self.label)
                return self._json(503, {"error": "internal error, retry later"},
                                  {"Retry-After": retry_after_header(DEFAULT_RETRY_AFTER_S)})
            response = await self._consume(data, event)
            if response is not None:
                return response
            done = True
            self._count(event, "accepted")
            return self._json(200, {"spans": spans, "events": events})
        finally:
            if delivery_id:
                self.deliveries.end(delivery_id, done=done)

    def _read_payload(self, delivery: Delivery, content_encoding: str) -> tuple[bytes, dict[str, Any]]:
        body = decompress(delivery.body, content_encoding, self.webhook.max_request_body_size) if content_encoding else delivery.body
        return body, self.parse(delivery, body)

    async def _map(
        self, event: str, payload: dict[str, Any], delivery_id: str, observed: datetime, raw: bytes, client: dict[str, str]
    ) -> tuple[SignalData, int, int]:
        """The provider's mapping in the mapping process (summitcol.receiver.webhook.mapping), the
        spans it made decoded here."""
        loop = asyncio.get_running_loop()
        executor = mapping.pool()
        try:
            result = await loop.run_in_executor(executor, mapping.map_delivery, self.mapper(), event, payload,
                                                delivery_id, observed, raw)
        except mapping.MappingError as exc:
            raise BadDelivery(str(exc)) from None
        except BrokenProcessPool:
            mapping.reset(executor)
            raise
        if result.spans:
            data, rejections = await loop.run_in_executor(self._executor, decode_request, Signal.TRACES, result.spans, "proto")
            if rejections.count:
                self.log.warning("%s: %d span(s) of a %s delivery were rejected: %s", self.label, rejections.count, event, rejections.message())
        else:
            data = SignalData(Signal.TRACES, {})
        return SignalData(data.signal, data.tables, client, {**data.side, **result.side}), data.item_count(), result.events

    async def _junit(self, request: web.BaseRequest, delivery: Delivery) -> web.StreamResponse:
        loop = asyncio.get_running_loop()
        content_encoding = request.headers.get("Content-Encoding", "")
        try:
            data, count = await loop.run_in_executor(self._executor, self._junit_decode, delivery, content_encoding, client_info(request, self.webhook.include_metadata))
        except BodyTooLargeError:
            return self._too_large(request, self.webhook.max_request_body_size)
        except UnsupportedEncodingError as exc:
            return self._refuse(request, "unsupported_encoding", 415, str(exc))
        except (BadDelivery, InvalidDataError) as exc:
            return self._refuse(request, "malformed", 400, str(exc))
        response = await self._consume(data, "junit")
        if response is not None:
            return response
        self._count("junit", "accepted")
        return self._json(200, {"tests": count})

    def _junit_decode(self, delivery: Delivery, content_encoding: str, client: dict[str, str]) -> tuple[SignalData, int]:
        body = decompress(delivery.body, content_encoding, self.webhook.max_request_body_size) if content_encoding else delivery.body
        try:
            events = junit_events(body, delivery.query, self.provider, datetime.now(UTC))
        except ValueError as exc:
            raise BadDelivery(f"the JUnit upload cannot be read: {exc}") from None
        return with_build_rows(SignalData(Signal.TRACES, {}, client), events), len(events)

    async def _consume(self, data: SignalData, event: str) -> web.Response | None:
        """Hand the data on; None when it was taken, else the 503 to answer."""
        if self.consumer is None or data.empty():
            return None
        try:
            await self.consumer.consume(data)
        except Exception as exc:
            failure = failure_for(exc)
            self.log.warning("%s: the pipeline refused a %s delivery: %s", self.label, event, failure.message)
            self._count(event, "refused")
            headers = {"Retry-After": retry_after_header(failure.retry_after or DEFAULT_RETRY_AFTER_S)}
            # a provider that retries retries on 5xx; a permanent refusal is still ours, not the sender's
            return self._json(503, {"error": failure.message}, headers)
        return None

    # --- responses ------------------------------------------------------------------------------

    def _count(self, event: str, outcome: str) -> None:
        self.settings.telemetry.count_plain(DELIVERIES, 1, receiver=self.label, event=event, outcome=outcome)

    def _json(self, status: int, body: dict[str, Any], extra: dict[str, str] | None = None) -> web.Response:
        headers = {**self.webhook.response_headers, **(extra or {}), "Content-Type": "application/json"}
        return web.Response(status=status, body=orjson.dumps(body), headers=headers)

    def _refuse(self, request: web.BaseRequest, reason: str, status: int, message: str) -> web.Response:
        self.refusals.refused(reason, request.remote or "", message)
        return self._json(status, {"error": message})

    def _too_large(self, request: web.BaseRequest, limit: int) -> web.Response:
        response = self._refuse(request, "too_large", 413, f"request body is larger than max_request_body_size ({limit} bytes)")
        response.force_close()
        return response


def form_payload(body: bytes) -> bytes:
    """The `payload` field of an application/x-www-form-urlencoded delivery (GitHub's other
    content type); the signature covers the raw body, so this runs after the check."""
    fields = parse_qs(body.decode("utf-8", errors="replace"), keep_blank_values=True)
    values = fields.get("payload")
    if not values:
        raise BadDelivery("form-encoded delivery has no 'payload' field")
    return values[0].encode()
