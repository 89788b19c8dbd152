'use strict';
const { NotFoundError, SessionStoreError } = require('./errors');
// @release-insert

const OWNERS = new Map();

function loadOwner(sessionId, userId) {
  const owner = OWNERS.get(sessionId);
  if (!owner) throw new NotFoundError(`user ${userId} not found`);
  return owner;
}

function writeShard(shard, key) {
  const err = new Error(`ECONNRESET writing ${key} to ${shard}`);
  err.code = 'ECONNRESET';
  throw err;
}

function saveSession(sessionId, shard) {
  try {
    writeShard(shard, `sess:${sessionId}`);
  } catch (cause) {
    throw new SessionStoreError(`failed to save session ${sessionId}`, { cause });
  }
}

module.exports = { loadOwner, saveSession };
