package dev.secondsite.store;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import org.flywaydb.core.Flyway;
import org.jdbi.v3.core.Jdbi;

import java.nio.file.Path;

/**
 * The control-plane store: an embedded H2 file by default, PostgreSQL in production.
 * Both run the same Flyway migrations (db/migration), so there is one schema to reason about.
 */
public final class Database implements AutoCloseable {
    private final HikariDataSource dataSource;
    private final Jdbi jdbi;
    private final boolean embedded;

    private Database(HikariDataSource dataSource, boolean embedded) {
        this.dataSource = dataSource;
        this.jdbi = Jdbi.create(dataSource);
        this.embedded = embedded;
    }

    /** The embedded default: one H2 file under the data directory, usable by one server process at a time. */
    public static Database embedded(Path dataDir) {
        String url = "jdbc:h2:file:" + dataDir.toAbsolutePath().resolve("store/secondsite")
                + ";MODE=PostgreSQL;DATABASE_TO_LOWER=TRUE;DEFAULT_NULL_ORDERING=HIGH"
                // Write every commit to the file at once (H2 otherwise batches them for up to ~1 s, so a
                // killed server loses the last second of acknowledged writes: resources, jobs, leases).
                + ";WRITE_DELAY=0";
        return open(url, null, true);
    }

    /**
     * PostgreSQL from a JDBC URL ({@code jdbc:postgresql://host:port/db}) or a libpq-style URL
     * ({@code postgresql://user@host:port/db}). {@code schema} may be null for the default schema.
     */
    public static Database postgres(String url, String schema) {
        String jdbcUrl = url.startsWith("jdbc:") ? url : "jdbc:" + url.replaceFirst("^postgres(ql)?://", "postgresql://");
        if (schema == null) {
            // ?currentSchema=x in the URL: migrate (and create) that schema rather than "public".
            var m = java.util.regex.Pattern.compile("[?&]currentSchema=([A-Za-z_][A-Za-z0-9_]*)").matcher(jdbcUrl);
            schema = m.find() ? m.group(1) : null;
        }
        return open(jdbcUrl, schema, false);
    }

    /** Opens the store named by a --db option value: "embedded" (or null) or a PostgreSQL URL. */
    public static Database fromOption(String db, Path dataDir) {
        if (db == null || db.isBlank() || db.equals("embedded")) {
            return embedded(dataDir);
        }
        if (db.matches("^(jdbc:)?postgres(ql)?://.*")) {
            return postgres(db, null);
        }
        throw new IllegalArgumentException("--db must be 'embedded' or a PostgreSQL URL such as "
                + "jdbc:postgresql://127.0.0.1:5432/secondsite, got '" + db + "'");
    }

    private static Database open(String jdbcUrl, String schema, boolean embedded) {
        HikariConfig config = new HikariConfig();
        config.setJdbcUrl(jdbcUrl);
        config.setPoolName(embedded ? "secondsite-h2" : "secondsite-pg");
        config.setMaximumPoolSize(embedded ? 4 : 10);
        if (schema != null) {
            config.setSchema(schema);
        }
        if (!embedded && !jdbcUrl.contains("user=") && !jdbcUrl.matches("^jdbc:postgresql://[^/]*@.*")) {
            config.setUsername(System.getProperty("user.name"));
        }
        HikariDataSource dataSource = new HikariDataSource(config);
        try {
            var flyway = Flyway.configure().dataSource(dataSource).locations("classpath:db/migration");
            if (schema != null) {
                flyway.schemas(schema).createSchemas(true);
            }
            flyway.load().migrate();
        } catch (RuntimeException e) {
            dataSource.close();
            throw e;
        }
        return new Database(dataSource, embedded);
    }

    public Jdbi jdbi() {
        return jdbi;
    }

    /** True for the single-process embedded store: no other server can hold job leases. */
    public boolean isEmbedded() {
        return embedded;
    }

    @Override
    public void close() {
        dataSource.close();
    }
}
