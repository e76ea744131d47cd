package dev.secondsite.store;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import org.flywaydb.core.Flyway;
import dev.secondsite.Causes;
import org.jdbi.v3.core.Jdbi;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;

/**
 * The control-plane store: an embedded H2 file by default, PostgreSQL in production.
 * Both run the same Flyway migrations (db/migration), so there is one schema to reason about.
 */
public final class Database implements AutoCloseable {
    /** H2's error code for a database file another process has open (ErrorCode.DATABASE_ALREADY_OPEN_1). */
    private static final int H2_DATABASE_ALREADY_OPEN = 90020;
    private final HikariDataSource dataSource;
    private final Jdbi jdbi;
    private final boolean embedded;
    /** PostgreSQL: the connection holding this server's claim on the schema ({@link #claimForServer}), or null. */
    private Connection claim;

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
        try {
            return open(url, null, true);
        } catch (RuntimeException e) {
            if (Causes.find(e, SQLException.class, sql -> sql.getErrorCode() == H2_DATABASE_ALREADY_OPEN).isPresent()) {
                throw new InUseException("another SecondSite server is running on data directory " + dataDir
                        + " (its embedded store is locked); stop it, or give this one another --data-dir");
            }
            throw e;
        }
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

    /**
     * Claims the store for this server process until {@link #close}. The data plane is one server's: its replication
     * engine applies the segments in its cache storage to its recovery store and rewrites the database's mirrors of
     * them at start, so a second server on the same schema (with its own data directory) would overwrite the first
     * one's replication state with its own. PostgreSQL: a session advisory lock keyed by the schema, on a
     * connection held open; the database releases it when the connection ends, also when the process is killed.
     * Embedded: H2's file lock already keeps a second process out of the data directory.
     *
     * @throws InUseException when another server holds the claim
     */
    public void claimForServer() throws SQLException {
        if (embedded || claim != null) {
            return;
        }
        Connection connection = dataSource.getConnection();
        String holder;
        try (PreparedStatement query = connection.prepareStatement(
                "SELECT pg_try_advisory_lock(hashtextextended('secondsite-server:' || current_schema(), 0)),"
                        + " current_database(), current_schema()");
             ResultSet row = query.executeQuery()) {
            row.next();
            holder = row.getBoolean(1) ? null : "database " + row.getString(2) + ", schema " + row.getString(3);
        } catch (SQLException | RuntimeException e) {
            connection.close();
            throw e;
        }
        if (holder != null) {
            connection.close();
            throw new InUseException("another SecondSite server is running on this store (" + holder + "); run one "
                    + "server per database schema (its recovery store and cache are its own), or stop the other one");
        }
        claim = connection;
    }

    /** Another server process holds the store ({@link #claimForServer}). */
    public static final class InUseException extends IllegalStateException {
        InUseException(String message) {
            super(message);
        }
    }

    @Override
    public void close() {
        if (claim != null) {
            try {
                claim.close(); // back to the pool, which ends its session below: the advisory lock goes with it
            } catch (SQLException ignored) {
                // the pool's close below ends the connection anyway
            }
            claim = null;
        }
        dataSource.close();
    }
}
