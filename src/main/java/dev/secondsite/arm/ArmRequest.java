package dev.secondsite.arm;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.secondsite.auth.Principal;

import java.util.Map;

/**
 * One ARM call after the router has parsed and checked it: path, api-version, caller and body.
 *
 * @param baseUrl the scheme and authority the client used ("https://127.0.0.1:8443"), for headers that
 *                point back at us (Azure-AsyncOperation, Location, nextLink)
 */
public record ArmRequest(String method, ArmPath path, String apiVersion, Principal principal, JsonNode body,
                         Map<String, String> query, String baseUrl) {

    /** The body as an object; a missing body reads as an empty object. */
    public ObjectNode bodyObject() {
        if (body == null || body.isNull() || body.isMissingNode()) {
            return Json.object();
        }
        if (!body.isObject()) {
            throw ArmException.invalidField("(body)", "the request body must be a JSON object.");
        }
        return (ObjectNode) body;
    }

    /** An absolute URL on this server for an ARM path, with this request's api-version. */
    public String url(String armPath) {
        return baseUrl + armPath + "?api-version=" + apiVersion;
    }
}
