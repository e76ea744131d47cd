package dev.secondsite.cloud.network;

import dev.secondsite.resource.ResourceStore;
import org.jdbi.v3.core.Handle;
import org.jdbi.v3.core.Jdbi;

import java.util.List;

/**
 * The ip_allocations table: one row per private IPv4 address in use in a subnet. The row belongs to its
 * owner (a network interface) and to its subnet by foreign keys with ON DELETE CASCADE, so deleting either
 * resource through ResourceStore frees the address. Callers hold the virtual network's lock
 * ({@link Transactions#lock}) while they choose and write addresses.
 */
public final class IpAllocations {
    /** One allocated address. */
    public record Allocation(String subnetKey, long address, String ownerId, String ipConfiguration) {
        /** The ARM id of the IP configuration holding the address. */
        public String ipConfigurationId() {
            return ownerId + "/ipConfigurations/" + ipConfiguration;
        }
    }

    private static final String COLUMNS = "subnet_key, address, owner_id, ip_configuration";

    private final Jdbi jdbi;

    public IpAllocations(Jdbi jdbi) {
        this.jdbi = jdbi;
    }

    /** Addresses in use in a subnet, lowest first. */
    public List<Allocation> inSubnet(String subnetId) {
        return jdbi.withHandle(h -> inSubnet(h, subnetId));
    }

    static List<Allocation> inSubnet(Handle h, String subnetId) {
        return h.createQuery("SELECT " + COLUMNS + " FROM ip_allocations WHERE subnet_key = :s ORDER BY address")
                .bind("s", ResourceStore.key(subnetId)).map(IpAllocations::row).list();
    }

    public int countInSubnet(String subnetId) {
        return jdbi.withHandle(h -> h.createQuery("SELECT COUNT(*) FROM ip_allocations WHERE subnet_key = :s")
                .bind("s", ResourceStore.key(subnetId)).mapTo(Integer.class).one());
    }

    /** Addresses an owner (a NIC) holds, in any subnet. */
    public List<Allocation> ofOwner(String ownerId) {
        return jdbi.withHandle(h -> ofOwner(h, ownerId));
    }

    static List<Allocation> ofOwner(Handle h, String ownerId) {
        return h.createQuery("SELECT " + COLUMNS + " FROM ip_allocations WHERE owner_key = :o ORDER BY ip_configuration")
                .bind("o", ResourceStore.key(ownerId)).map(IpAllocations::row).list();
    }

    static void releaseOwner(Handle h, String ownerId) {
        h.createUpdate("DELETE FROM ip_allocations WHERE owner_key = :o").bind("o", ResourceStore.key(ownerId)).execute();
    }

    /** Inserts one allocation; the primary key refuses an address that is already taken. */
    static void insert(Handle h, String subnetId, long address, String ownerId, String ipConfiguration) {
        h.createUpdate("INSERT INTO ip_allocations (subnet_key, address, owner_key, owner_id, ip_configuration, "
                        + "allocated_at) VALUES (:s, :a, :ok, :o, :c, :t)")
                .bind("s", ResourceStore.key(subnetId)).bind("a", address).bind("ok", ResourceStore.key(ownerId))
                .bind("o", ownerId).bind("c", ipConfiguration).bind("t", System.currentTimeMillis()).execute();
    }

    private static Allocation row(java.sql.ResultSet rs, org.jdbi.v3.core.statement.StatementContext ctx)
            throws java.sql.SQLException {
        return new Allocation(rs.getString("subnet_key"), rs.getLong("address"), rs.getString("owner_id"),
                rs.getString("ip_configuration"));
    }
}
