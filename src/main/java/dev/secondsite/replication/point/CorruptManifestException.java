package dev.secondsite.replication.point;

import java.io.IOException;

/** A recovery point manifest that fails its checksum or does not parse: the point cannot be trusted. */
public final class CorruptManifestException extends IOException {
    public CorruptManifestException(String name, String cause) {
        super("read on recovery point store failed for " + name + ": " + cause);
    }
}
