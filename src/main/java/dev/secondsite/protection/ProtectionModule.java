package dev.secondsite.protection;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.MissingNode;
import dev.secondsite.jobs.JobsApi;
import dev.secondsite.jobs.Workflow;
import dev.secondsite.replication.RecoveryStore;
import dev.secondsite.replication.blob.BlobStore;
import dev.secondsite.replication.blob.FileBlobStore;
import dev.secondsite.replication.blob.WriteBehindBlobStore;
import dev.secondsite.replication.point.PointRetention;
import dev.secondsite.resource.ResourceStore;
import dev.secondsite.store.Settings;
import dev.secondsite.vault.VaultScope;
import org.jdbi.v3.core.Jdbi;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * The replication data plane's server side, wired in one place: agents and their registration, protected
 * items and recovery points (ARM), segment intake, the replication engine, retention and garbage
 * collection, and metrics. {@code SecondSiteServer} creates it, registers its workflows and routes, starts
 * it before the HTTPS listener and closes it before the database.
 */
public final class ProtectionModule implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ProtectionModule.class);

    /**
     * Where the data plane keeps its data, and how often housekeeping (retention, garbage collection,
     * store measurements, orphan cleanup) runs.
     */
    public record Options(Path cacheDir, Path recoveryDir, Path exportDir, Duration housekeepingEvery,
                          BlobStore cacheStore) {
        /** {@code cacheStore} null: a {@link FileBlobStore} in {@code cacheDir}. */
        public Options(Path cacheDir, Path recoveryDir, Path exportDir, Duration housekeepingEvery) {
            this(cacheDir, recoveryDir, exportDir, housekeepingEvery, null);
        }

        public static Options defaults(Path dataDir) {
            return new Options(dataDir.resolve("cache"), dataDir.resolve("recovery"), dataDir.resolve("exports"),
                    Duration.ofMinutes(5));
        }

        public Options withHousekeepingEvery(Duration every) {
            return new Options(cacheDir, recoveryDir, exportDir, every, cacheStore);
        }

        /** The same options with the replication cache in {@code store} (e.g. an AzureBlobStore). */
        public Options withCacheStore(BlobStore store) {
            return new Options(cacheDir, recoveryDir, exportDir, housekeepingEvery, store);
        }
    }

    private final Options options;
    private final ResourceStore resources;
    private final ProtectionStore store;
    private final AgentStore agents;
    private final RegistrationKeys keys;
    private final ReplicationEngine engine;
    private final Registrations registrations;
    private final Providers providers;
    private final ProtectedItems items;
    private final RecoveryPointsApi points;
    private final SegmentIntake intake;
    private final Metrics metrics;
    private final ItemView view;
    private final FailbackSource failbackSource;
    private ScheduledExecutorService housekeeping;
    private final List<Runnable> afterHousekeeping = new java.util.concurrent.CopyOnWriteArrayList<>();
    private long housekeepingRuns;

    private ProtectionModule(Options options, ResourceStore resources, ProtectionStore store, AgentStore agents,
                             RegistrationKeys keys, ReplicationEngine engine, Registrations registrations,
                             Providers providers, ProtectedItems items, RecoveryPointsApi points, SegmentIntake intake,
                             Metrics metrics, ItemView view) {
        this.view = view;
        this.failbackSource = new FailbackSource(agents, engine);
        this.options = options;
        this.resources = resources;
        this.store = store;
        this.agents = agents;
        this.keys = keys;
        this.engine = engine;
        this.registrations = registrations;
        this.providers = providers;
        this.items = items;
        this.points = points;
        this.intake = intake;
        this.metrics = metrics;
    }

    /** Builds the module over a cache store of the caller's choice (FileBlobStore under the data dir by default). */
    public static ProtectionModule create(Jdbi jdbi, Settings settings, ResourceStore resources, VaultScope scope,
                                          JobsApi jobs, Options options, BlobStore cacheBlobs, Clock clock)
            throws IOException {
        ProtectionStore store = new ProtectionStore(jdbi);
        AgentStore agents = new AgentStore(jdbi);
        RegistrationKeys keys = new RegistrationKeys(settings, clock);
        // Applies queue their writes: one segment's pack, manifests and state are written while the next is parsed.
        RecoveryStore recovery = new RecoveryStore(new WriteBehindBlobStore(new FileBlobStore(options.recoveryDir()),
                WriteBehindBlobStore.PENDING_BYTES_DEFAULT, WriteBehindBlobStore.FAIL_FAST_MILLIS_DEFAULT), clock);
        ReplicationEngine engine = new ReplicationEngine(store, new CacheStorage(cacheBlobs), recovery, clock);
        ItemView view = new ItemView(resources, store, agents, engine, clock);
        ProtectedItems items = new ProtectedItems(resources, scope, jobs, agents, store, engine, view, clock);
        engine.listener(items);
        return new ProtectionModule(options, resources, store, agents, keys, engine,
                new Registrations(resources, scope, agents, store, engine, keys, clock),
                new Providers(resources, scope, agents, store, jobs, clock), items,
                new RecoveryPointsApi(items, store, engine, jobs, options.exportDir()),
                new SegmentIntake(engine, store, clock), new Metrics(store, view), view);
    }

    public static ProtectionModule create(Jdbi jdbi, Settings settings, ResourceStore resources, VaultScope scope,
                                          JobsApi jobs, Options options, Clock clock) throws IOException {
        return create(jdbi, settings, resources, scope, jobs, options, options.cacheStore() != null
                ? options.cacheStore() : new FileBlobStore(options.cacheDir()), clock);
    }

    public List<Workflow> workflows() {
        List<Workflow> all = new ArrayList<>(items.workflows());
        all.addAll(points.workflows());
        all.addAll(providers.workflows());
        return all;
    }

    /** Loads the stores and starts the engine and housekeeping. Call before the listener accepts uploads. */
    public void start() throws IOException {
        engine.start();
        items.reconcileStates();
        housekeeping = Executors.newSingleThreadScheduledExecutor(Thread.ofPlatform().name("protection-housekeeping")
                .daemon(true).factory());
        long every = options.housekeepingEvery().toMillis();
        housekeeping.scheduleWithFixedDelay(this::housekeep, every, every, TimeUnit.MILLISECONDS);
    }

    /** Retention, garbage collection, store measurements and orphan cleanup; runs every housekeepingEvery. */
    void housekeep() {
        try {
            items.reconcileOrphans();
            for (AgentStore.Agent agent : agents.all()) {
                if (resources.find(agent.fabricId()).isEmpty()) {
                    agents.delete(agent.id()); // its fabric (or vault) was deleted: the registration is void
                }
            }
            int pruned = 0;
            Instant now = Instant.now();
            for (ProtectionStore.Item item : store.items()) {
                if (item.state().equals(ProtectionStore.DISABLING)) {
                    continue;
                }
                pruned += retain(item, now);
            }
            if (pruned > 0 || housekeepingRuns % 12 == 0) {
                engine.collectGarbage();
            }
            engine.measureStoreBytes();
            afterHousekeeping.forEach(Runnable::run);
            housekeepingRuns++;
        } catch (IOException | RuntimeException e) {
            LOG.error("protection housekeeping failed; it runs again in {}", options.housekeepingEvery(), e);
        }
    }

    /**
     * Retention of one item's points: {@link PointRetention} by its policy's recovery point history and
     * crash-consistent frequency, over the machine points (the times every disk has a point at), and the points its
     * failovers chose. A disk's point newer than the newest machine point is kept: the other disks may not have
     * applied theirs yet. Returns how many manifests it deleted.
     */
    private int retain(ProtectionStore.Item item, Instant now) throws IOException {
        JsonNode policy = resources.find(item.policyId()).map(p -> p.properties().path("providerSpecificDetails"))
                .orElse(MissingNode.getInstance());
        PointRetention retention = new PointRetention(
                Duration.ofMinutes(Math.max(0, policy.path("recoveryPointHistory").asInt(1440))),
                Duration.ofMinutes(Math.max(1, policy.path("crashConsistentFrequencyInMinutes").asInt(5))));
        List<PointRetention.Point> machine = points.points(item.itemId()).stream()
                .map(p -> new PointRetention.Point(p.time(), p.appConsistent())).toList();
        Set<Instant> kept = new HashSet<>(retention.kept(machine, now));
        // The point a failover or test failover chose stays: its job may not have built the disks from it yet.
        item.failover().forEach(record -> {
            if (record.hasNonNull("recoveryPointTime")) {
                kept.add(Instant.parse(record.path("recoveryPointTime").asText()));
            }
        });
        Instant newest = machine.isEmpty() ? Instant.MIN : machine.getLast().time();
        int deleted = 0;
        for (ProtectionStore.Disk disk : store.disksOf(item.itemId())) {
            deleted += engine.retain(disk.diskId(), m -> kept.contains(m.createdAt()) || m.createdAt().isAfter(newest));
        }
        return deleted;
    }

    /** Work that runs after each housekeeping pass (RPO alerts, for one). */
    public void afterHousekeeping(Runnable work) {
        afterHousekeeping.add(work);
    }

    public RegistrationKeys registrationKeys() { return keys; }
    public AgentStore agents() { return agents; }
    public ProtectionStore store() { return store; }
    public ReplicationEngine engine() { return engine; }
    public Registrations registrations() { return registrations; }
    public Providers providers() { return providers; }
    public ProtectedItems items() { return items; }
    public RecoveryPointsApi points() { return points; }
    public SegmentIntake intake() { return intake; }
    public Metrics metrics() { return metrics; }
    public ItemView view() { return view; }
    public FailbackSource failbackSource() { return failbackSource; }
    public Options options() { return options; }

    @Override
    public void close() {
        if (housekeeping != null) {
            housekeeping.shutdownNow();
            try {
                housekeeping.awaitTermination(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        engine.close();
        engine.recovery().close();
    }
}
