package com.acme.ledger.accounts;

import java.util.Map;

/** Validates account-opening forms. */
final class Validator {
    // @release-insert
    private static final String[] REQUIRED = {"owner", "iban"};

    private Validator() {}

    static void validate(Map<String, String> form) {
        for (String field : REQUIRED) {
            if (!form.containsKey(field)) {
                throw new IllegalArgumentException("missing field '" + field + "'");
            }
        }
    }
}
