package dev.secondsite.arm;

import java.util.List;

/**
 * An error the API returns as an ARM error body: {"error":{"code","message","target","details"}}.
 * The code is stable (clients and tests match on it); the message tells the user what to do.
 */
public class ArmException extends RuntimeException {
    private final int status;
    private final String code;
    private final String target;
    private final List<ArmException> details;

    public ArmException(int status, String code, String message) {
        this(status, code, message, null, List.of());
    }

    public ArmException(int status, String code, String message, String target, List<ArmException> details) {
        super(message);
        this.status = status;
        this.code = code;
        this.target = target;
        this.details = List.copyOf(details);
    }

    public int status() { return status; }
    public String code() { return code; }
    public String target() { return target; }
    public List<ArmException> details() { return details; }

    public static ArmException badRequest(String code, String message) {
        return new ArmException(400, code, message);
    }

    /** A request body field that is missing or has a bad value; the target names the field. */
    public static ArmException invalidField(String field, String message) {
        return new ArmException(400, "InvalidRequestContent", "Field '" + field + "': " + message, field, List.of());
    }

    public static ArmException missingField(String field) {
        return new ArmException(400, "MissingRequiredProperty",
                "Field '" + field + "' is required.", field, List.of());
    }

    /**
     * The resource with this id was not found, worded as ARM words it: "The Resource
     * 'Microsoft.RecoveryServices/vaults/v1/replicationFabrics/f1' under resource group 'rg' was not found." The
     * path names every parent (the vault, the fabric), so the user sees where it was looked for.
     */
    public static ArmException notFound(String resourceId) {
        String what = resourceId;
        String group = null;
        try {
            ArmPath path = ArmPath.parse("GET", resourceId);
            if (path.kind() == ArmPath.Kind.RESOURCE) {
                StringBuilder named = new StringBuilder(path.namespace());
                for (int i = 0; i < path.names().size(); i++) {
                    named.append('/').append(path.types().get(i)).append('/').append(path.names().get(i));
                }
                what = named.toString();
                group = path.resourceGroup();
            }
        } catch (ArmException notAnId) {
            // named as given
        }
        return new ArmException(404, "ResourceNotFound", "The Resource '" + what + "'"
                + (group == null ? "" : " under resource group '" + group + "'") + " was not found.");
    }

    public static ArmException conflict(String code, String message) {
        return new ArmException(409, code, message);
    }
}
