package dev.secondsite.cloud;

import com.fasterxml.jackson.databind.JsonNode;
import dev.secondsite.testing.CliRunner;
import dev.secondsite.testing.LoggedInCliTest;
import dev.secondsite.testing.CliRunner.Run;
import org.junit.jupiter.api.Test;


import static org.assertj.core.api.Assertions.assertThat;

/**
 * Seed 003 step by step with the CLI: a vault, a private DNS zone linked to the network, a private endpoint
 * integrated with the zone (auto-approved, five addresses and A records), a manual request approved and another
 * rejected on the vault, the rules' errors, and clean-up.
 */
class PrivateLinkCliTest extends LoggedInCliTest {
    private static final String ZONE = "privatelink.siterecovery.windowsazure.com";
    private static Run ok(String... args) {
        Run r = CliRunner.run(args);
        assertThat(r.exit()).as("%s: %s", String.join(" ", args), r.err()).isZero();
        return r;
    }

    private static Run fails(String code, String... args) {
        Run r = CliRunner.run(args);
        assertThat(r.exit()).as("%s: %s", String.join(" ", args), r.out()).isEqualTo(1);
        assertThat(r.err()).startsWith("secondsite: " + code + ": ");
        return r;
    }

    @Test
    void vaultPrivateEndpointWithDnsAndApproval() throws Exception {
        String rg = CloudApi.unique("rg-");
        ok("group", "create", rg, "-l", "westus");
        String vault = ok("vault", "create", "pe-vault", "-g", rg, "-l", "westus", "-o", "json").json().path("id").asText();
        JsonNode vnet = ok("network", "vnet", "create", "net1", "-g", rg, "-l", "westus", "--address-prefix",
                "10.60.0.0/16", "--subnet", "default=10.60.0.0/24", "--subnet", "tiny=10.60.1.0/29", "-o", "json").json();
        String subnet = vnet.at("/properties/subnets/0/id").asText();
        String tiny = vnet.at("/properties/subnets/1/id").asText();

        String zone = ok("network", "private-dns", "zone", "create", ZONE, "-g", rg, "-o", "json").json().path("id").asText();
        ok("network", "private-dns", "link", "create", "net1-link", "--zone", ZONE, "-g", rg, "--vnet-id",
                vnet.path("id").asText());
        assertThat(ok("network", "private-dns", "link", "list", "--zone", ZONE, "-g", rg).out())
                .contains("net1-link", "net1", "Completed");

        JsonNode pe = ok("network", "private-endpoint", "create", "pe1", "-g", rg, "--subnet-id", subnet,
                "--target-id", vault, "--private-dns-zone-id", zone, "-o", "json").json();
        assertThat(pe.at("/properties/privateLinkServiceConnections/0/properties/privateLinkServiceConnectionState/status")
                .asText()).isEqualTo("Approved");
        assertThat(pe.at("/properties/customDnsConfigs")).hasSize(5);
        String[] table = ok("network", "private-endpoint", "list", "-g", rg).out().split("\\R");
        assertThat(table).hasSize(2);
        assertThat(table[0]).matches("NAME\\s+RESOURCE GROUP\\s+LOCATION\\s+TARGET\\s+GROUP\\s+STATUS\\s+PRIVATE IPS\\s+STATE");
        assertThat(table[1]).matches("pe1\\s+" + rg + "\\s+westus\\s+pe-vault\\s+AzureSiteRecovery\\s+Approved\\s+"
                + "10\\.60\\.0\\.4,10\\.60\\.0\\.5,10\\.60\\.0\\.6,10\\.60\\.0\\.7,10\\.60\\.0\\.8\\s+Succeeded");
        String[] records = ok("network", "private-dns", "record", "list", "--zone", ZONE, "-g", rg).out().split("\\R");
        assertThat(records).hasSize(6);
        assertThat(records[1]).matches("\\d+-asr-pod01-\\w+\\.wus\\s+10\\s+10\\.60\\.0\\.\\d\\s+.*" + ZONE.replace(".", "\\.") + "\\.");
        assertThat(ok("network", "private-endpoint", "show", "pe1", "-g", rg).out()).contains("Approved");

        // Requests for manual approval: one approved, one rejected for good.
        ok("network", "private-endpoint", "create", "pe2", "-g", rg, "--subnet-id", subnet, "--target-id", vault,
                "--manual", "--request-message", "from the network team");
        ok("network", "private-endpoint", "create", "pe3", "-g", rg, "--subnet-id", subnet, "--target-id", vault, "--manual");
        JsonNode connections = ok("vault", "private-endpoint-connection", "list", "-g", rg, "--vault", "pe-vault", "-o",
                "json").json().path("value");
        assertThat(connections).hasSize(3);
        String pe2 = null;
        String pe3 = null;
        for (JsonNode c : connections) {
            String name = c.path("name").asText();
            if (name.startsWith("pe2.")) pe2 = name;
            if (name.startsWith("pe3.")) pe3 = name;
        }
        assertThat(ok("vault", "private-endpoint-connection", "list", "-g", rg, "--vault", "pe-vault").out())
                .contains("Pending", "from the network team");
        assertThat(ok("vault", "private-endpoint-connection", "approve", pe2, "-g", rg, "--vault", "pe-vault").out())
                .contains("Approved");
        assertThat(ok("network", "private-endpoint", "show", "pe2", "-g", rg).out()).contains("Approved");
        ok("vault", "private-endpoint-connection", "reject", pe3, "-g", rg, "--vault", "pe-vault", "--description", "no");
        fails("PrivateEndpointConnectionRejected", "vault", "private-endpoint-connection", "approve", pe3, "-g", rg,
                "--vault", "pe-vault");
        assertThat(ok("vault", "show", "pe-vault", "-g", rg, "-o", "json").json()
                .at("/properties/privateEndpointStateForSiteRecovery").asText()).isEqualTo("Enabled");

        // Rules and bad input come back as their codes.
        fails("InsufficientSubnetIpsForPrivateEndpoint", "network", "private-endpoint", "create", "pe4", "-g", rg,
                "--subnet-id", tiny, "--target-id", vault);
        fails("InvalidGroupId", "network", "private-endpoint", "create", "pe4", "-g", rg, "--subnet-id", subnet,
                "--target-id", vault, "--group-id", "AzureBackup");
        assertThat(CliRunner.run("network", "private-endpoint", "create", "pe4", "-g", rg, "--subnet-id", "nope",
                "--target-id", vault).exit()).isEqualTo(2);

        // Clean-up: the endpoint takes its records along; a linked zone stays until unlinked.
        assertThat(ok("network", "private-endpoint", "delete", "pe1", "-g", rg).out()).contains("Deleted private endpoint");
        assertThat(ok("network", "private-dns", "record", "list", "--zone", ZONE, "-g", rg).out().split("\\R")).hasSize(1);
        fails("PrivateDnsZoneHasVirtualNetworkLinks", "network", "private-dns", "zone", "delete", ZONE, "-g", rg);
        ok("network", "private-dns", "link", "delete", "net1-link", "--zone", ZONE, "-g", rg);
        ok("network", "private-dns", "zone", "delete", ZONE, "-g", rg);
        assertThat(ok("network", "private-dns", "zone", "list", "-g", rg).out().split("\\R")).hasSize(1);
    }

    @Test
    void zoneGroupsDnsConfigsEndpointNicAndVaultDelete() throws Exception {
        String rg = CloudApi.unique("rg-");
        String hub = CloudApi.unique("rg-hub-");
        ok("group", "create", rg, "-l", "westus");
        ok("group", "create", hub, "-l", "westus");
        String vault = ok("vault", "create", "cli-vault", "-g", rg, "-l", "westus", "-o", "json").json()
                .path("id").asText();
        JsonNode vnet = ok("network", "vnet", "create", "net2", "-g", rg, "-l", "westus", "--address-prefix",
                "10.61.0.0/16", "--subnet", "default=10.61.0.0/24", "-o", "json").json();
        String subnet = vnet.at("/properties/subnets/0/id").asText();
        String spokeZone = ok("network", "private-dns", "zone", "create", ZONE, "-g", rg, "-o", "json").json()
                .path("id").asText();
        String hubZone = ok("network", "private-dns", "zone", "create", ZONE, "-g", hub, "-o", "json").json()
                .path("id").asText();

        // Two zones: each gets the endpoint's five records.
        JsonNode pe = ok("network", "private-endpoint", "create", "pe1", "-g", rg, "--subnet-id", subnet, "--target-id",
                vault, "--private-dns-zone-id", spokeZone, "--private-dns-zone-id", hubZone, "-o", "json").json();
        for (String group : new String[] {rg, hub}) {
            assertThat(ok("network", "private-dns", "record", "list", "--zone", ZONE, "-g", group).out().split("\\R"))
                    .hasSize(6);
        }
        String[] zoneGroup = ok("network", "private-endpoint", "dns-zone-group", "show", "--endpoint", "pe1", "-g", rg)
                .out().split("\\R");
        assertThat(zoneGroup[0]).matches("NAME\\s+ZONES\\s+RECORDS\\s+STATE");
        assertThat(zoneGroup[1]).matches("default\\s+" + rg + "/" + ZONE.replace(".", "\\.") + "," + hub + "/"
                + ZONE.replace(".", "\\.") + "\\s+10\\s+Succeeded");

        // What a hand-made zone would need, one line per FQDN.
        String[] configs = ok("network", "private-endpoint", "dns-configs", "pe1", "-g", rg).out().split("\\R");
        assertThat(configs).hasSize(6);
        assertThat(configs[0]).matches("FQDN\\s+IP ADDRESS\\s+RECORD");
        assertThat(configs[1]).matches("\\d+-asr-pod01-\\w+\\.wus\\." + ZONE.replace(".", "\\.")
                + "\\s+10\\.61\\.0\\.4\\s+\\d+-asr-pod01-\\w+\\.wus");

        // The endpoint's NIC: shown like any NIC, but not deletable.
        String nicId = pe.at("/properties/networkInterfaces/0/id").asText();
        String nicName = nicId.substring(nicId.lastIndexOf('/') + 1);
        assertThat(ok("network", "nic", "show", nicName, "-g", rg, "-o", "json").json()
                .at("/properties/privateEndpoint/id").asText()).endsWith("/privateEndpoints/pe1");
        fails("InUseNetworkInterfaceCannotBeDeleted", "network", "nic", "delete", nicName, "-g", rg);

        // The vault keeps its connections: not deletable until they are gone.
        fails("VaultHasPrivateEndpointConnections", "vault", "delete", "cli-vault", "-g", rg);
        ok("network", "private-endpoint", "dns-zone-group", "delete", "--endpoint", "pe1", "-g", rg);
        assertThat(ok("network", "private-dns", "record", "list", "--zone", ZONE, "-g", hub).out().split("\\R"))
                .hasSize(1);
        ok("network", "private-endpoint", "delete", "pe1", "-g", rg);
        fails("ResourceNotFound", "network", "nic", "show", nicName, "-g", rg);
        ok("vault", "delete", "cli-vault", "-g", rg);
    }
}
