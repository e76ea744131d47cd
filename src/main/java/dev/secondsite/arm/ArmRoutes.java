package dev.secondsite.arm;

import java.util.HashMap;
import java.util.HashSet;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * The table of ARM routes: (method, resource type[, action]) to handler. Filled in one place
 * ({@code ApiRoutes}) so the whole API surface can be read at once.
 */
public final class ArmRoutes {
    private final Map<String, ArmHandler> handlers = new HashMap<>();
    private final Set<String> knownTypes = new HashSet<>();

    /** Routes of one resource type, e.g. "Microsoft.RecoveryServices/vaults/replicationPolicies". */
    public TypeRoutes type(String type) {
        knownTypes.add(key(type));
        return new TypeRoutes(key(type));
    }

    public final class TypeRoutes {
        private final String typeKey;

        private TypeRoutes(String typeKey) {
            this.typeKey = typeKey;
        }

        public TypeRoutes get(ArmHandler h) { return add("GET", h); }
        public TypeRoutes put(ArmHandler h) { return add("PUT", h); }
        public TypeRoutes patch(ArmHandler h) { return add("PATCH", h); }
        public TypeRoutes delete(ArmHandler h) { return add("DELETE", h); }
        public TypeRoutes list(ArmHandler h) { return add("LIST", h); }
        /** POST on a named member of the collection, e.g. replicationJobs/export. */
        public TypeRoutes post(ArmHandler h) { return add("POST", h); }
        /** POST {resource}/{action}. */
        public TypeRoutes action(String action, ArmHandler h) {
            return add("ACTION:" + action.toLowerCase(Locale.ROOT), h);
        }

        private TypeRoutes add(String verb, ArmHandler h) {
            if (handlers.putIfAbsent(verb + " " + typeKey, h) != null) {
                throw new IllegalStateException("route registered twice: " + verb + " " + typeKey);
            }
            return this;
        }
    }

    /** The handler for a parsed path and method; ARM errors when the type or method is unknown. */
    public ArmHandler find(String method, ArmPath path) {
        String verb = switch (path.kind()) {
            case COLLECTION -> method.equals("GET") ? "LIST" : "COLLECTION:" + method;
            case ACTION -> "ACTION:" + path.action().toLowerCase(Locale.ROOT);
            case RESOURCE -> method;
        };
        ArmHandler handler = handlers.get(verb + " " + path.typeKey());
        if (handler != null) {
            return handler;
        }
        if (!knownTypes.contains(path.typeKey())) {
            throw new ArmException(404, "InvalidResourceType", "The resource type '" + path.typeName()
                    + "' could not be found in the namespace '" + path.namespace() + "'.");
        }
        if (path.kind() == ArmPath.Kind.ACTION) {
            throw new ArmException(404, "InvalidAction", "The action '" + path.action()
                    + "' is not supported on resource type '" + path.typeName() + "'.");
        }
        throw new ArmException(405, "MethodNotAllowed", "The method '" + method + "' is not allowed on "
                + (path.kind() == ArmPath.Kind.COLLECTION ? "the collection of " : "") + "'" + path.typeName() + "'.");
    }

    /** The RBAC operation a call performs, in Azure's action-string form. */
    public static String permission(String method, ArmPath path) {
        String type = path.typeName();
        return switch (path.kind()) {
            case ACTION -> type + "/" + path.action() + "/action";
            case COLLECTION -> type + "/read";
            case RESOURCE -> switch (method) {
                case "GET" -> type + "/read";
                case "DELETE" -> type + "/delete";
                case "POST" -> type + "/action";
                default -> type + "/write";
            };
        };
    }

    private static String key(String type) {
        return type.toLowerCase(Locale.ROOT);
    }
}
