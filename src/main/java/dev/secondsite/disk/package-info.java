/**
 * Disk image formats SecondSite reads and writes: RAW, fixed and dynamic VHD (Microsoft "Virtual Hard
 * Disk Image Format Specification") and VHDX ([MS-VHDX]), written by hand from those specifications.
 *
 * <p>Public API: {@link dev.secondsite.disk.DiskImages} (detect, open, create),
 * {@link dev.secondsite.disk.DiskImage} (read, write, flush, allocation extents),
 * {@link dev.secondsite.disk.DiskFormat}, {@link dev.secondsite.disk.Extent} and
 * {@link dev.secondsite.disk.DiskFormatException}. Everything else is package-private: one class per
 * on-disk structure (VhdFooter, VhdDynamicHeader, VhdxHeader, VhdxRegionTable, VhdxMetadata,
 * VhdxLog) and one per format (RawImage, VhdFixedImage, VhdDynamicImage, VhdxImage), all reading the
 * file through {@code ImageFile}, which bounds-checks every read against the file size.
 *
 * <p>Rules every parser follows: untrusted sizes are checked against the file and against a named
 * maximum before anything is allocated; loops over untrusted tables are bounded by those maxima;
 * malformed input fails with {@link dev.secondsite.disk.DiskFormatException}, never another type.
 * Writers order their writes (data, force, then the table entry that points at it) so a crash never
 * leaves an image pointing at data that is not there. Differencing disks are rejected.
 */
package dev.secondsite.disk;
