package dev.secondsite.replication.segment;

import java.util.List;

/** A whole, validated segment in memory (tests, tools; the apply engine streams instead). */
public record Segment(SegmentHeader header, List<SegmentRecord> records, SegmentTrailer trailer) {
    public Segment {
        records = List.copyOf(records);
        assert trailer.recordCount() == records.size();
    }

    public String name() {
        return header.name();
    }
}
