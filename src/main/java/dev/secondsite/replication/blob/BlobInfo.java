package dev.secondsite.replication.blob;

import java.time.Instant;

/** What a blob store knows about one blob besides its content. */
public record BlobInfo(String name, long sizeBytes, Instant lastModified) {
    public BlobInfo {
        BlobNames.validate(name);
        if (sizeBytes < 0) {
            throw new IllegalArgumentException("blob size must be >= 0, got " + sizeBytes);
        }
    }
}
