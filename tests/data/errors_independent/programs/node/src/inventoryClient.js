'use strict';
const { HttpClient } = require('acme-http');
// @release-insert

const client = new HttpClient('http://inventory.internal');

async function stockLevel(sku, status, requestId) {
  const res = await client.get(`/v1/stock/${sku}`, { status, requestId });
  return res.body.level;
}

module.exports = { stockLevel };
