"""A no-op OTLP/gRPC sink: accepts raw request bytes and answers an empty (full-success)
response without parsing — the transport ceiling of this machine for the load generator.

    python -m perf.loadgen.sink --port 4317 [--processes 1]
"""

from __future__ import annotations

import argparse
import asyncio

import grpc

from perf.loadgen.core import GRPC_METHODS


class _Sink(grpc.GenericRpcHandler):
    def service(self, handler_call_details):  # type: ignore[no-untyped-def]
        if handler_call_details.method in GRPC_METHODS.values():
            return grpc.unary_unary_rpc_method_handler(_accept)
        return None


async def _accept(request: bytes, context) -> bytes:  # type: ignore[no-untyped-def]
    return b""  # an empty Export*ServiceResponse: full success


async def serve(port: int) -> None:
    server = grpc.aio.server(options=[("grpc.max_receive_message_length", 64 << 20), ("grpc.so_reuseport", 1)])
    server.add_generic_rpc_handlers((_Sink(),))
    server.add_insecure_port(f"127.0.0.1:{port}")
    await server.start()
    await server.wait_for_termination()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=4317)
    args = parser.parse_args()
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    asyncio.run(serve(args.port))


if __name__ == "__main__":
    main()
