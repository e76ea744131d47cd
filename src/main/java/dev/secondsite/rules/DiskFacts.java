package dev.secondsite.rules;

import java.util.EnumSet;
import java.util.Objects;
import java.util.Set;
import java.util.function.Consumer;

/**
 * A disk attached to a protected (or to-be-protected) VM. Disks excluded from replication (seed 002,
 * "Exclude disk: Yes") are listed too, with {@link Trait#EXCLUDED}: size and feature limits skip them, but
 * rules about what is attached (trusted launch shared disks) and disk-change detection see them.
 *
 * @param id                  the disk's identity (Hyper-V virtual disk id, managed disk id); a change of id
 *                            at the same location is a "disk ID change" (seed 002)
 * @param location            where the disk is attached (controller/slot, or VHD path on the host); null
 *                            when unknown, in which case disks are matched by id only
 * @param partitions          partitions on the disk (seed 002 limits generation 2 OS disks to five)
 * @param traits              storage features the seed tables call out
 */
public record DiskFacts(String id, String location, boolean osDisk, long sizeBytes, int logicalSectorBytes,
                        int physicalSectorBytes, Format format, int partitions, Set<Trait> traits) {

    /** Virtual hard disk formats. RAW stands for a pass-through (physical) disk, which has no VHD file. */
    public enum Format { VHD, VHDX, VMDK, RAW }

    public enum Trait {
        /** Shared VHD / shared cluster disk / Azure shared disk. */
        SHARED,
        /** A Fibre Channel disk presented to the guest. */
        FIBRE_CHANNEL,
        /** Encrypted by the host or the virtual disk itself (not BitLocker; that is {@link #BITLOCKER}). */
        ENCRYPTED,
        /** BitLocker is on for a volume of this disk. */
        BITLOCKER,
        /** A dynamic disk, or a member of a striped volume. */
        DYNAMIC,
        /** Holds Linux LVM volumes. */
        LVM,
        /** Part of a Storage Spaces pool or Storage Spaces Direct. */
        STORAGE_SPACES,
        /** Attached to the VM but excluded from replication (seed 002: "Exclude disk: Yes"). */
        EXCLUDED
    }

    public static final int SECTOR_512 = 512;
    public static final int SECTOR_4K = 4096;

    public DiskFacts {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(format, "format");
        if (sizeBytes < 0) throw new IllegalArgumentException("sizeBytes must not be negative: " + sizeBytes);
        if (logicalSectorBytes <= 0 || physicalSectorBytes <= 0) throw new IllegalArgumentException("sector sizes must be positive");
        if (partitions < 0) throw new IllegalArgumentException("partitions must not be negative");
        traits = traits.isEmpty() ? Set.of() : Set.copyOf(EnumSet.copyOf(traits));
    }

    /** An OS disk with 512-byte sectors, VHDX, one partition, no traits. */
    public static DiskFacts os(String id, long sizeBytes) {
        return new DiskFacts(id, null, true, sizeBytes, SECTOR_512, SECTOR_512, Format.VHDX, 1, Set.of());
    }

    /** A data disk with 512-byte sectors, VHDX, one partition, no traits. */
    public static DiskFacts data(String id, long sizeBytes) {
        return new DiskFacts(id, null, false, sizeBytes, SECTOR_512, SECTOR_512, Format.VHDX, 1, Set.of());
    }

    public boolean has(Trait trait) { return traits.contains(trait); }
    public boolean shared() { return has(Trait.SHARED); }
    public boolean fibreChannel() { return has(Trait.FIBRE_CHANNEL); }
    public boolean encrypted() { return has(Trait.ENCRYPTED); }
    public boolean bitLocker() { return has(Trait.BITLOCKER); }
    public boolean dynamic() { return has(Trait.DYNAMIC); }
    public boolean excluded() { return has(Trait.EXCLUDED); }
    public boolean replicated() { return !excluded(); }

    /** 4K native: 4K logical and 4K physical sectors (4K logical on 512-byte physical is fine, seed 002). */
    public boolean fourKNative() {
        return logicalSectorBytes == SECTOR_4K && physicalSectorBytes == SECTOR_4K;
    }

    public DiskFacts with(Consumer<Builder> change) {
        Builder b = new Builder(this);
        change.accept(b);
        return b.build();
    }

    @Override
    public String toString() {
        return (osDisk ? "OS disk '" : "data disk '") + id + "'";
    }

    public static final class Builder {
        private String id;
        private String location;
        private boolean osDisk;
        private long sizeBytes;
        private int logicalSectorBytes;
        private int physicalSectorBytes;
        private Format format;
        private int partitions;
        private final EnumSet<Trait> traits = EnumSet.noneOf(Trait.class);

        private Builder(DiskFacts d) {
            id = d.id; location = d.location; osDisk = d.osDisk; sizeBytes = d.sizeBytes;
            logicalSectorBytes = d.logicalSectorBytes; physicalSectorBytes = d.physicalSectorBytes;
            format = d.format; partitions = d.partitions; traits.addAll(d.traits);
        }

        public Builder id(String v) { id = v; return this; }
        public Builder location(String v) { location = v; return this; }
        public Builder osDisk(boolean v) { osDisk = v; return this; }
        public Builder sizeBytes(long v) { sizeBytes = v; return this; }
        public Builder sectors(int logical, int physical) { logicalSectorBytes = logical; physicalSectorBytes = physical; return this; }
        public Builder format(Format v) { format = v; return this; }
        public Builder partitions(int v) { partitions = v; return this; }
        public Builder trait(Trait... v) { traits.addAll(Set.of(v)); return this; }
        public Builder withoutTrait(Trait... v) { traits.removeAll(Set.of(v)); return this; }

        public DiskFacts build() {
            return new DiskFacts(id, location, osDisk, sizeBytes, logicalSectorBytes, physicalSectorBytes, format,
                    partitions, traits);
        }
    }
}
