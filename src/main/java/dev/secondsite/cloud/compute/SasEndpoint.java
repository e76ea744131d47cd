package dev.secondsite.cloud.compute;

import dev.secondsite.resource.ResourceStore;
import dev.secondsite.resource.StoredResource;
import io.javalin.http.Context;
import jakarta.servlet.ServletOutputStream;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.HashMap;
import java.util.Map;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The data plane of disk export and upload: the SAS URLs of beginGetAccess, served as an Azure page blob
 * (the protocol azcopy and the Storage SDKs use on a managed disk's URL). No bearer token: the URL's
 * signature is the credential ({@link DiskAccess#verify}).
 * <ul>
 *   <li>{@code GET} the disk's bytes (the fixed VHD), whole or a {@code Range}/{@code x-ms-range}
 *       ({@code 206} with {@code Content-Range}); {@code HEAD} its properties (PageBlob, Content-Length);
 *       {@code GET ?comp=pagelist} its written ranges.</li>
 *   <li>{@code PUT ?comp=page} with {@code x-ms-page-write: update} and {@code x-ms-range: bytes=a-b}
 *       (512-aligned, at most 4 MiB): writes the body there, durably, then {@code 201};
 *       {@code x-ms-page-write: clear} zeros the range. Only while the disk is uploading (a Write grant).</li>
 * </ul>
 * Errors are Blob-service XML: {@code <Error><Code>…</Code><Message>…</Message></Error>} with
 * {@code x-ms-error-code}.
 */
public final class SasEndpoint {
    static final String PATH = "/sas/disks/{accessId}";
    private static final long PAGE_WRITE_MAX = 4L * 1024 * 1024;
    private static final Pattern RANGE = Pattern.compile("^\\s*bytes=(\\d+)-(\\d*)\\s*$");
    private static final String VERSION = "2021-08-06";
    private static final DateTimeFormatter HTTP_DATE = DateTimeFormatter.RFC_1123_DATE_TIME;

    private final DiskAccess access;
    private final ResourceStore resources;
    private final DiskFiles files;

    SasEndpoint(DiskAccess access, ResourceStore resources, DiskFiles files) {
        this.access = access;
        this.resources = resources;
        this.files = files;
    }

    /** A Blob-service error. */
    static final class BlobError extends RuntimeException {
        final int status;
        final String code;

        BlobError(int status, String code, String message) {
            super(message);
            this.status = status;
            this.code = code;
        }
    }

    /** What a verified URL opens: the grant, the disk or snapshot, and its file. */
    private record Target(DiskAccess.Grant grant, StoredResource resource, Path file) {}

    public void get(Context ctx) {
        handle(ctx, () -> {
            Target target = open(ctx);
            if ("pagelist".equalsIgnoreCase(ctx.queryParam("comp"))) {
                pageList(ctx, target);
            } else if (ctx.queryParam("comp") == null || "blob".equalsIgnoreCase(ctx.queryParam("comp"))) {
                download(ctx, target, false);
            } else {
                throw unsupported(ctx);
            }
        });
    }

    public void head(Context ctx) {
        handle(ctx, () -> download(ctx, open(ctx), true));
    }

    public void put(Context ctx) {
        handle(ctx, () -> {
            Target target = open(ctx);
            if (!"page".equalsIgnoreCase(ctx.queryParam("comp"))) {
                throw new BlobError(400, "InvalidQueryParameterValue", "A managed disk's upload URL takes Put Page "
                        + "requests only (?comp=page with x-ms-page-write and x-ms-range).");
            }
            if (!target.grant().write()) {
                throw new BlobError(403, "AuthorizationPermissionMismatch", "This request is not authorized to perform "
                        + "this operation using this permission: the URL grants Read access only.");
            }
            if (!DiskModel.ACTIVE_UPLOAD.equals(DiskModel.state(target.resource().body()))) {
                throw new BlobError(409, "OperationNotAllowed", "The disk is not being uploaded.");
            }
            putPage(ctx, target);
        });
    }

    private Target open(Context ctx) {
        Map<String, String> query = new HashMap<>();
        ctx.queryParamMap().forEach((k, v) -> query.put(k, v.isEmpty() ? "" : v.getFirst()));
        DiskAccess.Grant grant;
        try {
            grant = access.verify(ctx.pathParam("accessId"), query);
        } catch (DiskAccess.Refused e) {
            throw new BlobError(403, e.code, e.getMessage());
        }
        StoredResource resource = resources.find(grant.resourceKey()).orElseThrow(() -> new BlobError(403,
                "AuthenticationFailed", "Server failed to authenticate the request. The disk of this URL was deleted."));
        return new Target(grant, resource, files.path(DiskModel.kind(resource), DiskModel.uniqueId(resource.body())));
    }

    private void download(Context ctx, Target target, boolean headOnly) throws IOException {
        long size;
        try {
            size = Files.size(target.file());
        } catch (NoSuchFileException e) {
            throw new BlobError(403, "AuthenticationFailed", "Server failed to authenticate the request. The disk of "
                    + "this URL was deleted.");
        }
        String rangeHeader = rangeHeader(ctx);
        long start = 0;
        long end = size - 1;
        boolean partial = false;
        if (rangeHeader != null && !headOnly) {
            Matcher m = RANGE.matcher(rangeHeader);
            if (!m.matches()) {
                throw new BlobError(400, "InvalidRange", "The range '" + rangeHeader + "' is not 'bytes=start-end'.");
            }
            start = Long.parseLong(m.group(1));
            end = m.group(2).isEmpty() ? size - 1 : Math.min(Long.parseLong(m.group(2)), size - 1);
            if (start >= size || end < start) {
                ctx.header("Content-Range", "bytes */" + size);
                throw new BlobError(416, "InvalidRange", "The range specified is invalid for the current size of the "
                        + "resource (" + size + " bytes).");
            }
            partial = true;
        }
        commonHeaders(ctx, target);
        ctx.header("Accept-Ranges", "bytes");
        ctx.header("x-ms-blob-type", "PageBlob");
        ctx.header("x-ms-blob-sequence-number", "0");
        ctx.header("x-ms-lease-status", "unlocked");
        ctx.header("x-ms-lease-state", "available");
        ctx.header("x-ms-server-encrypted", "true");
        ctx.header("x-ms-creation-time", httpDate(target.resource().createdAt()));
        ctx.header("Content-Type", "application/octet-stream");
        long length = end - start + 1;
        if (partial) {
            ctx.status(206);
            ctx.header("Content-Range", "bytes " + start + "-" + end + "/" + size);
        } else {
            ctx.status(200);
        }
        ctx.res().setContentLengthLong(headOnly ? size : length);
        if (headOnly) {
            return;
        }
        try (FileChannel ch = FileChannel.open(target.file(), StandardOpenOption.READ)) {
            ServletOutputStream out = ctx.res().getOutputStream();
            ByteBuffer buf = ByteBuffer.allocate(1 << 20);
            long pos = start;
            long stop = end + 1;
            while (pos < stop) {
                buf.clear().limit((int) Math.min(buf.capacity(), stop - pos));
                int n = SparseFiles.readFully(ch, buf, pos);
                if (n <= 0) {
                    break;
                }
                out.write(buf.array(), 0, n);
                pos += n;
            }
            out.flush();
        }
    }

    private void pageList(Context ctx, Target target) throws IOException {
        long size = Files.size(target.file());
        long from = 0;
        long to = size;
        String rangeHeader = rangeHeader(ctx);
        if (rangeHeader != null) {
            long[] r = pageRange(rangeHeader, size);
            from = r[0];
            to = r[1] + 1;
        }
        StringBuilder xml = new StringBuilder("<?xml version=\"1.0\" encoding=\"utf-8\"?><PageList>");
        for (SparseFiles.Range r : SparseFiles.dataRanges(target.file(), from, to)) {
            long s = r.start() / 512 * 512;
            long e = Math.min(to, (r.end() + 511) / 512 * 512) - 1;
            xml.append("<PageRange><Start>").append(s).append("</Start><End>").append(e).append("</End></PageRange>");
        }
        xml.append("</PageList>");
        commonHeaders(ctx, target);
        ctx.header("x-ms-blob-content-length", Long.toString(size));
        ctx.status(200).contentType("application/xml").result(xml.toString());
    }

    private void putPage(Context ctx, Target target) throws IOException {
        String mode = ctx.header("x-ms-page-write");
        if (mode == null || !(mode.equalsIgnoreCase("update") || mode.equalsIgnoreCase("clear"))) {
            throw new BlobError(400, "MissingRequiredHeader", "Put Page needs x-ms-page-write: update or clear.");
        }
        String rangeHeader = rangeHeader(ctx);
        if (rangeHeader == null) {
            throw new BlobError(400, "MissingRequiredHeader", "Put Page needs x-ms-range (or Range): bytes=start-end.");
        }
        long size = Files.size(target.file());
        long[] range = pageRange(rangeHeader, size);
        long length = range[1] - range[0] + 1;
        long contentLength = ctx.req().getContentLengthLong();
        if (mode.equalsIgnoreCase("update")) {
            if (length > PAGE_WRITE_MAX) {
                throw new BlobError(413, "RequestBodyTooLarge", "The request body is too large: a page write holds at "
                        + "most 4 MiB (4194304 bytes); this one holds " + length + ".");
            }
            if (contentLength != length) {
                throw new BlobError(400, "InvalidHeaderValue", "Content-Length " + contentLength + " does not match the "
                        + "range " + rangeHeader + " (" + length + " bytes).");
            }
            byte[] data;
            try (InputStream in = ctx.req().getInputStream()) {
                data = in.readNBytes((int) length);
            }
            if (data.length != length) {
                throw new BlobError(400, "InvalidInput", "The request body ended after " + data.length + " of "
                        + length + " bytes.");
            }
            try (FileChannel ch = FileChannel.open(target.file(), StandardOpenOption.WRITE)) {
                ByteBuffer buf = ByteBuffer.wrap(data);
                long pos = range[0];
                while (buf.hasRemaining()) {
                    pos += ch.write(buf, pos);
                }
                ch.force(false);
            }
        } else {
            if (contentLength > 0) {
                throw new BlobError(400, "InvalidHeaderValue", "A clear page write has no body (Content-Length 0).");
            }
            try (FileChannel ch = FileChannel.open(target.file(), StandardOpenOption.WRITE)) {
                SparseFiles.zero(ch, target.file(), range[0], length);
                ch.force(false);
            }
        }
        commonHeaders(ctx, target);
        ctx.header("x-ms-blob-sequence-number", "0");
        ctx.header("x-ms-request-server-encrypted", "true");
        ctx.status(201);
    }

    /** bytes=a-b, 512-aligned start and end+1, inside the blob: {start, end}. */
    private static long[] pageRange(String header, long size) {
        Matcher m = RANGE.matcher(header);
        if (!m.matches() || m.group(2).isEmpty()) {
            throw new BlobError(400, "InvalidPageRange", "The page range '" + header + "' is invalid: use bytes=start-end.");
        }
        long start = Long.parseLong(m.group(1));
        long end = Long.parseLong(m.group(2));
        if (end < start || start % 512 != 0 || (end + 1) % 512 != 0) {
            throw new BlobError(400, "InvalidPageRange", "The page range specified is invalid: '" + header + "'. Page "
                    + "ranges must start on a 512-byte boundary and end one byte before one (start % 512 == 0, "
                    + "(end + 1) % 512 == 0).");
        }
        if (end >= size) {
            throw new BlobError(416, "InvalidPageRange", "The page range specified is invalid: '" + header + "' passes "
                    + "the end of the blob (" + size + " bytes).");
        }
        return new long[] {start, end};
    }

    private static String rangeHeader(Context ctx) {
        String h = ctx.header("x-ms-range");
        return h != null ? h : ctx.header("Range");
    }

    private void commonHeaders(Context ctx, Target target) throws IOException {
        long modified = Files.getLastModifiedTime(target.file()).toMillis();
        ctx.header("ETag", "\"0x" + Long.toHexString(modified).toUpperCase() + "\"");
        ctx.header("Last-Modified", httpDate(modified));
        ctx.header("x-ms-version", ctx.header("x-ms-version") != null ? ctx.header("x-ms-version") : VERSION);
    }

    private static String httpDate(long millis) {
        return HTTP_DATE.format(ZonedDateTime.ofInstant(java.time.Instant.ofEpochMilli(millis), ZoneOffset.UTC));
    }

    private static BlobError unsupported(Context ctx) {
        return new BlobError(400, "InvalidQueryParameterValue", "comp=" + ctx.queryParam("comp")
                + " is not supported on a managed disk's URL.");
    }

    @FunctionalInterface
    private interface Work {
        void run() throws IOException;
    }

    private static void handle(Context ctx, Work work) {
        String requestId = UUID.randomUUID().toString();
        ctx.header("x-ms-request-id", requestId);
        if (ctx.header("x-ms-client-request-id") != null) {
            ctx.header("x-ms-client-request-id", ctx.header("x-ms-client-request-id"));
        }
        try {
            work.run();
        } catch (BlobError e) {
            error(ctx, e.status, e.code, e.getMessage(), requestId);
        } catch (IOException | RuntimeException e) {
            org.slf4j.LoggerFactory.getLogger(SasEndpoint.class).error("disk SAS request {} failed", requestId, e);
            error(ctx, 500, "InternalError", "The server encountered an internal error; see the server log for request "
                    + "id " + requestId + ".", requestId);
        }
    }

    private static void error(Context ctx, int status, String code, String message, String requestId) {
        String body = "<?xml version=\"1.0\" encoding=\"utf-8\"?><Error><Code>" + code + "</Code><Message>"
                + xml(message) + "\nRequestId:" + requestId + "\nTime:" + java.time.Instant.now() + "</Message></Error>";
        ctx.header("x-ms-error-code", code);
        ctx.status(status).contentType("application/xml").result(body);
    }

    private static String xml(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;");
    }
}
