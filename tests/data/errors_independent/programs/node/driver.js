'use strict';
// Runs corpus scenarios in a loop and prints what the OpenTelemetry JS SDK records for an
// exception: exception.type = err.name, exception.message = err.message, exception.stacktrace = err.stack.
// Reads one JSON task per line on stdin ({id, entry, wrappers, scenario, args}).
const readline = require('node:readline');
const { ENTRY_POINTS } = require('./src/entry');

async function main() {
  const rl = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
  const out = [];
  for await (const line of rl) {
    if (!line.trim()) continue;
    const task = JSON.parse(line);
    try {
      await ENTRY_POINTS[task.entry](task.scenario, task.args, task.wrappers);
      out.push(JSON.stringify({ id: task.id, error: `scenario ${task.scenario} threw nothing` }));
    } catch (err) {
      out.push(JSON.stringify({ id: task.id, type: err.name, message: err.message, stacktrace: err.stack }));
    }
  }
  process.stdout.write(out.join('\n') + (out.length ? '\n' : ''));
}

main();
