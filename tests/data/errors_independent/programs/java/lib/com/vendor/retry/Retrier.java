package com.vendor.retry;

import java.util.concurrent.Callable;

/** Calls a task up to N times (vendored library, shipped as its own jar). */
public class Retrier {
    private final int attempts;

    public Retrier(int attempts) {
        this.attempts = attempts;
    }

    public <T> T call(Callable<T> task) {
        Exception last = null;
        for (int i = 0; i < attempts; i++) {
            try {
                return attempt(task);
            } catch (Exception e) {
                last = e;
            }
        }
        throw new RetryExhaustedException("gave up after " + attempts + " attempts", last);
    }

    private <T> T attempt(Callable<T> task) throws Exception {
        return task.call();
    }
}
