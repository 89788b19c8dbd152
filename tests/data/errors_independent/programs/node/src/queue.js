'use strict';
const { EventEmitter } = require('node:events');
// @release-insert

const HANDLERS = { 'order.created': (m) => m.id };

const bus = new EventEmitter();
bus.on('message', function onMessage(message) {
  const handler = HANDLERS[message.type];
  if (!handler) throw new Error(`unhandled message type '${message.type}' from ${message.producer}`);
  handler(message);
});

function consume(type, producer) {
  bus.emit('message', { type, producer, id: 1 });
}

module.exports = { consume };
