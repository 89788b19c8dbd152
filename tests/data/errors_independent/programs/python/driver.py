"""Run corpus scenarios in a loop and print what the OpenTelemetry Python SDK would record.

Reads one JSON task per line on stdin ({"id", "entry", "wrappers", "scenario", "args"}), runs the
scenario through the named entry point, and prints one JSON line per task with exception.type,
exception.message and exception.stacktrace exactly as `Span.record_exception` builds them.
The first argument is the site-packages directory holding the vendored `acmelib` library.
"""

from __future__ import annotations

import json
import os
import sys
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(1, sys.argv[1])

from shop import entry  # noqa: E402


def exception_type(exc: BaseException) -> str:
    """The SDK's exception.type: module-qualified unless the class is a builtin."""
    module = type(exc).__module__
    qualname = type(exc).__qualname__
    return f"{module}.{qualname}" if module and module != "builtins" else qualname


def main() -> None:
    for line in sys.stdin:
        task = json.loads(line)
        try:
            entry.ENTRY_POINTS[task["entry"]](task["scenario"], task["args"], task["wrappers"])
        except Exception as exc:
            out = {
                "id": task["id"],
                "type": exception_type(exc),
                "message": str(exc),
                "stacktrace": "".join(traceback.format_exception(exc)),
            }
        else:
            out = {"id": task["id"], "error": f"scenario {task['scenario']!r} raised nothing"}
        sys.stdout.write(json.dumps(out) + "\n")


if __name__ == "__main__":
    main()
