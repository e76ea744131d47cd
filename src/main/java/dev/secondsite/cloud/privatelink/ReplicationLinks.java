package dev.secondsite.cloud.privatelink;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.secondsite.cloud.Region;
import dev.secondsite.cloud.network.NetworkTypes;
import dev.secondsite.cloud.network.Subnets;
import dev.secondsite.cloud.network.Transactions;
import dev.secondsite.resource.ResourceStore;
import dev.secondsite.resource.StoredResource;
import dev.secondsite.rules.Operation;
import dev.secondsite.rules.ReplicationFacts;
import dev.secondsite.rules.ReplicationLinkFacts;
import dev.secondsite.rules.RuleCatalogue;
import dev.secondsite.rules.Violation;
import dev.secondsite.vault.VaultScope;
import org.jdbi.v3.core.Jdbi;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Seed 003: "when you enable the replication, it adds two additional private links for the source and target
 * region pairing", "two more fully qualified domain names ... on the private endpoints in both regions". Enable
 * protection calls {@link #add} after the seed rules passed and before its job is queued: every approved private
 * endpoint of the vault gets the pairing's two FQDNs ({@link dev.secondsite.rules.PrivateLink#pairingFqdns}) and two
 * dynamic addresses from its subnet, in customDnsConfigs and as IP configurations of its NIC. An endpoint with a DNS
 * zone group gets the A records in its zones (DNS integration); one without gets none: with manually created zones
 * the user adds them, as the seed says.
 *
 * <p>Idempotent per pairing: an endpoint that already has a pairing's FQDNs gets nothing, so the second item of the
 * same source and target regions adds nothing; another source region adds its own pair. A subnet without room fails
 * the enable with the catalogue's InsufficientSubnetIpsForReplicationPrivateLinks and changes nothing.
 *
 * <p>Only endpoints approved when replication is enabled get the links; one approved later (or approved between
 * the read and the locks above) gets them at the next enable of the same pairing, not at approval.
 *
 * <p>Disabling replication (even of the vault's last item) leaves the links: Azure's documentation describes adding
 * them, never removing them; the addresses are within the nine the seed asks the subnet to hold; and records in a
 * manually managed zone would otherwise dangle. They go with the endpoint.
 */
public final class ReplicationLinks {
    private final ResourceStore resources;
    private final Jdbi jdbi;
    private final Subnets subnets;
    private final EndpointNics nics;

    public ReplicationLinks(ResourceStore resources, Jdbi jdbi, Subnets subnets) {
        this.resources = resources;
        this.jdbi = jdbi;
        this.subnets = subnets;
        this.nics = new EndpointNics(resources, subnets);
    }

    /**
     * Adds the pairing of an enable's regions to the vault's approved endpoints. The source is the machine's Azure
     * region; an on-premises machine has none, and its pairing is then the target (vault) region with itself.
     */
    /** The catalogue's verdict on adding the pairing now, without adding it (the validate action). */
    public List<Violation> check(StoredResource vault, ReplicationFacts enable) {
        Region target = enable.target().region();
        Region source = enable.source().region() != null ? enable.source().region() : target;
        List<PrivateLinkTargets.Member> pairing = PrivateLinkTargets.pairingMembers(vault, source, target);
        Map<StoredResource, List<PrivateLinkTargets.Member>> missing = new LinkedHashMap<>();
        for (StoredResource pe : approvedEndpoints(vault)) {
            List<PrivateLinkTargets.Member> lacking = lacking(pe, pairing);
            if (!lacking.isEmpty()) {
                missing.put(pe, lacking);
            }
        }
        return RuleCatalogue.violations(Operation.ADD_REPLICATION_PRIVATE_LINKS, facts(vault, source, target, missing));
    }

    public void add(StoredResource vault, ReplicationFacts enable) {
        Region target = enable.target().region();
        Region source = enable.source().region() != null ? enable.source().region() : target;
        List<PrivateLinkTargets.Member> pairing = PrivateLinkTargets.pairingMembers(vault, source, target);
        List<String> vnets = approvedEndpoints(vault).stream().map(ReplicationLinks::vnetOf).map(ResourceStore::key)
                .distinct().sorted().toList();
        if (vnets.isEmpty()) {
            return;
        }
        Transactions.run(jdbi, h -> {
            // The networks in one order (endpoint creates and zone group writes take them too); then read again.
            vnets.forEach(v -> Transactions.lock(h, v));
            Map<StoredResource, List<PrivateLinkTargets.Member>> missing = new LinkedHashMap<>();
            for (StoredResource pe : approvedEndpoints(vault)) {
                if (!vnets.contains(ResourceStore.key(vnetOf(pe)))) {
                    continue; // approved since the locks were chosen: not ours to change unlocked (rare; see below)
                }
                List<PrivateLinkTargets.Member> lacking = lacking(pe, pairing);
                if (!lacking.isEmpty()) {
                    missing.put(pe, lacking);
                }
            }
            RuleCatalogue.enforce(Operation.ADD_REPLICATION_PRIVATE_LINKS, facts(vault, source, target, missing));
            missing.forEach((pe, members) -> addTo(h, pe, members));
            return null;
        });
    }

    private void addTo(org.jdbi.v3.core.Handle h, StoredResource pe, List<PrivateLinkTargets.Member> members) {
        StoredResource subnet = subnets.find(subnetOf(pe)).orElseThrow();
        String groupId = PrivateEndpoints.connectionOf(pe).at("/properties/groupIds/0").asText();
        Map<String, Long> allocated = nics.addTo(h, pe, subnet, groupId, members);
        Map<String, Long> dynamic = new HashMap<>();
        members.forEach(m -> dynamic.put(m.name(), null));
        ObjectNode body = pe.bodyCopy();
        ObjectNode props = (ObjectNode) body.path("properties");
        int before = props.path("customDnsConfigs").size();
        PrivateEndpoints.appendMembers(props, groupId, members, allocated, dynamic);
        String group = pe.id().substring(0, pe.id().toLowerCase(Locale.ROOT).indexOf("/providers/"));
        StoredResource stored = resources.put(pe.id(), group, PrivateLinkTypes.PRIVATE_ENDPOINT, pe.name(),
                pe.id().split("/")[2], body);
        ArrayNode dns = (ArrayNode) stored.properties().path("customDnsConfigs");
        List<JsonNode> added = new ArrayList<>();
        for (int i = before; i < dns.size(); i++) {
            added.add(dns.get(i));
        }
        DnsZoneGroups.addRecords(resources, stored, added);
    }

    /** The facts the catalogue judges: per subnet, the addresses its endpoints still need. */
    private ReplicationLinkFacts facts(StoredResource vault, Region source, Region target,
                                       Map<StoredResource, List<PrivateLinkTargets.Member>> missing) {
        Map<String, List<StoredResource>> bySubnet = missing.keySet().stream().collect(Collectors.groupingBy(
                pe -> ResourceStore.key(subnetOf(pe)), LinkedHashMap::new, Collectors.toList()));
        List<ReplicationLinkFacts.SubnetNeed> needs = new ArrayList<>();
        bySubnet.forEach((subnet, pes) -> needs.add(new ReplicationLinkFacts.SubnetNeed(
                subnets.facts(subnetOf(pes.getFirst())).orElseThrow(), pes.stream().map(StoredResource::name).toList(),
                pes.stream().mapToInt(pe -> missing.get(pe).size()).sum())));
        return new ReplicationLinkFacts(vault.name(), source, target, needs);
    }

    /** The pairing's members the endpoint doesn't have yet (compared by FQDN). */
    private static List<PrivateLinkTargets.Member> lacking(StoredResource pe, List<PrivateLinkTargets.Member> pairing) {
        Set<String> present = new java.util.HashSet<>();
        pe.properties().path("customDnsConfigs").forEach(d -> present.add(d.path("fqdn").asText().toLowerCase(Locale.ROOT)));
        return pairing.stream().filter(m -> !present.contains(m.fqdn().toLowerCase(Locale.ROOT))).toList();
    }

    /** The endpoints whose connection to the vault is approved (pending and rejected ones carry no traffic). */
    private List<StoredResource> approvedEndpoints(StoredResource vault) {
        List<StoredResource> out = new ArrayList<>();
        for (StoredResource c : resources.children(vault.id(), PrivateLinkTypes.connectionType(VaultScope.VAULT_TYPE))) {
            if (PrivateLinkTypes.APPROVED.equals(c.properties().at("/privateLinkServiceConnectionState/status").asText())) {
                Optional<StoredResource> pe = resources.find(c.properties().at("/privateEndpoint/id").asText());
                pe.ifPresent(out::add);
            }
        }
        return out;
    }

    private static String subnetOf(StoredResource pe) {
        return pe.properties().path("subnet").path("id").asText();
    }

    private static String vnetOf(StoredResource pe) {
        return NetworkTypes.vnetOfSubnet(subnetOf(pe));
    }
}
