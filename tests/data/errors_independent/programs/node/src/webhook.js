'use strict';
// Partner webhooks with JSON bodies.
// @release-insert

function parseBody(raw) {
  return JSON.parse(raw);
}

function receive(raw) {
  const event = parseBody(raw);
  return event.type;
}

module.exports = { receive };
