package com.vendor.retry;

/** Every attempt failed; the last failure is the cause. */
public class RetryExhaustedException extends RuntimeException {
    public RetryExhaustedException(String message, Throwable cause) {
        super(message, cause);
    }
}
