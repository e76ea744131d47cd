package dev.secondsite.disk;

import java.io.IOException;
import java.nio.ByteBuffer;

/** A fixed VHD: the disk's bytes at offset 0, then the footer. */
final class VhdFixedImage extends AbstractImage {

    private final VhdFooter footer;

    VhdFixedImage(ImageFile file, VhdFooter footer) {
        super(file);
        this.footer = footer;
    }

    @Override
    public DiskFormat format() {
        return DiskFormat.VHD_FIXED;
    }

    @Override
    public long virtualSize() {
        return footer.currentSize();
    }

    @Override
    protected void readAt(long offset, ByteBuffer dst) throws IOException {
        file.readInto(offset, dst, "data");
    }

    @Override
    protected void writeAt(long offset, ByteBuffer src) throws IOException {
        file.write(offset, src);
    }

    @Override
    protected Extent extentAtChecked(long offset) throws IOException {
        return ImageFile.zeroScanExtent(file, 0, virtualSize(), offset);
    }
}
