package dev.secondsite.cloud;

import com.fasterxml.jackson.databind.JsonNode;
import dev.secondsite.testing.Arm;
import dev.secondsite.testing.ArmClient;

import java.net.http.HttpResponse;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;

/** Paths and small calls shared by the local-cloud API tests. */
final class CloudApi {
    static final String STORAGE_VERSION = "api-version=2023-05-01";
    static final String NETWORK_VERSION = "api-version=2024-05-01";
    static final String SUB = "00000000-0000-0000-0000-0000000000c1";

    private final ArmClient api;

    CloudApi(ArmClient api) {
        this.api = api;
    }

    ArmClient api() {
        return api;
    }

    static String unique(String prefix) {
        return prefix + UUID.randomUUID().toString().replace("-", "").substring(0, 10);
    }

    static String group(String rg) {
        return "/subscriptions/" + SUB + "/resourceGroups/" + rg;
    }

    static String storage(String rg, String name) {
        return group(rg) + "/providers/Microsoft.Storage/storageAccounts/" + name + "?" + STORAGE_VERSION;
    }

    static String storageId(String rg, String name) {
        return group(rg) + "/providers/Microsoft.Storage/storageAccounts/" + name;
    }

    static String vnet(String rg, String name) {
        return vnetId(rg, name) + "?" + NETWORK_VERSION;
    }

    static String vnetId(String rg, String name) {
        return group(rg) + "/providers/Microsoft.Network/virtualNetworks/" + name;
    }

    static String subnetId(String rg, String vnet, String subnet) {
        return vnetId(rg, vnet) + "/subnets/" + subnet;
    }

    static String subnet(String rg, String vnet, String subnet) {
        return subnetId(rg, vnet, subnet) + "?" + NETWORK_VERSION;
    }

    static String nicId(String rg, String name) {
        return group(rg) + "/providers/Microsoft.Network/networkInterfaces/" + name;
    }

    static String nic(String rg, String name) {
        return nicId(rg, name) + "?" + NETWORK_VERSION;
    }

    /** A new resource group in the region; returns its name. */
    String newGroup(String location) throws Exception {
        String rg = unique("rg-");
        HttpResponse<String> created = api.put(group(rg) + "?api-version=2021-04-01",
                "{\"location\":\"" + location + "\"}");
        assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
        return rg;
    }

    /** PUT a virtual network with one address prefix and subnets given as name=prefix pairs. */
    JsonNode putVnet(String rg, String name, String location, String prefix, String... subnets) throws Exception {
        HttpResponse<String> response = api.put(vnet(rg, name), vnetBody(location, prefix, subnets));
        assertThat(response.statusCode()).as(response.body()).isIn(200, 201);
        return Arm.json(response);
    }

    static String vnetBody(String location, String prefix, String... subnets) {
        StringBuilder s = new StringBuilder();
        for (String subnet : subnets) {
            String[] kv = subnet.split("=");
            if (!s.isEmpty()) {
                s.append(',');
            }
            s.append("{\"name\":\"").append(kv[0]).append("\",\"properties\":{\"addressPrefix\":\"").append(kv[1])
                    .append("\"}}");
        }
        return "{\"location\":\"" + location + "\",\"properties\":{\"addressSpace\":{\"addressPrefixes\":[\"" + prefix
                + "\"]},\"subnets\":[" + s + "]}}";
    }

    static String nicBody(String location, String subnetId, String privateIp) {
        String ip = privateIp == null ? "" : ",\"privateIPAllocationMethod\":\"Static\",\"privateIPAddress\":\""
                + privateIp + "\"";
        return "{\"location\":\"" + location + "\",\"properties\":{\"ipConfigurations\":[{\"name\":\"ipconfig1\","
                + "\"properties\":{\"subnet\":{\"id\":\"" + subnetId + "\"}" + ip + "}}]}}";
    }

    HttpResponse<String> putNic(String rg, String name, String location, String subnetId, String privateIp)
            throws Exception {
        return api.put(nic(rg, name), nicBody(location, subnetId, privateIp));
    }

    /** A NIC that must be created; returns its private IP. */
    String newNic(String rg, String name, String location, String subnetId) throws Exception {
        HttpResponse<String> response = putNic(rg, name, location, subnetId, null);
        assertThat(response.statusCode()).as(response.body()).isEqualTo(201);
        return Arm.json(response).at("/properties/ipConfigurations/0/properties/privateIPAddress").asText();
    }

    long freeIps(String rg, String vnet, String subnet) throws Exception {
        return api.getOk(subnet(rg, vnet, subnet)).at("/properties/freeIpAddressCount").asLong();
    }
}
