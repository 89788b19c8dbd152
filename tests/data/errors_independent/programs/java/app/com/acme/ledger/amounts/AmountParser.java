package com.acme.ledger.amounts;

/** Parses amounts in cents from request fields. */
public final class AmountParser {
    // @release-insert
    private AmountParser() {}

    public static Object parseCents(String raw) {
        int cents = Integer.parseInt(raw.trim());
        if (cents <= 0) {
            throw new IllegalArgumentException("amount must be positive: " + cents);
        }
        return cents;
    }
}
