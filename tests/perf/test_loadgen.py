"""The load generator's latency accounting: open loop, latency from each request's scheduled
send time. Against a fake slow server (a real gRPC server on loopback that answers one request
at a time, 100 ms each) offered 20 requests/s, a closed-loop client would report ~100 ms per
request; the open-loop generator must report the queueing the server causes."""

from __future__ import annotations

import asyncio
import time

import grpc
import pytest

from perf.loadgen.core import GRPC_METHODS, WorkerPlan, merge, run_plan
from tests.helpers import free_port

SERVICE_TIME = 0.1


class SlowOneAtATime(grpc.GenericRpcHandler):
    def __init__(self) -> None:
        self.lock = asyncio.Lock()
        self.served = 0

    def service(self, handler_call_details):  # type: ignore[no-untyped-def]
        if handler_call_details.method == GRPC_METHODS["traces"]:
            return grpc.unary_unary_rpc_method_handler(self.handle)
        return None

    async def handle(self, request: bytes, context) -> bytes:  # type: ignore[no-untyped-def]
        async with self.lock:
            await asyncio.sleep(SERVICE_TIME)
            self.served += 1
        return b""


@pytest.mark.timeout(60)
def test_latency_is_measured_from_the_scheduled_send_time() -> None:
    async def scenario():  # type: ignore[no-untyped-def]
        port = free_port()
        handler = SlowOneAtATime()
        server = grpc.aio.server()
        server.add_generic_rpc_handlers((handler,))
        server.add_insecure_port(f"127.0.0.1:{port}")
        await server.start()
        try:
            plan = WorkerPlan(
                target=f"grpc://127.0.0.1:{port}", signal="traces", rate=20.0, duration=1.0,
                start_at=time.time() + 0.3, batch=10, seed=1, variants=1, connections=1,
            )
            result = await run_plan(plan, requests=[b""])
        finally:
            await server.stop(None)
        return result, handler.served

    result, served = asyncio.run(scenario())
    assert result.scheduled == 20 and result.acked_requests == 20 and served == 20
    summary = merge([result], duration=1.0, batch=10)
    # Request k is scheduled at k × 50 ms and cannot be answered before (k + 1) × 100 ms (the
    # server takes one at a time), so its latency is at least 100 + 50 k ms: 1.05 s for the last
    # one, 0.55 s at the median. These floors hold on any machine (a slower one only adds); a
    # closed-loop client, timing from its own send, would report ~100 ms. No ceiling is asserted:
    # how much a loaded machine adds is for the benchmarks.
    assert summary.max_ms >= 0.95 * 1050
    assert summary.p50_ms >= 500
    assert summary.max_ms > summary.p50_ms
    assert summary.acked_rps == pytest.approx(200.0)  # 20 requests × 10 records in 1 s


@pytest.mark.timeout(60)
def test_errors_are_counted_by_status() -> None:
    async def scenario():  # type: ignore[no-untyped-def]
        plan = WorkerPlan(
            target=f"grpc://127.0.0.1:{free_port()}", signal="traces", rate=50.0, duration=0.5,
            start_at=time.time() + 0.2, batch=1, seed=1, variants=1, connections=1, timeout=2.0,
        )
        return await run_plan(plan, requests=[b""])  # nothing listens there

    result = asyncio.run(scenario())
    assert result.scheduled == 25 and result.acked_requests == 0
    assert sum(result.errors.values()) == 25 and "UNAVAILABLE" in result.errors
