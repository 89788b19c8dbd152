"""The shop application in Python: app/<module>.py per module, a library in site-packages, and a
driver that runs each planned invocation and prints the exception as the OpenTelemetry SDK
records it on a span (`exception.type` module-qualified, `str(exc)`, `traceback.format_exception`)."""

from __future__ import annotations

import sys
from pathlib import Path

HEADER = "import math\nimport shoplib\nfrom app.errors import ConfigError, StockError\n\nORDERS = {}\nUSERS = {}\nFEES = {\"apac\": [3]}\n"
ERRORS = "class StockError(Exception):\n    pass\n\n\nclass ConfigError(Exception):\n    pass\n"
LIBRARY = '''def post(url):
    return _send(url, retries=2)


def _send(url, retries):
    raise TimeoutError(f"timeout after {len(url) * 7}ms calling {url}")
'''
DRIVER = '''import json
import os
import sys
import traceback

sys.path[:0] = [os.path.abspath("."), os.path.abspath("lib/python3.11/site-packages")]
import app.modules as modules  # noqa: E402


def dispatch(inv):
    return modules.FUNCTIONS[inv["bug"]](inv["arg"], inv["depth"])


def with_auth(inv, wrappers):
    return through(inv, wrappers - 1)


def with_metrics(inv, wrappers):
    return through(inv, wrappers - 1)


def through(inv, wrappers):
    if wrappers <= 0:
        return dispatch(inv)
    return (with_auth if wrappers % 2 else with_metrics)(inv, wrappers)


def service_call(inv):
    return through(inv, inv["wrappers"])


def handle_request(inv):
    return service_call(inv)


def run_job(inv):
    return through(inv, inv["wrappers"])


def parse_and_run(inv):
    return through(inv, inv["wrappers"])


def cli_command(inv):
    return parse_and_run(inv)


ENTRIES = {"http": handle_request, "job": run_job, "cli": cli_command}

for line in sys.stdin:
    inv = json.loads(line)
    try:
        ENTRIES[inv["entry"]](inv)
        raise SystemExit(f"no exception for {inv}")
    except Exception as exc:
        module = type(exc).__module__
        kind = f"{module}.{type(exc).__qualname__}" if module and module != "builtins" else type(exc).__qualname__
        print(json.dumps({"type": kind, "message": str(exc), "stacktrace": "".join(traceback.format_exception(exc))}))
'''


def write(root: Path, bugs: list, pad: int) -> list[str]:  # type: ignore[type-arg]
    app = root / "app"
    app.mkdir()
    (app / "__init__.py").write_text("")
    (app / "errors.py").write_text(ERRORS)
    library = root / "lib" / "python3.11" / "site-packages" / "shoplib"
    library.mkdir(parents=True)
    (library / "__init__.py").write_text(LIBRARY)
    modules: dict[str, list] = {}  # type: ignore[type-arg]
    for bug in bugs:
        modules.setdefault(bug.module, []).append(bug)
    registry = []
    for module, members in sorted(modules.items()):
        source = HEADER
        seen = set()
        for bug in members:
            registry.append(f"    {bug.name!r}: {module}.{bug.function},")
            if bug.function in seen:
                continue
            seen.add(bug.function)
            inserted = "".join(f"_CHANGE_{bug.function}_{i} = {i}  # release change\n" for i in range(pad))
            source += f"\n\n{inserted}def {bug.function}(arg, depth):\n    {bug.code}\n"
        (app / f"{module}.py").write_text(source)
    imports = "".join(f"from app import {module}\n" for module in sorted(modules))
    (app / "modules.py").write_text(imports + "\nFUNCTIONS = {\n" + "\n".join(registry) + "\n}\n")
    (root / "main.py").write_text(DRIVER)
    return [sys.executable, "main.py"]
