'use strict';
// @release-insert

function format(amount) {
  if (typeof amount !== 'number') throw new TypeError(`amount must be a number, got ${JSON.stringify(amount)}`);
  return amount.toFixed(2);
}

function renderInvoice(invoiceId, amount) {
  return `Invoice ${invoiceId}: ${format(amount)} EUR`;
}

module.exports = { renderInvoice };
