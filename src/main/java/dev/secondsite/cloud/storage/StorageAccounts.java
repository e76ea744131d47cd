package dev.secondsite.cloud.storage;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.secondsite.arm.ArmException;
import dev.secondsite.arm.ArmRequest;
import dev.secondsite.arm.ArmResponse;
import dev.secondsite.arm.Fields;
import dev.secondsite.arm.Json;
import dev.secondsite.auth.BuiltInRole;
import dev.secondsite.cloud.Region;
import dev.secondsite.cloud.Regions;
import dev.secondsite.cloud.network.ArmResources;
import dev.secondsite.cloud.network.Subnets;
import dev.secondsite.cloud.network.Transactions;
import dev.secondsite.resource.ResourceStore;
import dev.secondsite.resource.StoredResource;
import dev.secondsite.rules.StorageAccountFacts;
import dev.secondsite.vault.VaultScope;
import org.jdbi.v3.core.Jdbi;

import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Storage accounts (Microsoft.Storage/storageAccounts): kind, SKU (redundancy), access tier, firewall
 * (networkAcls with the trusted-services exception), public network access, TLS minimum, and two access
 * keys (POST listKeys, regenerateKey). Names are global across the server. PUT answers 200 whether it
 * created or updated the account: the Storage spec's Create has only 200 and 202, and the official SDKs
 * reject anything else.
 *
 * <p>Premium accounts can be created in every region, including those without premium replication
 * ({@link Region#premiumReplication()} false, seed 004): that rule is about replicating into them and is
 * enforced by replication, not here.
 */
public final class StorageAccounts {
    public static final String TYPE = "Microsoft.Storage/storageAccounts";
    /** Where account endpoints live: https://{account}.{service}.{suffix}/ */
    public static final String ENDPOINT_SUFFIX = "localhost";
    private static final Pattern NAME = Pattern.compile("^[a-z0-9]{3,24}$");
    static final List<String> KINDS = List.of("StorageV2", "Storage", "BlobStorage", "BlockBlobStorage", "FileStorage");
    static final List<String> SKUS = List.of("Standard_LRS", "Standard_GRS", "Standard_RAGRS", "Standard_ZRS",
            "Standard_GZRS", "Standard_RAGZRS", "Premium_LRS", "Premium_ZRS");
    /** Which SKUs each kind takes (Azure answers InvalidValuesForRequestParameters: kind, sku for the rest). */
    private static final Map<String, List<String>> SKUS_BY_KIND = Map.of(
            "StorageV2", List.of("Standard_LRS", "Standard_GRS", "Standard_RAGRS", "Standard_ZRS", "Standard_GZRS",
                    "Standard_RAGZRS", "Premium_LRS"),
            "Storage", List.of("Standard_LRS", "Standard_GRS", "Standard_RAGRS", "Premium_LRS"),
            "BlobStorage", List.of("Standard_LRS", "Standard_GRS", "Standard_RAGRS"),
            "BlockBlobStorage", List.of("Premium_LRS", "Premium_ZRS"),
            "FileStorage", List.of("Premium_LRS", "Premium_ZRS"));
    /** The endpoints each kind serves. */
    private static final Map<String, List<String>> SERVICES = Map.of(
            "StorageV2", List.of("blob", "dfs", "file", "queue", "table", "web"),
            "Storage", List.of("blob", "file", "queue", "table"),
            "BlobStorage", List.of("blob", "dfs"),
            "BlockBlobStorage", List.of("blob", "dfs", "web"),
            "FileStorage", List.of("file"));
    /** Azure's region pairs: where geo-redundant SKUs keep their secondary copy. */
    private static final Map<String, String> PAIRS = Map.ofEntries(
            Map.entry("eastus", "westus"), Map.entry("westus", "eastus"), Map.entry("eastus2", "centralus"),
            Map.entry("centralus", "eastus2"), Map.entry("northcentralus", "southcentralus"),
            Map.entry("southcentralus", "northcentralus"), Map.entry("westus2", "westcentralus"),
            Map.entry("westcentralus", "westus2"), Map.entry("westus3", "eastus"),
            Map.entry("canadacentral", "canadaeast"), Map.entry("canadaeast", "canadacentral"),
            Map.entry("brazilsouth", "southcentralus"), Map.entry("northeurope", "westeurope"),
            Map.entry("westeurope", "northeurope"), Map.entry("uksouth", "ukwest"), Map.entry("ukwest", "uksouth"),
            Map.entry("francecentral", "francesouth"), Map.entry("germanywestcentral", "germanynorth"),
            Map.entry("switzerlandnorth", "switzerlandwest"), Map.entry("norwayeast", "norwaywest"),
            Map.entry("swedencentral", "swedensouth"), Map.entry("eastasia", "southeastasia"),
            Map.entry("southeastasia", "eastasia"), Map.entry("japaneast", "japanwest"),
            Map.entry("japanwest", "japaneast"), Map.entry("koreacentral", "koreasouth"),
            Map.entry("koreasouth", "koreacentral"), Map.entry("australiaeast", "australiasoutheast"),
            Map.entry("australiasoutheast", "australiaeast"), Map.entry("australiacentral", "australiacentral2"),
            Map.entry("centralindia", "southindia"), Map.entry("southindia", "centralindia"),
            Map.entry("westindia", "southindia"), Map.entry("uaenorth", "uaecentral"),
            Map.entry("southafricanorth", "southafricawest"), Map.entry("usgovvirginia", "usgovtexas"),
            Map.entry("usgovtexas", "usgovarizona"), Map.entry("usgovarizona", "usgovtexas"),
            Map.entry("usgoviowa", "usgovvirginia"), Map.entry("usdodeast", "usdodcentral"),
            Map.entry("usdodcentral", "usdodeast"));

    private final ResourceStore resources;
    private final Jdbi jdbi;
    private final VaultScope scope;
    private final Subnets subnets;

    public StorageAccounts(ResourceStore resources, Jdbi jdbi, VaultScope scope, Subnets subnets) {
        this.resources = resources;
        this.jdbi = jdbi;
        this.scope = scope;
        this.subnets = subnets;
    }

    public ArmResponse put(ArmRequest request) {
        StoredResource group = scope.requireGroup(request.path());
        String name = request.path().name();
        if (!NAME.matcher(name).matches()) {
            throw new ArmException(400, "AccountNameInvalid", name + " is not a valid storage account name. Storage "
                    + "account name must be between 3 and 24 characters in length and use numbers and lower-case "
                    + "letters only.", "name", List.of());
        }
        Fields body = Fields.of(request.bodyObject(), "");
        Region region = ArmResources.location(body);
        ObjectNode tags = ArmResources.tags(body);
        String kind = body.oneOf("kind", KINDS).orElseThrow(() -> ArmException.missingField("kind"));
        Fields skuFields = body.object("sku");
        String sku = skuFields.oneOf("name", SKUS).orElseThrow(() -> ArmException.missingField("sku.name"));
        checkKindAndSku(kind, sku);
        Fields props = body.object("properties");

        return Transactions.run(jdbi, h -> {
            String id = group.id() + "/providers/" + TYPE + "/" + name;
            Transactions.lock(h, id);
            Optional<StoredResource> existing = resources.find(id);
            Optional<String> holder = AccountKeys.holder(h, name);
            if (holder.isPresent() && !holder.get().equals(ResourceStore.key(id))) {
                throw AccountKeys.taken(name);
            }
            ObjectNode account;
            if (existing.isPresent()) {
                account = existing.get().bodyCopy();
                if (!account.path("location").asText().equals(region.name())) {
                    throw new ArmException(409, "InvalidResourceLocation", "The resource '" + name
                            + "' already exists in location '" + account.path("location").asText() + "' in resource group '"
                            + group.name() + "'. A resource with the same name cannot be created in location '"
                            + region.name() + "'.");
                }
                changeKindAndSku(account, kind, sku);
            } else {
                account = newAccount(id, name, region, kind, sku);
            }
            account.set("tags", tags);
            applyProperties(account, props, existing.isEmpty());
            StoredResource stored = save(account, group.id());
            if (existing.isEmpty()) {
                AccountKeys.claim(h, name, stored.id());
                keyCreationTime((ObjectNode) account.path("properties"), AccountKeys.keys(h, stored.id()).orElseThrow());
                stored = save(account, group.id());
            }
            return ArmResponse.ok(render(stored));
        });
    }

    /** PATCH (StorageAccounts_Update): SKU, kind upgrade to StorageV2, tags and the properties given. */
    public ArmResponse patch(ArmRequest request) {
        StoredResource group = scope.requireGroup(request.path());
        Fields body = Fields.of(request.bodyObject(), "");
        return Transactions.run(jdbi, h -> {
            StoredResource current = require(request);
            Transactions.lock(h, current.id());
            ObjectNode account = current.bodyCopy();
            if (body.has("location") && !Regions.require(body.requiredString("location"), "location").name()
                    .equals(account.path("location").asText())) {
                throw ArmException.invalidField("location", "a storage account cannot move to another location.");
            }
            String kind = body.oneOf("kind", KINDS).orElse(account.path("kind").asText());
            String sku = body.object("sku").oneOf("name", SKUS).orElse(account.path("sku").path("name").asText());
            checkKindAndSku(kind, sku);
            changeKindAndSku(account, kind, sku);
            if (body.has("tags")) {
                account.set("tags", ArmResources.tags(body));
            }
            applyProperties(account, body.object("properties"), false);
            return ArmResponse.ok(render(save(account, group.id())));
        });
    }

    public ArmResponse get(ArmRequest request) {
        return ArmResponse.ok(render(require(request)));
    }

    public ArmResponse list(ArmRequest request) {
        List<StoredResource> found = scope.listInScope(request.path(), TYPE);
        return ArmResponse.ok(ArmResources.collection(found.stream().map(StorageAccounts::render).toList()));
    }

    /** 200 when deleted, 204 when there was nothing to delete; the name and keys go with the account. */
    public ArmResponse delete(ArmRequest request) {
        scope.requireGroup(request.path());
        Optional<StoredResource> account = resources.find(request.path().resourceId());
        if (account.isEmpty()) {
            return ArmResponse.noContent();
        }
        resources.delete(account.get().id());
        return ArmResponse.ok(null);
    }

    /** POST …/listKeys: {"keys":[{keyName, value, permissions, creationTime}]}; the same keys every time. */
    public ArmResponse listKeys(ArmRequest request) {
        StoredResource account = require(request);
        return ArmResponse.ok(jdbi.withHandle(h -> keysBody(AccountKeys.keys(h, account.id()).orElseThrow())));
    }

    /** POST …/regenerateKey {"keyName":"key1"|"key2"}: a new value for that key; answers like listKeys. */
    public ArmResponse regenerateKey(ArmRequest request) {
        Fields body = Fields.of(request.bodyObject(), "");
        String keyName = body.oneOf("keyName", List.of("key1", "key2"))
                .orElseThrow(() -> ArmException.missingField("keyName"));
        return Transactions.run(jdbi, h -> {
            StoredResource account = require(request);
            Transactions.lock(h, account.id());
            AccountKeys.regenerate(h, account.id(), keyName);
            AccountKeys.Keys keys = AccountKeys.keys(h, account.id()).orElseThrow();
            ObjectNode body2 = account.bodyCopy();
            keyCreationTime((ObjectNode) body2.path("properties"), keys);
            resources.put(account.id(), account.id().substring(0, account.id().indexOf("/providers/")), TYPE,
                    account.name(), account.id().split("/")[2], body2);
            return ArmResponse.ok(keysBody(keys));
        });
    }

    /**
     * The account as the rules see it. {@code vaultIdentityRoles} are the roles the vault's managed identity
     * holds on the account (from RBAC, which this package does not read).
     */
    public Optional<StorageAccountFacts> facts(String accountId, Set<BuiltInRole> vaultIdentityRoles) {
        return resources.find(accountId).filter(r -> r.typeKey().equalsIgnoreCase(TYPE))
                .map(r -> facts(r.body(), vaultIdentityRoles));
    }

    public static StorageAccountFacts facts(JsonNode account, Set<BuiltInRole> vaultIdentityRoles) {
        JsonNode p = account.path("properties");
        StorageAccountFacts.Kind kind = switch (account.path("kind").asText()) {
            case "Storage" -> StorageAccountFacts.Kind.STORAGE;
            case "BlobStorage" -> StorageAccountFacts.Kind.BLOB_STORAGE;
            case "BlockBlobStorage" -> StorageAccountFacts.Kind.BLOCK_BLOB_STORAGE;
            case "FileStorage" -> StorageAccountFacts.Kind.FILE_STORAGE;
            default -> StorageAccountFacts.Kind.STORAGE_V2;
        };
        StorageAccountFacts.Sku sku = StorageAccountFacts.Sku.valueOf(
                account.path("sku").path("name").asText().toUpperCase(Locale.ROOT));
        StorageAccountFacts.AccessTier tier = switch (p.path("accessTier").asText("")) {
            case "Hot" -> StorageAccountFacts.AccessTier.HOT;
            case "Cool" -> StorageAccountFacts.AccessTier.COOL;
            default -> null;
        };
        JsonNode acls = p.path("networkAcls");
        boolean firewall = "Disabled".equals(p.path("publicNetworkAccess").asText())
                || "Deny".equals(acls.path("defaultAction").asText());
        boolean trusted = acls.path("bypass").asText("").contains("AzureServices");
        return new StorageAccountFacts(account.path("id").asText(),
                Regions.require(account.path("location").asText(), "location"), kind, sku, tier,
                StorageAccountFacts.DeploymentModel.RESOURCE_MANAGER, vaultIdentityRoles, firewall, trusted);
    }

    private StoredResource require(ArmRequest request) {
        StoredResource group = scope.requireGroup(request.path());
        String name = request.path().name(0);
        return resources.require(group.id() + "/providers/" + TYPE + "/" + name);
    }

    private StoredResource save(ObjectNode account, String groupId) {
        return resources.put(account.path("id").asText(), groupId, TYPE, account.path("name").asText(),
                groupId.split("/")[2], account);
    }

    static void checkKindAndSku(String kind, String sku) {
        if (!SKUS_BY_KIND.get(kind).contains(sku)) {
            throw new ArmException(400, "InvalidValuesForRequestParameters", "Values for request parameters are "
                    + "invalid: kind, sku. A " + kind + " account takes " + String.join(", ", SKUS_BY_KIND.get(kind))
                    + ", not " + sku + ".", "sku.name", List.of());
        }
    }

    /**
     * A kind or SKU change of an existing account: general-purpose v1 and BlobStorage accounts can be upgraded
     * to StorageV2 (nothing else changes kind); Standard and Premium never convert into each other, and
     * locally/geo-redundant SKUs do not become zone-redundant ones (or back) without a migration.
     */
    private static void changeKindAndSku(ObjectNode account, String kind, String sku) {
        String oldKind = account.path("kind").asText();
        String oldSku = account.path("sku").path("name").asText();
        if (!kind.equals(oldKind) && !(kind.equals("StorageV2") && (oldKind.equals("Storage")
                || oldKind.equals("BlobStorage")))) {
            throw new ArmException(400, "InvalidRequestPropertyValue", "The value '" + kind + "' is not allowed for "
                    + "property kind: a " + oldKind + " account can only be upgraded to StorageV2.", "kind", List.of());
        }
        if (!sku.equals(oldSku)) {
            if (premium(sku) != premium(oldSku)) {
                throw new ArmException(400, "InvalidRequestPropertyValue", "The value '" + sku + "' is not allowed for "
                        + "property sku.name: a " + tier(oldSku) + " account cannot become " + tier(sku) + ".",
                        "sku.name", List.of());
            }
            if (zoneRedundant(sku) != zoneRedundant(oldSku)) {
                throw new ArmException(400, "InvalidRequestPropertyValue", "The value '" + sku + "' is not allowed for "
                        + "property sku.name: changing between zone-redundant and non-zone-redundant replication ("
                        + oldSku + " to " + sku + ") needs an account migration.", "sku.name", List.of());
            }
        }
        if (!kind.equals(oldKind)) {
            account.put("kind", kind);
            ObjectNode p = (ObjectNode) account.path("properties");
            p.set("primaryEndpoints", endpoints(account.path("name").asText(), kind, ""));
            if (!premium(sku) && !p.has("accessTier")) {
                p.put("accessTier", "Hot");
            }
        }
        ObjectNode skuNode = account.putObject("sku");
        skuNode.put("name", sku);
        skuNode.put("tier", tier(sku));
        redundancy((ObjectNode) account.path("properties"), account.path("name").asText(), account.path("location")
                .asText(), kind, sku);
    }

    private static ObjectNode newAccount(String id, String name, Region region, String kind, String sku) {
        ObjectNode account = Json.object();
        account.put("id", id);
        account.put("name", name);
        account.put("type", TYPE);
        account.put("location", region.name());
        account.put("kind", kind);
        ObjectNode skuNode = account.putObject("sku");
        skuNode.put("name", sku);
        skuNode.put("tier", tier(sku));
        ObjectNode p = account.putObject("properties");
        p.put("provisioningState", "Succeeded");
        p.put("creationTime", Json.time(System.currentTimeMillis()));
        p.set("primaryEndpoints", endpoints(name, kind, ""));
        p.put("primaryLocation", region.name());
        p.put("statusOfPrimary", "available");
        redundancy(p, name, region.name(), kind, sku);
        p.set("networkAcls", NetworkAcls.defaults());
        p.put("publicNetworkAccess", "Enabled");
        p.put("minimumTlsVersion", "TLS1_2");
        p.put("allowBlobPublicAccess", false);
        p.put("supportsHttpsTrafficOnly", true);
        ObjectNode encryption = p.putObject("encryption");
        ObjectNode services = encryption.putObject("services");
        for (String service : List.of("blob", "file")) {
            ObjectNode s = services.putObject(service);
            s.put("enabled", true);
            s.put("keyType", "Account");
            s.put("lastEnabledTime", Json.time(System.currentTimeMillis()));
        }
        encryption.put("keySource", "Microsoft.Storage");
        return account;
    }

    /** secondaryLocation/statusOfSecondary for geo-redundant SKUs, secondaryEndpoints for read-access ones. */
    private static void redundancy(ObjectNode p, String name, String location, String kind, String sku) {
        p.remove(List.of("secondaryLocation", "statusOfSecondary", "secondaryEndpoints"));
        if (sku.contains("GRS") || sku.contains("GZRS")) {
            p.put("secondaryLocation", PAIRS.getOrDefault(location, location));
            p.put("statusOfSecondary", "available");
            if (sku.contains("RAG")) {
                p.set("secondaryEndpoints", endpoints(name, kind, "-secondary"));
            }
        }
    }

    private void applyProperties(ObjectNode account, Fields props, boolean creating) {
        ObjectNode p = (ObjectNode) account.path("properties");
        String kind = account.path("kind").asText();
        String sku = account.path("sku").path("name").asText();
        boolean tiered = (kind.equals("StorageV2") || kind.equals("BlobStorage")) && !premium(sku);
        Optional<String> tier = props.oneOf("accessTier", List.of("Hot", "Cool"));
        if (tier.isPresent() && !tiered) {
            throw new ArmException(400, "InvalidRequestPropertyValue", "The value '" + tier.get() + "' is not allowed "
                    + "for property accessTier: only standard StorageV2 and BlobStorage accounts have an access tier; "
                    + "this one is " + kind + " " + sku + ".", "properties.accessTier", List.of());
        }
        if (tier.isEmpty() && creating && kind.equals("BlobStorage")) {
            throw ArmException.missingField("properties.accessTier");
        }
        if (tier.isPresent()) {
            p.put("accessTier", tier.get());
        } else if (creating && tiered) {
            p.put("accessTier", "Hot");
        }
        if (!tiered) {
            p.remove("accessTier");
        }
        if (props.has("networkAcls")) {
            p.set("networkAcls", NetworkAcls.read(props.object("networkAcls"), subnets::find));
        }
        props.oneOf("publicNetworkAccess", List.of("Enabled", "Disabled", "SecuredByPerimeter"))
                .ifPresent(v -> p.put("publicNetworkAccess", v));
        props.oneOf("minimumTlsVersion", List.of("TLS1_0", "TLS1_1", "TLS1_2", "TLS1_3"))
                .ifPresent(v -> p.put("minimumTlsVersion", v));
        for (String flag : List.of("allowBlobPublicAccess", "supportsHttpsTrafficOnly", "allowSharedKeyAccess",
                "defaultToOAuthAuthentication", "allowCrossTenantReplication", "isLocalUserEnabled", "isSftpEnabled")) {
            ArmResources.bool(props, flag).ifPresent(v -> p.put(flag, v));
        }
        Optional<Boolean> hns = ArmResources.bool(props, "isHnsEnabled");
        if (hns.isPresent()) {
            if (!creating && hns.get() != p.path("isHnsEnabled").asBoolean(false)) {
                throw new ArmException(400, "InvalidRequestPropertyValue", "The value '" + hns.get() + "' is not "
                        + "allowed for property isHnsEnabled: the hierarchical namespace is chosen when the account is "
                        + "created.", "properties.isHnsEnabled", List.of());
            }
            if (hns.get() && !(kind.equals("StorageV2") || kind.equals("BlockBlobStorage"))) {
                throw new ArmException(400, "InvalidRequestPropertyValue", "The value 'True' is not allowed for "
                        + "property isHnsEnabled: only StorageV2 and BlockBlobStorage accounts have a hierarchical "
                        + "namespace.", "properties.isHnsEnabled", List.of());
            }
            p.put("isHnsEnabled", hns.get());
        }
        props.oneOf("largeFileSharesState", List.of("Enabled", "Disabled"))
                .ifPresent(v -> p.put("largeFileSharesState", v));
        props.objectNode("encryption").ifPresent(v -> p.set("encryption", v));
    }

    private static ObjectNode endpoints(String name, String kind, String suffix) {
        ObjectNode endpoints = Json.object();
        for (String service : SERVICES.get(kind)) {
            endpoints.put(service, "https://" + name + suffix + "." + service + "." + ENDPOINT_SUFFIX + "/");
        }
        return endpoints;
    }

    private static void keyCreationTime(ObjectNode p, AccountKeys.Keys keys) {
        ObjectNode times = p.putObject("keyCreationTime");
        times.put("key1", Json.time(keys.key1Created()));
        times.put("key2", Json.time(keys.key2Created()));
    }

    private static ObjectNode keysBody(AccountKeys.Keys keys) {
        ObjectNode body = Json.object();
        ArrayNode list = body.putArray("keys");
        ObjectNode k1 = list.addObject();
        k1.put("keyName", "key1");
        k1.put("value", keys.key1());
        k1.put("permissions", "FULL");
        k1.put("creationTime", Json.time(keys.key1Created()));
        ObjectNode k2 = list.addObject();
        k2.put("keyName", "key2");
        k2.put("value", keys.key2());
        k2.put("permissions", "FULL");
        k2.put("creationTime", Json.time(keys.key2Created()));
        return body;
    }

    static ObjectNode render(StoredResource account) {
        return account.bodyCopy();
    }

    private static boolean premium(String sku) {
        return sku.startsWith("Premium");
    }

    private static boolean zoneRedundant(String sku) {
        return sku.endsWith("ZRS");
    }

    private static String tier(String sku) {
        return premium(sku) ? "Premium" : "Standard";
    }
}
