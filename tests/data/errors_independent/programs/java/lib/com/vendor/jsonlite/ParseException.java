package com.vendor.jsonlite;

/** Malformed JSON input. */
public class ParseException extends RuntimeException {
    public ParseException(String message) {
        super(message);
    }
}
