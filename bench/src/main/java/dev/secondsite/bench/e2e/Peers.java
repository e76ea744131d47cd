package dev.secondsite.bench.e2e;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * The peers, run on the same image: {@code dd} (raw sequential read, O_DIRECT when the file system allows it,
 * and through the page cache), {@code qemu-img convert -O raw} (copy: the physical limit), {@code rsync
 * --inplace --no-whole-file} of the churned image onto the pre-churn copy (delta transfer), and {@code restic
 * backup} (initial, and after the churn: deduplicated, compressed backup). A tool that is missing or fails is
 * recorded as n/a with a note.
 */
final class Peers {
    private final Path work;
    private final long imageBytes;
    private final Report report;
    private final Map<String, String> resticEnv;
    private final Path resticRepo;
    private boolean resticReady;

    Peers(Path work, long imageBytes, Report report) {
        this.work = work;
        this.imageBytes = imageBytes;
        this.report = report;
        this.resticRepo = work.resolve("restic-repo");
        this.resticEnv = Map.of("RESTIC_PASSWORD", "secondsite-bench", "RESTIC_REPOSITORY", resticRepo.toString(),
                "RESTIC_CACHE_DIR", work.resolve("restic-cache").toString());
    }

    private Duration limit() {
        // Generous: 20 MB/s worst case for any single pass over the image, at least two minutes.
        return Duration.ofSeconds(Math.max(120, imageBytes / 20_000_000));
    }

    void resticInit() throws IOException, InterruptedException {
        if (!Proc.available("restic")) {
            report.notes.add("restic not installed: its figures are n/a (bench/run installs it with apt-get when root)");
            return;
        }
        Proc version = Proc.run(Duration.ofSeconds(30), work.resolve("restic-version.log"), "restic", "version");
        report.resticVersion = version.output().strip();
        Proc init = Proc.run(Duration.ofSeconds(60), resticEnv, work.resolve("restic-init.log"),
                List.of("restic", "init"));
        if (!init.ok()) {
            report.notes.add("restic init failed: " + tail(init.output()));
            return;
        }
        resticReady = true;
    }

    void resticBackup(Path image, boolean initial) throws IOException, InterruptedException {
        if (!resticReady) {
            return;
        }
        long before = Images.treeBytes(resticRepo);
        E2eMain.log("restic backup (%s) ...", initial ? "initial" : "after churn");
        Proc backup = Proc.run(limit(), resticEnv, work.resolve(initial ? "restic-backup-1.log" : "restic-backup-2.log"),
                List.of("restic", "backup", "--quiet", "--host", "bench", image.toString()));
        if (!backup.ok()) {
            report.notes.add("restic backup failed: " + tail(backup.output()));
            resticReady = false;
            return;
        }
        long growth = Images.treeBytes(resticRepo) - before;
        if (initial) {
            report.resticInitialSeconds = backup.seconds();
            report.resticInitialRepo = growth;
        } else {
            report.resticChurnSeconds = backup.seconds();
            report.resticChurnGrowth = growth;
        }
        E2eMain.log("restic backup: %.1f s, repository +%s", backup.seconds(), E2eMain.size(growth));
    }

    /**
     * Seconds for {@code dd bs=4M} to read the image, with {@code iflag=direct} (from the disk) or through the page
     * cache; null (and a note) if dd is missing or failed. {@code when} names the reading in the log.
     */
    Double ddRead(Path image, boolean direct, String when) throws IOException, InterruptedException {
        if (!Proc.available("dd")) {
            report.notes.add("dd not found");
            return null;
        }
        Path log = work.resolve("dd-" + (direct ? "direct" : "cached") + "-" + when.replaceAll("\\W+", "-") + ".log");
        Proc dd = direct
                ? Proc.run(limit(), log, "dd", "if=" + image, "of=/dev/null", "bs=4M", "iflag=direct", "status=none")
                : Proc.run(limit(), log, "dd", "if=" + image, "of=/dev/null", "bs=4M", "status=none");
        if (!dd.ok()) {
            report.notes.add("dd" + (direct ? " iflag=direct" : "") + " (" + when + ") failed: " + tail(dd.output()));
            return null;
        }
        E2eMain.log("dd %s (%s): %.1f MB/s", direct ? "O_DIRECT" : "page cache", when,
                imageBytes / E2eMain.MB / dd.seconds());
        return dd.seconds();
    }

    /**
     * Evicts the image's pages from the page cache (sync, then {@code dd iflag=nocache count=0}: the kernel drops
     * clean pages), so that the next read comes from the disk as {@code dd iflag=direct}'s did, on a disk that
     * is not still writing back what the peers wrote. Logs how much stays cached ({@code fincore}) and notes it
     * if the eviction fails.
     */
    void evictFromPageCache(Path image) throws IOException, InterruptedException {
        // Everything, not only the image: the peers' gigabytes still being written back would share the disk.
        Proc sync = Proc.run(limit(), work.resolve("evict.log"), "sync");
        Proc evict = Proc.run(limit(), work.resolve("evict.log"), "dd", "if=" + image, "iflag=nocache", "count=0",
                "status=none");
        if (!sync.ok() || !evict.ok()) {
            report.notes.add("could not evict the image from the page cache before the resync (the scan read"
                    + " cached pages): " + tail(sync.ok() ? evict.output() : sync.output()));
            return;
        }
        if (Proc.available("fincore")) {
            Proc cached = Proc.run(limit(), work.resolve("fincore.log"), "fincore", "--bytes", "--noheadings",
                    "--output", "RES", image.toString());
            E2eMain.log("image evicted from the page cache: %s bytes still cached", cached.output().strip());
        }
    }

    void qemuConvert(Path image) throws IOException, InterruptedException {
        if (!Proc.available("qemu-img")) {
            report.notes.add("qemu-img not installed (apt: qemu-utils): its figure is n/a");
            return;
        }
        Path out = work.resolve("converted.raw");
        Proc convert = Proc.run(limit(), work.resolve("qemu-img.log"), "qemu-img", "convert", "-f", "raw", "-O", "raw",
                image.toString(), out.toString());
        Files.deleteIfExists(out);
        if (!convert.ok()) {
            report.notes.add("qemu-img convert failed: " + tail(convert.output()));
            return;
        }
        report.qemuSeconds = convert.seconds();
        E2eMain.log("qemu-img convert: %.1f MB/s", imageBytes / E2eMain.MB / convert.seconds());
    }

    void rsync(Path image, Path previous) throws IOException, InterruptedException {
        if (!Proc.available("rsync")) {
            report.notes.add("rsync not installed: its figure is n/a");
            return;
        }
        Proc rsync = Proc.run(limit(), work.resolve("rsync.log"), "rsync", "--inplace", "--no-whole-file", "--stats",
                image.toString(), previous.toString());
        if (!rsync.ok()) {
            report.notes.add("rsync failed: " + tail(rsync.output()));
            return;
        }
        report.rsyncSeconds = rsync.seconds();
        report.rsyncLiteral = E2eMain.rsyncLiteral(rsync.output());
        E2eMain.log("rsync --inplace --no-whole-file: %.1f s, %s literal data", rsync.seconds(),
                report.rsyncLiteral < 0 ? "?" : E2eMain.size(report.rsyncLiteral));
    }

    private static String tail(String output) {
        String s = output.strip();
        return s.length() <= 300 ? s : "..." + s.substring(s.length() - 300);
    }
}
