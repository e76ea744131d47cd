package dev.secondsite.resource;

import com.fasterxml.jackson.databind.node.ObjectNode;

/** One ARM resource as stored: its id as created, its lower-cased type and its JSON body. */
public record StoredResource(String id, String typeKey, String name, ObjectNode body, String etag,
                             long createdAt, long updatedAt) {

    public ObjectNode properties() {
        return (ObjectNode) body.path("properties");
    }

    /** A deep copy of the body, safe to change and return. */
    public ObjectNode bodyCopy() {
        return body.deepCopy();
    }
}
