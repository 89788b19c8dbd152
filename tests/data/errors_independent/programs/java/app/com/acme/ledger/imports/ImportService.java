package com.acme.ledger.imports;

import com.vendor.jsonlite.JsonParser;
import com.vendor.retry.Retrier;
import java.net.ConnectException;

/** Imports partner files and exchange rates through the vendor libraries. */
public class ImportService {
    // @release-insert
    public Object importBatch(String batchId, String text) {
        Object doc = new JsonParser(text).parse();
        return batchId + ":" + doc;
    }

    public Object syncRates(String host, int attempts) {
        return new Retrier(attempts).call(() -> fetchRates(host));
    }

    private Object fetchRates(String host) throws Exception {
        throw new ConnectException("Connection refused: " + host + ":443");
    }
}
