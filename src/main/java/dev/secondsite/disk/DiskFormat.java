package dev.secondsite.disk;

/** The on-disk layouts SecondSite reads and writes. Differencing (child) disks are not among them. */
public enum DiskFormat {
    /** A plain file whose bytes are the disk's bytes. */
    RAW("RAW"),
    /** VHD with every byte stored: the disk's bytes followed by a 512-byte footer. */
    VHD_FIXED("VHD"),
    /** Sparse VHD: footer copy, dynamic header, block allocation table, blocks, footer. */
    VHD_DYNAMIC("VHD"),
    /** Sparse VHDX ([MS-VHDX]): headers, region tables, log, metadata, BAT, payload blocks. */
    VHDX("VHDX");

    private final String family;

    DiskFormat(String family) {
        this.family = family;
    }

    /** The name used in error messages: RAW, VHD or VHDX. */
    public String family() {
        return family;
    }
}
