package dev.secondsite.arm;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * A request path read the ARM way: a scope, then {@code /providers/{namespace}/{type}/{name}/...}.
 * The last {@code providers} segment wins, so extension resources such as role assignments can sit
 * under any scope. A path without {@code providers} addresses subscriptions and resource groups.
 *
 * <p>{@link #kind()} tells what the path names: one resource, a collection (odd type/name count on GET),
 * or an action on a resource (odd count on POST: the last segment is the action).
 */
public record ArmPath(String scope, String namespace, List<String> types, List<String> names, String action,
                      Kind kind) {

    public enum Kind { RESOURCE, COLLECTION, ACTION }

    public static ArmPath parse(String method, String rawPath) {
        List<String> segments = new ArrayList<>();
        for (String s : rawPath.split("/")) {
            if (!s.isEmpty()) {
                // Path segments use %-escapes only; '+' is a literal plus (URLDecoder would make it a space).
                segments.add(java.net.URLDecoder.decode(s.replace("+", "%2B"), java.nio.charset.StandardCharsets.UTF_8));
            }
        }
        int providers = -1;
        for (int i = segments.size() - 2; i >= 0; i--) {
            if (segments.get(i).equalsIgnoreCase("providers")) {
                providers = i;
                break;
            }
        }
        String namespace;
        List<String> rest;
        String scope;
        if (providers >= 0) {
            scope = "/" + String.join("/", segments.subList(0, providers));
            namespace = segments.get(providers + 1);
            rest = segments.subList(providers + 2, segments.size());
        } else {
            // /subscriptions/{s}[/resourcegroups[/{rg}]]: the Microsoft.Resources provider, scope "/".
            scope = "/";
            namespace = "Microsoft.Resources";
            rest = segments;
        }
        if (rest.isEmpty()) {
            throw new ArmException(404, "InvalidResourceType", "The path '" + rawPath + "' names no resource type.");
        }
        boolean post = method.equalsIgnoreCase("POST");
        boolean odd = rest.size() % 2 == 1;
        String action = null;
        Kind kind;
        if (!odd) {
            kind = Kind.RESOURCE;
        } else if (post && rest.size() >= 3) {
            kind = Kind.ACTION;
            action = rest.get(rest.size() - 1);
            rest = rest.subList(0, rest.size() - 1);
        } else {
            kind = Kind.COLLECTION;
        }
        List<String> types = new ArrayList<>();
        List<String> names = new ArrayList<>();
        for (int i = 0; i < rest.size(); i++) {
            (i % 2 == 0 ? types : names).add(rest.get(i));
        }
        return new ArmPath(scope, namespace, List.copyOf(types), List.copyOf(names), action, kind);
    }

    /** "Microsoft.RecoveryServices/vaults/replicationFabrics", lower-cased: the key routes are looked up by. */
    public String typeKey() {
        return (namespace + "/" + String.join("/", types)).toLowerCase(Locale.ROOT);
    }

    /** The type as the client spelled it, for messages and RBAC action names. */
    public String typeName() {
        return namespace + "/" + String.join("/", types);
    }

    /** The id of the addressed resource (for a collection: the collection's path; for an action: its resource). */
    public String resourceId() {
        return idOf(names.size(), kind == Kind.COLLECTION);
    }

    /** The id of the resource that holds this resource or collection (the scope for top-level types). */
    public String parentId() {
        int pairs = kind == Kind.COLLECTION ? names.size() : names.size() - 1;
        return pairs == 0 ? scope : idOf(pairs, false);
    }

    private String idOf(int pairs, boolean trailingType) {
        boolean rootResources = scope.equals("/") && namespace.equalsIgnoreCase("Microsoft.Resources");
        StringBuilder id = new StringBuilder(scope.equals("/") ? "" : scope);
        if (!rootResources) {
            id.append("/providers/").append(namespace);
        }
        for (int i = 0; i < pairs; i++) {
            id.append('/').append(types.get(i)).append('/').append(names.get(i));
        }
        if (trailingType) {
            id.append('/').append(types.get(pairs));
        }
        return id.toString();
    }

    /** The last name in the path (the resource's own name), or null for a collection. */
    public String name() {
        return kind == Kind.COLLECTION ? null : names.get(names.size() - 1);
    }

    public String name(int index) {
        return names.get(index);
    }

    /** Subscription id from the scope or the path, or null for tenant-level paths. */
    public String subscriptionId() {
        String[] parts = (scope.equals("/") ? resourceId() : scope).split("/");
        for (int i = 0; i + 1 < parts.length; i++) {
            if (parts[i].equalsIgnoreCase("subscriptions")) {
                return parts[i + 1];
            }
        }
        return null;
    }

    /** Resource group name from the scope, or null. */
    public String resourceGroup() {
        String[] parts = (scope.equals("/") ? resourceId() : scope).split("/");
        for (int i = 0; i + 1 < parts.length; i++) {
            if (parts[i].equalsIgnoreCase("resourceGroups")) {
                return parts[i + 1];
            }
        }
        return null;
    }
}
