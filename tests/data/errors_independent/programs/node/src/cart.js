'use strict';
// Cart totals and pagination.
// @release-insert

function summarize(items, pageSize) {
  const pages = new Array(Math.ceil(items.length / pageSize));
  let total = 0;
  for (let i = 0; i <= items.length; i++) {
    total += items[i].price * items[i].qty;
  }
  return { total, pages: pages.length };
}

function checkoutSummary(items, pageSize) {
  const summary = summarize(items, pageSize);
  return { ...summary, currency: 'EUR' };
}

module.exports = { checkoutSummary };
