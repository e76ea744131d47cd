package dev.secondsite.replication.segment;

/** The seal of a segment: what the writer counted and the checksum of everything before it. */
public record SegmentTrailer(long recordCount, long payloadBytes, int crc32c) {
}
