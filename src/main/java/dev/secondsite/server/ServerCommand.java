package dev.secondsite.server;

import dev.secondsite.Causes;
import dev.secondsite.protection.ProtectionModule;
import dev.secondsite.replication.blob.AzureBlobStore;
import dev.secondsite.store.Database;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.net.BindException;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;

/** {@code secondsite server}: the control plane with its embedded default store. */
@Command(name = "server", mixinStandardHelpOptions = true,
        description = "Run the SecondSite server (HTTPS ARM API, job engine) on the embedded store or PostgreSQL.")
public final class ServerCommand implements Callable<Integer> {
    @Option(names = "--data-dir", defaultValue = "${env:SECONDSITE_DATA:-data}",
            description = "Directory for the embedded store, TLS files and admin.json (default: ${DEFAULT-VALUE}).")
    Path dataDir;

    @Option(names = "--db", defaultValue = "embedded",
            description = "'embedded' (H2 file under the data dir) or a PostgreSQL URL, e.g. "
                    + "jdbc:postgresql://127.0.0.1:5432/secondsite (default: ${DEFAULT-VALUE}).")
    String db;

    @Option(names = "--port", defaultValue = "8443", description = "HTTPS port; 0 picks a free one (default: ${DEFAULT-VALUE}).")
    int port;

    @Option(names = "--bind", defaultValue = "127.0.0.1", description = "Address to listen on (default: ${DEFAULT-VALUE}).")
    String bind;

    @Option(names = "--job-workers", defaultValue = "2", description = "Job worker threads (default: ${DEFAULT-VALUE}).")
    int jobWorkers;

    @Option(names = "--cache-store", defaultValue = "file", paramLabel = "STORE",
            description = "Where replicated data waits to be applied: 'file' (<data-dir>/cache) or 'azure:' followed by"
                    + " an Azure Storage connection string, e.g. azure:DefaultEndpointsProtocol=http;AccountName=..."
                    + ";AccountKey=...;BlobEndpoint=http://127.0.0.1:10000/devstoreaccount1 (default: ${DEFAULT-VALUE}).")
    String cacheStore;

    @Option(names = "--cache-container", defaultValue = "secondsite-cache", paramLabel = "NAME",
            description = "Blob container of an azure: --cache-store (default: ${DEFAULT-VALUE}).")
    String cacheContainer;

    @Option(names = "--task-delay-ms", defaultValue = "0", hidden = true,
            description = "Pause before each job task; for demos and crash tests.")
    long taskDelayMillis;

    @Override
    public Integer call() throws Exception {
        if (port < 0 || port > 65535) {
            System.err.println("secondsite server: --port must be 0-65535, got " + port);
            return 2;
        }
        if (jobWorkers < 1 || jobWorkers > 64) {
            System.err.println("secondsite server: --job-workers must be 1-64, got " + jobWorkers);
            return 2;
        }
        ProtectionModule.Options protection = ProtectionModule.Options.defaults(dataDir.toAbsolutePath());
        String cacheDescription = protection.cacheDir().toString();
        if (cacheStore.startsWith("azure:")) {
            try {
                AzureBlobStore blobs = AzureBlobStore.fromConnectionString(cacheStore.substring("azure:".length()),
                        cacheContainer);
                protection = protection.withCacheStore(blobs);
                cacheDescription = "Azure blob container " + cacheContainer;
            } catch (IllegalArgumentException | IOException e) {
                System.err.println("secondsite server: --cache-store: " + e.getMessage());
                return 2;
            }
        } else if (!cacheStore.equals("file")) {
            System.err.println("secondsite server: --cache-store must be 'file' or 'azure:<connection string>', got '"
                    + (cacheStore.length() > 40 ? cacheStore.substring(0, 40) + "..." : cacheStore) + "'");
            return 2;
        }
        SecondSiteServer server;
        try {
            server = SecondSiteServer.start(new SecondSiteServer.Options(dataDir, db, bind, port, jobWorkers,
                    taskDelayMillis), protection);
        } catch (IllegalArgumentException e) {
            System.err.println("secondsite server: " + e.getMessage());
            return 2;
        } catch (Database.InUseException e) {
            System.err.println("secondsite server: " + e.getMessage());
            return 1;
        } catch (Exception e) {
            BindException bindFailure = Causes.find(e, BindException.class).orElse(null); // Javalin wraps it
            if (bindFailure == null) {
                throw e;
            }
            System.err.println("secondsite server: " + (String.valueOf(bindFailure.getMessage()).contains("in use")
                    ? "port " + port + " on " + bind + " is in use; pick another with --port"
                    : "cannot listen on " + bind + ":" + port + " (" + bindFailure.getMessage() + "); check --bind"));
            return 1;
        }
        Path abs = dataDir.toAbsolutePath();
        System.out.println("SecondSite server listening on https://" + bind + ":" + server.port());
        System.out.println("  CA certificate: " + abs.resolve("tls/ca.pem"));
        System.out.println("  admin credentials: " + abs.resolve("admin.json"));
        System.out.println("  cache store: " + cacheDescription);
        System.out.println("  store: " + (db.equals("embedded") ? abs.resolve("store") : db.replaceAll("password=[^&]*", "password=***")));
        System.out.flush();
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            server.close();
            stopped.countDown();
        }));
        stopped.await();
        return 0;
    }
}
