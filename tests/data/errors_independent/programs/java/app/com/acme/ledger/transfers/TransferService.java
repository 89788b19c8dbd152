package com.acme.ledger.transfers;

import java.math.BigDecimal;

/** Transfers between two accounts. */
public class TransferService {
    // @release-insert
    private boolean isFrozen(String accountId) {
        return !accountId.isEmpty();
    }

    public Object transfer(String from, String to, String amount) {
        if (isFrozen(from)) {
            throw new IllegalStateException("account " + from + " is frozen");
        }
        return new BigDecimal(amount);
    }
}
