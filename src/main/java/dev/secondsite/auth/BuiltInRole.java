package dev.secondsite.auth;

import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * Azure's built-in roles that SecondSite enforces, with Azure's role definition ids so existing
 * scripts that assign roles by id keep working. Action patterns use Azure's syntax: '*' matches any text.
 */
public enum BuiltInRole {
    OWNER("Owner", "8e3af657-a8ff-443c-a75c-2fe8c4bcb635",
            List.of("*"), List.of()),
    CONTRIBUTOR("Contributor", "b24988ac-6180-42a0-ab88-20f7382dd24c",
            List.of("*"),
            List.of("Microsoft.Authorization/*/Delete", "Microsoft.Authorization/*/Write",
                    "Microsoft.Authorization/elevateAccess/Action", "SecondSite.Identity/*/write",
                    "SecondSite.Identity/*/delete")),
    READER("Reader", "acdd72a7-3385-48ef-bd42-f606fba81ae7",
            List.of("*/read"), List.of()),
    SITE_RECOVERY_CONTRIBUTOR("Site Recovery Contributor", "6670b86e-a3f7-4917-ac9b-5d6ab1be4567",
            List.of("Microsoft.Authorization/*/read", "Microsoft.Resources/*/read",
                    "Microsoft.RecoveryServices/vaults/read",
                    "Microsoft.RecoveryServices/vaults/replication*",
                    "Microsoft.RecoveryServices/vaults/extendedInformation/*",
                    "Microsoft.RecoveryServices/vaults/certificates/write",
                    "Microsoft.RecoveryServices/vaults/operationStatus/read",
                    "Microsoft.RecoveryServices/vaults/operationResults/read",
                    "Microsoft.RecoveryServices/vaults/usages/read",
                    "Microsoft.Storage/storageAccounts/read", "Microsoft.Network/virtualNetworks/read",
                    "Microsoft.Compute/*/read"),
            List.of()),
    SITE_RECOVERY_OPERATOR("Site Recovery Operator", "494ae006-db33-4328-bf46-533a6560a3ca",
            List.of("Microsoft.Authorization/*/read", "Microsoft.Resources/*/read",
                    "Microsoft.RecoveryServices/vaults/read", "Microsoft.RecoveryServices/vaults/*/read",
                    "Microsoft.RecoveryServices/vaults/replicationFabrics/*/testFailover/action",
                    "Microsoft.RecoveryServices/vaults/replicationFabrics/*/testFailoverCleanup/action",
                    "Microsoft.RecoveryServices/vaults/replicationFabrics/*/plannedFailover/action",
                    "Microsoft.RecoveryServices/vaults/replicationFabrics/*/unplannedFailover/action",
                    "Microsoft.RecoveryServices/vaults/replicationFabrics/*/failoverCommit/action",
                    "Microsoft.RecoveryServices/vaults/replicationFabrics/*/failoverCancel/action",
                    "Microsoft.RecoveryServices/vaults/replicationFabrics/*/reProtect/action",
                    "Microsoft.RecoveryServices/vaults/replicationFabrics/*/repairReplication/action",
                    "Microsoft.RecoveryServices/vaults/replicationFabrics/*/applyRecoveryPoint/action",
                    "Microsoft.RecoveryServices/vaults/replicationFabrics/*/switchprotection/action",
                    "Microsoft.RecoveryServices/vaults/replicationFabrics/checkConsistency/action",
                    "Microsoft.RecoveryServices/vaults/replicationRecoveryPlans/*/action",
                    "Microsoft.RecoveryServices/vaults/replicationJobs/*/action",
                    "Microsoft.RecoveryServices/vaults/replicationJobs/action",
                    "Microsoft.Storage/storageAccounts/read", "Microsoft.Network/virtualNetworks/read",
                    "Microsoft.Compute/*/read"),
            List.of()),
    SITE_RECOVERY_READER("Site Recovery Reader", "dbaa88c4-0c30-4179-9fb3-46319faa6149",
            List.of("Microsoft.Authorization/*/read", "Microsoft.Resources/*/read",
                    "Microsoft.RecoveryServices/vaults/read", "Microsoft.RecoveryServices/vaults/*/read"),
            List.of()),
    STORAGE_BLOB_DATA_CONTRIBUTOR("Storage Blob Data Contributor", "ba92f5b4-2d11-453d-a403-e96b0029c9fe",
            List.of("Microsoft.Storage/storageAccounts/blobServices/containers/*"), List.of()),
    STORAGE_BLOB_DATA_OWNER("Storage Blob Data Owner", "b7e6dc6d-f1e8-4753-8033-0f276bb0955b",
            List.of("Microsoft.Storage/storageAccounts/blobServices/containers/*"), List.of()),
    CLASSIC_STORAGE_ACCOUNT_CONTRIBUTOR("Classic Storage Account Contributor", "86e8f5dc-a6e9-4c67-9d15-de283e8eac25",
            List.of("Microsoft.ClassicStorage/storageAccounts/*", "Microsoft.Resources/*/read"), List.of()),
    CLASSIC_STORAGE_ACCOUNT_KEY_OPERATOR("Classic Storage Account Key Operator Service Role",
            "985d6b00-f706-48f5-a6fe-d0ca12fb668d",
            List.of("Microsoft.ClassicStorage/storageAccounts/listkeys/action",
                    "Microsoft.ClassicStorage/storageAccounts/regeneratekey/action"), List.of());

    private final String roleName;
    private final String id;
    private final List<String> actions;
    private final List<String> notActions;
    private final List<Pattern> allow;
    private final List<Pattern> deny;

    BuiltInRole(String roleName, String id, List<String> actions, List<String> notActions) {
        this.roleName = roleName;
        this.id = id;
        this.actions = actions;
        this.notActions = notActions;
        this.allow = actions.stream().map(BuiltInRole::glob).toList();
        this.deny = notActions.stream().map(BuiltInRole::glob).toList();
    }

    public String roleName() { return roleName; }
    public String id() { return id; }
    public List<String> actions() { return actions; }
    public List<String> notActions() { return notActions; }

    /** True when this role grants the operation (e.g. "Microsoft.RecoveryServices/vaults/write"). */
    public boolean permits(String operation) {
        String op = operation.toLowerCase(Locale.ROOT);
        return allow.stream().anyMatch(p -> p.matcher(op).matches())
                && deny.stream().noneMatch(p -> p.matcher(op).matches());
    }

    /** By role definition id (a GUID, or a full .../roleDefinitions/{guid} id) or by role name. */
    public static Optional<BuiltInRole> find(String idOrName) {
        if (idOrName == null) {
            return Optional.empty();
        }
        String key = idOrName.substring(idOrName.lastIndexOf('/') + 1);
        for (BuiltInRole role : values()) {
            if (role.id.equalsIgnoreCase(key) || role.roleName.equalsIgnoreCase(idOrName)) {
                return Optional.of(role);
            }
        }
        return Optional.empty();
    }

    private static Pattern glob(String pattern) {
        StringBuilder regex = new StringBuilder();
        for (String part : pattern.toLowerCase(Locale.ROOT).split("\\*", -1)) {
            if (!regex.isEmpty()) {
                regex.append(".*");
            }
            regex.append(Pattern.quote(part));
        }
        return Pattern.compile(regex.toString());
    }
}
