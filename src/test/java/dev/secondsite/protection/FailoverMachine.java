package dev.secondsite.protection;

import com.fasterxml.jackson.databind.JsonNode;
import dev.secondsite.replication.ConsistencyType;

import java.net.http.HttpResponse;
import java.time.Instant;
import java.util.Random;

import static dev.secondsite.protection.ProtectionClient.RG;
import static dev.secondsite.protection.ProtectionClient.RS;
import static dev.secondsite.protection.ProtectionClient.expect;
import static dev.secondsite.protection.ProtectionClient.marker;
import static dev.secondsite.protection.ProtectionClient.segment;
import static dev.secondsite.protection.ProtectionClient.write;
import static org.assertj.core.api.Assertions.assertThat;

    /** One protected machine with an Azure target: its ids, its model disk and the next segment sequence. */
/**
 * One protected machine for failover tests: a site, a target resource group with a production and a test network
 * and a storage account, an agent registered with one {@link #DISK}-byte disk, the item enabled with that Azure
 * target (VM "{name}-vm", Standard_B2s), and a model of the disk that {@link #change} keeps in step with the
 * segments it uploads.
 */
final class FailoverMachine {
    static final long DISK = 4L << 20;
    static final String NETWORK = "api-version=2024-05-01";
    private static final String STORAGE = "api-version=2023-05-01";

    private final ProtectionClient c;
    final ProtectionClient.Site site;
    final String item;
    final String group;
    final String prodNet;
    final String testNet;
    final ProtectionClient.Agent agent;
    final String diskId;
    final byte[] disk = new byte[(int) DISK];
    long sequence = 1;
    final Random random = new Random(42);

    FailoverMachine(ProtectionClient c, String name) throws Exception {
        this(c, name, null);
    }

    /** {@code azureRegion}: the machine is an Azure VM in that region (seed 001's Government/public move). */
    FailoverMachine(ProtectionClient c, String name, String azureRegion) throws Exception {
        this(c, c.site(name, 1440), name, azureRegion);
    }

    /** A machine in {@code site}'s vault (several machines can share one, as recovery plan tests do). */
    FailoverMachine(ProtectionClient c, ProtectionClient.Site site, String name) throws Exception {
        this(c, site, name, null, true);
    }

    /** A machine enabled with a target resource group but no target network (failover creates one). */
    static FailoverMachine withoutTargetNetwork(ProtectionClient c, String name) throws Exception {
        return new FailoverMachine(c, c.site(name, 1440), name, null, false);
    }

    private FailoverMachine(ProtectionClient c, ProtectionClient.Site site, String name, String azureRegion)
            throws Exception {
        this(c, site, name, azureRegion, true);
    }

    private FailoverMachine(ProtectionClient c, ProtectionClient.Site site, String name, String azureRegion,
                            boolean targetNetwork) throws Exception {
        this.c = c;
        this.site = site;
        String sub = site.vault().split("/")[2];
        group = "/subscriptions/" + sub + "/resourceGroups/rg-" + name + "-target";
        expect(c.api.put(group + "?" + RG, "{\"location\":\"westus\"}"), 201);
        prodNet = vnet(name + "-prod", "10.1.0.0/16");
        testNet = vnet(name + "-test", "10.2.0.0/16");
        String storage = group + "/providers/Microsoft.Storage/storageAccounts/st" + name;
        HttpResponse<String> s = c.api.put(storage + "?" + STORAGE, "{\"location\":\"westus\",\"kind\":\"StorageV2\","
                + "\"sku\":{\"name\":\"Standard_LRS\"}}");
        assertThat(s.statusCode()).as(s.body()).isIn(200, 201);
        agent = c.registerOk(site, name + "01", DISK, azureRegion);
        item = name + "-item";
        c.succeed(c.api.put(site.item(item) + "?" + RS, "{\"properties\":{\"policyId\":\"" + site.policy()
                + "\",\"protectableItemId\":\"" + agent.protectableItemId() + "\",\"providerSpecificDetails\":{"
                + "\"instanceType\":\"InMageAzureV2\",\"storageAccountId\":\"" + storage + "\","
                + (targetNetwork ? "\"targetAzureNetworkId\":\"" + prodNet + "\",\"targetAzureSubnetId\":\"default\"," : "")
                + "\"targetAzureVmName\":\"" + name + "-vm\",\"targetAzureV2ResourceGroupId\":\"" + group + "\","
                + "\"targetVmSize\":\"Standard_B2s\"}}}"));
        diskId = c.heartbeatDisk(agent, DISK).path("diskId").asText();
    }

    String vnet(String name, String prefix) throws Exception {
        String id = group + "/providers/Microsoft.Network/virtualNetworks/" + name;
        String sub = prefix.replace("0.0/16", "0.0/24");
        HttpResponse<String> r = c.api.put(id + "?" + NETWORK, "{\"location\":\"westus\",\"properties\":{"
                + "\"addressSpace\":{\"addressPrefixes\":[\"" + prefix + "\"]},"
                + "\"subnets\":[{\"name\":\"default\",\"properties\":{\"addressPrefix\":\"" + sub + "\"}}]}}");
        assertThat(r.statusCode()).as(r.body()).isIn(200, 201);
        return id;
    }

    /** Writes random data at a few places and ends the segment with a crash-consistent point; returns the disk then. */
    byte[] change(int writes) throws Exception {
        long seq = sequence++;
        byte[] seg = segment(diskId, seq, DISK, w -> {
            for (int i = 0; i < writes; i++) {
                byte[] data = new byte[4096 * (1 + random.nextInt(8))];
                random.nextBytes(data);
                long offset = (long) random.nextInt((int) (DISK - data.length) / 512) * 512;
                write(w, disk, offset, data);
            }
            marker(w, ConsistencyType.CRASH_CONSISTENT, Instant.now(), "");
        });
        expect(c.upload(agent, diskId, seq, seg), 201);
        return disk.clone();
    }

    /** The protected item's ARM id. */
    String id() {
        return site.item(item);
    }

    JsonNode get() throws Exception {
        return c.item(site, item);
    }

    JsonNode props() throws Exception {
        return get().path("properties");
    }

    String vmId(String name) {
        return group + "/providers/Microsoft.Compute/virtualMachines/" + name;
    }

    HttpResponse<String> action(String action, String body) throws Exception {
        return c.api.post(site.item(item) + "/" + action + "?" + RS, body);
    }
}
