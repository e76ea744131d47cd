package dev.secondsite.protection;

import java.util.ArrayList;
import java.util.List;
import java.util.function.ToDoubleFunction;

/**
 * {@code GET /metrics}: per-disk replication gauges (and one counter) in the Prometheus text exposition format
 * (version 0.0.4), written by hand (a dozen lines do not need a client library). Labels: {@code vault},
 * {@code resource_group}, {@code item} (protected item name) and {@code disk} (disk name).
 */
public final class Metrics {
    public static final String CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

    private record Series(String name, String type, String help, ToDoubleFunction<DiskFigures> value) {
        Series(String name, String help, ToDoubleFunction<DiskFigures> value) {
            this(name, "gauge", help, value);
        }
    }

    private static final List<Series> SERIES = List.of(
            new Series("secondsite_disk_pending_upload_bytes", "Changed bytes the agent has not uploaded yet (its last report).",
                    DiskFigures::pendingUploadBytes),
            new Series("secondsite_disk_pending_apply_bytes", "Change bytes stored (in cache storage, or held in memory for"
                    + " their apply), not yet applied.",
                    DiskFigures::pendingApplyBytes),
            new Series("secondsite_disk_churn_bytes_per_second", "How fast the source disk changes.",
                    DiskFigures::churnBytesPerSecond),
            new Series("secondsite_disk_rpo_seconds", "Age of the disk's newest recovery point (NaN before the first).",
                    f -> f.rpoSeconds().map(Long::doubleValue).orElse(Double.NaN)),
            new Series("secondsite_disk_last_recovery_point_timestamp_seconds",
                    "Time of the disk's newest recovery point, Unix seconds (NaN before the first).",
                    f -> f.lastPoint().map(p -> p.toEpochMilli() / 1000.0).orElse(Double.NaN)),
            new Series("secondsite_disk_cache_bytes", "Bytes of the disk's segments stored, not yet applied (in cache"
                    + " storage, or held in memory for their apply).",
                    DiskFigures::cacheBytes),
            new Series("secondsite_disk_recovery_store_bytes",
                    "Distinct recovery-store bytes the disk's state and points reference (NaN until measured).",
                    f -> f.recoveryStoreBytes() < 0 ? Double.NaN : f.recoveryStoreBytes()),
            new Series("secondsite_disk_recovery_points",
                    "The disk's recovery points, as retention left them (NaN until counted, with the store bytes).",
                    f -> f.recoveryPoints() < 0 ? Double.NaN : f.recoveryPoints()),
            new Series("secondsite_disk_cache_segment_writes_total", "counter", "Segments written to cache storage"
                    + " because their apply was not written in time (or the server held too many already); the others"
                    + " went from memory to the recovery store. Rising with the churn: the recovery store is behind.",
                    DiskFigures::cacheWrites));

    private final ProtectionStore store;
    private final ItemView view;

    public Metrics(ProtectionStore store, ItemView view) {
        this.store = store;
        this.view = view;
    }

    /** The whole exposition. */
    public String render() {
        record Row(String labels, DiskFigures figures) {}
        List<Row> rows = new ArrayList<>();
        for (ProtectionStore.Item item : store.items()) {
            String[] parts = item.itemId().split("/");
            String group = valueAfter(parts, "resourceGroups");
            String vault = valueAfter(parts, "vaults");
            String itemName = parts[parts.length - 1];
            for (DiskFigures f : view.figures(item.itemId())) {
                rows.add(new Row("{vault=\"" + escape(vault) + "\",resource_group=\"" + escape(group) + "\",item=\""
                        + escape(itemName) + "\",disk=\"" + escape(f.name()) + "\"}", f));
            }
        }
        StringBuilder out = new StringBuilder();
        for (Series series : SERIES) {
            out.append("# HELP ").append(series.name()).append(' ').append(series.help()).append('\n');
            out.append("# TYPE ").append(series.name()).append(' ').append(series.type()).append('\n');
            for (Row row : rows) {
                out.append(series.name()).append(row.labels()).append(' ')
                        .append(format(series.value().applyAsDouble(row.figures()))).append('\n');
            }
        }
        out.append("# HELP secondsite_protected_items Protected items on this server.\n");
        out.append("# TYPE secondsite_protected_items gauge\n");
        out.append("secondsite_protected_items ").append(store.items().size()).append('\n');
        return out.toString();
    }

    private static String valueAfter(String[] parts, String key) {
        for (int i = 0; i + 1 < parts.length; i++) {
            if (parts[i].equalsIgnoreCase(key)) {
                return parts[i + 1];
            }
        }
        return "";
    }

    static String format(double v) {
        if (Double.isNaN(v)) {
            return "NaN";
        }
        if (v == Math.rint(v) && Math.abs(v) < 1e15) {
            return Long.toString((long) v);
        }
        return java.math.BigDecimal.valueOf(v).toPlainString();
    }

    static String escape(String label) {
        return label.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n");
    }
}
