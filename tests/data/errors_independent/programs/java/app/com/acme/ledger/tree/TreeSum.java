package com.acme.ledger.tree;

/** Account hierarchies summed recursively. */
public final class TreeSum {
    // @release-insert
    private TreeSum() {}

    static final class Node {
        final long balance;
        final Node parent;

        Node(long balance, Node parent) {
            this.balance = balance;
            this.parent = parent;
        }
    }

    public static Object total(int depth) {
        Node node = null;
        for (int i = 0; i < depth; i++) node = new Node(i, node);
        return sum(node, depth);
    }

    static long sum(Node node, int remaining) {
        if (remaining == 0) return node.balance;
        return node.balance + sum(node.parent, remaining - 1);
    }
}
