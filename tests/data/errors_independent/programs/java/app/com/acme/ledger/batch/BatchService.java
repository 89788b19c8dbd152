package com.acme.ledger.batch;

import java.util.ArrayList;
import java.util.List;

/** Removes settled entries from a batch (while iterating it: a real bug). */
public class BatchService {
    // @release-insert
    public Object prune(int size, int settledEvery) {
        List<Integer> entries = new ArrayList<>();
        for (int i = 0; i < size; i++) entries.add(i);
        for (Integer entry : entries) {
            if (entry % settledEvery == 0) entries.remove(entry);
        }
        return entries.size();
    }
}
