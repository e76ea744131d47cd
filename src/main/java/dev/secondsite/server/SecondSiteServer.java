package dev.secondsite.server;

import dev.secondsite.arm.ArmException;
import dev.secondsite.arm.ArmRouter;
import dev.secondsite.arm.ArmRoutes;
import dev.secondsite.auth.BuiltInRole;
import dev.secondsite.auth.IdentityService;
import dev.secondsite.auth.Principal;
import dev.secondsite.auth.Rbac;
import dev.secondsite.auth.ServicePrincipals;
import dev.secondsite.auth.TokenEndpoint;
import dev.secondsite.auth.TokenService;
import dev.secondsite.cloud.LocationsApi;
import dev.secondsite.cloud.compute.Compute;
import dev.secondsite.cloud.network.IpAllocations;
import dev.secondsite.cloud.network.NetworkInterfaces;
import dev.secondsite.cloud.network.VirtualNetworks;
import dev.secondsite.cloud.privatelink.PrivateLinkApi;
import dev.secondsite.cloud.privatelink.VaultLinks;
import dev.secondsite.cloud.storage.StorageAccounts;
import dev.secondsite.cloud.identity.UserAssignedIdentities;
import dev.secondsite.cloud.privatelink.ReplicationLinks;
import dev.secondsite.failover.Failovers;
import dev.secondsite.failover.RecoveryPlans;
import dev.secondsite.failover.RecoveryVms;
import dev.secondsite.failover.Reprotection;
import dev.secondsite.jobs.JobEngine;
import dev.secondsite.monitoring.ReplicationEvents;
import dev.secondsite.monitoring.RpoAlerts;
import dev.secondsite.jobs.JobStore;
import dev.secondsite.jobs.JobsApi;
import dev.secondsite.agentapi.AgentApi;
import dev.secondsite.protection.Metrics;
import dev.secondsite.protection.EnableFacts;
import dev.secondsite.protection.ProtectedItems;
import dev.secondsite.protection.ProtectionModule;
import dev.secondsite.resource.ResourceStore;
import dev.secondsite.resource.StoredResource;
import dev.secondsite.rules.ReplicationFacts;
import dev.secondsite.rules.Violation;
import dev.secondsite.store.Database;
import dev.secondsite.store.Settings;
import dev.secondsite.tls.TlsMaterial;
import dev.secondsite.vault.ContainerMappings;
import dev.secondsite.vault.Containers;
import dev.secondsite.vault.Fabrics;
import dev.secondsite.vault.Policies;
import dev.secondsite.vault.ResourceGroups;
import dev.secondsite.vault.VaultScope;
import dev.secondsite.vault.Vaults;
import io.javalin.Javalin;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.util.ssl.SslContextFactory;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;

/**
 * The control-plane server, wired by hand: store, identity, tokens, RBAC, job engine, resource
 * handlers, then the HTTPS listener. Reading {@link #start} top to bottom shows the whole server.
 */
public final class SecondSiteServer implements AutoCloseable {
    /** Options of one server run. */
    public record Options(Path dataDir, String db, String bindAddress, int port, int jobWorkers, long taskDelayMillis) {}

    private final Database database;
    private final JobEngine engine;
    private final Javalin app;
    private final ServerConnector connector;
    private final Principal admin;
    private final ProtectionModule protection;

    private SecondSiteServer(Database database, JobEngine engine, Javalin app, ServerConnector connector,
                             Principal admin, ProtectionModule protection) {
        this.database = database;
        this.engine = engine;
        this.app = app;
        this.connector = connector;
        this.admin = admin;
        this.protection = protection;
    }

    public static SecondSiteServer start(Options options) throws Exception {
        return start(options, ProtectionModule.Options.defaults(options.dataDir().toAbsolutePath()));
    }

    /** Starts with explicit data-plane options (tests shorten housekeeping, for one). */
    public static SecondSiteServer start(Options options, ProtectionModule.Options protectionOptions) throws Exception {
        Path dataDir = options.dataDir().toAbsolutePath();
        Files.createDirectories(dataDir);
        Database database = Database.fromOption(options.db(), dataDir);
        ProtectionModule protection = null;
        // What a failed start (a port in use, say) must stop again, newest first, before the store closes.
        java.util.Deque<Runnable> stopOnFailure = new java.util.ArrayDeque<>();
        try {
            database.claimForServer(); // one server per store: fails before anything starts
            Settings settings = new Settings(database.jdbi());
            IdentityService identities = new IdentityService(database.jdbi(), settings);
            TokenService tokens = new TokenService(settings, identities, Clock.systemUTC());
            // Vault managed identities may hold roles too (seed 003); they live in the vaults' bodies.
            // Role assignments may name managed identities: a vault's system-assigned one or a user-assigned one.
            ResourceStore identityLookup = new ResourceStore(database.jdbi());
            Rbac rbac = new Rbac(database.jdbi(), identities, VaultLinks.managedIdentities(identityLookup)
                    .or(principal -> UserAssignedIdentities.isIdentity(identityLookup, principal)));
            Principal admin = identities.ensureAdmin(dataDir);
            if (rbac.forPrincipal(admin.objectId()).isEmpty()) {
                rbac.assign("/", BuiltInRole.OWNER, admin.objectId());
            }

            ResourceStore resources = new ResourceStore(database.jdbi());
            JobStore jobStore = new JobStore(database.jdbi());
            JobEngine engine = new JobEngine(jobStore, options.jobWorkers(), options.taskDelayMillis());
            VaultScope scope = new VaultScope(resources);
            JobsApi jobs = new JobsApi(jobStore, engine, resources, scope);

            ResourceGroups groups = new ResourceGroups(resources, identities.tenantId());
            Vaults vaults = new Vaults(resources, database.jdbi(), scope, identities.tenantId());
            Policies policies = new Policies(resources, scope, jobs);
            Fabrics fabrics = new Fabrics(resources, scope, jobs);
            Containers containers = new Containers(resources, fabrics, scope, jobs);
            ContainerMappings mappings = new ContainerMappings(resources, containers, scope, jobs);
            policies.workflows().forEach(engine::register);
            fabrics.workflows().forEach(engine::register);
            containers.workflows().forEach(engine::register);
            mappings.workflows().forEach(engine::register);
            // The replication data plane (agents, protected items, engine); cache storage: a directory for now.
            protection = ProtectionModule.create(database.jdbi(), settings, resources, scope, jobs, protectionOptions,
                    Clock.systemUTC());
            protection.workflows().forEach(engine::register);

            ArmRoutes routes = ApiRoutes.build(groups, vaults, policies, fabrics, containers, mappings, jobs, rbac,
                    new ServicePrincipals(identities), new LocationsApi());
            VirtualNetworks vnets = new VirtualNetworks(resources, database.jdbi(), scope,
                    new IpAllocations(database.jdbi()));
            NetworkInterfaces nics = new NetworkInterfaces(resources, database.jdbi(), scope, rbac);
            ApiRoutes.cloud(routes, new StorageAccounts(resources, database.jdbi(), scope, vnets.subnets()), vnets,
                    nics);
            PrivateLinkApi privateLink = PrivateLinkApi.create(resources, database.jdbi(), scope, rbac, vnets.subnets());
            ApiRoutes.privateLink(routes, privateLink);
            // Enabling replication adds the region pairing's links to the vault's private endpoints (seed 003);
            // the validate action reports what adding them would refuse.
            ReplicationLinks links = privateLink.replicationLinks();
            protection.items().enableHook(new ProtectedItems.EnableHook() {
                @Override
                public void beforeEnable(StoredResource vault, ReplicationFacts facts) {
                    links.add(vault, facts);
                }

                @Override
                public List<Violation> check(StoredResource vault, ReplicationFacts facts) {
                    return links.check(vault, facts);
                }
            });
            Compute compute = Compute.start(database.jdbi(), resources, scope, rbac, nics, dataDir,
                    database.isEmbedded());
            stopOnFailure.push(compute::close);
            ApiRoutes.compute(routes, compute);
            // Enable protection resolves Azure targets (storage, networks, vault identity roles, quotas) here.
            EnableFacts enableFacts = new EnableFacts(resources, rbac, compute.quotas);
            protection.items().targets(enableFacts);
            ApiRoutes.protection(routes, protection);
            ArmRouter router = new ArmRouter(routes, tokens, rbac);
            // Failover builds the recovered VM through the router, as the user who asked for it (ASR calls ARM so).
            RecoveryVms recoveryVms = new RecoveryVms(router, protection.points().exportDir().resolve("failover"));
            Reprotection reprotection = new Reprotection(resources, protection, compute, router, recoveryVms,
                    Clock.systemUTC());
            stopOnFailure.push(reprotection::stop);
            Failovers failovers = new Failovers(resources, protection, jobs, enableFacts, recoveryVms, reprotection,
                    Clock.systemUTC());
            failovers.workflows().forEach(engine::register);
            ApiRoutes.failover(routes, failovers);
            // RPO threshold alerts become replicationEvents after each housekeeping pass.
            ReplicationEvents events = new ReplicationEvents(database.jdbi(), scope);
            protection.afterHousekeeping(new RpoAlerts(resources, protection.store(), protection.view(), events)::check);
            ApiRoutes.monitoring(routes, events);
            ApiRoutes.identities(routes, new UserAssignedIdentities(resources, scope, identities.tenantId()));
            RecoveryPlans plans = new RecoveryPlans(resources, scope, jobs, protection.store(), failovers, Clock.systemUTC());
            plans.workflows().forEach(engine::register);
            ApiRoutes.recoveryPlans(routes, plans);
            TokenEndpoint tokenEndpoint = new TokenEndpoint(identities, tokens);

            TlsMaterial tls = TlsMaterial.loadOrCreate(dataDir.resolve("tls"), List.of(hostName()), List.of());
            ServerConnector[] connector = new ServerConnector[1];
            Javalin app = Javalin.create(config -> {
                config.showJavalinBanner = false;
                config.events.serverStopped(compute::close);
                config.events.serverStopped(reprotection::stop);
                config.router.caseInsensitiveRoutes = true;
                config.http.maxRequestSize = 8L * 1024 * 1024;
                config.jetty.addConnector((server, httpConfig) -> {
                    SslContextFactory.Server ssl = new SslContextFactory.Server();
                    ssl.setKeyStore(tls.serverKeyStore());
                    ssl.setKeyStorePassword(new String(tls.keyStorePassword()));
                    ServerConnector https = new ServerConnector(server, ssl);
                    https.setHost(options.bindAddress());
                    https.setPort(options.port());
                    connector[0] = https;
                    return https;
                });
            });
            app.get("/health", ctx -> ctx.json(java.util.Map.of("status", "Healthy")));
            // Prometheus scrape endpoint: unauthenticated like /health (the listener binds to loopback by default).
            ProtectionModule metricsSource = protection;
            app.get("/metrics", ctx -> ctx.contentType(Metrics.CONTENT_TYPE).result(metricsSource.metrics().render()));
            new AgentApi(protection).register(app);
            compute.registerSasRoutes(app);
            app.post("/{tenant}/oauth2/v2.0/token", tokenEndpoint::token);
            app.post("/{tenant}/oauth2/token", tokenEndpoint::token);
            app.get("/{tenant}/v2.0/.well-known/openid-configuration", tokenEndpoint::openIdConfiguration);
            app.get("/{tenant}/.well-known/openid-configuration", tokenEndpoint::openIdConfiguration);
            app.get("/{tenant}/discovery/v2.0/keys", tokenEndpoint::keys);
            for (String prefix : List.of("/subscriptions", "/providers")) {
                app.addHttpHandler(io.javalin.http.HandlerType.GET, prefix + "/<rest>", router::handle);
                app.addHttpHandler(io.javalin.http.HandlerType.GET, prefix, router::handle);
                app.addHttpHandler(io.javalin.http.HandlerType.PUT, prefix + "/<rest>", router::handle);
                app.addHttpHandler(io.javalin.http.HandlerType.PATCH, prefix + "/<rest>", router::handle);
                app.addHttpHandler(io.javalin.http.HandlerType.DELETE, prefix + "/<rest>", router::handle);
                app.addHttpHandler(io.javalin.http.HandlerType.POST, prefix + "/<rest>", router::handle);
            }
            app.error(404, ctx -> {
                // Javalin's own 404 for an unrouted path ("Endpoint GET /x not found", plain or JSON) becomes an
                // ARM error; the ARM router's 404s already carry an ARM error body.
                if (ctx.result() == null || !ctx.result().startsWith("{\"error\"")) {
                    ArmRouter.writeError(ctx, new ArmException(404, "NotFound",
                            "No API is served at '" + ctx.path() + "'."));
                }
            });
            protection.start(); // loads the stores before the listener accepts uploads
            reprotection.start(); // periodic reverse-replication passes of reprotected items
            app.start();
            engine.start(database.isEmbedded());
            return new SecondSiteServer(database, engine, app, connector[0], admin, protection);
        } catch (Exception e) {
            stopOnFailure.forEach(Runnable::run);
            if (protection != null) {
                protection.close();
            }
            database.close();
            throw e;
        }
    }

    private static String hostName() {
        try {
            return java.net.InetAddress.getLocalHost().getHostName();
        } catch (java.net.UnknownHostException e) {
            return "localhost";
        }
    }

    public int port() {
        return connector.getLocalPort();
    }

    public Principal admin() {
        return admin;
    }

    /** The replication data plane (registration keys, engine, stores). */
    public ProtectionModule protection() {
        return protection;
    }

    @Override
    public void close() {
        app.stop();
        engine.close();
        protection.close();
        database.close();
    }
}
