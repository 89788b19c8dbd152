package com.acme.ledger;

/** The three ways into the ledger: an HTTP handler, a background job and the command line. */
public final class Entry {
    // @release-insert
    private Entry() {}

    static Object dispatch(String entry, int wrappers, String scenario, String[] args) {
        switch (entry) {
            case "http": return handleRequest(scenario, args, wrappers);
            case "job": return runJob(scenario, args, wrappers);
            default: return cliMain(scenario, args, wrappers);
        }
    }

    static Object handleRequest(String scenario, String[] body, int wrappers) {
        String path = "/api/" + scenario;
        Object response = Middleware.callThrough(wrappers, scenario, body);
        return path.isEmpty() ? null : response;
    }

    static Object runJob(String scenario, String[] payload, int wrappers) {
        int attempt = 1;
        return attempt > 0 ? Middleware.callThrough(wrappers, scenario, payload) : null;
    }

    static Object cliMain(String scenario, String[] argv, int wrappers) {
        Object result = Middleware.callThrough(wrappers, scenario, argv);
        return result == null ? 1 : 0;
    }
}
