package dev.secondsite.jobs;

import com.fasterxml.jackson.databind.node.ObjectNode;

/** What a running task sees of its job, and how it reports the resource it produced. */
public final class JobContext {
    private final Job job;
    private final JobStore store;

    JobContext(Job job, JobStore store) {
        this.job = job;
        this.store = store;
    }

    public Job job() {
        return job;
    }

    public ObjectNode input() {
        return job.input();
    }

    /** Records the resource this operation produced; the operation-results URL returns it. */
    public void result(String resourceId) {
        store.setResult(job.id(), resourceId);
    }
}
