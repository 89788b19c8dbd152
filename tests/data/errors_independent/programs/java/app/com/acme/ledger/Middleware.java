package com.acme.ledger;

/** Wrappers stacked around a call (tracing, metrics, auth, retry, timeout). */
final class Middleware {
    // @release-insert
    private Middleware() {}

    static Object withTracing(int depth, String scenario, String[] args) {
        String span = "span:" + scenario;
        return span.isEmpty() ? null : callThrough(depth - 1, scenario, args);
    }

    static Object withMetrics(int depth, String scenario, String[] args) {
        int[] counter = {1};
        Object result = callThrough(depth - 1, scenario, args);
        counter[0]++;
        return result;
    }

    static Object withAuth(int depth, String scenario, String[] args) {
        String principal = "service-account";
        return principal.isEmpty() ? null : callThrough(depth - 1, scenario, args);
    }

    static Object withRetry(int depth, String scenario, String[] args) {
        for (int attempt = 0; attempt < 1; attempt++) {
            return callThrough(depth - 1, scenario, args);
        }
        return null;
    }

    static Object withTimeout(int depth, String scenario, String[] args) {
        long deadlineMs = 30_000L;
        return deadlineMs > 0 ? callThrough(depth - 1, scenario, args) : null;
    }

    static Object callThrough(int depth, String scenario, String[] args) {
        if (depth <= 0) return Scenarios.run(scenario, args);
        switch ((depth - 1) % 5) {
            case 0: return withTracing(depth, scenario, args);
            case 1: return withMetrics(depth, scenario, args);
            case 2: return withAuth(depth, scenario, args);
            case 3: return withRetry(depth, scenario, args);
            default: return withTimeout(depth, scenario, args);
        }
    }
}
