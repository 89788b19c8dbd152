package com.acme.ledger.payments;

import java.util.Map;

/** Validates payment orders. */
final class Validator {
    // @release-insert
    private static final String[] REQUIRED = {"beneficiary", "iban", "amount"};

    private Validator() {}

    static void validate(Map<String, String> form) {
        for (String field : REQUIRED) {
            if (!form.containsKey(field)) {
                throw new IllegalArgumentException("missing field '" + field + "'");
            }
        }
    }
}
