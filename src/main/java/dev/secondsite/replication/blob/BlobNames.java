package dev.secondsite.replication.blob;

/**
 * Blob name rules, the same for every store so a name valid on the filesystem is valid in Azure Blob:
 * a relative, '/'-separated path over {@code [A-Za-z0-9._/-]}, segments at most {@link #SEGMENT_CHARS_MAX}. Rejecting ".." and absolute names here
 * is what keeps {@link FileBlobStore} inside its root.
 */
public final class BlobNames {
    /** Longest accepted name, in characters (Azure allows 1024; we keep room for a container prefix). */
    public static final int NAME_CHARS_MAX = 512;
    /**
     * Longest '/'-separated segment, in characters: filesystems cap a file name at 255 bytes, and a
     * temporary file adds a dot, a 16-hex-digit nonce and ".tmp" to it.
     */
    public static final int SEGMENT_CHARS_MAX = 200;

    private BlobNames() {
    }

    /** Returns {@code name} if it is a valid blob name, else throws IllegalArgumentException saying why. */
    public static String validate(String name) {
        String problem = problem(name, false);
        if (problem != null) {
            throw new IllegalArgumentException("invalid blob name '" + printable(name) + "': " + problem);
        }
        return name;
    }

    /** Returns {@code prefix} if it is a valid list prefix ("" or the start of a valid name), else throws. */
    public static String validatePrefix(String prefix) {
        String problem = prefix == null ? "prefix is null" : prefix.isEmpty() ? null : problem(prefix, true);
        if (problem != null) {
            throw new IllegalArgumentException("invalid blob prefix '" + printable(prefix) + "': " + problem);
        }
        return prefix;
    }

    private static String problem(String name, boolean prefix) {
        if (name == null) {
            return "name is null";
        }
        if (name.isEmpty()) {
            return "name is empty";
        }
        if (name.length() > NAME_CHARS_MAX) {
            return "longer than " + NAME_CHARS_MAX + " characters (" + name.length() + ")";
        }
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            boolean ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')
                    || c == '.' || c == '_' || c == '/' || c == '-';
            if (!ok) {
                return "character " + (c < 0x20 || c > 0x7e ? String.format("U+%04X", (int) c) : "'" + c + "'")
                        + " at " + i + " is not one of [A-Za-z0-9._/-]";
            }
        }
        if (name.charAt(0) == '/') {
            return "absolute names are not allowed";
        }
        String[] segments = name.split("/", -1);
        for (int i = 0; i < segments.length; i++) {
            String segment = segments[i];
            boolean last = i == segments.length - 1;
            if (segment.isEmpty()) {
                if (prefix && last) {
                    continue; // "dir/" lists everything below dir
                }
                return last ? "names must not end with '/'" : "empty path segment ('//')";
            }
            if (segment.length() > SEGMENT_CHARS_MAX) {
                return "path segment longer than " + SEGMENT_CHARS_MAX + " characters (" + segment.length() + ")";
            }
            if (segment.equals(".") || segment.equals("..")) {
                return "'" + segment + "' path segments are not allowed";
            }
            if (segment.charAt(0) == '.') {
                return "path segments must not start with '.' (reserved for temporary files)";
            }
        }
        return null;
    }

    private static String printable(String name) {
        if (name == null) {
            return "null";
        }
        return name.length() > 80 ? name.substring(0, 80) + "..." : name;
    }
}
