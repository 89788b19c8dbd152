package com.acme.ledger.repo;

/** A query failed; the JDBC error is the cause. */
public class DataAccessException extends RuntimeException {
    public DataAccessException(String message, Throwable cause) {
        super(message, cause);
    }
}
