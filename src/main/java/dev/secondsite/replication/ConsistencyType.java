package dev.secondsite.replication;

/**
 * What a consistency point (a segment MARKER, a recovery point) promises about the disk's content.
 * The code is the on-disk value in segments; it never changes meaning.
 */
public enum ConsistencyType {
    /** The disk as it would be after a power loss at that instant: every acknowledged write, in order. */
    CRASH_CONSISTENT(1),
    /** Taken after the application quiesced (VSS / fsfreeze / pre-snapshot hooks): a clean state. */
    APP_CONSISTENT(2);

    private final int code;

    ConsistencyType(int code) {
        this.code = code;
    }

    public int code() {
        return code;
    }

    /** The type with that on-disk code, or null if no type has it (the caller reports the format error). */
    public static ConsistencyType ofCode(int code) {
        for (ConsistencyType type : values()) {
            if (type.code == code) {
                return type;
            }
        }
        return null;
    }
}
