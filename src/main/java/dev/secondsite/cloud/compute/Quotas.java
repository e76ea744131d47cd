package dev.secondsite.cloud.compute;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.secondsite.arm.ArmException;
import dev.secondsite.arm.ArmRequest;
import dev.secondsite.arm.ArmResponse;
import dev.secondsite.arm.Fields;
import dev.secondsite.arm.Json;
import dev.secondsite.cloud.Regions;
import dev.secondsite.resource.ResourceStore;
import dev.secondsite.resource.StoredResource;
import dev.secondsite.vault.ResourceGroups;
import org.jdbi.v3.core.Jdbi;

import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * vCPU quotas per subscription and region: one limit per VM family and one for all families ("Total
 * Regional vCPUs", quota name {@code cores}). Defaults: {@value #DEFAULT_FAMILY_LIMIT} per family and
 * {@value #DEFAULT_REGIONAL_LIMIT} per region; raised or lowered through the Microsoft.Quota API
 * ({@code PUT {scope}/providers/Microsoft.Quota/quotas/{family}} with scope
 * {@code /subscriptions/{s}/providers/Microsoft.Compute/locations/{loc}}).
 *
 * <p>Usage counts the vCPUs of every VM that holds its hardware: running or stopped (powered off), not
 * deallocated. Deallocating a VM releases its cores; starting it again claims them, and is refused when the
 * quota no longer has room. A change that would pass a limit fails with Azure's 409 OperationNotAllowed and
 * its quota message. Checks run under the region's lock ({@link RegionLocks}), together with the change
 * they admit.
 */
public final class Quotas {
    public static final int DEFAULT_FAMILY_LIMIT = 20;
    public static final int DEFAULT_REGIONAL_LIMIT = 40;
    public static final String REGIONAL = "cores";
    private static final String REGIONAL_DISPLAY = "Total Regional vCPUs";
    private static final int VM_LIMIT = 25000;
    private static final int LIMIT_MAX = 100_000;

    private final Jdbi jdbi;
    private final ResourceStore resources;
    private final RegionLocks locks;

    Quotas(Jdbi jdbi, ResourceStore resources, RegionLocks locks) {
        this.jdbi = jdbi;
        this.resources = resources;
        this.locks = locks;
    }

    /** vCPUs in use in a region: per family, in total, and how many VMs exist there. */
    public record Usage(Map<String, Integer> byFamily, int total, int vms) {
        public int family(String family) {
            return byFamily.getOrDefault(family, 0);
        }
    }

    public Usage usage(String subscription, String location) {
        Map<String, Integer> byFamily = new HashMap<>();
        int total = 0;
        int vms = 0;
        for (StoredResource vm : resources.bySubscription(subscription, ComputeTypes.VM)) {
            if (!vm.body().path("location").asText().equalsIgnoreCase(location)) {
                continue;
            }
            vms++;
            if (!ComputeTypes.allocated(vm.body())) {
                continue;
            }
            ComputeSize size = VmSizes.find(vm.body().path("properties").path("hardwareProfile").path("vmSize").asText())
                    .orElse(null);
            if (size != null) {
                byFamily.merge(size.family(), size.vCpus(), Integer::sum);
                total += size.vCpus();
            }
        }
        return new Usage(byFamily, total, vms);
    }

    public long limit(String subscription, String location, String quotaName) {
        Long stored = jdbi.withHandle(h -> h.createQuery("SELECT cores_limit FROM compute_quota_limits WHERE "
                        + "subscription_id = :s AND location = :l AND quota_name = :n")
                .bind("s", subscription.toLowerCase(Locale.ROOT)).bind("l", location).bind("n", quotaName)
                .mapTo(Long.class).findOne().orElse(null));
        if (stored != null) {
            return stored;
        }
        return quotaName.equals(REGIONAL) ? DEFAULT_REGIONAL_LIMIT : DEFAULT_FAMILY_LIMIT;
    }

    /**
     * Refuses (409 OperationNotAllowed) a change that needs familyCores more vCPUs of the size's family and
     * regionalCores more in the region, when either would pass its limit. Call under the region's lock.
     */
    void require(String subscription, String location, ComputeSize size, int familyCores, int regionalCores) {
        Usage usage = usage(subscription, location);
        if (familyCores > 0) {
            long limit = limit(subscription, location, size.family());
            int current = usage.family(size.family());
            if (current + familyCores > limit) {
                throw exceeded(size.family(), location, limit, current, familyCores);
            }
        }
        if (regionalCores > 0) {
            long limit = limit(subscription, location, REGIONAL);
            if (usage.total() + regionalCores > limit) {
                throw exceeded("Total Regional", location, limit, usage.total(), regionalCores);
            }
        }
    }

    /** Azure's quota error, word for word, pointing at our quota API instead of the portal. */
    static ArmException exceeded(String quota, String location, long limit, int usage, int required) {
        String quotaName = quota.equals("Total Regional") ? REGIONAL : quota;
        return new ArmException(409, "OperationNotAllowed", "Operation could not be completed as it results in "
                + "exceeding approved " + quota + " Cores quota. Additional details - Deployment Model: Resource Manager, "
                + "Location: " + location + ", Current Limit: " + limit + ", Current Usage: " + usage
                + ", Additional Required: " + required + ", (Minimum) New Limit Required: " + (usage + required)
                + ". Submit a request for Quota increase by specifying parameters listed in the 'Details' section for "
                + "deployment to succeed: PUT /subscriptions/{subscriptionId}/providers/Microsoft.Compute/locations/"
                + location + "/providers/Microsoft.Quota/quotas/" + quotaName + " with properties.limit.value "
                + (usage + required) + " (CLI: secondsite compute quota set -l " + location + " --name " + quotaName
                + " --limit " + (usage + required) + ").");
    }

    // ---- GET /subscriptions/{s}/providers/Microsoft.Compute/locations/{loc}/usages ----

    public ArmResponse listUsages(ArmRequest request) {
        String subscription = request.path().subscriptionId();
        ResourceGroups.checkSubscription(subscription);
        String location = Regions.require(request.path().name(0), "location").name();
        Usage usage = usage(subscription, location);
        ArrayNode value = Json.MAPPER.createArrayNode();
        value.add(usageEntry(REGIONAL, REGIONAL_DISPLAY, usage.total(), limit(subscription, location, REGIONAL)));
        value.add(usageEntry("virtualMachines", "Virtual Machines", usage.vms(), VM_LIMIT));
        VmSizes.families().forEach((family, display) ->
                value.add(usageEntry(family, display, usage.family(family), limit(subscription, location, family))));
        ObjectNode list = Json.object();
        list.set("value", value);
        return ArmResponse.ok(list);
    }

    private static ObjectNode usageEntry(String name, String display, long current, long limit) {
        ObjectNode entry = Json.object();
        entry.put("unit", "Count");
        entry.put("currentValue", current);
        entry.put("limit", limit);
        ObjectNode n = entry.putObject("name");
        n.put("value", name);
        n.put("localizedValue", display);
        return entry;
    }

    // ---- Microsoft.Quota: {scope}/providers/Microsoft.Quota/quotas/{name} ----

    /** The subscription and region of a Microsoft.Quota scope (/subscriptions/{s}/providers/Microsoft.Compute/locations/{loc}). */
    private record QuotaScope(String subscription, String location, String scope) {}

    private static QuotaScope quotaScope(ArmRequest request) {
        String scope = request.path().scope();
        String[] p = scope.split("/");
        if (p.length != 7 || !p[1].equalsIgnoreCase("subscriptions") || !p[3].equalsIgnoreCase("providers")
                || !p[4].equalsIgnoreCase("Microsoft.Compute") || !p[5].equalsIgnoreCase("locations")) {
            throw ArmException.badRequest("InvalidScope", "Quotas are served at the scope "
                    + "/subscriptions/{subscriptionId}/providers/Microsoft.Compute/locations/{location}, not '" + scope + "'.");
        }
        ResourceGroups.checkSubscription(p[2]);
        String location = Regions.require(p[6], "location").name();
        return new QuotaScope(p[2], location, "/subscriptions/" + p[2] + "/providers/Microsoft.Compute/locations/" + location);
    }

    private static String quotaName(String name) {
        if (name.equalsIgnoreCase(REGIONAL)) {
            return REGIONAL;
        }
        return VmSizes.families().keySet().stream().filter(f -> f.equalsIgnoreCase(name)).findFirst()
                .orElseThrow(() -> new ArmException(404, "ResourceNotFound", "No compute quota is named '" + name
                        + "'. Quotas: " + REGIONAL + ", " + String.join(", ", VmSizes.families().keySet()) + "."));
    }

    public ArmResponse getQuota(ArmRequest request) {
        QuotaScope scope = quotaScope(request);
        return ArmResponse.ok(quotaBody(scope, quotaName(request.path().name())));
    }

    public ArmResponse listQuotas(ArmRequest request) {
        QuotaScope scope = quotaScope(request);
        ArrayNode value = Json.MAPPER.createArrayNode();
        value.add(quotaBody(scope, REGIONAL));
        VmSizes.families().keySet().forEach(f -> value.add(quotaBody(scope, f)));
        ObjectNode list = Json.object();
        list.set("value", value);
        return ArmResponse.ok(list);
    }

    /** PUT/PATCH: sets the limit. A limit below what is in use is refused (409 QuotaLimitBelowUsage). */
    public ArmResponse putQuota(ArmRequest request) {
        QuotaScope scope = quotaScope(request);
        String name = quotaName(request.path().name());
        Fields properties = Fields.of(request.bodyObject(), "").object("properties");
        Fields limitField = properties.object("limit");
        limitField.oneOf("limitObjectType", List.of("LimitValue")).ifPresent(v -> { });
        int value = limitField.integer("value", 0, LIMIT_MAX)
                .orElseThrow(() -> ArmException.missingField("properties.limit.value"));
        properties.object("name").string("value").ifPresent(v -> {
            if (!v.equalsIgnoreCase(name)) {
                throw ArmException.invalidField("properties.name.value", "'" + v + "' does not match the quota '" + name
                        + "' in the path.");
            }
        });
        return locks.inRegion(scope.subscription(), scope.location(), () -> {
            Usage usage = usage(scope.subscription(), scope.location());
            int used = name.equals(REGIONAL) ? usage.total() : usage.family(name);
            if (value < used) {
                throw ArmException.conflict("QuotaLimitBelowUsage", "The limit " + value + " for '" + name + "' in "
                        + scope.location() + " is below the " + used + " vCPUs in use; deallocate or delete VMs first.");
            }
            long now = System.currentTimeMillis();
            String sub = scope.subscription().toLowerCase(Locale.ROOT);
            jdbi.useTransaction(h -> {
                int updated = h.createUpdate("UPDATE compute_quota_limits SET cores_limit = :v, updated_at = :t "
                                + "WHERE subscription_id = :s AND location = :l AND quota_name = :n")
                        .bind("v", value).bind("t", now).bind("s", sub).bind("l", scope.location()).bind("n", name).execute();
                if (updated == 0) {
                    h.createUpdate("INSERT INTO compute_quota_limits (subscription_id, location, quota_name, cores_limit, "
                                    + "updated_at) VALUES (:s, :l, :n, :v, :t)")
                            .bind("v", value).bind("t", now).bind("s", sub).bind("l", scope.location()).bind("n", name).execute();
                }
            });
            return ArmResponse.ok(quotaBody(scope, name));
        });
    }

    private ObjectNode quotaBody(QuotaScope scope, String name) {
        ObjectNode body = Json.object();
        body.put("id", scope.scope() + "/providers/Microsoft.Quota/quotas/" + name);
        body.put("name", name);
        body.put("type", "Microsoft.Quota/Quotas");
        ObjectNode properties = body.putObject("properties");
        ObjectNode limit = properties.putObject("limit");
        limit.put("limitObjectType", "LimitValue");
        limit.put("limitType", "Independent");
        limit.put("value", limit(scope.subscription(), scope.location(), name));
        properties.put("unit", "Count");
        ObjectNode n = properties.putObject("name");
        n.put("value", name);
        n.put("localizedValue", name.equals(REGIONAL) ? REGIONAL_DISPLAY : VmSizes.families().get(name));
        properties.put("resourceType", name.equals(REGIONAL) ? "regional" : "dedicated");
        properties.put("quotaPeriod", "");
        properties.put("isQuotaApplicable", true);
        properties.putObject("properties");
        return body;
    }
}
