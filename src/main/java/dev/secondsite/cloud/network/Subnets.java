package dev.secondsite.cloud.network;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.secondsite.arm.ArmException;
import dev.secondsite.arm.ArmRequest;
import dev.secondsite.arm.ArmResponse;
import dev.secondsite.arm.Fields;
import dev.secondsite.arm.Json;
import dev.secondsite.resource.ResourceStore;
import dev.secondsite.resource.StoredResource;
import dev.secondsite.rules.SubnetFacts;
import org.jdbi.v3.core.Handle;
import org.jdbi.v3.core.Jdbi;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeSet;

/**
 * Subnets of a virtual network (Microsoft.Network/virtualNetworks/subnets): each is its own row under the
 * network, so a subnet's IP allocations can reference it. PUT, GET, DELETE, list. Reads add what the subnet
 * holds: the IP configurations using it and {@code freeIpAddressCount} (a SecondSite field: usable addresses
 * not yet allocated; Azure reserves five per prefix).
 */
public final class Subnets {
    private final ResourceStore resources;
    private final Jdbi jdbi;
    private final IpAllocations allocations;
    private final VirtualNetworks vnets;

    public Subnets(ResourceStore resources, Jdbi jdbi, IpAllocations allocations, VirtualNetworks vnets) {
        this.resources = resources;
        this.jdbi = jdbi;
        this.allocations = allocations;
        this.vnets = vnets;
    }

    public ArmResponse put(ArmRequest request) {
        String name = request.path().name();
        Fields body = Fields.of(request.bodyObject(), "");
        SubnetSpec spec = SubnetSpec.parse(name, body.object("properties"), "properties");
        return Transactions.run(jdbi, h -> {
            StoredResource vnet = vnets.requireLocked(h, request.path());
            List<SubnetSpec> all = new ArrayList<>();
            List<String> fields = new ArrayList<>();
            for (StoredResource sibling : resources.children(vnet.id(), NetworkTypes.SUBNET)) {
                if (!sibling.name().equalsIgnoreCase(name)) {
                    all.add(new SubnetSpec(sibling.name(), SubnetSpec.prefixesOf(sibling.properties()),
                            sibling.properties()));
                    fields.add(null);
                }
            }
            all.add(spec);
            fields.add(spec.properties().has("addressPrefix") ? "properties.addressPrefix" : "properties.addressPrefixes");
            VirtualNetworks.checkLayout(vnet.name(), VirtualNetworks.prefixesOf(vnet.body()), all, fields);
            Optional<StoredResource> existing = resources.find(vnet.id() + "/subnets/" + name);
            existing.ifPresent(current -> checkUpdatable(current, spec));
            StoredResource stored = save(vnet, existing, spec);
            return existing.isPresent() ? ArmResponse.ok(render(stored)) : ArmResponse.created(render(stored));
        });
    }

    public ArmResponse get(ArmRequest request) {
        StoredResource vnet = vnets.require(request.path());
        return ArmResponse.ok(render(requireSubnet(vnet, request.path().name())));
    }

    public ArmResponse list(ArmRequest request) {
        StoredResource vnet = vnets.require(request.path());
        return ArmResponse.ok(ArmResources.collection(renderAll(vnet)));
    }

    public ArmResponse delete(ArmRequest request) {
        return Transactions.run(jdbi, h -> {
            StoredResource vnet = vnets.requireLocked(h, request.path());
            Optional<StoredResource> subnet = resources.find(vnet.id() + "/subnets/" + request.path().name());
            if (subnet.isEmpty()) {
                return ArmResponse.noContent();
            }
            checkNotInUse(subnet.get());
            resources.delete(subnet.get().id());
            return ArmResponse.ok(null);
        });
    }

    /** A subnet by id, or empty when the id names no subnet. */
    public Optional<StoredResource> find(String subnetId) {
        return NetworkTypes.vnetOfSubnet(subnetId) == null ? Optional.empty() : resources.find(subnetId)
                .filter(r -> r.typeKey().equalsIgnoreCase(NetworkTypes.SUBNET));
    }

    /** The subnet as the rules see it: its id and how many addresses it still has free. */
    public Optional<SubnetFacts> facts(String subnetId) {
        return find(subnetId).map(s -> new SubnetFacts(s.id(), (int) Math.min(Integer.MAX_VALUE, freeCount(s))));
    }

    /**
     * Gives an owner that is not a NIC (a private endpoint) one address per named IP configuration: the
     * requested address when one is given (it must be in the subnet, not reserved and free), else the lowest
     * free one. The caller holds the network's lock ({@link Transactions#lock}) and has written the owner's row;
     * the addresses cascade away with it.
     *
     * @param requested configuration name to the static address asked for, or to null for a dynamic one
     * @return configuration name to its address, in the order given
     */
    public Map<String, Long> allocate(Handle h, StoredResource subnet, String ownerId, Map<String, Long> requested) {
        List<Cidr> prefixes = SubnetSpec.prefixesOf(subnet.properties());
        TreeSet<Long> taken = new TreeSet<>();
        IpAllocations.inSubnet(h, subnet.id()).forEach(a -> taken.add(a.address()));
        Map<String, Long> chosen = new LinkedHashMap<>();
        requested.forEach((name, address) -> {
            if (address == null) return;
            String ip = Ipv4.format(address);
            // The same codes as a NIC's static address (NetworkInterfaces), which keeps its own rules for updates.
            if (!SubnetSpec.contains(prefixes, address)) {
                throw new ArmException(400, "PrivateIPAddressNotInSubnet", "Private static IP address " + ip
                        + " does not belong to the range of subnet prefix " + prefixes + " of subnet " + subnet.id()
                        + ".");
            }
            if (SubnetSpec.isReserved(prefixes, address)) {
                throw new ArmException(400, "PrivateIPAddressInReservedRange", "Private static IP address " + ip
                        + " falls within the reserved IP range of subnet prefix " + prefixes + ": Azure reserves the "
                        + "first four addresses and the last address of each subnet prefix.");
            }
            if (!taken.add(address)) {
                throw ArmException.conflict("PrivateIPAddressInUse", "Private IP address " + ip + " of subnet "
                        + subnet.id() + " is already allocated.");
            }
            chosen.put(name, address);
        });
        for (String name : requested.keySet()) {
            if (chosen.containsKey(name)) continue;
            long address = SubnetSpec.nextFree(prefixes, taken).orElseThrow(() -> ArmException.conflict("SubnetIsFull",
                    "Subnet " + subnet.name() + " with address prefix " + prefixes + " does not have enough capacity "
                            + "for " + requested.size() + " IP addresses."));
            taken.add(address);
            chosen.put(name, address);
        }
        Map<String, Long> ordered = new LinkedHashMap<>();
        requested.keySet().forEach(name -> {
            ordered.put(name, chosen.get(name));
            IpAllocations.insert(h, subnet.id(), chosen.get(name), ownerId, name);
        });
        return ordered;
    }

    /** Usable addresses of the subnet not allocated to anything. */
    public long freeCount(StoredResource subnet) {
        return SubnetSpec.usableCount(SubnetSpec.prefixesOf(subnet.properties())) - allocations.countInSubnet(subnet.id());
    }

    StoredResource requireSubnet(StoredResource vnet, String name) {
        return resources.find(vnet.id() + "/subnets/" + name).orElseThrow(() -> new ArmException(404, "NotFound",
                "Resource '" + vnet.id() + "/subnets/" + name + "' not found."));
    }

    List<ObjectNode> renderAll(StoredResource vnet) {
        List<ObjectNode> out = new ArrayList<>();
        for (StoredResource subnet : resources.children(vnet.id(), NetworkTypes.SUBNET)) {
            out.add(render(subnet));
        }
        return out;
    }

    /** The subnet as the API returns it: the stored definition plus what uses it and its free address count. */
    ObjectNode render(StoredResource subnet) {
        ObjectNode body = subnet.bodyCopy();
        body.put("etag", ArmResources.etag(subnet.etag()));
        ObjectNode props = (ObjectNode) body.path("properties");
        List<IpAllocations.Allocation> used = allocations.inSubnet(subnet.id());
        if (!used.isEmpty()) {
            ArrayNode configs = props.putArray("ipConfigurations");
            used.forEach(a -> configs.addObject().put("id", a.ipConfigurationId()));
        }
        long usable = SubnetSpec.usableCount(SubnetSpec.prefixesOf(subnet.properties()));
        props.put("freeIpAddressCount", usable - used.size());
        return body;
    }

    /** Writes a subnet row under its network (inside the caller's transaction). */
    StoredResource save(StoredResource vnet, Optional<StoredResource> existing, SubnetSpec spec) {
        String id = existing.map(StoredResource::id).orElse(vnet.id() + "/subnets/" + spec.name());
        ObjectNode subnet = Json.object();
        subnet.put("id", id);
        subnet.put("name", existing.map(StoredResource::name).orElse(spec.name()));
        subnet.put("type", NetworkTypes.SUBNET);
        ObjectNode props = subnet.putObject("properties");
        props.put("provisioningState", "Succeeded");
        props.setAll(spec.properties());
        return resources.put(id, vnet.id(), NetworkTypes.SUBNET, subnet.path("name").asText(),
                id.split("/")[2], subnet);
    }

    /** A subnet whose addresses are in use keeps its prefixes (Azure: InUseSubnetCannotBeUpdated). */
    void checkUpdatable(StoredResource current, SubnetSpec spec) {
        List<Cidr> before = SubnetSpec.prefixesOf(current.properties());
        if (!before.equals(spec.prefixes())) {
            List<IpAllocations.Allocation> used = allocations.inSubnet(current.id());
            if (!used.isEmpty()) {
                throw ArmException.conflict("InUseSubnetCannotBeUpdated", "Subnet '" + current.name()
                        + "' is in use by " + used.getFirst().ipConfigurationId() + " (and " + (used.size() - 1)
                        + " more) and its address prefix cannot be changed. Delete the IP configurations first.");
            }
        }
    }

    void checkNotInUse(StoredResource subnet) {
        List<IpAllocations.Allocation> used = allocations.inSubnet(subnet.id());
        if (!used.isEmpty()) {
            throw ArmException.conflict("InUseSubnetCannotBeDeleted", "Subnet '" + subnet.name() + "' is in use by "
                    + used.getFirst().ipConfigurationId() + (used.size() > 1 ? " and " + (used.size() - 1) + " more" : "")
                    + " and cannot be deleted. In order to delete the subnet, delete all the resources within the subnet.");
        }
    }
}
