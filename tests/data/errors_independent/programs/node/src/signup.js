'use strict';
const validate = require('acme-validate');
// @release-insert

function createAccount(username, email) {
  const form = { username, email };
  validate.check(form, { username: 'required', email: 'email' });
  return form;
}

module.exports = { createAccount };
