'use strict';
// @release-insert

function format(amount) {
  if (typeof amount !== 'number') throw new TypeError(`amount must be a number, got ${JSON.stringify(amount)}`);
  return `${Math.round(amount * 100)} ct`;
}

function renderReceipt(receiptId, amount) {
  return `Receipt ${receiptId}: ${format(amount)}`;
}

module.exports = { renderReceipt };
