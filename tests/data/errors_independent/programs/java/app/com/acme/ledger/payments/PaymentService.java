package com.acme.ledger.payments;

import java.util.HashMap;
import java.util.Map;

/** Outgoing payment orders. */
public class PaymentService {
    // @release-insert
    public Object submit(String beneficiary, String reference) {
        Map<String, String> form = new HashMap<>();
        form.put("beneficiary", beneficiary);
        form.put("ref", reference);
        Validator.validate(form);
        return form;
    }
}
