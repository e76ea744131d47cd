package dev.secondsite.arm;

import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * The api-versions each resource provider accepts. Official SDKs pin different versions
 * (azure-resourcemanager-recoveryservices 1.3.0 sends 2024-04-01, Site Recovery samples 2024-10-01),
 * so we accept every stable version of the published specs from 2018-01-10 on. Our bodies are a
 * superset of those versions' shapes.
 */
public final class ApiVersions {
    private static final Set<String> RECOVERY_SERVICES = Set.of(
            // Microsoft.RecoveryServices vaults and Site Recovery (both specs share the namespace).
            "2016-06-01", "2018-01-10", "2018-07-10", "2020-02-02", "2020-10-01", "2021-01-01", "2021-02-10",
            "2021-03-01", "2021-04-01", "2021-06-01", "2021-07-01", "2021-08-01", "2021-10-01", "2021-11-01",
            "2021-12-01", "2022-01-01", "2022-02-01", "2022-03-01", "2022-04-01", "2022-05-01", "2022-08-01",
            "2022-09-10", "2022-10-01", "2023-01-01", "2023-02-01", "2023-04-01", "2023-06-01", "2023-08-01",
            "2024-01-01", "2024-02-01", "2024-04-01", "2024-10-01", "2025-01-01", "2025-02-01", "2025-08-01");
    private static final Set<String> RESOURCES = Set.of(
            "2016-09-01", "2017-05-10", "2018-05-01", "2019-05-01", "2019-05-10", "2019-07-01", "2019-08-01",
            "2019-10-01", "2020-06-01", "2020-08-01", "2020-10-01", "2021-01-01", "2021-04-01", "2022-09-01",
            "2023-07-01", "2024-03-01", "2024-07-01", "2024-11-01", "2025-03-01", "2025-04-01");
    private static final Set<String> AUTHORIZATION = Set.of(
            "2015-07-01", "2018-01-01-preview", "2018-09-01-preview", "2020-03-01-preview", "2020-04-01-preview",
            "2020-10-01", "2020-10-01-preview", "2021-03-01-preview", "2022-04-01", "2022-05-01-preview");
    /** Microsoft.Storage stable versions from 2019 on (azure-mgmt-storage 21 sends 2022-09-01). */
    private static final Set<String> STORAGE = Set.of(
            "2019-04-01", "2019-06-01", "2021-01-01", "2021-02-01", "2021-04-01", "2021-06-01", "2021-08-01",
            "2021-09-01", "2022-05-01", "2022-09-01", "2023-01-01", "2023-04-01", "2023-05-01", "2024-01-01",
            "2025-01-01", "2025-06-01");
    /**
     * Microsoft.Network stable versions from 2019 on (azure-mgmt-network 23 sends 2022-07-01), and the private DNS
     * API's (privateDnsZones, same namespace, versioned apart: 2018-09-01, 2020-01-01, 2020-06-01, 2024-06-01;
     * azure-resourcemanager-privatedns sends 2020-06-01).
     */
    private static final Set<String> NETWORK = Set.of("2018-09-01", "2020-01-01", "2024-06-01",
            "2019-02-01", "2019-04-01", "2019-06-01", "2019-07-01", "2019-08-01", "2019-09-01", "2019-11-01",
            "2019-12-01", "2020-03-01", "2020-04-01", "2020-05-01", "2020-06-01", "2020-07-01", "2020-08-01",
            "2020-11-01", "2021-02-01", "2021-03-01", "2021-05-01", "2021-08-01", "2022-01-01", "2022-05-01",
            "2022-07-01", "2022-09-01", "2022-11-01", "2023-02-01", "2023-04-01", "2023-05-01", "2023-06-01",
            "2023-09-01", "2023-11-01", "2024-01-01", "2024-03-01", "2024-05-01", "2024-07-01", "2024-10-01");
    /**
     * Microsoft.Compute stable versions from 2019 on: VMs/sizes/usages (e.g. 2024-03-01, 2024-07-01) and the
     * disk resource provider's disks/snapshots (e.g. 2023-10-02, 2024-03-02) share the namespace.
     */
    private static final Set<String> COMPUTE = Set.of(
            "2019-03-01", "2019-07-01", "2019-11-01", "2019-12-01", "2020-05-01", "2020-06-01", "2020-06-30",
            "2020-09-30", "2020-12-01", "2021-03-01", "2021-04-01", "2021-07-01", "2021-08-01", "2021-11-01",
            "2021-12-01", "2022-03-01", "2022-03-02", "2022-07-02", "2022-08-01", "2022-11-01", "2023-01-02",
            "2023-03-01", "2023-04-02", "2023-07-01", "2023-09-01", "2023-10-02", "2024-03-01", "2024-03-02",
            "2024-07-01", "2024-11-01", "2025-01-02", "2025-04-01");
    /** Microsoft.Quota (compute vCPU quotas). */
    private static final Set<String> QUOTA = Set.of("2023-02-01", "2025-03-01", "2025-09-01");
    /** Microsoft.ManagedIdentity (user-assigned identities; azure-mgmt-msi 7 sends 2018-11-30). */
    private static final Set<String> MANAGED_IDENTITY = Set.of("2018-11-30", "2021-09-30-preview",
            "2022-01-31-preview", "2023-01-31", "2023-07-31-preview", "2024-11-30");
    /** Our own additions (service principals) follow the same rule as the RecoveryServices API. */
    private static final Map<String, Set<String>> BY_NAMESPACE = Map.of(
            "microsoft.recoveryservices", RECOVERY_SERVICES,
            "microsoft.resources", RESOURCES,
            "microsoft.authorization", AUTHORIZATION,
            "secondsite.identity", RECOVERY_SERVICES,
            "microsoft.storage", STORAGE,
            "microsoft.network", NETWORK,
            "microsoft.compute", COMPUTE,
            "microsoft.quota", QUOTA,
            "microsoft.managedidentity", MANAGED_IDENTITY);

    private ApiVersions() {}

    /** Throws the ARM errors for a missing or unsupported api-version of this namespace. */
    public static void check(String namespace, String apiVersion) {
        Set<String> accepted = BY_NAMESPACE.getOrDefault(namespace.toLowerCase(Locale.ROOT), RECOVERY_SERVICES);
        if (apiVersion == null || apiVersion.isBlank()) {
            throw new ArmException(400, "MissingApiVersionParameter",
                    "The api-version query parameter (?api-version=) is required for all requests.");
        }
        if (!accepted.contains(apiVersion)) {
            throw new ArmException(400, "InvalidApiVersionParameter",
                    "The api-version '" + apiVersion + "' is invalid. The supported versions for '" + namespace
                            + "' are '" + String.join(",", new TreeSet<>(accepted)) + "'.");
        }
    }
}
