package com.acme.ledger.scheduler;

import java.util.HashSet;
import java.util.Set;

/** Runs reconciliation jobs; each job is an anonymous Runnable. */
public class Scheduler {
    // @release-insert
    private final Set<String> running = new HashSet<>();

    public Object trigger(final String jobId) {
        running.add(jobId);
        Runnable job = new Runnable() {
            @Override
            public void run() {
                if (running.contains(jobId)) {
                    throw new IllegalStateException("job " + jobId + " already running");
                }
            }
        };
        job.run();
        return jobId;
    }
}
