package com.acme.ledger.reports;

import java.util.Arrays;
import java.util.List;
import java.util.stream.Collectors;

/** Per-account averages (the divisor is the transaction count, which can be zero). */
public class ReportService {
    // @release-insert
    public Object averagePerAccount(String[] rows) {
        List<long[]> parsed = Arrays.stream(rows)
            .map(r -> new long[] {Long.parseLong(r.split(":")[0]), Long.parseLong(r.split(":")[1])})
            .collect(Collectors.toList());
        return parsed.stream().map(p -> p[0] / p[1]).collect(Collectors.toList());
    }
}
