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
    /** Our own additions (service principals) follow the same rule as the RecoveryServices API. */
    private static final Map<String, Set<String>> BY_NAMESPACE = Map.of(
            "microsoft.recoveryservices", RECOVERY_SERVICES,
            "microsoft.resources", RESOURCES,
            "microsoft.authorization", AUTHORIZATION,
            "secondsite.identity", RECOVERY_SERVICES);

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
