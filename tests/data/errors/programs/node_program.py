"""The shop application in Node.js (CommonJS): app/<module>.js per module, a library in
node_modules, and a driver that prints each exception as the OpenTelemetry JS SDK records it
(`err.name`, `err.message`, `err.stack`)."""

from __future__ import annotations

import json
from pathlib import Path

ERRORS = '''class NotFoundError extends Error { constructor(message) { super(message); this.name = "NotFoundError"; } }
class RenderError extends Error { constructor(message, options) { super(message, options); this.name = "RenderError"; } }
module.exports = { NotFoundError, RenderError };
'''
LIBRARY = '''function post(url) { return send(url, 2); }
function send(url, retries) { throw new Error(`timeout after ${url.length * 7}ms calling ${url}`); }
module.exports = { post };
'''
DRIVER = '''const readline = require("readline");
const modules = require("./app/modules");

function dispatch(inv) { return modules.FUNCTIONS[inv.bug](inv.arg, inv.depth); }
function withAuth(inv, wrappers) { return through(inv, wrappers - 1); }
function withMetrics(inv, wrappers) { return through(inv, wrappers - 1); }
function through(inv, wrappers) {
  if (wrappers <= 0) { return dispatch(inv); }
  return (wrappers % 2 ? withAuth : withMetrics)(inv, wrappers);
}
function serviceCall(inv) { return through(inv, inv.wrappers); }
function handleRequest(inv) { return serviceCall(inv); }
function runJob(inv) { return through(inv, inv.wrappers); }
function parseAndRun(inv) { return through(inv, inv.wrappers); }
function cliCommand(inv) { return parseAndRun(inv); }
const ENTRIES = { http: handleRequest, job: runJob, cli: cliCommand };

const lines = readline.createInterface({ input: process.stdin });
lines.on("line", (line) => {
  const inv = JSON.parse(line);
  try {
    ENTRIES[inv.entry](inv);
    console.error("no exception for " + line);
    process.exit(1);
  } catch (err) {
    process.stdout.write(JSON.stringify({ type: err.name, message: err.message, stacktrace: err.stack }) + "\\n");
  }
});
'''


def write(root: Path, bugs: list, pad: int) -> list[str]:  # type: ignore[type-arg]
    app = root / "app"
    app.mkdir()
    (app / "errors.js").write_text(ERRORS)
    library = root / "node_modules" / "shoplib"
    library.mkdir(parents=True)
    (library / "index.js").write_text(LIBRARY)
    (library / "package.json").write_text(json.dumps({"name": "shoplib", "version": "2.3.1", "main": "index.js"}))
    modules: dict[str, list] = {}  # type: ignore[type-arg]
    for bug in bugs:
        modules.setdefault(bug.module, []).append(bug)
    registry = []
    for module, members in sorted(modules.items()):
        source = '"use strict";\nconst shoplib = require("shoplib");\nconst { NotFoundError, RenderError } = require("./errors");\n'
        seen = set()
        for bug in members:
            registry.append(f"  {json.dumps(bug.name)}: require('./{module}').{bug.function},")
            if bug.function in seen:
                continue
            seen.add(bug.function)
            inserted = "".join(f"const change_{bug.function}_{i} = {i}; // release change\n" for i in range(pad))
            source += f"\n{inserted}function {bug.function}(arg, depth) {{\n  {bug.code}\n}}\n"
        exports = ", ".join(sorted({b.function for b in members}))
        (app / f"{module}.js").write_text(source + f"\nmodule.exports = {{ {exports} }};\n")
    (app / "modules.js").write_text("module.exports.FUNCTIONS = {\n" + "\n".join(registry) + "\n};\n")
    (root / "main.js").write_text(DRIVER)
    return ["node", "--stack-trace-limit=100", "main.js"]
