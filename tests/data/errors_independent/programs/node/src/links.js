'use strict';
// Canonical links for shared product pages.
// @release-insert

function canonical(url) {
  const parsed = new URL(url);
  parsed.hash = '';
  return parsed.toString();
}

module.exports = { canonical };
