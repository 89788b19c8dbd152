'use strict';
const { NotFoundError } = require('./errors');
// @release-insert

const USERS = new Map([[1, { name: 'admin' }]]);

function getUser(userId) {
  const user = USERS.get(userId);
  if (!user) throw new NotFoundError(`user ${userId} not found`);
  return user;
}

function profile(userId) {
  const user = getUser(userId);
  return { id: userId, name: user.name };
}

module.exports = { getUser, profile };
