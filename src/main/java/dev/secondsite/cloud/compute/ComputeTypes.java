package dev.secondsite.cloud.compute;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.secondsite.arm.ArmException;
import dev.secondsite.arm.Fields;
import dev.secondsite.arm.Json;
import dev.secondsite.resource.StoredResource;

import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/** Type names and small shared helpers of the compute resources. */
final class ComputeTypes {
    static final String VM = "Microsoft.Compute/virtualMachines";
    static final String DISK = "Microsoft.Compute/disks";
    static final String SNAPSHOT = "Microsoft.Compute/snapshots";
    /** Built by cloud/network; VMs only reference NICs by id and set their virtualMachine.id. */
    static final String NIC = "Microsoft.Network/networkInterfaces";

    static final String RUNNING = "running";
    static final String STOPPED = "stopped";
    static final String DEALLOCATED = "deallocated";

    private ComputeTypes() {}

    /** The power state a VM body records ("running", "stopped", "deallocated"). */
    static String powerState(JsonNode vm) {
        for (JsonNode status : vm.path("properties").path("instanceView").path("statuses")) {
            String code = status.path("code").asText("");
            if (code.startsWith("PowerState/")) {
                return code.substring("PowerState/".length());
            }
        }
        return RUNNING;
    }

    /** A VM holds its cores (counts against quota) unless it is deallocated. */
    static boolean allocated(JsonNode vm) {
        return !DEALLOCATED.equals(powerState(vm));
    }

    /** ARM ids compare without case. */
    static boolean sameId(String a, String b) {
        return a != null && b != null && a.replaceAll("/+$", "").equalsIgnoreCase(b.replaceAll("/+$", ""));
    }

    /** The type part of an id ("Microsoft.Compute/disks"), lower-cased, or "" when it names no provider resource. */
    static String typeOf(String id) {
        String[] parts = id.split("/");
        for (int i = parts.length - 1; i >= 1; i--) {
            if (parts[i - 1].equalsIgnoreCase("providers") && i + 2 < parts.length) {
                StringBuilder type = new StringBuilder(parts[i]);
                for (int j = i + 1; j + 1 < parts.length; j += 2) {
                    type.append('/').append(parts[j]);
                }
                return type.toString().toLowerCase(Locale.ROOT);
            }
        }
        return "";
    }

    /** The subscription in an id, or null. */
    static String subscriptionOf(String id) {
        String[] parts = id.split("/");
        for (int i = 0; i + 1 < parts.length; i++) {
            if (parts[i].equalsIgnoreCase("subscriptions")) {
                return parts[i + 1];
            }
        }
        return null;
    }

    static String groupIdOf(String id) {
        String[] parts = id.split("/");
        for (int i = 0; i + 1 < parts.length; i++) {
            if (parts[i].equalsIgnoreCase("resourceGroups")) {
                return String.join("/", java.util.Arrays.copyOfRange(parts, 0, i + 2));
            }
        }
        return null;
    }

    /** ARM tags: at most 50, names up to 512 characters, string values up to 256. */
    static ObjectNode tags(Fields body, JsonNode current) {
        if (!body.has("tags")) {
            return current != null && current.isObject() ? (ObjectNode) current.deepCopy() : Json.object();
        }
        JsonNode raw = body.raw("tags");
        if (!raw.isObject()) {
            throw ArmException.invalidField("tags", "must be an object of string values.");
        }
        if (raw.size() > 50) {
            throw ArmException.invalidField("tags", "has " + raw.size() + " tags; at most 50 are allowed.");
        }
        ObjectNode tags = Json.object();
        for (Iterator<Map.Entry<String, JsonNode>> it = raw.fields(); it.hasNext(); ) {
            var e = it.next();
            if (e.getKey().isEmpty() || e.getKey().length() > 512 || e.getKey().matches(".*[<>%&\\\\?/].*")) {
                throw ArmException.invalidField("tags", "tag name '" + e.getKey() + "' must be 1-512 characters without < > % & \\ ? /.");
            }
            if (!e.getValue().isTextual() || e.getValue().asText().length() > 256) {
                throw ArmException.invalidField("tags." + e.getKey(), "must be a string of at most 256 characters.");
            }
            tags.put(e.getKey(), e.getValue().asText());
        }
        return tags;
    }

    /** A list answer: {"value": [...]}. */
    static ObjectNode list(List<? extends JsonNode> items) {
        ObjectNode list = Json.object();
        ArrayNode value = list.putArray("value");
        items.forEach(value::add);
        return list;
    }

    static ObjectNode list(Iterable<StoredResource> items, java.util.function.Function<StoredResource, ObjectNode> view) {
        ObjectNode list = Json.object();
        ArrayNode value = list.putArray("value");
        for (StoredResource r : items) {
            value.add(view.apply(r));
        }
        return list;
    }

    /** systemData as ARM writes it on create and update. */
    static void touch(ObjectNode body, String clientId, boolean created) {
        String now = Json.time(System.currentTimeMillis());
        ObjectNode systemData = body.with("systemData");
        if (created) {
            systemData.put("createdBy", clientId);
            systemData.put("createdByType", "Application");
            systemData.put("createdAt", now);
        }
        systemData.put("lastModifiedBy", clientId);
        systemData.put("lastModifiedByType", "Application");
        systemData.put("lastModifiedAt", now);
    }

    /** Merges a PATCH body into a resource body: objects merge, everything else (arrays too) replaces; null removes. */
    static void merge(ObjectNode target, JsonNode patch) {
        for (Iterator<Map.Entry<String, JsonNode>> it = patch.fields(); it.hasNext(); ) {
            var e = it.next();
            JsonNode current = target.get(e.getKey());
            if (e.getValue().isNull()) {
                target.remove(e.getKey());
            } else if (e.getValue().isObject() && current != null && current.isObject() && !e.getKey().equals("tags")) {
                merge((ObjectNode) current, e.getValue()); // tags are replaced as a whole, as Azure's PATCH does
            } else {
                target.set(e.getKey(), e.getValue().deepCopy());
            }
        }
    }

    static Optional<String> text(JsonNode node) {
        return node == null || !node.isTextual() || node.asText().isEmpty() ? Optional.empty() : Optional.of(node.asText());
    }
    /**
     * Azure's linked-access check: the caller may change this resource, but must also hold the action on a
     * resource the change uses (a disk to attach, a NIC to join, a snapshot to copy).
     */
    static void authorizeLinked(dev.secondsite.auth.Rbac rbac, dev.secondsite.arm.ArmRequest request, String linkedId,
                                String action) {
        try {
            rbac.authorize(request.principal(), linkedId, action);
        } catch (ArmException e) {
            if (e.status() != 403) {
                throw e;
            }
            throw new ArmException(403, "LinkedAuthorizationFailed", "The client '" + request.principal().clientId()
                    + "' with object id '" + request.principal().objectId() + "' has permission to perform action '"
                    + dev.secondsite.arm.ArmRoutes.permission(request.method(), request.path()) + "' on scope '"
                    + request.path().resourceId() + "'; however, it does not have permission to perform action(s) '"
                    + action + "' on the linked scope(s) '" + linkedId + "' (respectively) or the linked scope(s) are invalid.");
        }
    }
    /** A JSON boolean (or "true"/"false"); 400 naming the field otherwise. */
    static Optional<Boolean> bool(Fields fields, String field) {
        JsonNode v = fields.raw(field);
        if (v.isMissingNode() || v.isNull()) {
            return Optional.empty();
        }
        if (v.isBoolean()) {
            return Optional.of(v.asBoolean());
        }
        if (v.isTextual() && (v.asText().equalsIgnoreCase("true") || v.asText().equalsIgnoreCase("false"))) {
            return Optional.of(Boolean.parseBoolean(v.asText()));
        }
        throw ArmException.invalidField(fields.path(field), "must be true or false, got " + v + ".");
    }

    /** The array at a field (empty when absent); 400 naming the field when it is not an array. */
    static ArrayNode array(Fields fields, String field) {
        JsonNode v = fields.raw(field);
        if (v.isMissingNode() || v.isNull()) {
            return Json.MAPPER.createArrayNode();
        }
        if (!v.isArray()) {
            throw ArmException.invalidField(fields.path(field), "must be an array.");
        }
        return (ArrayNode) v;
    }
}
