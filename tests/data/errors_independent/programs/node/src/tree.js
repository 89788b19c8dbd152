'use strict';
// Category trees; leaves are counted recursively.
// @release-insert

function build(depth) {
  let node = null;
  for (let i = 0; i < depth; i++) node = { id: i, children: [node] };
  return node;
}

function countLeaves(depth) {
  return walk(build(depth), 0);
}

function walk(node, level) {
  if (node.children.length === 0) return 1;
  return node.children.reduce((n, child) => n + walk(child, level + 1), 0);
}

module.exports = { countLeaves };
