package dev.secondsite.vault;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.secondsite.arm.ArmException;
import dev.secondsite.arm.Json;

import java.util.regex.Pattern;

/** Shared shape of Site Recovery resources: {id, name, type, location?, properties}. */
final class AsrResource {
    /** Names of ASR child resources: what ARM allows in a path segment, kept to safe characters. */
    private static final Pattern NAME = Pattern.compile("^[A-Za-z0-9][A-Za-z0-9_.()\\- ]{0,259}$");

    private AsrResource() {}

    static ObjectNode body(String id, String name, String type, String location) {
        ObjectNode body = Json.object();
        body.put("id", id);
        body.put("name", name);
        body.put("type", type);
        if (location != null) {
            body.put("location", location);
        }
        body.putObject("properties");
        return body;
    }

    static void checkName(String kind, String name) {
        if (!NAME.matcher(name).matches()) {
            throw ArmException.badRequest("InvalidResourceName", "The " + kind + " name '" + name
                    + "' is invalid: use up to 260 letters, digits, spaces, '_', '.', '-', '(' or ')', starting with a letter or digit.");
        }
    }
}
