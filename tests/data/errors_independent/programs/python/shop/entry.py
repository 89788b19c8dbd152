"""The three ways into the shop: an HTTP handler, a background job and the command line."""

from __future__ import annotations

from typing import Any

from shop import middleware, scenarios

# @release-insert


def handle_request(scenario: str, args: dict[str, Any], wrappers: int) -> Any:
    """HTTP handler: POST /api/<scenario>."""
    request = {"method": "POST", "path": f"/api/{scenario}", "body": args}
    response = middleware.call_through(wrappers, scenarios.run, scenario, request["body"])
    return {"status": 200, "body": response}


def run_job(scenario: str, args: dict[str, Any], wrappers: int) -> Any:
    """Background worker: one job from the queue."""
    job = {"name": scenario, "payload": args, "attempt": 1}
    return middleware.call_through(wrappers, scenarios.run, job["name"], job["payload"])


def cli_main(scenario: str, args: dict[str, Any], wrappers: int) -> Any:
    """`shop <scenario> --json ARGS` from an operator's shell."""
    argv = [scenario, "--json", args]
    result = middleware.call_through(wrappers, scenarios.run, argv[0], argv[2])
    return 0 if result is not None else 1


ENTRY_POINTS = {"http": handle_request, "job": run_job, "cli": cli_main}
