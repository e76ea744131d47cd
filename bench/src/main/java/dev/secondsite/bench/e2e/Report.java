package dev.secondsite.bench.e2e;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** What the run measured (null: not measured), and the table printed from it. */
final class Report {
    static final double TARGET_CHURN_MBPS = 200;
    static final double TARGET_RPO_SECONDS = 5;
    static final double TARGET_RPO_AT_MBPS = 50;
    static final double TARGET_RESYNC_RATIO = 0.8;

    long imageBytes;
    long nonZeroBytes;
    Double initialSeconds;
    Double idleInterval;
    long churnBytes;
    Long storeGrowth;
    Long replicaBytes;
    Double resyncSeconds;
    Long resyncShipped;
    /** The resync pass's own read of the disk, from the agent's log line (null: not found). */
    Long resyncScanBytes;
    Double resyncScanSeconds;
    Boolean verified;
    /** The newest point's restore (verify: read, compose, check every chunk; nothing written). */
    Double verifySeconds;
    Long verifyBytes;

    String resticVersion;
    Double resticInitialSeconds;
    Long resticInitialRepo;
    Double resticChurnSeconds;
    Long resticChurnGrowth;
    Double ddDirectSeconds;
    Double ddCachedSeconds;
    /** dd iflag=direct again right before the resync, the image evicted: the disk as the resync scan finds it. */
    Double ddDirectBeforeResyncSeconds;
    Double qemuSeconds;
    Double rsyncSeconds;
    long rsyncLiteral = -1;

    final List<String> notes = new ArrayList<>();

    private Double rate(Double seconds) {
        return seconds == null || seconds <= 0 ? null : imageBytes / E2eMain.MB / seconds;
    }

    private static Double ratio(Double a, Double b) {
        return a == null || b == null || b == 0 ? null : a / b;
    }

    private static String f(Double v, String format) {
        return v == null || v.isNaN() ? "n/a" : String.format(Locale.ROOT, format, v);
    }

    /** A ratio: two decimals, three below 0.1 (so a small one does not print as 0.00x). */
    private static String x(Double v) {
        return f(v, v != null && Math.abs(v) < 0.1 ? "%.3fx" : "%.2fx");
    }

    void print(E2eMain.Options options, List<E2eMain.Phase> phases) {
        StringBuilder out = new StringBuilder();
        String row = "  %-44s %14s  %s%n";
        out.append(String.format(Locale.ROOT, "%nSecondSite end-to-end benchmark: %s raw image (%s non-zero: random 1 MiB"
                        + " blocks, the rest zeros), %d CPU(s), one machine; MB = 10^6 bytes%n", E2eMain.size(imageBytes),
                E2eMain.size(nonZeroBytes), Runtime.getRuntime().availableProcessors()));
        boolean cdp = options.cdp();
        out.append(String.format(Locale.ROOT, "server in-process (embedded store, FileBlobStore recovery store), agent in a"
                + " child JVM (%s, --scan-interval-seconds 1), HTTPS on 127.0.0.1%n", cdp
                ? "CDP mode, --nbd-listen 127.0.0.1:<port>" : "scan mode"));
        out.append(String.format(Locale.ROOT, "mode: %s%n", cdp
                ? "CDP (--cdp): the churn writes through the agent's NBD export " + E2eMain.NBD_EXPORT
                        + ", which tracks the written bytes"
                : "scan (default): the churn writes the image file, the agent rescans it"));

        Double initial = rate(initialSeconds);
        Double idleScan = idleInterval == null || idleInterval.isNaN() ? null
                : imageBytes / E2eMain.MB / Math.max(0.05, idleInterval - 1.0);
        Double resync = rate(resyncSeconds);
        Double resyncScan = resyncScanBytes == null || resyncScanSeconds == null || resyncScanSeconds <= 0 ? null
                : resyncScanBytes / E2eMain.MB / resyncScanSeconds;
        out.append(String.format("%nSecondSite%n"));
        out.append(String.format(Locale.ROOT, row, "initial replication (to first point)", f(initial, "%.1f MB/s"),
                initialSeconds == null ? "" : String.format(Locale.ROOT, "%.1f s for the image; %.1f MB/s of non-zero data",
                        initialSeconds, nonZeroBytes / E2eMain.MB / initialSeconds)));
        if (cdp) {
            // No rescan in CDP mode: the interval is not a read+hash pass, so no MB/s figure is derived from it.
            idleScan = null;
            out.append(String.format(Locale.ROOT, row, "idle point interval (nothing written)",
                    f(idleInterval, "%.2f s"), "CDP mode: not a read+hash pass, no MB/s figure"));
        } else {
            out.append(String.format(Locale.ROOT, row, "idle change-detection pass (read+hash)", f(idleScan, "%.1f MB/s"),
                    idleInterval == null ? "" : String.format(Locale.ROOT, "a point every %.2f s with nothing changing"
                            + " (pass = interval - 1 s sleep)", idleInterval)));
        }
        out.append(String.format(Locale.ROOT, row, "resync scan (the agent's read + hash)", f(resyncScan, "%.1f MB/s"),
                resyncScan == null ? "the agent's resync pass line was not found in agent.log" : String.format(Locale.ROOT,
                        "%.2f s for %s (the pass's read, from the agent's log)", resyncScanSeconds,
                        E2eMain.size(resyncScanBytes))));
        out.append(String.format(Locale.ROOT, row, "resync (repairReplication to done)", f(resync, "%.1f MB/s"),
                resyncSeconds == null ? "" : String.format(Locale.ROOT, "%.1f s of image; %s uploaded (chunks differing from"
                                + " the replica); adds the agent's pickup (scan interval 1 s) and the replica's digests",
                        resyncSeconds, E2eMain.size(resyncShipped))));
        Double perChanged = storeGrowth == null || churnBytes == 0 ? null : storeGrowth / (double) churnBytes;
        out.append(String.format(Locale.ROOT, row, "recovery store bytes per changed byte", f(perChanged, "%.2f"),
                storeGrowth == null ? "" : String.format(Locale.ROOT, "store +%s for %s written by the churn (every point"
                        + " kept)", E2eMain.size(storeGrowth), E2eMain.size(churnBytes))));
        out.append(String.format(Locale.ROOT, row, "newest point == image (SHA-256)",
                verified == null ? "n/a" : verified ? "yes" : "NO", verifySeconds == null ? "" : String.format(Locale.ROOT,
                        "restored (verified, not written) from the store after the resync: %.1f s, %.1f MB/s of image",
                        verifySeconds, verifyBytes / E2eMain.MB / verifySeconds)));

        out.append(String.format("%nChurn phases (random 4-64 KiB writes, incompressible, %s; RPO = age of the newest"
                + " recovery point, sampled every 0.1 s over the last 2/3 of the window)%n", cdp
                ? "through NBD export " + E2eMain.NBD_EXPORT : "to the image file"));
        String phaseRow = "  %7s %9s %7s %8s %8s %10s %11s %11s %12s %9s %11s %13s %11s  %s%n";
        out.append(String.format(phaseRow, "target", "achieved", "points", "RPO p50", "RPO max", "RPO<= max",
                "backlog max", "(to apply)", "sent/changed", "catch-up", "CPU a/s", "disk w/changed", "to cache",
                "verdict"));
        for (E2eMain.Phase p : phases) {
            out.append(String.format(Locale.ROOT, phaseRow, f(p.target(), "%.0f"), f(p.achieved(), "%.1f"), p.points(),
                    f(p.rpoP50(), "%.1f s"), f(p.rpoMax(), "%.1f s"), f(p.rpoUpperMax(), "%.1f s"),
                    E2eMain.size(p.backlogMax()), E2eMain.size(p.applyBacklogMax()), f(p.churnBytes() == 0 ? null : p.shippedBytes() / (double) p.churnBytes(),
                            "%.2f"), f(p.catchUp(), "%.1f s"), String.format(Locale.ROOT, "%.2f/%.2f", p.agentCores(),
                            p.harnessCores()), f(p.deviceWritesPerChurned(), "%.2f"), p.cacheWrites() + "/"
                            + p.segmentsApplied(), p.ok() ? "kept up"
                            : "MISSED: " + p.why()));
        }
        out.append("  (MB/s; 'RPO<= max': age of the second-newest point, a bound that also covers writes a pass read"
                + " past; backlog = agent pending + server pending apply, '(to apply)' the server's part; sent = segment bytes uploaded during window +"
                + " drain; catch-up = churn stop until the first point whose pass began after it is visible; CPU a/s ="
                + " cores used during the window by the agent / by the harness JVM: embedded server and churn generator;"
                + " disk w/changed = bytes the work directory's device wrote from the window's start to its catch-up,"
                + " each end after a sync, per byte the churn wrote: the image's own write is 1 of it; to cache ="
                + " segments written to cache storage (their apply was not written in time, or too much was held in"
                + " memory) / segments applied)\n");

        Double sustained = null;
        Double sustainedAchieved = null;
        for (E2eMain.Phase p : phases) {
            if (p.ok()) {
                sustained = p.target();
                sustainedAchieved = p.achieved();
            } else {
                break;
            }
        }
        E2eMain.Phase at20 = phase(phases, 20);
        E2eMain.Phase at50 = phase(phases, TARGET_RPO_AT_MBPS);
        out.append(String.format(Locale.ROOT, row, "sustained churn kept up with", f(sustained, "%.0f MB/s"),
                sustained == null ? "" : String.format(Locale.ROOT, "highest rate tried with a 'kept up' verdict (achieved"
                        + " %.1f MB/s)", sustainedAchieved)));
        out.append(String.format(Locale.ROOT, row, "RPO at 20 MB/s churn (p50 / max)", at20 == null ? "n/a"
                : f(at20.rpoP50(), "%.1f") + " / " + f(at20.rpoMax(), "%.1f s"), ""));
        out.append(String.format(Locale.ROOT, row, "RPO at 50 MB/s churn (p50 / max)", at50 == null ? "n/a"
                : f(at50.rpoP50(), "%.1f") + " / " + f(at50.rpoMax(), "%.1f s"), ""));

        Double ddDirect = rate(ddDirectSeconds);
        Double ddCached = rate(ddCachedSeconds);
        Double ddBeforeResync = rate(ddDirectBeforeResyncSeconds);
        Double qemu = rate(qemuSeconds);
        Double rsync = rate(rsyncSeconds);
        Double resticInitial = rate(resticInitialSeconds);
        Double resticChurn = rate(resticChurnSeconds);
        out.append(String.format("%nPeers (same image, after the same churn unless noted)%n"));
        out.append(String.format(Locale.ROOT, row, "dd bs=4M iflag=direct (raw read)", f(ddDirect, "%.1f MB/s"),
                ddDirect == null ? "O_DIRECT not available" : "bypasses the page cache"));
        out.append(String.format(Locale.ROOT, row, "dd bs=4M (page cache, warm)", f(ddCached, "%.1f MB/s"), ""));
        out.append(String.format(Locale.ROOT, row, "dd bs=4M iflag=direct, before the resync", f(ddBeforeResync,
                "%.1f MB/s"), "the same read on the disk as the resync scan finds it (image evicted, peers synced)"));
        out.append(String.format(Locale.ROOT, row, "qemu-img convert -O raw (physical limit)", f(qemu, "%.1f MB/s"),
                "read + write a copy (no fsync), zero detection"));
        out.append(String.format(Locale.ROOT, row, "rsync --inplace --no-whole-file", f(rsync, "%.1f MB/s"),
                rsyncSeconds == null ? "" : String.format(Locale.ROOT, "%.1f s onto the pre-churn copy; literal data %s",
                        rsyncSeconds, rsyncLiteral < 0 ? "?" : E2eMain.size(rsyncLiteral))));
        out.append(String.format(Locale.ROOT, row, "restic backup, initial (before churn)", f(resticInitial, "%.1f MB/s"),
                resticInitialSeconds == null ? "" : String.format(Locale.ROOT, "%.1f s; repository %s", resticInitialSeconds,
                        E2eMain.size(resticInitialRepo))));
        out.append(String.format(Locale.ROOT, row, "restic backup, after churn", f(resticChurn, "%.1f MB/s"),
                resticChurnSeconds == null ? "" : String.format(Locale.ROOT, "%.1f s; repository +%s", resticChurnSeconds,
                        E2eMain.size(resticChurnGrowth))));
        Double resticPerChanged = resticChurnGrowth == null || churnBytes == 0 ? null
                : resticChurnGrowth / (double) churnBytes;
        out.append(String.format(Locale.ROOT, row, "restic repository bytes per changed byte", f(resticPerChanged, "%.2f"),
                resticVersion == null ? "" : resticVersion));

        out.append(String.format("%nRatios (ours / peer; > 1 means SecondSite is faster, for storage < 1 means it stores"
                + " less)%n"));
        out.append(String.format(Locale.ROOT, row, "initial replication / qemu-img convert", x(ratio(initial, qemu)), ""));
        out.append(String.format(Locale.ROOT, row, "initial replication / restic initial backup",
                x(ratio(initial, resticInitial)), ""));
        out.append(String.format(Locale.ROOT, row, "resync scan / dd O_DIRECT just before it",
                x(ratio(resyncScan, ddBeforeResync)), "both read the evicted image from the disk"));
        out.append(String.format(Locale.ROOT, row, "resync scan / dd O_DIRECT after the churn", x(ratio(resyncScan,
                ddDirect)), ""));
        out.append(String.format(Locale.ROOT, row, "resync request to done / dd O_DIRECT read", x(ratio(resync, ddDirect)),
                ""));
        out.append(String.format(Locale.ROOT, row, "idle change-detection pass / rsync delta", x(ratio(idleScan, rsync)),
                cdp ? "n/a in CDP mode (no rescan)" : "both read the whole image to find changes"));
        out.append(String.format(Locale.ROOT, row, "resync / rsync delta", x(ratio(resync, rsync)), ""));
        out.append(String.format(Locale.ROOT, row, "resync / restic backup after churn", x(ratio(resync, resticChurn)), ""));
        out.append(String.format(Locale.ROOT, row, "store bytes per changed byte / restic's", x(ratio(perChanged, resticPerChanged)), "ours keeps a point per pass; restic one snapshot"));

        out.append(String.format("%nTargets (DESIGN.md quality bars)%n"));
        Double rawRead = ddBeforeResync != null ? ddBeforeResync : ddDirect;
        Double resyncRatio = ratio(resyncScan, rawRead);
        out.append(target(row, String.format(Locale.ROOT, "sustained churn >= %.0f MB/s per disk", TARGET_CHURN_MBPS),
                f(sustained, "%.0f MB/s"), sustained == null ? null : sustained >= TARGET_CHURN_MBPS));
        out.append(target(row, String.format(Locale.ROOT, "RPO < %.0f s at %.0f MB/s (max)", TARGET_RPO_SECONDS,
                TARGET_RPO_AT_MBPS), at50 == null ? "n/a" : f(at50.rpoMax(), "%.1f s"),
                at50 == null || at50.rpoMax() != at50.rpoMax() ? null : at50.rpoMax() < TARGET_RPO_SECONDS));
        out.append(target(row, String.format(Locale.ROOT, "resync scan >= %.1fx raw read (%s)", TARGET_RESYNC_RATIO,
                ddBeforeResync != null ? "dd O_DIRECT just before" : "dd O_DIRECT after the churn"), x(resyncRatio),
                resyncRatio == null ? null : resyncRatio >= TARGET_RESYNC_RATIO));
        if (!notes.isEmpty()) {
            out.append(String.format("%nNotes%n"));
            for (String note : notes) {
                out.append("  - ").append(note).append('\n');
            }
        }
        System.out.print(out);
        System.out.flush();
    }

    private static String target(String row, String what, String value, Boolean pass) {
        return String.format(Locale.ROOT, row, what, value, pass == null ? "n/a" : pass ? "PASS" : "MISS");
    }

    private static E2eMain.Phase phase(List<E2eMain.Phase> phases, double target) {
        return phases.stream().filter(p -> p.target() == target).findFirst().orElse(null);
    }
}
