package dev.secondsite.failover;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.secondsite.arm.ArmException;
import dev.secondsite.arm.Fields;
import dev.secondsite.arm.Json;
import dev.secondsite.resource.ResourceStore;
import dev.secondsite.resource.StoredResource;
import dev.secondsite.vault.ReplicationTypes;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Reads a recovery plan's groups (reference §3.15 RecoveryPlanGroup, RecoveryPlanAction) with errors naming the
 * field by its path (e.g. {@code properties.groups[1].replicationProtectedItems[0].id}), and orders them as ASR
 * returns them: the Shutdown group, the Failover group (both inserted empty when not given), then the Boot groups
 * in the order given. Protected items belong in Boot groups, each item in one group only.
 */
final class PlanGroups {
    static final String SHUTDOWN = "Shutdown";
    static final String FAILOVER = "Failover";
    static final String BOOT = "Boot";
    static final List<String> OPERATIONS = List.of("ReverseReplicate", "Commit", "PlannedFailover", "UnplannedFailover",
            "DisableProtection", "TestFailover", "TestFailoverCleanup", "Failback", "FinalizeFailback",
            "CancelFailover", "ChangePit", "RepairReplication", "SwitchProtection", "CompleteMigration");
    static final List<String> DIRECTIONS = List.of("PrimaryToRecovery", "RecoveryToPrimary");
    static final String SCRIPT = "ScriptActionDetails";
    static final String MANUAL = "ManualActionDetails";
    static final String RUNBOOK = "AutomationRunbookActionDetails";
    static final Duration SCRIPT_TIMEOUT_DEFAULT = Duration.ofMinutes(10);
    static final Duration SCRIPT_TIMEOUT_MAX = Duration.ofHours(1);
    /**
     * A script action names an executable file already on the server by its absolute path, without spaces or
     * shell characters: the path is run with {@code sh -c}, so this keeps API callers from running commands of
     * their own; only scripts an administrator put on the server can run.
     */
    private static final Pattern SCRIPT_PATH = Pattern.compile("^/[A-Za-z0-9._+\\-][A-Za-z0-9._+/\\-]*$");

    private final ResourceStore resources;

    PlanGroups(ResourceStore resources) {
        this.resources = resources;
    }

    /** The checked groups in ASR's order; items must be protected items of {@code primaryFabricId}. */
    ArrayNode read(JsonNode groups, String path, String vaultId, String primaryFabricId) {
        if (groups == null || groups.isMissingNode() || groups.isNull()) {
            throw ArmException.missingField(path);
        }
        if (!groups.isArray()) {
            throw ArmException.invalidField(path, "must be an array of recovery plan groups.");
        }
        ObjectNode shutdown = null;
        ObjectNode failover = null;
        List<ObjectNode> boot = new ArrayList<>();
        Map<String, String> itemPaths = new HashMap<>();
        Map<String, String> actionPaths = new HashMap<>();
        for (int i = 0; i < groups.size(); i++) {
            String at = path + "[" + i + "]";
            Fields g = Fields.of(groups.get(i), at);
            String type = g.oneOf("groupType", List.of(SHUTDOWN, BOOT, FAILOVER))
                    .orElseThrow(() -> ArmException.missingField(at + ".groupType"));
            ObjectNode group = Json.object();
            group.put("groupType", type);
            group.set("replicationProtectedItems", items(g, at, type, vaultId, primaryFabricId, itemPaths));
            group.set("startGroupActions", actions(g, "startGroupActions", actionPaths));
            group.set("endGroupActions", actions(g, "endGroupActions", actionPaths));
            switch (type) {
                case SHUTDOWN -> {
                    if (shutdown != null) {
                        throw ArmException.invalidField(at + ".groupType", "a recovery plan has one Shutdown group.");
                    }
                    shutdown = group;
                }
                case FAILOVER -> {
                    if (failover != null) {
                        throw ArmException.invalidField(at + ".groupType", "a recovery plan has one Failover group.");
                    }
                    failover = group;
                }
                default -> boot.add(group);
            }
        }
        ArrayNode ordered = Json.MAPPER.createArrayNode();
        ordered.add(shutdown != null ? shutdown : empty(SHUTDOWN));
        ordered.add(failover != null ? failover : empty(FAILOVER));
        boot.forEach(ordered::add);
        return ordered;
    }

    /** The protected item ids of the groups, in plan order. */
    static List<String> itemIds(JsonNode groups) {
        List<String> ids = new ArrayList<>();
        groups.forEach(g -> g.path("replicationProtectedItems").forEach(i -> ids.add(i.path("id").asText())));
        return ids;
    }

    /** "Shutdown", "Failover", or "Group n" for the n-th Boot group (as the portal names them). */
    static String displayName(JsonNode groups, int index) {
        String type = groups.get(index).path("groupType").asText();
        if (!type.equals(BOOT)) {
            return type;
        }
        int n = 0;
        for (int i = 0; i <= index; i++) {
            n += groups.get(i).path("groupType").asText().equals(BOOT) ? 1 : 0;
        }
        return "Group " + n;
    }

    /** A script action's timeout: whole seconds ("300") or an ISO-8601 duration ("PT5M"); 10 minutes if absent. */
    static Duration timeout(String value, String field) {
        if (value == null || value.isBlank()) {
            return SCRIPT_TIMEOUT_DEFAULT;
        }
        Duration d;
        try {
            d = value.matches("\\d{1,7}") ? Duration.ofSeconds(Long.parseLong(value))
                    : Duration.parse(value.toUpperCase(Locale.ROOT));
        } catch (DateTimeParseException e) {
            throw ArmException.invalidField(field, "'" + value + "' is neither whole seconds nor an ISO-8601 "
                    + "duration such as PT5M.");
        }
        if (d.isNegative() || d.isZero() || d.compareTo(SCRIPT_TIMEOUT_MAX) > 0) {
            throw ArmException.invalidField(field, "must be between 1 second and 1 hour, got '" + value + "'.");
        }
        return d;
    }

    private ArrayNode items(Fields g, String at, String type, String vaultId, String primaryFabricId,
                            Map<String, String> seen) {
        ArrayNode out = Json.MAPPER.createArrayNode();
        JsonNode list = g.raw("replicationProtectedItems");
        if (list.isMissingNode() || list.isNull()) {
            return out;
        }
        if (!list.isArray()) {
            throw ArmException.invalidField(at + ".replicationProtectedItems", "must be an array.");
        }
        for (int j = 0; j < list.size(); j++) {
            String itemPath = at + ".replicationProtectedItems[" + j + "]";
            Fields f = Fields.of(list.get(j), itemPath);
            String id = f.requiredString("id");
            String field = itemPath + ".id";
            StoredResource item = resources.find(id)
                    .filter(r -> r.typeKey().equals(ResourceStore.key(ReplicationTypes.PROTECTED_ITEM)))
                    .filter(r -> ResourceStore.key(r.id()).startsWith(ResourceStore.key(vaultId) + "/"))
                    .orElseThrow(() -> new ArmException(400, "ProtectedItemNotFound", "Field '" + field + "': '" + id
                            + "' is not a protected item of this vault. List the vault's replicationProtectedItems and "
                            + "use one of their ids.", field, List.of()));
            if (!ResourceStore.key(item.id()).startsWith(ResourceStore.key(primaryFabricId) + "/")) {
                throw new ArmException(400, "ProtectedItemNotInPrimaryFabric", "Field '" + field + "': '" + item.name()
                        + "' replicates from another fabric than the plan's primaryFabricId. A plan holds the items "
                        + "of one primary fabric.", field, List.of());
            }
            if (!type.equals(BOOT)) {
                throw new ArmException(400, "ProtectedItemNotInBootGroup", "Field '" + field + "': protected items "
                        + "belong in Boot groups; the " + type + " group holds actions only.", field, List.of());
            }
            String earlier = seen.putIfAbsent(ResourceStore.key(item.id()), field);
            if (earlier != null) {
                throw new ArmException(400, "ProtectedItemInMultipleGroups", "Field '" + field + "': '" + item.name()
                        + "' is already in the plan at " + earlier + ". An item can be in one group of a plan only.",
                        field, List.of());
            }
            ObjectNode entry = out.addObject();
            entry.put("id", item.id());
            entry.put("virtualMachineId", f.string("virtualMachineId").filter(s -> !s.isBlank()).orElse(item.name()));
        }
        return out;
    }

    private static ArrayNode actions(Fields g, String field, Map<String, String> seen) {
        ArrayNode out = Json.MAPPER.createArrayNode();
        JsonNode list = g.raw(field);
        if (list.isMissingNode() || list.isNull()) {
            return out;
        }
        if (!list.isArray()) {
            throw ArmException.invalidField(g.path(field), "must be an array of recovery plan actions.");
        }
        for (int k = 0; k < list.size(); k++) {
            out.add(action(Fields.of(list.get(k), g.path(field) + "[" + k + "]"), seen));
        }
        return out;
    }

    private static ObjectNode action(Fields a, Map<String, String> seen) {
        String name = a.requiredString("actionName");
        String earlier = seen.putIfAbsent(name.toLowerCase(Locale.ROOT), a.path("actionName"));
        if (earlier != null) {
            throw new ArmException(400, "DuplicateActionName", "Field '" + a.path("actionName") + "': action name '"
                    + name + "' is already used at " + earlier + ". Action names are unique in a plan.",
                    a.path("actionName"), List.of());
        }
        ObjectNode action = Json.object();
        action.put("actionName", name);
        action.set("failoverTypes", strings(a, "failoverTypes", OPERATIONS));
        action.set("failoverDirections", strings(a, "failoverDirections", DIRECTIONS));
        Fields custom = a.object("customDetails");
        if (!custom.present()) {
            throw ArmException.missingField(a.path("customDetails"));
        }
        String type = custom.oneOf("instanceType", List.of(SCRIPT, MANUAL, RUNBOOK))
                .orElseThrow(() -> ArmException.missingField(custom.path("instanceType")));
        ObjectNode details = action.putObject("customDetails");
        details.put("instanceType", type);
        switch (type) {
            case RUNBOOK -> throw new ArmException(400, "AutomationRunbookNotSupported", "Field '"
                    + custom.path("instanceType") + "': SecondSite has no Azure Automation, so runbook actions can't "
                    + "run. Use a ScriptActionDetails action (a script run on the SecondSite server) or a "
                    + "ManualActionDetails action instead.", custom.path("instanceType"), List.of());
            case MANUAL -> details.put("description", custom.string("description").orElse(""));
            default -> {
                details.put("path", scriptPath(custom));
                String timeout = custom.string("timeout").orElse(null);
                timeout(timeout, custom.path("timeout"));
                if (timeout != null) {
                    details.put("timeout", timeout);
                }
                details.put("fabricLocation", custom.oneOf("fabricLocation", List.of("Primary", "Recovery"))
                        .orElseThrow(() -> ArmException.missingField(custom.path("fabricLocation"))));
            }
        }
        return action;
    }

    private static String scriptPath(Fields custom) {
        String path = custom.requiredString("path");
        String field = custom.path("path");
        if (!SCRIPT_PATH.matcher(path).matches() || path.contains("/../") || path.endsWith("/..")) {
            throw ArmException.invalidField(field, "must be the absolute path of a script on the SecondSite server, "
                    + "of letters, digits and . _ + - / only (no spaces, arguments or shell characters), e.g. "
                    + "/opt/secondsite/scripts/start-app.sh; got '" + path + "'.");
        }
        Path file = Path.of(path);
        if (!Files.isRegularFile(file) || !Files.isExecutable(file)) {
            throw new ArmException(400, "ScriptNotFound", "Field '" + field + "': there is no executable file '" + path
                    + "' on the SecondSite server. Put the script there (chmod +x) before adding the action.",
                    field, List.of());
        }
        return path;
    }

    /** A required, non-empty array of strings, each one of {@code allowed} (returned in its allowed spelling). */
    private static ArrayNode strings(Fields a, String field, List<String> allowed) {
        JsonNode list = a.raw(field);
        if (list.isMissingNode() || list.isNull()) {
            throw ArmException.missingField(a.path(field));
        }
        if (!list.isArray() || list.isEmpty()) {
            throw ArmException.invalidField(a.path(field), "must be a non-empty array of " + String.join(", ", allowed)
                    + ".");
        }
        ArrayNode out = Json.MAPPER.createArrayNode();
        for (int i = 0; i < list.size(); i++) {
            JsonNode v = list.get(i);
            String at = a.path(field) + "[" + i + "]";
            String match = v.isTextual() ? allowed.stream().filter(x -> x.equalsIgnoreCase(v.asText())).findFirst()
                    .orElse(null) : null;
            if (match == null) {
                throw ArmException.invalidField(at, "'" + v.asText() + "' is not one of " + String.join(", ", allowed)
                        + ".");
            }
            out.add(match);
        }
        return out;
    }

    private static ObjectNode empty(String type) {
        ObjectNode group = Json.object();
        group.put("groupType", type);
        group.putArray("replicationProtectedItems");
        group.putArray("startGroupActions");
        group.putArray("endGroupActions");
        return group;
    }
}
