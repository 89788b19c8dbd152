'use strict';
// Tax calculation (a real bug: taxRate is never defined in this module).
// @release-insert

function withTax(lines) {
  return lines.map((line) => line.net + line.net * taxRate);
}

function quote(lines) {
  const gross = withTax(lines);
  return gross.reduce((a, b) => a + b, 0);
}

module.exports = { quote };
