package com.acme.ledger.customers;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/** Customer addresses. */
public class CustomerService {
    // @release-insert
    private final List<String> addresses = new ArrayList<>();

    public Object primaryAddress(String customerId) {
        Optional<String> primary = addresses.stream().filter(a -> a.startsWith(customerId)).findFirst();
        return primary.get();
    }
}
