'use strict';
// The three ways into the gateway: an HTTP handler, a background job and the command line.
const middleware = require('./middleware');
const scenarios = require('./scenarios');
// @release-insert

async function handleRequest(scenario, args, wrappers) {
  const req = { method: 'POST', url: `/api/${scenario}`, body: args };
  const body = await middleware.callThrough(wrappers, scenarios.run, scenario, req.body);
  return { status: 200, body };
}

async function runJob(scenario, args, wrappers) {
  const job = { name: scenario, payload: args, attempt: 1 };
  return await middleware.callThrough(wrappers, scenarios.run, job.name, job.payload);
}

async function cliMain(scenario, args, wrappers) {
  const argv = [scenario, '--json', args];
  const result = await middleware.callThrough(wrappers, scenarios.run, argv[0], argv[2]);
  return result === undefined ? 1 : 0;
}

module.exports = { ENTRY_POINTS: { http: handleRequest, job: runJob, cli: cliMain } };
