'use strict';
// The gateway's own error classes (err.name is the class name).
// @release-insert

class NotFoundError extends Error {
  constructor(message) { super(message); this.name = 'NotFoundError'; }
}

class PaymentDeclinedError extends Error {
  constructor(message) { super(message); this.name = 'PaymentDeclinedError'; }
}

class TimeoutError extends Error {
  constructor(message) { super(message); this.name = 'TimeoutError'; }
}

class SessionStoreError extends Error {
  constructor(message, options) { super(message, options); this.name = 'SessionStoreError'; }
}

module.exports = { NotFoundError, PaymentDeclinedError, TimeoutError, SessionStoreError };
