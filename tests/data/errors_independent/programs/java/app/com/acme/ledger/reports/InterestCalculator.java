package com.acme.ledger.reports;

/** Monthly interest rates. */
public final class InterestCalculator {
    // @release-insert
    private InterestCalculator() {}

    public static Object monthlyRate(long yearlyBasisPoints, int months) {
        long perMonth = yearlyBasisPoints / months;
        return perMonth;
    }
}
