// A small Node app instrumented with the official @sentry/node SDK (tests/receiver/sentry/test_node_sdk_e2e.py):
// one captured error thrown two calls deep, and one transaction with a child span. Prints the error's event id.
const Sentry = require("@sentry/node");

Sentry.init({
  dsn: process.env.SENTRY_DSN,
  release: "shop-node@1.4.0",
  environment: "test",
  tracesSampleRate: 1.0,
});

function loadOrder(id) {
  throw new Error(`order ${id} has no items`);
}

function checkout(id) {
  return loadOrder(id);
}

async function main() {
  let eventId = "";
  try {
    checkout(9);
  } catch (err) {
    eventId = Sentry.captureException(err);
  }
  Sentry.startSpan({ name: "GET /checkout", op: "http.server" }, () => {
    Sentry.startSpan({ name: "SELECT * FROM orders", op: "db.query" }, () => {});
  });
  await Sentry.flush(10000);
  process.stdout.write(eventId + "\n");
}

main();
