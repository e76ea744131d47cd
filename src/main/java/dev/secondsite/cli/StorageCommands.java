package dev.secondsite.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.util.List;

/** {@code secondsite storage ...}: storage accounts of the local cloud. */
@Command(name = "storage", description = "Manage storage accounts of the local cloud.",
        subcommands = {StorageCommands.Create.class, StorageCommands.Update.class, StorageCommands.Show.class,
                StorageCommands.ListCmd.class, StorageCommands.Delete.class, StorageCommands.Keys.class})
final class StorageCommands {
    @Mixin Options.Help help;

    static final String API_VERSION = "2023-05-01";
    static final List<Output.Column> TABLE = List.of(
            Output.Column.at("NAME", "/name"),
            new Output.Column("RESOURCE GROUP", Output::resourceGroup),
            Output.Column.at("LOCATION", "/location"),
            Output.Column.at("KIND", "/kind"),
            Output.Column.at("SKU", "/sku/name"),
            Output.Column.at("ACCESS TIER", "/properties/accessTier"),
            Output.Column.at("DEFAULT ACTION", "/properties/networkAcls/defaultAction"),
            Output.Column.at("BYPASS", "/properties/networkAcls/bypass"),
            Output.Column.at("STATE", "/properties/provisioningState"));
    static final List<Output.Column> KEYS_TABLE = List.of(
            Output.Column.at("KEY", "/keyName"),
            Output.Column.at("VALUE", "/value"),
            Output.Column.at("PERMISSIONS", "/permissions"),
            Output.Column.at("CREATED", "/creationTime"));

    /** Resource group, subscription and the account name as a positional parameter. */
    static final class Target {
        @Parameters(paramLabel = "NAME", description = "Storage account name (3-24 lower-case letters and digits).")
        String name;
        @Option(names = {"-g", "--resource-group"}, required = true, paramLabel = "RG", description = "Resource group.")
        String group;
        @Mixin Options.Subscription subscription;

        String id(ApiClient api) {
            return subscription.path(api) + "/resourceGroups/" + ApiClient.seg(group)
                    + "/providers/Microsoft.Storage/storageAccounts/" + ApiClient.seg(name);
        }

        String path(ApiClient api) {
            return ApiCommand.versioned(id(api), API_VERSION);
        }
    }

    /** Firewall options shared by create and update. */
    static final class Firewall {
        @Option(names = "--default-action", paramLabel = "Allow|Deny",
                description = "What the firewall does with traffic no rule matches.")
        String defaultAction;
        @Option(names = "--bypass", paramLabel = "EXCEPTIONS", description = "Firewall exceptions: AzureServices "
                + "(\"Allow trusted Microsoft services\"), Logging, Metrics, comma-separated, or None.")
        String bypass;
        @Option(names = "--ip-rule", paramLabel = "IP|CIDR", description = "A public address or range let through "
                + "(repeatable; replaces the rules).")
        List<String> ipRules;
        @Option(names = "--subnet-rule", paramLabel = "SUBNET-ID", description = "A subnet (with the "
                + "Microsoft.Storage service endpoint) let through (repeatable; replaces the rules).")
        List<String> subnetRules;

        boolean given() {
            return defaultAction != null || bypass != null || ipRules != null || subnetRules != null;
        }

        /** The networkAcls to send: the current ones (if any) with the options applied. */
        ObjectNode acls(JsonNode current) {
            ObjectNode acls = current != null && current.isObject() ? ((ObjectNode) current).deepCopy()
                    : ApiClient.JSON.createObjectNode();
            acls.put("defaultAction", defaultAction != null ? defaultAction : acls.path("defaultAction").asText("Allow"));
            if (bypass != null) {
                acls.put("bypass", bypass);
            }
            if (ipRules != null) {
                ArrayNode rules = acls.putArray("ipRules");
                ipRules.forEach(ip -> rules.addObject().put("value", ip).put("action", "Allow"));
            }
            if (subnetRules != null) {
                ArrayNode rules = acls.putArray("virtualNetworkRules");
                subnetRules.forEach(id -> rules.addObject().put("id", id).put("action", "Allow"));
            }
            return acls;
        }
    }

    /** Account properties shared by create and update. */
    static final class Settings {
        @Option(names = "--access-tier", paramLabel = "Hot|Cool", description = "Default blob access tier "
                + "(standard StorageV2 and BlobStorage only).")
        String accessTier;
        @Option(names = "--public-network-access", paramLabel = "Enabled|Disabled",
                description = "Whether the account is reachable from public networks: Enabled or Disabled.") String publicNetworkAccess;
        @Option(names = "--min-tls-version", paramLabel = "TLS1_0|TLS1_1|TLS1_2",
                description = "The oldest TLS version the account accepts.") String minTls;
        @Option(names = "--allow-blob-public-access", paramLabel = "true|false", arity = "1",
                description = "Whether containers may allow anonymous public read access.") Boolean blobPublicAccess;

        void apply(ObjectNode properties) {
            if (accessTier != null) {
                properties.put("accessTier", accessTier);
            }
            if (publicNetworkAccess != null) {
                properties.put("publicNetworkAccess", publicNetworkAccess);
            }
            if (minTls != null) {
                properties.put("minimumTlsVersion", minTls);
            }
            if (blobPublicAccess != null) {
                properties.put("allowBlobPublicAccess", blobPublicAccess);
            }
        }
    }

    @Command(name = "create", description = "Create (or update) a storage account.")
    static final class Create extends ApiCommand {
        @Mixin Target target;
        @Option(names = {"-l", "--location"}, required = true, paramLabel = "LOCATION", description = "Region, e.g. westus.")
        String location;
        @Option(names = "--kind", defaultValue = "StorageV2", paramLabel = "KIND",
                description = "StorageV2, Storage, BlobStorage, BlockBlobStorage or FileStorage (default: ${DEFAULT-VALUE}).")
        String kind;
        @Option(names = "--sku", defaultValue = "Standard_LRS", paramLabel = "SKU", description = "Standard_LRS, "
                + "Standard_GRS, Standard_RAGRS, Standard_ZRS, Standard_GZRS, Standard_RAGZRS, Premium_LRS or "
                + "Premium_ZRS (default: ${DEFAULT-VALUE}).")
        String sku;
        @Option(names = "--tag", paramLabel = "KEY=VALUE", description = "A tag (repeatable).") List<String> tags;
        @Mixin Settings settings;
        @Mixin Firewall firewall;
        @Mixin Options.Format output;

        @Override
        void run() {
            ObjectNode body = ApiClient.JSON.createObjectNode();
            body.put("location", location);
            body.put("kind", kind);
            body.putObject("sku").put("name", sku);
            body.set("tags", ApiClient.JSON.valueToTree(Options.tags(tags)));
            ObjectNode properties = body.putObject("properties");
            settings.apply(properties);
            if (firewall.given()) {
                properties.set("networkAcls", firewall.acls(null));
            }
            print(output, api.send("PUT", target.path(api), body).body(), TABLE);
        }
    }

    @Command(name = "update", description = "Change a storage account's SKU, tier, firewall or tags (PATCH).")
    static final class Update extends ApiCommand {
        @Mixin Target target;
        @Option(names = "--sku", paramLabel = "SKU", description = "New SKU, e.g. Standard_GRS.") String sku;
        @Option(names = "--kind", paramLabel = "StorageV2", description = "Upgrade a Storage or BlobStorage account.")
        String kind;
        @Option(names = "--tag", paramLabel = "KEY=VALUE", description = "A tag (repeatable); replaces all tags.")
        List<String> tags;
        @Mixin Settings settings;
        @Mixin Firewall firewall;
        @Mixin Options.Format output;

        @Override
        void run() {
            ObjectNode body = ApiClient.JSON.createObjectNode();
            if (sku != null) {
                body.putObject("sku").put("name", sku);
            }
            if (kind != null) {
                body.put("kind", kind);
            }
            if (tags != null) {
                body.set("tags", ApiClient.JSON.valueToTree(Options.tags(tags)));
            }
            ObjectNode properties = body.putObject("properties");
            settings.apply(properties);
            if (firewall.given()) {
                JsonNode current = api.get(target.path(api)).path("properties").path("networkAcls");
                properties.set("networkAcls", firewall.acls(current));
            }
            print(output, api.send("PATCH", target.path(api), body).body(), TABLE);
        }
    }

    @Command(name = "show", description = "Show a storage account.")
    static final class Show extends ApiCommand {
        @Mixin Target target;
        @Mixin Options.Format output;

        @Override
        void run() {
            print(output, api.get(target.path(api)), TABLE);
        }
    }

    @Command(name = "list", description = "List the storage accounts of a resource group, or of the subscription.")
    static final class ListCmd extends ApiCommand {
        @Mixin Options.ListScope scope;
        @Mixin Options.Format output;

        @Override
        void run() {
            print(output, api.list(versioned(scope.path(api) + "/providers/Microsoft.Storage/storageAccounts", API_VERSION)),
                    TABLE);
        }
    }

    @Command(name = "delete", description = "Delete a storage account (its name becomes free).")
    static final class Delete extends ApiCommand {
        @Mixin Target target;

        @Override
        void run() {
            api.send("DELETE", target.path(api), null);
            out().println("Deleted storage account '" + target.name + "'.");
        }
    }

    @Command(name = "keys", description = "List a storage account's access keys, or regenerate one.")
    static final class Keys extends ApiCommand {
        @Mixin Target target;
        @Option(names = "--regenerate", paramLabel = "key1|key2", description = "Give this key a new value first.")
        String regenerate;
        @Mixin Options.Format output;

        @Override
        void run() {
            JsonNode keys;
            if (regenerate != null) {
                ObjectNode body = ApiClient.JSON.createObjectNode().put("keyName", regenerate);
                keys = api.send("POST", versioned(target.id(api) + "/regenerateKey", API_VERSION), body).body();
            } else {
                keys = api.send("POST", versioned(target.id(api) + "/listKeys", API_VERSION), null).body();
            }
            if (output.format == Output.Format.json) {
                print(output, keys, KEYS_TABLE);
            } else {
                ObjectNode rows = ApiClient.JSON.createObjectNode();
                rows.set("value", keys.path("keys"));
                print(output, rows, KEYS_TABLE);
            }
        }
    }
}
