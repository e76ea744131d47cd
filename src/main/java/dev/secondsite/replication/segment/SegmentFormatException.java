package dev.secondsite.replication.segment;

import java.io.IOException;

/**
 * A segment that must not be applied: unsealed, truncated, corrupt, or not what its name says.
 * The one exception type the reader throws for bad content (I/O failures of the underlying stream stay
 * plain IOExceptions). The message names the segment and the byte offset of the problem.
 */
public final class SegmentFormatException extends IOException {
    private final String segmentName;
    private final long byteOffset;

    public SegmentFormatException(String segmentName, long byteOffset, String cause) {
        super("read on change log failed for segment " + segmentName + " at byte " + byteOffset + ": " + cause);
        this.segmentName = segmentName;
        this.byteOffset = byteOffset;
    }

    public String segmentName() {
        return segmentName;
    }

    public long byteOffset() {
        return byteOffset;
    }
}
