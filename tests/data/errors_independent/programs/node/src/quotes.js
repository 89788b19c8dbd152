'use strict';
const { TimeoutError } = require('./errors');
// @release-insert

async function fetchQuote(symbol, timeoutMs) {
  await new Promise((resolve) => setImmediate(resolve));
  throw new TimeoutError(`fetchQuote(${symbol}) timed out after ${timeoutMs}ms`);
}

async function refresh(symbol, timeoutMs) {
  const price = await fetchQuote(symbol, timeoutMs);
  return { symbol, price };
}

module.exports = { refresh };
