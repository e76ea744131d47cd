package dev.secondsite.disk;

/**
 * A run of a virtual disk with one allocation status. An unallocated run is guaranteed to read as
 * zeros, so replication may skip it without reading; an allocated run may still hold zeros.
 */
public record Extent(long offset, long length, boolean allocated) {
    public Extent {
        if (offset < 0 || length <= 0) {
            throw new IllegalArgumentException("extent needs offset >= 0 and length > 0, got offset "
                    + offset + " length " + length);
        }
    }

    /** First byte after the run. */
    public long end() {
        return offset + length;
    }
}
