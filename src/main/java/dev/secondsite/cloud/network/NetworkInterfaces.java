package dev.secondsite.cloud.network;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.secondsite.arm.ArmException;
import dev.secondsite.arm.ArmRequest;
import dev.secondsite.arm.ArmResponse;
import dev.secondsite.arm.Fields;
import dev.secondsite.arm.Json;
import dev.secondsite.auth.Rbac;
import dev.secondsite.cloud.Region;
import dev.secondsite.resource.ResourceStore;
import dev.secondsite.resource.StoredResource;
import dev.secondsite.vault.VaultScope;
import org.jdbi.v3.core.Handle;
import org.jdbi.v3.core.Jdbi;

import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;

/**
 * Network interfaces (Microsoft.Network/networkInterfaces) and their private IP addresses. A PUT validates
 * the body, then in one transaction holding the virtual network's lock: resolves each IP configuration's
 * subnet, keeps or chooses its address (Dynamic: the lowest free usable one; Static: the one asked for, if
 * it is in the subnet, not reserved and not taken), writes the NIC and its ip_allocations rows. Two PUTs
 * can never get the same address: the lock serializes them and the table's primary key would refuse it.
 *
 * <p>A NIC attached to a VM ({@code properties.virtualMachine.id}, set through {@link #attach}) cannot be
 * deleted (NicInUse). Deleting a NIC, or the group holding it, frees its addresses by cascade.
 *
 * <p>The NIC of a private endpoint ({@code properties.privateEndpoint.id}) is created and deleted by its endpoint
 * and is read-only to users, as in Azure: a PUT is refused with Azure's CannotModifyNicAttachedToPrivateEndpoint,
 * a DELETE with InUseNetworkInterfaceCannotBeDeleted naming the endpoint, and no VM can attach it.
 */
public final class NetworkInterfaces {
    private static final List<String> METHODS = List.of("Dynamic", "Static");
    /** The action Azure checks on a subnet before a NIC may use it. */
    public static final String JOIN_ACTION = "Microsoft.Network/virtualNetworks/subnets/join/action";
    private static final SecureRandom RANDOM = new SecureRandom();

    private final ResourceStore resources;
    private final Jdbi jdbi;
    private final VaultScope scope;
    private final Rbac rbac;

    public NetworkInterfaces(ResourceStore resources, Jdbi jdbi, VaultScope scope, Rbac rbac) {
        this.resources = resources;
        this.jdbi = jdbi;
        this.scope = scope;
        this.rbac = rbac;
    }

    /** One IP configuration of a request, validated but not yet resolved against the store. */
    private record ConfigRequest(String name, String subnetId, String method, Long address, boolean primary,
                                 String field) {}

    public ArmResponse put(ArmRequest request) {
        StoredResource group = scope.requireGroup(request.path());
        String name = request.path().name();
        ArmResources.checkName(name, SubnetSpec.NAME, "network interface", SubnetSpec.NAME_RULE);
        Fields body = Fields.of(request.bodyObject(), "");
        Region region = ArmResources.location(body);
        ObjectNode tags = ArmResources.tags(body);
        Fields props = body.object("properties");
        List<ConfigRequest> configs = ipConfigurations(props);
        ObjectNode dns = Json.object();
        ArrayNode servers = dns.putArray("dnsServers");
        Fields dnsSettings = props.object("dnsSettings");
        ArrayNode rawServers = ArmResources.array(dnsSettings, "dnsServers");
        for (int i = 0; i < rawServers.size(); i++) {
            String text = rawServers.get(i).asText();
            servers.add(Ipv4.format(Ipv4.parse(text).orElseThrow(() -> ArmException.invalidField(
                    dnsSettings.path("dnsServers"), "'" + text + "' is not an IPv4 address."))));
        }
        dns.putArray("appliedDnsServers");
        boolean accelerated = ArmResources.bool(props, "enableAcceleratedNetworking").orElse(false);
        boolean forwarding = ArmResources.bool(props, "enableIPForwarding").orElse(false);
        Optional<ObjectNode> nsg = props.objectNode("networkSecurityGroup");

        String vnetId = NetworkTypes.vnetOfSubnet(configs.getFirst().subnetId());
        for (ConfigRequest c : configs) {
            rbac.authorize(request.principal(), c.subnetId(), JOIN_ACTION);
        }
        return Transactions.run(jdbi, h -> {
            Transactions.lock(h, vnetId);
            Map<String, StoredResource> subnets = new HashMap<>();
            for (ConfigRequest c : configs) {
                StoredResource subnet = resources.find(c.subnetId())
                        .filter(s -> s.typeKey().equalsIgnoreCase(NetworkTypes.SUBNET))
                        .orElseThrow(() -> new ArmException(400, "InvalidResourceReference", "Resource " + c.subnetId()
                                + " referenced by resource " + request.path().resourceId() + " was not found. Please "
                                + "make sure that the referenced resource exists.", c.field() + ".properties.subnet.id",
                                List.of()));
                String vnetLocation = resources.find(vnetId).orElseThrow().body().path("location").asText();
                if (!vnetLocation.equals(region.name())) {
                    throw new ArmException(400, "InvalidResourceReference", "Resource " + c.subnetId()
                            + " referenced by resource " + request.path().resourceId() + " is in region '" + vnetLocation
                            + "', but the network interface is in '" + region.name() + "'. Both resources must be "
                            + "in the same region.", c.field() + ".properties.subnet.id", List.of());
                }
                subnets.put(c.subnetId().toLowerCase(Locale.ROOT), subnet);
            }
            String id = group.id() + "/providers/" + NetworkTypes.NIC + "/" + name;
            Optional<StoredResource> existing = resources.find(id);
            if (existing.isPresent() && !existing.get().body().path("location").asText().equals(region.name())) {
                throw new ArmException(409, "InvalidResourceLocation", "The resource '" + name
                        + "' already exists in location '" + existing.get().body().path("location").asText()
                        + "' in resource group '" + group.name() + "'. A resource with the same name cannot be created "
                        + "in location '" + region.name() + "'.");
            }
            existing.ifPresent(NetworkInterfaces::refuseIfOwnedByPrivateEndpoint);
            String storedId = existing.map(StoredResource::id).orElse(id);
            Map<String, Long> addresses = chooseAddresses(h, storedId, configs, subnets);

            ObjectNode nic = existing.map(StoredResource::bodyCopy).orElseGet(() -> newNic(id, name, region));
            nic.set("tags", tags);
            ObjectNode p = (ObjectNode) nic.path("properties");
            p.put("provisioningState", "Succeeded");
            ArrayNode ipConfigurations = p.putArray("ipConfigurations");
            for (ConfigRequest c : configs) {
                StoredResource subnet = subnets.get(c.subnetId().toLowerCase(Locale.ROOT));
                ObjectNode cfg = ipConfigurations.addObject();
                cfg.put("name", c.name());
                cfg.put("id", storedId + "/ipConfigurations/" + c.name());
                cfg.put("type", NetworkTypes.IP_CONFIGURATION);
                ObjectNode cp = cfg.putObject("properties");
                cp.put("provisioningState", "Succeeded");
                cp.put("privateIPAddress", Ipv4.format(addresses.get(c.name().toLowerCase(Locale.ROOT))));
                cp.put("privateIPAllocationMethod", c.method());
                cp.putObject("subnet").put("id", subnet.id());
                cp.put("primary", c.primary());
                cp.put("privateIPAddressVersion", "IPv4");
            }
            p.set("dnsSettings", dns);
            p.put("enableAcceleratedNetworking", accelerated);
            p.put("enableIPForwarding", forwarding);
            nsg.ifPresentOrElse(v -> p.set("networkSecurityGroup", v), () -> p.remove("networkSecurityGroup"));
            StoredResource stored = resources.put(storedId, group.id(), NetworkTypes.NIC, nic.path("name").asText(),
                    group.id().split("/")[2], nic);
            IpAllocations.releaseOwner(h, storedId);
            for (ConfigRequest c : configs) {
                IpAllocations.insert(h, subnets.get(c.subnetId().toLowerCase(Locale.ROOT)).id(),
                        addresses.get(c.name().toLowerCase(Locale.ROOT)), storedId, c.name());
            }
            return existing.isPresent() ? ArmResponse.ok(render(stored)) : ArmResponse.created(render(stored));
        });
    }

    /**
     * The address of each configuration (by lower-cased name): requested ones first (validated), then kept
     * ones (a configuration that stays in its subnet keeps its address), then the lowest free for the rest.
     */
    private static Map<String, Long> chooseAddresses(Handle h, String nicId, List<ConfigRequest> configs,
                                                     Map<String, StoredResource> subnets) {
        Map<String, IpAllocations.Allocation> current = new HashMap<>();
        for (IpAllocations.Allocation a : IpAllocations.ofOwner(h, nicId)) {
            current.put(a.ipConfiguration().toLowerCase(Locale.ROOT), a);
        }
        Map<String, TreeSet<Long>> taken = new HashMap<>();
        Map<String, IpAllocations.Allocation> holders = new HashMap<>();
        for (StoredResource subnet : new HashSet<>(subnets.values())) {
            TreeSet<Long> set = new TreeSet<>();
            for (IpAllocations.Allocation a : IpAllocations.inSubnet(h, subnet.id())) {
                if (!a.ownerId().equalsIgnoreCase(nicId)) {
                    set.add(a.address());
                    holders.put(subnet.id().toLowerCase(Locale.ROOT) + "|" + a.address(), a);
                }
            }
            taken.put(subnet.id().toLowerCase(Locale.ROOT), set);
        }
        Map<String, Long> chosen = new HashMap<>();
        for (ConfigRequest c : configs) {
            if (c.address() == null) {
                continue;
            }
            StoredResource subnet = subnets.get(c.subnetId().toLowerCase(Locale.ROOT));
            List<Cidr> prefixes = SubnetSpec.prefixesOf(subnet.properties());
            String field = c.field() + ".properties.privateIPAddress";
            String ip = Ipv4.format(c.address());
            if (!SubnetSpec.contains(prefixes, c.address())) {
                throw new ArmException(400, "PrivateIPAddressNotInSubnet", "Private static IP address " + ip
                        + " does not belong to the range of subnet prefix " + prefixes + " of subnet " + subnet.id()
                        + ".", field, List.of());
            }
            if (SubnetSpec.isReserved(prefixes, c.address())) {
                throw new ArmException(400, "PrivateIPAddressInReservedRange", "Private static IP address " + ip
                        + " falls within the reserved IP range of subnet prefix " + prefixes + ": Azure reserves the "
                        + "first four addresses and the last address of each subnet prefix.", field, List.of());
            }
            TreeSet<Long> used = taken.get(subnet.id().toLowerCase(Locale.ROOT));
            if (used.contains(c.address())) {
                IpAllocations.Allocation holder = holders.get(subnet.id().toLowerCase(Locale.ROOT) + "|" + c.address());
                throw new ArmException(409, "PrivateIPAddressInUse", "IP configuration " + nicId + "/ipConfigurations/"
                        + c.name() + " is using the private IP address " + ip + " which is already allocated to "
                        + (holder != null ? "resource " + holder.ipConfigurationId() : "another IP configuration")
                        + ".", field, List.of());
            }
            used.add(c.address());
            chosen.put(c.name().toLowerCase(Locale.ROOT), c.address());
        }
        for (ConfigRequest c : configs) {
            String key = c.name().toLowerCase(Locale.ROOT);
            IpAllocations.Allocation before = current.get(key);
            if (c.address() == null && before != null && before.subnetKey().equalsIgnoreCase(c.subnetId())) {
                TreeSet<Long> used = taken.get(c.subnetId().toLowerCase(Locale.ROOT));
                if (used.add(before.address())) {
                    chosen.put(key, before.address());
                }
            }
        }
        for (ConfigRequest c : configs) {
            String key = c.name().toLowerCase(Locale.ROOT);
            if (chosen.containsKey(key)) {
                continue;
            }
            StoredResource subnet = subnets.get(c.subnetId().toLowerCase(Locale.ROOT));
            List<Cidr> prefixes = SubnetSpec.prefixesOf(subnet.properties());
            TreeSet<Long> used = taken.get(subnet.id().toLowerCase(Locale.ROOT));
            long address = SubnetSpec.nextFree(prefixes, used).orElseThrow(() -> new ArmException(409, "SubnetIsFull",
                    "Subnet " + subnet.name() + " with address prefix " + prefixes + " does not have enough capacity "
                            + "for 1 IP address: all " + SubnetSpec.usableCount(prefixes) + " usable addresses are "
                            + "allocated.", c.field() + ".properties.subnet.id", List.of()));
            used.add(address);
            chosen.put(key, address);
        }
        return chosen;
    }

    private static List<ConfigRequest> ipConfigurations(Fields props) {
        if (!props.has("ipConfigurations")) {
            throw ArmException.missingField("properties.ipConfigurations");
        }
        ArrayNode raw = ArmResources.array(props, "ipConfigurations");
        if (raw.isEmpty()) {
            throw ArmException.invalidField("properties.ipConfigurations",
                    "a network interface needs at least one IP configuration.");
        }
        List<ConfigRequest> configs = new ArrayList<>();
        Set<String> names = new HashSet<>();
        String vnetId = null;
        int primaries = 0;
        for (int i = 0; i < raw.size(); i++) {
            String field = "properties.ipConfigurations[" + i + "]";
            Fields cfg = Fields.of(raw.get(i), field);
            String name = cfg.string("name").orElse(null);
            if (name == null || !SubnetSpec.NAME.matcher(name).matches()) {
                throw new ArmException(400, "InvalidResourceName", "IP configuration name '" + name + "' is invalid: "
                        + SubnetSpec.NAME_RULE, cfg.path("name"), List.of());
            }
            if (!names.add(name.toLowerCase(Locale.ROOT))) {
                throw new ArmException(400, "DuplicateResourceName", "IP configuration '" + name
                        + "' is defined more than once.", cfg.path("name"), List.of());
            }
            Fields p = cfg.object("properties");
            Fields subnet = p.object("subnet");
            if (!subnet.has("id")) {
                throw ArmException.missingField(field + ".properties.subnet.id");
            }
            String subnetId = subnet.requiredString("id");
            String thisVnet = NetworkTypes.vnetOfSubnet(subnetId);
            if (thisVnet == null) {
                throw ArmException.invalidField(subnet.path("id"), "'" + subnetId + "' is not a subnet id such as "
                        + "/subscriptions/{s}/resourceGroups/{g}/providers/Microsoft.Network/virtualNetworks/{v}/subnets/{n}.");
            }
            if (vnetId != null && !vnetId.equalsIgnoreCase(thisVnet)) {
                throw new ArmException(400, "IpConfigurationsOfNicInDifferentVnets", "All IP configurations of a "
                        + "network interface must use subnets of the same virtual network; " + subnet.path("id")
                        + " names " + thisVnet + ", the first one names " + vnetId + ".", subnet.path("id"), List.of());
            }
            vnetId = thisVnet;
            p.oneOf("privateIPAddressVersion", List.of("IPv4", "IPv6")).filter(v -> v.equals("IPv6")).ifPresent(v -> {
                throw ArmException.invalidField(p.path("privateIPAddressVersion"),
                        "IPv6 addresses are not supported by the local cloud; use IPv4.");
            });
            Long address = p.string("privateIPAddress").filter(s -> !s.isBlank()).map(s -> Ipv4.parse(s)
                    .orElseThrow(() -> new ArmException(400, "InvalidPrivateIPAddressFormat", "'" + s
                            + "' is not an IPv4 address.", p.path("privateIPAddress"), List.of()))).orElse(null);
            String method = p.oneOf("privateIPAllocationMethod", METHODS).orElse("Dynamic");
            if (method.equals("Static") && address == null) {
                throw new ArmException(400, "PrivateIPAddressRequiredForStaticAllocation", "An IP configuration with "
                        + "privateIPAllocationMethod Static needs its privateIPAddress.", p.path("privateIPAddress"),
                        List.of());
            }
            boolean primary = ArmResources.bool(p, "primary").orElse(raw.size() == 1);
            if (primary) {
                primaries++;
            }
            configs.add(new ConfigRequest(name, subnetId, method, address, primary, field));
        }
        if (primaries != 1) {
            throw ArmException.invalidField("properties.ipConfigurations", "exactly one IP configuration must be "
                    + "primary (properties.primary: true); " + primaries + " are.");
        }
        return configs;
    }

    public ArmResponse get(ArmRequest request) {
        return ArmResponse.ok(render(require(request)));
    }

    public ArmResponse list(ArmRequest request) {
        List<StoredResource> found = scope.listInScope(request.path(), NetworkTypes.NIC);
        return ArmResponse.ok(ArmResources.collection(found.stream().map(NetworkInterfaces::render).toList()));
    }

    public ArmResponse delete(ArmRequest request) {
        scope.requireGroup(request.path());
        return Transactions.run(jdbi, h -> {
            Optional<StoredResource> nic = resources.find(request.path().resourceId());
            if (nic.isEmpty()) {
                return ArmResponse.noContent();
            }
            Transactions.lock(h, nic.get().id());
            String endpoint = privateEndpointOf(nic.get());
            if (!endpoint.isEmpty()) {
                throw new ArmException(400, "InUseNetworkInterfaceCannotBeDeleted", "Network Interface "
                        + nic.get().id() + " is used by existing resource " + endpoint + ". It is the network interface "
                        + "of the private endpoint and is deleted with it: delete the private endpoint instead.");
            }
            String vm = nic.get().properties().path("virtualMachine").path("id").asText("");
            if (!vm.isEmpty()) {
                throw ArmException.conflict("NicInUse", "Network Interface " + nic.get().id()
                        + " is used by existing resource " + vm + ". In order to delete the network interface, it must "
                        + "be dissociated from the resource.");
            }
            resources.delete(nic.get().id());
            return ArmResponse.ok(null);
        });
    }

    /** GET …/networkInterfaces/{n}/ipConfigurations/{c}. */
    public ArmResponse getIpConfiguration(ArmRequest request) {
        ObjectNode nic = render(require(request));
        for (JsonNode cfg : nic.path("properties").path("ipConfigurations")) {
            if (cfg.path("name").asText().equalsIgnoreCase(request.path().name())) {
                return ArmResponse.ok(cfg);
            }
        }
        throw new ArmException(404, "NotFound", "Resource '" + request.path().resourceId() + "' not found.");
    }

    public ArmResponse listIpConfigurations(ArmRequest request) {
        ObjectNode list = Json.object();
        list.set("value", render(require(request)).path("properties").path("ipConfigurations"));
        return ArmResponse.ok(list);
    }

    /**
     * Records that a VM uses this NIC (properties.virtualMachine.id); the VM side calls it when it attaches the
     * NIC. 404 when there is no such NIC, 409 NicInUse when another VM already has it.
     */
    public StoredResource attach(String nicId, String vmId) {
        return Transactions.run(jdbi, h -> {
            StoredResource nic = requireById(h, nicId);
            refuseIfOwnedByPrivateEndpoint(nic);
            String current = nic.properties().path("virtualMachine").path("id").asText("");
            if (!current.isEmpty() && !current.equalsIgnoreCase(vmId)) {
                throw ArmException.conflict("NicInUse", "Network Interface " + nic.id()
                        + " is already used by virtual machine " + current + ".");
            }
            ObjectNode body = nic.bodyCopy();
            ((ObjectNode) body.path("properties")).putObject("virtualMachine").put("id", vmId);
            return resources.put(nic.id(), nic.id().substring(0, nic.id().indexOf("/providers/")), NetworkTypes.NIC,
                    nic.name(), nic.id().split("/")[2], body);
        });
    }

    /** Clears properties.virtualMachine when it names this VM (detaching twice is harmless). */
    public void detach(String nicId, String vmId) {
        Transactions.run(jdbi, h -> {
            Optional<StoredResource> nic = resources.find(nicId);
            if (nic.isEmpty() || !nic.get().properties().path("virtualMachine").path("id").asText("")
                    .equalsIgnoreCase(vmId)) {
                return null;
            }
            Transactions.lock(h, nicId);
            ObjectNode body = nic.get().bodyCopy();
            ((ObjectNode) body.path("properties")).remove("virtualMachine");
            String id = nic.get().id();
            return resources.put(id, id.substring(0, id.indexOf("/providers/")), NetworkTypes.NIC, nic.get().name(),
                    id.split("/")[2], body);
        });
    }

    /** The private endpoint whose NIC this is, or "". */
    private static String privateEndpointOf(StoredResource nic) {
        return nic.properties().path("privateEndpoint").path("id").asText("");
    }

    private static void refuseIfOwnedByPrivateEndpoint(StoredResource nic) {
        String endpoint = privateEndpointOf(nic);
        if (!endpoint.isEmpty()) {
            throw new ArmException(400, "CannotModifyNicAttachedToPrivateEndpoint", "Network interface " + nic.id()
                    + " is attached to private endpoint " + endpoint + ". It can not be modified by user: the private "
                    + "endpoint manages its IP configurations.");
        }
    }

    private StoredResource requireById(Handle h, String nicId) {
        Transactions.lock(h, nicId);
        return resources.find(nicId).filter(r -> r.typeKey().equalsIgnoreCase(NetworkTypes.NIC))
                .orElseThrow(() -> new ArmException(404, "NotFound", "Resource '" + nicId + "' not found."));
    }

    private StoredResource require(ArmRequest request) {
        StoredResource group = scope.requireGroup(request.path());
        String name = request.path().name(0);
        return resources.require(group.id() + "/providers/" + NetworkTypes.NIC + "/" + name);
    }

    private static ObjectNode newNic(String id, String name, Region region) {
        ObjectNode nic = Json.object();
        nic.put("id", id);
        nic.put("name", name);
        nic.put("type", NetworkTypes.NIC);
        nic.put("location", region.name());
        ObjectNode p = nic.putObject("properties");
        p.put("resourceGuid", UUID.randomUUID().toString());
        // Azure's OUI 00-0D-3A, then three random bytes: stable for the NIC's life.
        p.put("macAddress", String.format("00-0D-3A-%02X-%02X-%02X", RANDOM.nextInt(256), RANDOM.nextInt(256),
                RANDOM.nextInt(256)));
        p.put("nicType", "Standard");
        p.put("vnetEncryptionSupported", false);
        return nic;
    }

    static ObjectNode render(StoredResource nic) {
        ObjectNode body = nic.bodyCopy();
        String etag = ArmResources.etag(nic.etag());
        body.put("etag", etag);
        for (JsonNode cfg : body.path("properties").path("ipConfigurations")) {
            ((ObjectNode) cfg).put("etag", etag);
        }
        return body;
    }
}
