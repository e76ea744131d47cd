package dev.secondsite.disk;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;

/** A raw image: the file's bytes are the disk's bytes and the file size is the virtual size. */
final class RawImage extends AbstractImage {

    private final long virtualSize;

    RawImage(ImageFile file) {
        super(file);
        this.virtualSize = file.size();
    }

    @Override
    public DiskFormat format() {
        return DiskFormat.RAW;
    }

    @Override
    public long virtualSize() {
        return virtualSize;
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
        return ImageFile.zeroScanExtent(file, 0, virtualSize, offset);
    }

    /** Creates a sparse raw image of the given size (the file must not exist yet). */
    static void format(Path path, long virtualSize) throws IOException {
        try (var ch = java.nio.channels.FileChannel.open(path, java.nio.file.StandardOpenOption.WRITE)) {
            if (virtualSize > 0) {
                ch.write(ByteBuffer.allocate(1), virtualSize - 1);
            }
            ch.force(true);
        }
    }
}
