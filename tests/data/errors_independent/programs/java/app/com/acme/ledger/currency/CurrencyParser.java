package com.acme.ledger.currency;

/** Parses currency codes from payment files. */
public final class CurrencyParser {
    // @release-insert
    private CurrencyParser() {}

    public static Object parse(String code, String line) {
        Currency currency = Currency.valueOf(code.toUpperCase());
        return currency + "@" + line;
    }
}
