package dev.secondsite.cloud;

import com.fasterxml.jackson.databind.JsonNode;
import dev.secondsite.testing.CliRunner;
import dev.secondsite.testing.LoggedInCliTest;
import dev.secondsite.testing.CliRunner.Run;
import org.junit.jupiter.api.Test;


import static org.assertj.core.api.Assertions.assertThat;

/** `secondsite storage …` and `secondsite network …` against a real in-process server. */
class CloudCliTest extends LoggedInCliTest {
    static Run run(String... args) {
        return CliRunner.run(args);
    }

    private static Run ok(String... args) {
        Run r = run(args);
        assertThat(r.exit()).as("%s: %s", String.join(" ", args), r.err()).isZero();
        return r;
    }

    @Test
    void storageAccountWithFirewallAndKeys() throws Exception {
        String rg = CloudApi.unique("rg-");
        String name = CloudApi.unique("cli");
        ok("group", "create", rg, "-l", "westus");
        JsonNode created = ok("storage", "create", name, "-g", rg, "-l", "westus", "--kind", "StorageV2", "--sku",
                "Standard_LRS", "--access-tier", "Cool", "--default-action", "Deny", "--bypass", "AzureServices",
                "-o", "json").json();
        assertThat(created.at("/properties/accessTier").asText()).isEqualTo("Cool");
        assertThat(created.at("/properties/networkAcls/defaultAction").asText()).isEqualTo("Deny");
        assertThat(created.at("/properties/networkAcls/bypass").asText()).isEqualTo("AzureServices");

        String[] table = ok("storage", "list", "-g", rg).out().split("\\R");
        assertThat(table).hasSize(2);
        assertThat(table[0]).matches("NAME\\s+RESOURCE GROUP\\s+LOCATION\\s+KIND\\s+SKU\\s+ACCESS TIER\\s+DEFAULT ACTION"
                + "\\s+BYPASS\\s+STATE");
        assertThat(table[1]).matches(name + "\\s+" + rg + "\\s+westus\\s+StorageV2\\s+Standard_LRS\\s+Cool\\s+Deny"
                + "\\s+AzureServices\\s+Succeeded");

        JsonNode updated = ok("storage", "update", name, "-g", rg, "--bypass", "None", "-o", "json").json();
        assertThat(updated.at("/properties/networkAcls/defaultAction").asText()).as("kept").isEqualTo("Deny");
        assertThat(updated.at("/properties/networkAcls/bypass").asText()).isEqualTo("None");

        JsonNode keys = ok("storage", "keys", name, "-g", rg, "-o", "json").json();
        assertThat(keys.path("keys")).hasSize(2);
        String[] keyTable = ok("storage", "keys", name, "-g", rg, "--regenerate", "key1").out().split("\\R");
        assertThat(keyTable).hasSize(3);
        assertThat(keyTable[1]).startsWith("key1").doesNotContain(keys.at("/keys/0/value").asText());
        assertThat(keyTable[2]).contains(keys.at("/keys/1/value").asText());

        Run taken = run("storage", "create", name, "-g", rg + "x", "-l", "westus");
        assertThat(taken.exit()).isEqualTo(1);
        ok("group", "create", rg + "x", "-l", "westus");
        Run taken2 = run("storage", "create", name, "-g", rg + "x", "-l", "westus");
        assertThat(taken2.exit()).isEqualTo(1);
        assertThat(taken2.err()).startsWith("secondsite: StorageAccountAlreadyTaken: ");

        assertThat(ok("storage", "delete", name, "-g", rg).out()).contains("Deleted storage account");
        assertThat(run("storage", "show", name, "-g", rg).err()).startsWith("secondsite: ResourceNotFound: ");
    }

    @Test
    void networksSubnetsAndNics() throws Exception {
        String rg = CloudApi.unique("rg-");
        ok("group", "create", rg, "-l", "eastus");
        JsonNode vnet = ok("network", "vnet", "create", "net1", "-g", rg, "-l", "eastus", "--address-prefix",
                "10.50.0.0/16", "--subnet", "default=10.50.0.0/24", "--subnet", "tiny=10.50.1.0/29", "-o", "json").json();
        assertThat(vnet.at("/properties/subnets")).hasSize(2);
        String tiny = vnet.at("/properties/subnets/1/id").asText();

        ok("network", "subnet", "create", "more", "--vnet", "net1", "-g", rg, "--address-prefix", "10.50.2.0/24",
                "--service-endpoint", "Microsoft.Storage");
        String[] subnets = ok("network", "subnet", "list", "--vnet", "net1", "-g", rg).out().split("\\R");
        assertThat(subnets).hasSize(4);
        assertThat(subnets[0]).matches("NAME\\s+ADDRESS PREFIX\\s+FREE IPS\\s+IP CONFIGURATIONS\\s+STATE");
        assertThat(subnets[2]).matches("tiny\\s+10\\.50\\.1\\.0/29\\s+3\\s+0\\s+Succeeded");

        JsonNode nic = ok("network", "nic", "create", "nic1", "-g", rg, "--subnet-id", tiny, "-o", "json").json();
        assertThat(nic.path("location").asText()).as("the network's region").isEqualTo("eastus");
        assertThat(nic.at("/properties/ipConfigurations/0/properties/privateIPAddress").asText()).isEqualTo("10.50.1.4");
        String[] nicRow = ok("network", "nic", "create", "nic2", "-g", rg, "--subnet-id", tiny, "--private-ip",
                "10.50.1.6").out().split("\\R");
        assertThat(nicRow[1]).matches("nic2\\s+" + rg + "\\s+eastus\\s+10\\.50\\.1\\.6\\s+Static\\s+tiny\\s+Succeeded");
        assertThat(ok("network", "nic", "create", "nic3", "-g", rg, "--subnet-id", tiny, "-o", "json").json()
                .at("/properties/ipConfigurations/0/properties/privateIPAddress").asText()).isEqualTo("10.50.1.5");
        Run full = run("network", "nic", "create", "nic4", "-g", rg, "--subnet-id", tiny);
        assertThat(full.exit()).isEqualTo(1);
        assertThat(full.err()).startsWith("secondsite: SubnetIsFull: ");

        JsonNode check = ok("network", "vnet", "check-ip", "net1", "-g", rg, "--ip", "10.50.0.4", "-o", "json").json();
        assertThat(check.path("available").asBoolean()).isTrue();
        assertThat(ok("network", "subnet", "show", "tiny", "--vnet", "net1", "-g", rg, "-o", "json").json()
                .at("/properties/freeIpAddressCount").asInt()).isZero();
        assertThat(ok("network", "nic", "list", "-g", rg).out().split("\\R")).hasSize(4);

        Run inUse = run("network", "subnet", "delete", "tiny", "--vnet", "net1", "-g", rg);
        assertThat(inUse.err()).startsWith("secondsite: InUseSubnetCannotBeDeleted: ");
        ok("network", "nic", "delete", "nic1", "-g", rg);
        assertThat(ok("network", "subnet", "show", "tiny", "--vnet", "net1", "-g", rg, "-o", "json").json()
                .at("/properties/freeIpAddressCount").asInt()).isEqualTo(1);
        assertThat(ok("network", "vnet", "list", "-g", rg).out()).contains("net1", "10.50.0.0/16", "default,tiny,more");
        Run bad = run("network", "vnet", "create", "net2", "-g", rg, "-l", "eastus", "--address-prefix", "10.0.0.1/16");
        assertThat(bad.exit()).isEqualTo(1);
        assertThat(bad.err()).startsWith("secondsite: InvalidCIDRNotation: ").contains("10.0.0.0/16");
    }

    @Test
    void userAssignedIdentityCreatedListedGivenARoleAndDeleted() throws Exception {
        ok("group", "create", "rg-id", "-l", "westus");
        Run created = ok("identity", "create", "dr-identity", "-g", "rg-id", "-l", "westus", "-o", "json");
        String principal = created.json().at("/properties/principalId").asText();
        assertThat(principal).matches("[0-9a-f-]{36}");
        assertThat(ok("identity", "list", "-g", "rg-id").out()).contains("dr-identity", principal);
        assertThat(ok("role", "assign", "--assignee", principal, "--role", "Reader", "--scope",
                created.json().path("id").asText()).exit()).isZero();
        Run missing = run("identity", "show", "nobody", "-g", "rg-id");
        assertThat(missing.exit()).isNotZero();
        assertThat(missing.err()).contains("ResourceNotFound");
        ok("identity", "delete", "dr-identity", "-g", "rg-id");
        assertThat(ok("identity", "list", "-g", "rg-id", "-o", "json").json().path("value")).isEmpty();
    }
}
