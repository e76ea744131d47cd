package dev.secondsite.replication;

import java.io.IOException;
import java.io.InputStream;
import java.util.List;
import java.util.Optional;

import dev.secondsite.replication.blob.BlobInfo;
import dev.secondsite.replication.blob.BlobStore;

/**
 * Passes every call to another blob store: the base of the test stores that crash, tear, fail or hold some calls
 * (they override those). Only the interface's own methods are forwarded; its defaults (a put from parts,
 * {@code readRange}, {@code exists}, {@code deleteWithoutSync}) stay defaults, so they go through the overridable
 * {@code put}, {@code open} and {@code delete} unless a subclass forwards them itself.
 */
public abstract class ForwardingBlobStore implements BlobStore {
    private final BlobStore delegate;

    protected ForwardingBlobStore(BlobStore delegate) {
        this.delegate = delegate;
    }

    /** The store the calls go to. */
    public BlobStore delegate() {
        return delegate;
    }

    @Override
    public void put(String name, byte[] data) throws IOException {
        delegate.put(name, data);
    }

    @Override
    public void put(String name, InputStream data, long lengthBytes) throws IOException {
        delegate.put(name, data, lengthBytes);
    }

    @Override
    public Optional<byte[]> get(String name) throws IOException {
        return delegate.get(name);
    }

    @Override
    public Optional<InputStream> open(String name) throws IOException {
        return delegate.open(name);
    }

    @Override
    public List<String> list(String prefix) throws IOException {
        return delegate.list(prefix);
    }

    @Override
    public Optional<BlobInfo> stat(String name) throws IOException {
        return delegate.stat(name);
    }

    @Override
    public boolean touch(String name) throws IOException {
        return delegate.touch(name);
    }

    @Override
    public boolean delete(String name) throws IOException {
        return delegate.delete(name);
    }

    @Override
    public long usedBytes() throws IOException {
        return delegate.usedBytes();
    }
}
