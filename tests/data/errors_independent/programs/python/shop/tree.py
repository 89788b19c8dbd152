"""Category trees whose weights are summed recursively."""

from __future__ import annotations

from dataclasses import dataclass

# @release-insert


@dataclass
class Node:
    weight: int
    child: Node | None


def chain(depth: int) -> Node | None:
    node = None
    for i in range(depth):
        node = Node(weight=i, child=node)
    return node


def total_weight(node: Node | None, remaining: int) -> int:
    if remaining == 0:
        return node.weight
    return node.weight + total_weight(node.child, remaining - 1)


def weigh(depth: int) -> int:
    root = chain(depth)
    return total_weight(root, depth)
