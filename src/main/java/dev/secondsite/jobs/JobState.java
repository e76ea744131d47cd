package dev.secondsite.jobs;

/** ASR job states. Terminal states never change again, except by an explicit restart. */
public enum JobState {
    NotStarted, InProgress, Succeeded, Failed, Cancelled;

    public boolean terminal() {
        return this == Succeeded || this == Failed || this == Cancelled;
    }

    /** The ARM async-operation status that mirrors this job state. */
    public String operationStatus() {
        return switch (this) {
            case NotStarted, InProgress -> "InProgress";
            case Succeeded -> "Succeeded";
            case Failed -> "Failed";
            case Cancelled -> "Canceled";
        };
    }
}
