'use strict';
// Nested navigation menus rendered recursively.
// @release-insert

const RENDERERS = { link: (w) => `<a>${w.label}</a>`, group: null };

function nest(depth, leafType) {
  let widget = { type: leafType, label: 'leaf' };
  for (let i = 0; i < depth; i++) widget = { type: 'group', items: [widget] };
  return widget;
}

function render(widget) {
  if (widget.type === 'group') return `<ul>${widget.items.map((w) => render(w)).join('')}</ul>`;
  const renderer = RENDERERS[widget.type];
  if (!renderer) throw new Error(`unknown widget type '${widget.type}'`);
  return renderer(widget);
}

function renderMenu(depth, leafType) {
  return render(nest(depth, leafType));
}

module.exports = { renderMenu };
